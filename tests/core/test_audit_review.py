"""The audit administrator's review page (issue 20, part 4; GB/T 22239-2019 level 3, 安全审计):
filters by person, action, object, time and review state; security events flagged and
filterable; a CSV export (UTF-8 with BOM, cells neutralised) that is itself audited; marks
已审阅 with a note, audited, set by the audit administrator only, never changed or deleted; the
archive takes the marks of the rows it moves and counts them."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from sqlalchemy import delete, select, update

from app.core.audit import chain, review
from app.core.audit.models import AuditLog, AuditReview
from app.core.audit.recorder import AuditLogIsAppendOnly, base_entry
from app.core.audit.security_events import (
    SECURITY_ACTIONS,
    is_security_event,
    security_event_clause,
)
from app.extensions import db
from app.security.system_user import acting_as_system
from tests.conftest import csrf_token_from

NOW = dt.datetime.now().replace(microsecond=0)
TODAY = NOW.date()
PAGE = "/audit-review/"


def _entry(action, object_type=None, object_id=None, *, username="operator_a", days=0, **more):
    entry = base_entry(action, object_type, object_id)
    entry.update(
        username=username, user_id=None, created_at=NOW - dt.timedelta(days=days), ip="10.0.0.9"
    )
    entry.update(more)
    return entry


ROLES_CHANGED = json.dumps({"roles": [["Inspector"], ["Operator"]]}, separators=(",", ":"))
EMAIL_CHANGED = json.dumps({"email": ["a@x.invalid", "b@x.invalid"]}, separators=(",", ":"))
# A value that only looks like the roles key: the quote inside a value is escaped.
ROLES_IN_A_VALUE = json.dumps({"email": ['"roles":[', "b"]}, separators=(",", ":"))


@pytest.fixture
def entries(app, world):
    """Known rows after the world's own: {name: seq}."""
    made = {
        "failed": _entry("login_failed", "ab_user", 7, username="wang"),
        "locked": _entry("login_locked", "ab_user", 7, username="wang"),
        "roles": _entry("update", "ab_user", 7, username="secadmin", changes=ROLES_CHANGED),
        "email": _entry("update", "ab_user", 7, username="secadmin", changes=EMAIL_CHANGED),
        "quoted": _entry("update", "ab_user", 88, username="secadmin", changes=ROLES_IN_A_VALUE),
        "role_edit": _entry("update", "ab_role", 3, username="secadmin"),
        "export": _entry("export", "progress_report", 2026, username="leader"),
        "department": _entry("create", "department", 12, username="admin", days=3),
        "old": _entry("update", "target", 5, days=40),
        "formula": _entry("update", "target", "=cmd|'/c calc'!A1", username="@evil", days=1),
    }
    with app.app_context(), acting_as_system(), db.engine.begin() as conn:
        chain.append(conn, list(made.values()))
        head = conn.execute(select(AuditLog.seq).order_by(AuditLog.seq.desc())).scalars().first()
    first = head - len(made) + 1
    return {name: first + i for i, name in enumerate(made)}


def _shown(page: str) -> list[int]:
    return [int(s) for s in re.findall(r'data-seq="(\d+)"', page)]


def _get(client, **args):
    response = client.get(PAGE, query_string=args)
    return response.status_code, response.get_data(as_text=True)


def test_filters_by_person_action_object_and_time(app, entries, login_as):
    auditor = login_as("auditor")
    status, page = _get(auditor, username="wang")
    assert status == 200 and "审计审阅" in page
    assert _shown(page) == [entries["locked"], entries["failed"]]  # newest first
    _, page = _get(auditor, action="login_failed")
    assert _shown(page) == [entries["failed"]] and 'value="login_failed" selected' in page
    _, page = _get(auditor, object_type="ab_user", object_id="88")
    assert _shown(page) == [entries["quoted"]]
    # The time range: whole days, both ends included.
    day = (TODAY - dt.timedelta(days=3)).isoformat()
    _, page = _get(auditor, date_from=day, date_to=day)
    assert _shown(page) == [entries["department"]]
    _, page = _get(auditor, date_to=(TODAY - dt.timedelta(days=30)).isoformat())
    assert entries["old"] in _shown(page) and entries["department"] not in _shown(page)
    _, page = _get(auditor, username="secadmin", action="update", object_type="ab_role")
    assert _shown(page) == [entries["role_edit"]]
    # Chinese labels, the phone's cards, the link to the entry's own page.
    assert "人员（登录账号）" in page and "仅安全事件" in page and "phone-cards" in page
    assert 'data-label="审阅状态"' in page and "/audit/show/" in page


def test_security_events_are_flagged_and_filtered(app, entries, login_as):
    flagged = {"failed", "locked", "roles", "role_edit", "export"}
    with app.app_context():
        rows = {
            r.seq: r
            for r in db.session.scalars(select(AuditLog).where(AuditLog.seq.in_(entries.values())))
        }
        for name, seq in entries.items():
            row = rows[seq]
            assert is_security_event(row.action, row.object_type, row.changes) == (
                name in flagged
            ), name
        # The SQL filter and the badge pick the same rows, over the whole log.
        every = db.session.scalars(select(AuditLog)).all()
        by_python = {r.seq for r in every if is_security_event(r.action, r.object_type, r.changes)}
        by_sql = set(
            db.session.scalars(select(AuditLog.seq).where(security_event_clause(AuditLog)))
        )
        assert by_python == by_sql and by_python >= {entries[n] for n in flagged}
    assert {"login_failed", "login_locked", "login_unlocked", "create_admin", "set_admin_role"} <= (
        SECURITY_ACTIONS
    )
    auditor = login_as("auditor")
    _, page = _get(auditor, security="1", username="secadmin")
    assert _shown(page) == [entries["role_edit"], entries["roles"]]
    _, page = _get(auditor, username="secadmin")
    assert len(_shown(page)) == 4 and page.count("security-event") == 2


def test_bad_filters_are_answered_in_chinese(app, entries, login_as):
    auditor = login_as("auditor")
    for args, words in (
        ({"date_from": "2026-13-01"}, "YYYY-MM-DD"),
        ({"date_to": "昨天"}, "YYYY-MM-DD"),
        ({"date_from": "0001-01-01"}, "1970"),
        ({"date_from": "2026-06-02", "date_to": "2026-06-01"}, "开始日期晚于结束日期"),
        ({"username": "x" * 200}, "最多 128 个字"),
        ({"object_id": "a\x01"}, "控制字符"),
        ({"action": "'; drop table audit_log"}, "请从列表中选择"),
        ({"reviewed": "maybe"}, "审阅状态"),
        ({"security": "yes"}, "仅安全事件"),
    ):
        status, page = _get(auditor, **args)
        assert status == 400 and words in page, (args, status)
    # A page number that is no number or too large is no 500.
    assert auditor.get(PAGE, query_string={"page": "x"}).status_code == 200
    assert auditor.get(PAGE, query_string={"page": str(10**30)}).status_code == 200
    export = auditor.get(PAGE + "export.csv", query_string={"date_from": "2026-02-30"})
    assert export.status_code == 302
    assert "YYYY-MM-DD" in auditor.get(export.headers["Location"]).get_data(as_text=True)
    wrong = auditor.get(PAGE + "export.csv", query_string={"encoding": "latin-1"})
    assert wrong.status_code == 302


def test_the_export_is_the_filtered_rows_with_a_bom_and_is_audited(app, entries, login_as):
    auditor = login_as("auditor")
    response = auditor.get(PAGE + "export.csv", query_string={"object_type": "target"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    body = response.data
    assert body.startswith(b"\xef\xbb\xbf") and body.count(b"\xef\xbb\xbf") == 1
    lines = body.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("序号,时间,登录账号,用户,角色,IP 地址,操作,操作代码,对象类型")
    assert "审阅状态" in lines[0] and "审阅备注" in lines[0]
    seqs = [int(line.split(",", 1)[0]) for line in lines[1:]]
    assert seqs == [entries["old"], entries["formula"]]  # oldest first
    # Cells a spreadsheet would run are neutralised.
    assert "'@evil" in lines[2] and "'=cmd" in lines[2] and ",未审阅," in lines[2]
    with app.app_context():
        event = db.session.scalars(
            select(AuditLog).where(AuditLog.action == "export").order_by(AuditLog.seq.desc())
        ).first()
    assert event.username == "auditor" and event.object_type == "audit_log"
    detail = json.loads(event.detail)
    assert detail["rows"] == 2 and detail["filter"] == {"object_type": "target"}
    assert detail["format"] == "csv" and detail["last_seq"] == event.seq - 1
    # The export is itself a security event on the page, worded in Chinese.
    _, page = _get(auditor, action="export", username="auditor")
    assert _shown(page) == [event.seq] and "security-event" in page
    shown = auditor.get(f"/audit/show/{event.id}").get_data(as_text=True)
    assert "筛选" in shown and "对象类型：target" in shown
    gb = auditor.get(PAGE + "export.csv", query_string={"encoding": "gb18030", "username": "wang"})
    assert gb.headers["Content-Type"] == "text/csv; charset=gb18030"
    assert gb.data.decode("gb18030").count("wang") == 2


def _mark(client, seq, note="", confirm=True, **filter_args):
    token = csrf_token_from(client, PAGE)
    data = {"csrf_token": token, "note": note, **filter_args}
    if confirm:
        data["confirm"] = "1"
    return client.post(f"{PAGE}mark/{seq}", data=data)


def _marks(app):
    with app.app_context():
        return {m.audit_seq: m.note for m in db.session.scalars(select(AuditReview))}


def _last_event(app, action):
    with app.app_context():
        return db.session.scalars(
            select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.seq.desc())
        ).first()


def test_a_mark_is_stored_audited_shown_and_filterable(app, entries, login_as):
    auditor = login_as("auditor")
    seq = entries["roles"]
    asked = _mark(auditor, seq, "已核实：经审批", confirm=False)
    assert asked.status_code == 200 and "标记不能修改或撤销" in asked.get_data(as_text=True)
    assert _marks(app) == {}
    done = _mark(auditor, seq, "已核实：经审批", username="secadmin")
    assert done.status_code == 302 and "username=secadmin" in done.headers["Location"]
    assert _marks(app) == {seq: "已核实：经审批"}
    event = _last_event(app, "audit_review")
    assert event.username == "auditor" and event.object_type == "audit_review"
    assert json.loads(event.detail) == {"seq": seq, "note": "已核实：经审批"}
    from app.core.audit.chain import verify

    with app.app_context(), db.engine.connect() as conn:
        assert verify(conn).ok
    # Shown on the page, filterable both ways; a second mark of the same row is refused.
    _, page = _get(auditor, username="secadmin", reviewed="yes")
    assert _shown(page) == [seq] and "已核实：经审批" in page and "已审阅" in page
    _, page = _get(auditor, username="secadmin", reviewed="no")
    assert seq not in _shown(page) and "未审阅" in page
    again = _mark(auditor, seq, "再来一次")
    assert "已审阅过" in auditor.get(again.headers["Location"]).get_data(as_text=True)
    assert _marks(app) == {seq: "已核实：经审批"}
    # The marking reads in Chinese on the entry's page, for the audit administrator.
    shown = auditor.get(f"/audit/show/{event.id}").get_data(as_text=True)
    assert "审计记录标记为已审阅" in shown and "已核实：经审批" in shown


def test_bad_marks_are_refused_in_chinese(app, entries, login_as):
    auditor = login_as("auditor")
    too_long = _mark(auditor, entries["failed"], "长" * 501)
    assert "最多 500 个字" in auditor.get(too_long.headers["Location"]).get_data(as_text=True)
    control = _mark(auditor, entries["failed"], "a\x07b")
    assert "控制字符" in auditor.get(control.headers["Location"]).get_data(as_text=True)
    assert _mark(auditor, 99_999_999).status_code == 404
    assert _mark(auditor, 2**70).status_code == 404
    assert _marks(app) == {}


def test_every_row_of_a_filter_is_marked_up_to_the_bound(app, entries, login_as, monkeypatch):
    monkeypatch.setattr(review, "BULK_LIMIT", 2)
    auditor = login_as("auditor")
    token = csrf_token_from(auditor, PAGE)
    data = {"csrf_token": token, "note": "例行审阅", "username": "secadmin", "confirm": "1"}
    first = auditor.post(PAGE + "mark-filtered", data=data)
    message = auditor.get(first.headers["Location"]).get_data(as_text=True)
    assert "已将 2 条记录标记为已审阅；本筛选中还有 2 条未审阅" in message
    assert set(_marks(app)) == {entries["roles"], entries["email"]}  # the oldest first
    event = _last_event(app, "audit_review")
    detail = json.loads(event.detail)
    assert detail["count"] == 2 and detail["seqs"] == [entries["roles"], entries["email"]]
    assert detail["filter"] == {"username": "secadmin"} and detail["note"] == "例行审阅"
    auditor.post(PAGE + "mark-filtered", data=data)
    last = auditor.post(PAGE + "mark-filtered", data=data)
    assert "已没有未审阅的记录" in auditor.get(last.headers["Location"]).get_data(as_text=True)
    assert set(_marks(app)) == {entries[n] for n in ("roles", "email", "quoted", "role_edit")}
    bad = auditor.post(PAGE + "mark-filtered", data={**data, "date_from": "2026-99-01"})
    assert "YYYY-MM-DD" in auditor.get(bad.headers["Location"]).get_data(as_text=True)


def test_only_the_audit_administrator_reads_and_sets_marks(app, entries, login_as):
    seq = entries["failed"]
    auditor = login_as("auditor")
    assert _mark(auditor, seq, "审计管理员的备注").status_code == 302
    for name in ("admin", "secadmin", "leader", "operator_a", "jointoffice"):
        client = login_as(name)
        assert client.get(PAGE).status_code == 403, name
        assert client.get(PAGE + "export.csv").status_code == 403, name
        # With their own valid CSRF token: the refusal is the permission's.
        data = {"csrf_token": csrf_token_from(client, "/resetmypassword/form"), "confirm": "1"}
        assert client.post(f"{PAGE}mark/{entries['locked']}", data=data).status_code == 403
        assert client.post(PAGE + "mark-filtered", data=data).status_code == 403, name
    anonymous = app.test_client()
    assert "/login" in anonymous.get(PAGE).headers.get("Location", "")
    # A POST without the CSRF token, even the audit administrator's, writes nothing.
    forged = auditor.post(f"{PAGE}mark/{entries['locked']}", data={"note": "x", "confirm": "1"})
    assert forged.status_code == 400
    assert _marks(app) == {seq: "审计管理员的备注"}
    # The Leader reads the log (its department's and the bureau's rows) but not the note.
    event = _last_event(app, "audit_review")
    leader_page = login_as("leader").get(f"/audit/show/{event.id}").get_data(as_text=True)
    assert "审计管理员的备注" not in leader_page
    # The old list stays as it was, for whoever reads it.
    assert login_as("leader").get("/audit/list/").status_code == 200


def test_no_path_changes_or_deletes_a_mark(app, entries, login_as):
    auditor = login_as("auditor")
    _mark(auditor, entries["failed"], "原备注")

    def change(mark):
        mark.note = "改过"

    for step in (change, db.session.delete, lambda _m: db.session.add(AuditReview())):
        with app.app_context():
            step(db.session.scalars(select(AuditReview)).one())
            with pytest.raises(AuditLogIsAppendOnly):
                db.session.flush()
            db.session.rollback()
    assert _marks(app) == {entries["failed"]: "原备注"}
    # No route edits or deletes one, and there is no REST resource of marks.
    routes = [r.rule for r in app.url_map.iter_rules() if r.rule.startswith("/audit-review")]
    assert sorted(routes) == [
        "/audit-review/",
        "/audit-review/export.csv",
        "/audit-review/mark-filtered",
        "/audit-review/mark/<int:seq>",
    ]


def test_archiving_takes_the_marks_of_the_rows_it_moves(app, world, tmp_path, login_as):
    from app.core.audit.models import GENESIS_HASH, AuditChainHead

    with app.app_context(), acting_as_system(), db.engine.begin() as conn:
        # A log whose oldest rows are past the retention (as tests/core/test_audit_archive.py).
        conn.execute(delete(AuditLog))
        conn.execute(update(AuditChainHead).values(last_seq=0, last_hash=GENESIS_HASH))
        chain.append(conn, [_entry("update", "target", i, days=230 - i) for i in range(5)])
        chain.append(conn, [_entry("update", "target", 9)])
    auditor = login_as("auditor")
    _mark(auditor, 5, "旧记录已审阅")
    _mark(auditor, 4, "")
    _mark(auditor, 6, "今天的记录")
    assert set(_marks(app)) == {4, 5, 6}

    before = (TODAY - dt.timedelta(days=180)).isoformat()
    result = app.test_cli_runner().invoke(
        args=["audit", "archive", "--before", before, "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert "已归档第 1–5 条" in result.output and "2 个审阅标记随之删除" in result.output
    assert _marks(app) == {6: "今天的记录"}
    event = _last_event(app, "audit_archive")
    assert json.loads(event.detail)["reviews"] == 2
    # The file keeps its format (verified), the chain verifies across the cut, and the
    # markings themselves are still in the chain.
    path = next(tmp_path.iterdir())
    checked = app.test_cli_runner().invoke(args=["audit", "verify-archive", str(path)])
    assert checked.exit_code == 0, checked.output
    verified = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert verified.exit_code == 0, verified.output
    with app.app_context():
        notes = [
            json.loads(r.detail).get("note")
            for r in db.session.scalars(select(AuditLog).where(AuditLog.action == "audit_review"))
        ]
    assert "旧记录已审阅" in notes
    # The page shows the row left in the log, still reviewed.
    _, page = _get(auditor, reviewed="yes")
    assert _shown(page) == [6] and "今天的记录" in page
