"""The audit log (R10.1, R14.1): a row for every change and sign-in, a hash chain that names the
first altered or removed row, and no way to edit or delete a row through the application."""

import json

import pytest
from sqlalchemy import delete, select, update

from app.core.audit import log_event
from app.core.audit.chain import verify
from app.core.audit.models import AuditLog
from app.core.audit.recorder import AuditLogIsAppendOnly
from app.extensions import db
from app.security.models import Department
from app.security.system_user import acting_as_system
from tests.conftest import PASSWORD, csrf_token_from, login


def _rows(app, **where):
    with app.app_context():
        query = select(AuditLog).order_by(AuditLog.seq)
        for key, value in where.items():
            query = query.where(getattr(AuditLog, key) == value)
        return [
            {c.name: getattr(r, c.name) for c in AuditLog.__table__.columns}
            for r in db.session.scalars(query)
        ]


def _verify(app):
    with app.app_context(), db.engine.connect() as conn:
        return verify(conn)


def test_create_update_delete_each_leave_a_row_with_user_ip_and_changes(app, login_as, world):
    client = login_as("admin")
    token = csrf_token_from(client, "/departments/add")
    client.post(
        "/departments/add",
        data={
            "name": "水政监察大队",
            "code": "ZF",
            "kind": "unit",
            "parent": world.bureau,
            "sort_order": 5,
            "active": "y",
            "csrf_token": token,
        },
        environ_base={"REMOTE_ADDR": "10.1.2.3"},
    )
    with app.app_context():
        dept_id = db.session.scalar(select(Department.id).where(Department.code == "ZF"))
    created = _rows(app, action="create", object_type="department", object_id=str(dept_id))
    assert len(created) == 1
    row = created[0]
    assert row["username"] == "admin"
    assert row["roles"] == "Admin"
    assert row["ip"] == "10.1.2.3"
    assert json.loads(row["changes"])["name"] == [None, "水政监察大队"]

    client.post(
        f"/departments/edit/{dept_id}",
        data={
            "name": "水政监察支队",
            "code": "ZF",
            "kind": "unit",
            "parent": world.bureau,
            "sort_order": 5,
            "active": "y",
            "csrf_token": token,
        },
    )
    updated = _rows(app, action="update", object_type="department", object_id=str(dept_id))
    assert len(updated) == 1
    assert json.loads(updated[0]["changes"]) == {"name": ["水政监察大队", "水政监察支队"]}

    client.post(f"/departments/delete/{dept_id}", data={"csrf_token": token})
    deleted = _rows(app, action="delete", object_type="department", object_id=str(dept_id))
    assert len(deleted) == 1
    assert json.loads(deleted[0]["changes"])["name"] == ["水政监察支队", None]
    assert _verify(app).ok


def test_user_changes_are_logged_without_the_password_hash(app, world):
    with app.app_context():
        sm = app.appbuilder.sm
        with acting_as_system():
            user = sm.add_user(
                username="newbie",
                first_name="新",
                last_name="人",
                email="newbie@test.invalid",
                role=sm.find_role("Inspector"),
                password=PASSWORD,
            )
            user_id = user.id
    rows = _rows(app, action="create", object_type="ab_user", object_id=str(user_id))
    assert len(rows) == 1
    changes = json.loads(rows[0]["changes"])
    assert changes["password"] == [None, "******"]
    assert "pbkdf2" not in rows[0]["changes"]
    assert rows[0]["username"] == "system"


def test_sign_in_and_failed_sign_in_are_logged(app, world):
    client = app.test_client()
    login(client, "operator_a")
    login(app.test_client(), "operator_a", "wrong-password-9")
    login(app.test_client(), "nobody-like-this", "wrong-password-9")
    events = [(r["action"], r["username"]) for r in _rows(app) if r["action"].startswith("login")]
    assert ("login", "operator_a") in events
    failed = [r for r in _rows(app, action="login_failed")]
    assert len(failed) == 2
    assert {json.loads(r["detail"])["username"] for r in failed} == {
        "operator_a",
        "nobody-like-this",
    }
    assert _verify(app).ok


def test_api_sign_in_is_logged(app, api_token, world):
    api_token("operator_b")
    rows = _rows(app, action="login")
    assert any(
        r["username"] == "operator_b" and json.loads(r["detail"])["via"] == "api" for r in rows
    )


def test_explicit_events_join_the_chain(app, world):
    with app.app_context():
        with acting_as_system():
            log_event(
                "export",
                "department",
                world.dept_a,
                detail={"format": "csv"},
                department_id=world.dept_a,
            )
            db.session.commit()
    rows = _rows(app, action="export")
    assert rows and rows[-1]["department_id"] == world.dept_a
    assert _verify(app).ok


def test_rolled_back_change_leaves_no_audit_row(app, world):
    with app.app_context():
        before = len(_rows(app))
        with acting_as_system():
            db.session.add(
                Department(code="TMP", name="临时", kind="section", parent_id=world.bureau)
            )
            db.session.flush()
            db.session.rollback()
        assert len(_rows(app)) == before


def test_verify_names_an_altered_row(app, world):
    rows = _rows(app)
    assert len(rows) > 5
    target = rows[3]
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(
            update(AuditLog).where(AuditLog.id == target["id"]).values(username="someone-else")
        )
    result = _verify(app)
    assert not result.ok
    assert result.first_bad_seq == target["seq"]
    assert f"第 {target['seq']} 条" in result.problems[0] and "修改" in result.problems[0]


def test_verify_names_a_removed_row(app, world):
    rows = _rows(app)
    target = rows[4]
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(delete(AuditLog).where(AuditLog.id == target["id"]))
    result = _verify(app)
    assert not result.ok
    assert result.first_bad_seq == target["seq"]
    assert f"第 {target['seq']} 条" in result.problems[0] and "删除" in result.problems[0]


def test_verify_notices_removal_of_the_newest_rows(app, world):
    rows = _rows(app)
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(delete(AuditLog).where(AuditLog.seq >= rows[-2]["seq"]))
    result = _verify(app)
    assert not result.ok
    assert result.first_bad_seq == rows[-2]["seq"]


def test_verify_notices_a_row_rewritten_with_a_recomputed_hash(app, world):
    from app.core.audit.chain import row_hash

    rows = _rows(app)
    target = dict(rows[2], username="forger")
    target["row_hash"] = row_hash(target)
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(
            update(AuditLog)
            .where(AuditLog.id == target["id"])
            .values(username="forger", row_hash=target["row_hash"])
        )
    result = _verify(app)
    assert not result.ok
    assert result.first_bad_seq == target["seq"]


def test_cli_audit_verify_exit_codes(app, world):
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["audit", "verify"])
    assert ok.exit_code == 0 and "审计日志完整" in ok.output
    rows = _rows(app)
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(update(AuditLog).where(AuditLog.id == rows[1]["id"]).values(ip="1.1.1.1"))
    bad = runner.invoke(args=["audit", "verify"])
    assert bad.exit_code == 1
    assert f"第 {rows[1]['seq']} 条" in bad.output


def test_orm_cannot_change_or_delete_audit_rows(app, world):
    with app.app_context():
        row = db.session.scalars(select(AuditLog)).first()
        row.username = "changed"
        with pytest.raises(AuditLogIsAppendOnly):
            db.session.flush()
        db.session.rollback()
        row = db.session.scalars(select(AuditLog)).first()
        db.session.delete(row)
        with pytest.raises(AuditLogIsAppendOnly):
            db.session.flush()
        db.session.rollback()
        db.session.add(
            AuditLog(
                seq=10**9,
                created_at=row.created_at,
                action="x",
                prev_hash="0" * 64,
                row_hash="0" * 64,
            )
        )
        with pytest.raises(AuditLogIsAppendOnly):
            db.session.flush()
        db.session.rollback()
    assert _verify(app).ok


def test_no_page_or_api_edits_or_deletes_audit_rows(app, login_as, world):
    rows = _rows(app)
    client = login_as("auditor")
    assert client.get("/audit/list/").status_code == 200
    assert client.get(f"/audit/show/{rows[0]['id']}").status_code == 200
    token = csrf_token_from(client, "/resetmypassword/form")
    for url in (f"/audit/edit/{rows[0]['id']}", f"/audit/delete/{rows[0]['id']}", "/audit/add"):
        response = client.post(url, data={"csrf_token": token, "username": "x"})
        assert response.status_code in (403, 404, 405), url
    assert not any(rule.rule.startswith("/api/v1/audit") for rule in app.url_map.iter_rules())
    assert _rows(app)[: len(rows)] == rows


def test_operator_cannot_read_the_audit_log(login_as, world):
    assert login_as("operator_a").get("/audit/list/").status_code == 403


def test_department_leader_reads_only_their_departments_entries(app, login_as, world):
    with app.app_context():
        with acting_as_system():
            log_event(
                "export", "department", world.dept_b, department_id=world.dept_b, detail="B-only"
            )
            log_event(
                "export", "department", world.dept_a, department_id=world.dept_a, detail="A-only"
            )
            db.session.commit()
    b_row = _rows(app, detail="B-only")[0]
    a_row = _rows(app, detail="A-only")[0]
    client = login_as("leader_a")
    assert client.get(f"/audit/show/{a_row['id']}").status_code == 200
    assert client.get(f"/audit/show/{b_row['id']}").status_code == 404


def test_the_hash_is_taken_of_the_canonical_json_of_the_row():
    """The chain's JSON, built field by field for speed, is byte for byte what json.dumps
    writes (keys sorted, no whitespace, non-ASCII kept): rows hashed before stay valid."""
    import datetime as dt
    import hashlib

    from app.core.audit.chain import HASHED_FIELDS, canonical_json, row_hash

    rows = [
        {name: None for name in HASHED_FIELDS} | {"seq": 1, "prev_hash": "0" * 64},
        {
            "seq": 123456,
            "created_at": dt.datetime(2026, 12, 2, 5, 14, 28, 999999),
            "user_id": 7,
            "username": "operator_a",
            "roles": "Operator",
            "ip": "10.0.0.1",
            "action": "create",
            "object_type": "target",
            "object_id": "42",
            "department_id": 3,
            "changes": '{"name":[null,"东胜\\"水务\\n\\t有限公司"]}',
            "detail": '引号"、反斜杠\\、控制字符\x01、表情😀',
            "prev_hash": "a" * 64,
        },
    ]
    for row in rows:
        payload = {
            name: row[name].replace(microsecond=0).isoformat(sep=" ")
            if isinstance(row[name], dt.datetime)
            else row[name]
            for name in HASHED_FIELDS
        }
        expected = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        assert canonical_json(row) == expected
        assert row_hash(row) == hashlib.sha256(expected.encode("utf-8")).hexdigest()


def test_a_create_row_built_without_an_orm_object_reads_as_the_flush_hook_writes_it():
    import datetime as dt
    from decimal import Decimal

    from app.core.audit.recorder import _dump, created_changes, logged_value
    from app.directory.models import Target

    values = {
        "name": "东胜水务",
        "area_id": 1,
        "remarks": None,
        "last_inspected_on": dt.date(2024, 5, 1),
        "created_on": dt.datetime(2026, 12, 2, 5, 14, 28, 123456),
        "ratio": Decimal("5.50"),
        "items": ["SJ-001 取水许可检查", "SJ-B01 河道检查"],
    }
    expected = _dump(
        {
            key: [None, value if isinstance(value, list) else logged_value(Target, key, value)]
            for key, value in values.items()
            if value is not None
        }
    )
    assert created_changes(Target, values) == expected
    assert created_changes(Target, {"remarks": None}) is None


def test_the_bulk_writers_fast_paths_write_the_same_text_as_the_general_ones():
    """An import's create rows are built by CreatedChanges and hashed from a template
    (chain._Alike); both must give exactly what created_changes and canonical_json give."""
    import datetime as dt
    import hashlib

    from app.core.audit.chain import _COLUMNS, _Alike, canonical_json, row_hash
    from app.core.audit.recorder import CreatedChanges, created_changes
    from app.directory.models import Target

    keys = ("name", "id", "area_id", "remarks", "created_on", "last_inspected_on", "items")
    changes = CreatedChanges(Target, keys)
    samples = [
        ('东胜"水务"\\n%s', 7, 1, None, dt.datetime(2026, 12, 2, 5, 14, 28, 5), None, None),
        ("A", 8, None, "备注\t😀", None, dt.date(2024, 5, 1), ["SJ-001 取水", "SJ-B01 河道"]),
        (None, None, None, None, None, None, None),
    ]
    for values in samples:
        assert changes(values) == created_changes(Target, dict(zip(keys, values, strict=True)))
    base = {
        "created_at": dt.datetime(2026, 12, 2, 5, 14, 28, 999999),
        "user_id": 3,
        "username": "op%s_a",
        "roles": "Operator",
        "ip": "10.0.0.1",
        "action": "create",
        "object_type": "target",
        "object_id": None,
        "department_id": None,
        "changes": None,
        "detail": None,
    }
    alike = _Alike(base)
    for seq, (object_id, department_id, text) in enumerate(
        [("42", 3, changes(samples[0])), ("43", None, None)], start=1
    ):
        prev = "ab" * 32
        row = dict(base, object_id=object_id, department_id=department_id, changes=text)
        row |= {"seq": seq, "prev_hash": prev}
        filled = alike.template % (
            json.dumps(text, ensure_ascii=False),
            json.dumps(department_id),
            json.dumps(object_id),
            json.dumps(prev),
            seq,
        )
        assert filled == canonical_json(row)
        assert hashlib.sha256(filled.encode()).hexdigest() == row_hash(row)
    assert alike.row[_COLUMNS.index("created_at")] == dt.datetime(2026, 12, 2, 5, 14, 28)
