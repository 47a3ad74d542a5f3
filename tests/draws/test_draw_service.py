"""Draws against the database: one draw per task and kind (also under concurrency), the
record verifies, recusal, too-small pools, substitutes, confidentiality, UI and API."""

import datetime as dt
import json
import re
import threading
import time

import pytest
from sqlalchemy import select

from app.core.audit.models import AuditLog
from app.core.errors import DomainError
from app.directory.models import Conflict, InspectionItem, Inspector, Target
from app.draws import protocol, services
from app.draws.models import Assignment, Draw, DrawnTarget
from app.extensions import db
from app.planning import services as planning
from app.planning.models import AnnualPlan, SpotCheckTask
from tests.conftest import csrf_token_from
from tests.directory.conftest import acting, directory, uscc  # noqa: F401  (fixture)
from tests.planning.conftest import plan  # noqa: F401  (fixture)


@pytest.fixture
def task(app, world, directory, plan):  # noqa: F811
    """A task of department A from a published plan; 12 targets and 5 inspectors in A."""
    with acting(app, "operator_a"):
        item = db.session.get(InspectionItem, directory.item_a)
        for n in range(12):
            db.session.add(
                Target(
                    department_id=world.dept_a,
                    target_type="企业",
                    name=f"摇号对象{n}",
                    uscc=uscc(300 + n),
                    risk_class="ABCD"[n % 4],
                    registration_status="注销" if n == 11 else "存续",
                    items=[item],
                )
            )
        far = dt.date.today() + dt.timedelta(days=400)
        for n in range(4):
            db.session.add(
                Inspector(
                    name=f"检查员{n}",
                    department_id=world.dept_a,
                    certificate_no=f"D-{n}",
                    certificate_expiry=far,
                    status="在岗",
                )
            )
        db.session.add(
            Inspector(
                name="离岗者",
                department_id=world.dept_a,
                certificate_no="D-9",
                certificate_expiry=far,
                status="离岗",
            )
        )
        p = db.session.get(AnnualPlan, plan)
        line = p.lines[0]
        line.ratio_a = line.ratio_b = line.ratio_c = line.ratio_d = 50
        line.ratio_special = 50
        db.session.commit()
        planning.submit_plan(p)
        db.session.commit()
    with acting(app, "leader_a"):
        planning.approve_plan(db.session.get(AnnualPlan, plan))
        db.session.commit()
    with acting(app, "operator_a"):
        p = db.session.get(AnnualPlan, plan)
        planning.publish_plan(p)
        t = planning.create_task_from_line(p.lines[0])
        db.session.add(t)
        db.session.commit()
        return t.id


def _draw(app, task_id, kind, user="operator_a", entropy=None):
    with acting(app, user):
        draw = services.start_draw(db.session.get(SpotCheckTask, task_id), kind)
        db.session.commit()
        services.complete_draw(draw, entropy)
        db.session.commit()
        return draw.id


def test_target_draw_is_recorded_verifiable_and_commitment_comes_first(app, task):
    draw_id = _draw(app, task, "target")
    with acting(app, "operator_a"):
        draw = db.session.get(Draw, draw_id)
        assert draw.status == "done" and draw.task.status == "targets_drawn"
        assert services.verify_draw(draw) == []
        selected = db.session.scalars(
            select(DrawnTarget.target_id).where(DrawnTarget.draw_id == draw_id)
        ).all()
        assert len(selected) == sum(len(v) for v in draw.result_data().values()) > 0
        assert {e["reason"] for e in json.loads(draw.excluded)} == {"not_live:注销"}
        steps = [
            json.loads(r.detail)["step"]
            for r in db.session.scalars(
                select(AuditLog).where(AuditLog.action == "draw").order_by(AuditLog.seq)
            )
        ]
        assert steps == ["commit", "draw"]
        # The audit log never holds the server secret (readable before publication) nor
        # the whole pool (its SHA-256 stands for it).
        logged = " ".join(
            r.changes or ""
            for r in db.session.scalars(select(AuditLog).where(AuditLog.object_type == "draw"))
        )
        assert draw.server_secret not in logged and "sha256:" in logged


def test_a_task_is_drawn_once(app, task):
    _draw(app, task, "target")
    with acting(app, "operator_a"):
        with pytest.raises(DomainError, match="已抽取"):
            services.start_draw(db.session.get(SpotCheckTask, task), "target")


def test_two_simultaneous_draws_give_one_draw_and_one_clear_refusal(app, task):
    barrier = threading.Barrier(2)
    outcomes = []

    def attempt():
        with acting(app, "operator_a"):
            try:
                barrier.wait(timeout=10)
                services.start_draw(db.session.get(SpotCheckTask, task), "target")
                db.session.commit()
                outcomes.append("ok")
            except DomainError as exc:
                db.session.rollback()
                outcomes.append(str(exc))
            except Exception as exc:  # noqa: BLE001 - a lock timeout is a refusal too
                db.session.rollback()
                outcomes.append(f"error: {exc!r}")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert outcomes.count("ok") == 1, outcomes
    with acting(app, "operator_a"):
        assert len(db.session.scalars(select(Draw).where(Draw.task_id == task)).all()) == 1


def test_a_conflicted_inspector_is_never_in_that_targets_group(app, task):
    _draw(app, task, "target")
    with acting(app, "operator_a"):
        target_id = db.session.scalars(select(DrawnTarget.target_id)).first()
        inspector_id = db.session.scalar(select(Inspector.id).where(Inspector.name == "检查员0"))
        db.session.add(
            Conflict(
                inspector_id=inspector_id,
                target_id=target_id,
                reason="亲属关系",
                valid_from=dt.date.today() - dt.timedelta(days=1),
            )
        )
        db.session.commit()
    draw_id = _draw(app, task, "inspector")
    with acting(app, "operator_a"):
        draw = db.session.get(Draw, draw_id)
        groups = {int(k): v for k, v in draw.result_data().items()}
        assert inspector_id not in groups[target_id]
        assert all(len(g) == 2 for g in groups.values())
        assert services.verify_draw(draw) == []
        off_duty = db.session.scalar(select(Inspector.id).where(Inspector.name == "离岗者"))
        assert all(off_duty not in g for g in groups.values())


def test_too_few_eligible_inspectors_are_refused_with_the_numbers(app, task):
    _draw(app, task, "target")
    with acting(app, "operator_a"):
        t = db.session.get(SpotCheckTask, task)
        t.group_size = 6
        db.session.commit()
        with pytest.raises(DomainError, match="只有 5 名"):
            services.start_draw(t, "inspector")


def test_substitute_is_the_next_in_the_ranking_and_verify_covers_it(app, task):
    _draw(app, task, "target")
    draw_id = _draw(app, task, "inspector")
    with acting(app, "operator_a"):
        draw = db.session.get(Draw, draw_id)
        target_id, group = next(iter(draw.result_data().items()))
        target_id = int(target_id)
        seed = protocol.derive_seed(
            bytes.fromhex(draw.server_secret), draw.uid, draw.pool_hash, draw.params_hash, ""
        )
        ranking = protocol.inspector_ranking(
            seed, target_id, [c["id"] for c in json.loads(draw.pool)]
        )
        with pytest.raises(DomainError):
            services.substitute_inspector(draw, target_id, group[0], "请假")
        replacement = services.substitute_inspector(draw, target_id, group[0], "病假")
        db.session.commit()
        expected = next(i for i in ranking if i not in group)
        assert replacement.inspector_id == expected
        assert services.verify_draw(draw) == []
        rows = db.session.scalars(select(Assignment).where(Assignment.target_id == target_id)).all()
        assert {(r.inspector_id, r.active) for r in rows} >= {(group[0], False), (expected, True)}
        record = services.record(draw, reveal=True)
        record["substitutions"][0]["substitute"] = group[0]
        assert any("substitution 1" in p for p in protocol.verify(record))


def test_confidentiality_before_publication(app, login_as, api_token, task):
    draw_id = _draw(app, task, "target")
    assert login_as("operator_b").get(f"/draws/show/{draw_id}").status_code == 404
    assert login_as("inspector_a").get(f"/draws/show/{draw_id}").status_code == 403
    page = login_as("operator_a").get(f"/draws/show/{draw_id}").get_data(as_text=True)
    assert "保密" in page and "抽中的检查对象" in page
    with acting(app, "operator_a"):
        views = db.session.scalars(
            select(AuditLog).where(AuditLog.action == "view_confidential")
        ).all()
        assert views and views[-1].username == "operator_a"
    client = app.test_client()
    headers = {"Authorization": f"Bearer {api_token('operator_a')}"}
    record = client.get(f"/api/v1/draw/{draw_id}/record", headers=headers).get_json()["result"]
    assert "server_secret" not in record and record["commitment"]
    other = {"Authorization": f"Bearer {api_token('operator_b')}"}
    assert client.get(f"/api/v1/draw/{draw_id}", headers=other).status_code == 404
    # The staff's record export: the whole pool, still without the secret.
    exported = login_as("operator_a").get(f"/task-draw/draw/{draw_id}/record.json")
    assert exported.status_code == 200 and "attachment" in exported.headers["Content-Disposition"]
    exported = json.loads(exported.data)
    assert "server_secret" not in exported and exported["commitment"] == record["commitment"]
    with app.app_context():
        assert exported["pool"] == json.loads(db.session.get(Draw, draw_id).pool)


def test_no_edit_or_delete_path_for_draws(app, login_as, api_token, task):
    draw_id = _draw(app, task, "target")
    client = login_as("operator_a")
    token = csrf_token_from(client, "/plans/add")
    for url in (f"/draws/edit/{draw_id}", f"/draws/delete/{draw_id}"):
        assert client.post(url, data={"csrf_token": token, "confirm": "1"}).status_code in (403, 404, 405)
    api = app.test_client()
    headers = {"Authorization": f"Bearer {api_token('operator_a')}"}
    assert api.delete(f"/api/v1/draw/{draw_id}", headers=headers).status_code in (404, 405)
    assert api.put(
        f"/api/v1/draw/{draw_id}", json={"status": "cancelled"}, headers=headers
    ).status_code in (404, 405)
    with acting(app, "operator_a"):
        assert db.session.get(Draw, draw_id).status == "done"


def test_witnessed_draw_in_two_steps(app, login_as, task):
    client = login_as("operator_a")
    token = csrf_token_from(client, f"/task-draw/{task}/witnessed")
    page = client.post(
        f"/task-draw/{task}/witnessed",
        data={"csrf_token": token, "witnesses": "张监督、李监督", "confirm": "1"},
    )
    text = page.get_data(as_text=True)
    assert "承诺值" in text and "第二步" in text
    with acting(app, "operator_a"):
        draw = db.session.scalar(select(Draw).where(Draw.task_id == task))
        assert draw.status == "committed" and draw.result is None
    done = client.post(
        f"/task-draw/{task}/witnessed",
        data={"csrf_token": token, "entropy": " 20270315  开奖号码 8 ", "confirm": "1"},
    )
    assert done.status_code == 302
    with acting(app, "operator_a"):
        draw = db.session.scalar(select(Draw).where(Draw.task_id == task))
        assert draw.status == "done" and draw.witness_entropy == "20270315 开奖号码 8"
        assert draw.witnesses == "张监督、李监督"
        assert services.verify_draw(draw) == []


def test_the_printable_site_record_of_a_witnessed_draw(app, login_as, task):
    """Issue 16 item 8: the 摇号现场记录 shows the witnesses what they sign, before and after
    their entropy; it is scoped, its view is in the audit log, and it fetches nothing."""
    client = login_as("operator_a")
    token = csrf_token_from(client, f"/task-draw/{task}/witnessed")
    client.post(
        f"/task-draw/{task}/witnessed",
        data={"csrf_token": token, "witnesses": "张监督、李监督", "confirm": "1"},
    )
    with acting(app, "operator_a"):
        draw = db.session.scalar(select(Draw).where(Draw.task_id == task))
        draw_id, commitment, pool_hash = draw.id, draw.commitment, draw.pool_hash
        number, pool_size = draw.task.number, draw.pool_size
    show = client.get(f"/draws/show/{draw_id}").get_data(as_text=True)
    assert f"/task-draw/draw/{draw_id}/site-record" in show
    url = f"/task-draw/draw/{draw_id}/site-record"
    before = client.get(url)
    assert before.status_code == 200
    page = before.get_data(as_text=True)
    for text in ["摇号现场记录", number, commitment, pool_hash, "张监督", "李监督", "（待输入）"]:
        assert text in page, text
    assert f"<td>{pool_size}（另有 1 个按规定未纳入" in page  # the struck-off target
    assert "@page { size: A4" in page and page.count("<td>监督人</td>") == 2
    # The commitment's public ledger entry, which the witnesses see before they type.
    from app.draws import ledger

    with app.app_context():
        uid = db.session.get(Draw, draw_id).uid
        commit = ledger.entry_of(uid, "commit")
    assert commit is not None and commit["hash"] in page
    assert f"第 {commit['seq']} 条" in page or f"{commit['seq']}" in page
    for outside in ("http://", "https://", "<script", "<link", "<img", "@import"):
        assert outside not in page, outside
    client.post(
        f"/task-draw/{task}/witnessed",
        data={"csrf_token": token, "entropy": "5 8 2", "confirm": "1"},
    )
    with acting(app, "operator_a"):
        draw = db.session.get(Draw, draw_id)
        record_hash = draw.record_hash
        drawn = [d.target.name for d in draw.drawn_targets]
        views = db.session.scalars(
            select(AuditLog).where(AuditLog.action == "view_confidential")
        ).all()
        assert sum("site record" in json.dumps(v.detail, ensure_ascii=False) for v in views) == 1
    page = client.get(url).get_data(as_text=True)
    assert record_hash in page and "5 8 2" in page and "（待输入）" not in page
    assert drawn and all(name in page for name in drawn)
    assert login_as("operator_b").get(url).status_code == 404
    assert login_as("inspector_a").get(url).status_code == 403


def test_the_site_record_shows_the_ledger_entries_the_record_carries(
    app, login_as, task, monkeypatch
):
    draw_id = _draw(app, task, "target")
    plain = services.record
    ledger = {
        "commit": {"seq": 41, "hash": "a" * 64, "at": "2027-04-01T09:00:00+08:00"},
        "complete": {"seq": 43, "hash": "c" * 64},
    }

    def with_ledger(draw, **kwargs):
        return {**plain(draw, **kwargs), "ledger": ledger, "completed_at": "2027-04-01T09:20:05"}

    monkeypatch.setattr(services, "record", with_ledger)
    page = login_as("operator_a").get(f"/task-draw/draw/{draw_id}/site-record")
    text = page.get_data(as_text=True)
    assert "第 41 条，2027年4月1日 09:00:00" in text and "a" * 64 in text
    assert "第 43 条，2027年4月1日 09:20:05" in text and "c" * 64 in text


def test_witness_names_longer_than_their_column_are_refused(app, api_token, task):
    headers = {"Authorization": f"Bearer {api_token('operator_a')}"}
    response = app.test_client().post(
        f"/api/v1/task/{task}/draw_targets",
        json={"mode": "witnessed", "witnesses": "监督" * 101},
        headers=headers,
    )
    assert response.status_code == 422 and "200" in response.get_json()["message"]
    with acting(app, "operator_a"):
        assert db.session.scalar(select(Draw).where(Draw.task_id == task)) is None


def test_draws_through_the_api_and_my_assignments(app, login_as, api_token, world, task):
    client = app.test_client()
    headers = {"Authorization": f"Bearer {api_token('operator_a')}"}
    assert (
        client.post(
            f"/api/v1/task/{task}/draw_targets",
            headers={"Authorization": f"Bearer {api_token('leader_a')}"},
        ).status_code
        == 403
    )
    targets = client.post(f"/api/v1/task/{task}/draw_targets", json={}, headers=headers)
    assert targets.status_code == 200 and targets.get_json()["result"]["status"] == "done"
    again = client.post(f"/api/v1/task/{task}/draw_targets", json={}, headers=headers)
    assert again.status_code == 422
    with acting(app, "operator_a"):
        # 王建国 of the directory fixture is the inspector_a login's roster entry.
        mine_id = db.session.scalar(select(Inspector.id).where(Inspector.name == "王建国"))
    inspectors = client.post(f"/api/v1/task/{task}/draw_inspectors", json={}, headers=headers)
    assert inspectors.status_code == 200
    draw_id = inspectors.get_json()["result"]["id"]
    with acting(app, "operator_a"):
        mine_targets = set(
            db.session.scalars(
                select(Assignment.target_id).where(
                    Assignment.inspector_id == mine_id, Assignment.active.is_(True)
                )
            )
        )
        all_targets = {t.target.name for t in db.session.scalars(select(DrawnTarget))}
        mine_names = {db.session.get(Target, t).name for t in mine_targets}
    html = login_as("inspector_a").get("/my-assignments/").get_data(as_text=True)
    # A cell holding the target's name (a card's title on a phone).
    cells = set(re.findall(r"<td[^>]*>([^<]*)</td>", html))
    for name in mine_names:
        assert name in cells
    for name in all_targets - mine_names:
        assert name not in cells
    with acting(app, "operator_a"):
        draw = db.session.get(Draw, draw_id)
        target_id, group = next(iter(draw.result_data().items()))
    sub = client.post(
        f"/api/v1/draw/{draw_id}/substitute",
        json={"target_id": int(target_id), "inspector_id": group[0], "reason": "公务冲突"},
        headers=headers,
    )
    assert sub.status_code == 200, sub.get_json()


def test_draw_action_in_the_task_list_for_roles_that_may_draw(app, login_as, task):
    assert "摇号" in login_as("operator_a").get("/tasks/list/").get_data(as_text=True)
    client = login_as("operator_a")
    token = csrf_token_from(client, "/plans/add")
    response = client.post(
        "/tasks/action_post", data={"action": "draw_targets", "rowid": [task], "csrf_token": token, "confirm": "1"}
    )
    assert response.status_code == 302 and "/draws/show/" in response.headers["Location"]
    with acting(app, "operator_a"):
        assert db.session.get(SpotCheckTask, task).status == "targets_drawn"


def test_leader_cannot_run_the_draw_action(app, login_as, task):
    leader = login_as("leader_a")
    assert leader.get(f"/task-draw/{task}/witnessed").status_code == 403
    token = csrf_token_from(leader, "/resetmypassword/form")
    response = leader.post(f"/task-draw/{task}/targets", data={"csrf_token": token, "confirm": "1"})
    assert response.status_code == 403
    with acting(app, "operator_a"):
        assert db.session.get(SpotCheckTask, task).status == "planned"


def test_cli_draw_verify(app, task):
    draw_id = _draw(app, task, "target")
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["draw", "verify", str(draw_id)])
    assert ok.exit_code == 0 and "VALID" in ok.output
    with acting(app, "operator_a"):
        draw = db.session.get(Draw, draw_id)
        result = draw.result_data()
        stratum = next(s for s, ids in result.items() if ids)
        result[stratum][0] += 100000
        # Simulate tampering in the database, bypassing every application path.
        db.session.execute(
            Draw.__table__.update()
            .where(Draw.__table__.c.id == draw_id)
            .values(result=json.dumps(result))
        )
        db.session.commit()
    bad = runner.invoke(args=["draw", "verify", str(draw_id)])
    assert bad.exit_code == 1 and "INVALID" in bad.output and "selection" in bad.output


def _joint_with_department_b(app, world, task, inspectors=3, **options):
    """Department B takes part in the task, with `inspectors` drawable inspectors of its own
    (set up as Admin: the write scope refuses an Operator department B's rows)."""
    with acting(app, "admin"):
        from app.security.models import Department

        t = db.session.get(SpotCheckTask, task)
        t.participating_departments = [db.session.get(Department, world.dept_b)]
        for name, value in options.items():
            setattr(t, name, value)
        far = dt.date.today() + dt.timedelta(days=400)
        for n in range(inspectors):
            db.session.add(
                Inspector(
                    name=f"河湖检查员{n}",
                    department_id=world.dept_b,
                    certificate_no=f"E-{n}",
                    certificate_expiry=far,
                    status="在岗",
                )
            )
        db.session.commit()


def test_load_cap_and_a_member_of_each_participating_department(app, world, task):
    _joint_with_department_b(app, world, task, one_per_department=True, max_groups_per_inspector=3)
    _draw(app, task, "target")
    draw_id = _draw(app, task, "inspector")
    with acting(app, "operator_a"):
        draw = db.session.get(Draw, draw_id)
        department = {i.id: i.department_id for i in db.session.scalars(select(Inspector))}
        groups = draw.result_data().values()
        assert all({department[i] for i in g} == {world.dept_a, world.dept_b} for g in groups)
        load = {}
        for g in groups:
            for i in g:
                load[i] = load.get(i, 0) + 1
        assert max(load.values()) <= 3
        assert services.verify_draw(draw) == []


def test_a_substitute_keeps_a_member_of_each_participating_department(app, world, task):
    """Issue 16 item 6: replacing a group's only inspector of a department brings one of the
    same department, although others rank above; the record still verifies."""
    _joint_with_department_b(app, world, task, one_per_department=True, max_groups_per_inspector=20)
    _draw(app, task, "target")
    draw_id = _draw(app, task, "inspector")
    with acting(app, "operator_a"):
        draw = db.session.get(Draw, draw_id)
        department = {i.id: i.department_id for i in db.session.scalars(select(Inspector))}
        seed = protocol.derive_seed(
            bytes.fromhex(draw.server_secret), draw.uid, draw.pool_hash, draw.params_hash, ""
        )
        outranked = 0
        for target, group in draw.result_data().items():
            target = int(target)
            (member_b,) = [i for i in group if department[i] == world.dept_b]
            ranking = protocol.inspector_ranking(seed, target, list(department))
            replacement = services.substitute_inspector(draw, target, member_b, "病假")
            db.session.commit()
            assert department[replacement.inspector_id] == world.dept_b
            # an inspector of department A ranked above the substitute: the rule decided
            above = ranking[: ranking.index(replacement.inspector_id)]
            outranked += any(department[i] == world.dept_a and i not in group for i in above)
        assert outranked, "the rule never changed a substitute: the test proves nothing"
        assert services.verify_draw(draw) == []


def test_an_unfinished_witnessed_draw_is_cancelled_by_a_leader_with_a_reason(app, task):
    with acting(app, "operator_a"):
        draw = services.start_draw(
            db.session.get(SpotCheckTask, task), "target", "张监督、李监督", mode="witnessed"
        )
        db.session.commit()
        draw_id = draw.id
        with pytest.raises(DomainError):
            services.cancel_draw(draw, "监督人未到场")  # an Operator does not cancel
        db.session.rollback()
    with acting(app, "leader_a"):
        draw = db.session.get(Draw, draw_id)
        with pytest.raises(DomainError):
            services.cancel_draw(draw, " ")
        services.cancel_draw(draw, "监督人未到场")
        db.session.commit()
    new_id = _draw(app, task, "target")  # the task can be drawn now
    with acting(app, "leader_a"):
        old = db.session.get(Draw, draw_id)
        assert (old.status, old.cancel_reason) == ("cancelled", "监督人未到场")
        with pytest.raises(DomainError):
            services.cancel_draw(db.session.get(Draw, new_id), "想重抽")  # no redraw


def test_assigned_inspectors_download_the_training_material(app, login_as, task):
    import io

    from app.planning.models import TaskAttachment

    client = login_as("operator_a")
    token = csrf_token_from(client, "/plans/add")
    pdf = b"%PDF-1.4\n%%EOF\n"
    client.post(
        f"/task-material/{task}/upload",
        data={"csrf_token": token, "file": (io.BytesIO(pdf), "培训.pdf")},
        content_type="multipart/form-data",
    )
    with acting(app, "operator_a"):
        attachment_id = db.session.scalar(select(TaskAttachment.id))
    inspector = login_as("inspector_a")  # 王建国 of the directory fixture
    assert inspector.get(f"/task-material/{attachment_id}").status_code == 404  # not assigned yet
    _draw(app, task, "target")
    _draw(app, task, "inspector")
    with acting(app, "operator_a"):
        assigned = db.session.scalar(
            select(Assignment.id)
            .join(Inspector, Inspector.id == Assignment.inspector_id)
            .where(Inspector.name == "王建国")
        )
    response = inspector.get(f"/task-material/{attachment_id}")
    if assigned:
        assert response.status_code == 200 and response.data == pdf
        assert "培训.pdf" in inspector.get("/my-assignments/").get_data(as_text=True)
    else:
        assert response.status_code == 404


def test_a_participating_department_reads_a_joint_check_but_does_not_run_it(
    app, world, task, login_as
):
    _joint_with_department_b(app, world, task, inspectors=2)
    with acting(app, "operator_b"):
        with pytest.raises(DomainError):
            services.start_draw(db.session.get(SpotCheckTask, task), "target")
        db.session.rollback()
    _draw(app, task, "target")
    draw_id = _draw(app, task, "inspector")
    with acting(app, "operator_a"):
        draw = db.session.get(Draw, draw_id)
        target_id, group = next(iter(draw.result_data().items()))
    participant = login_as("operator_b")
    assert participant.get(f"/api/v1/draw/{draw_id}").status_code == 200  # it lends inspectors
    response = participant.post(
        f"/api/v1/draw/{draw_id}/substitute",
        json={"target_id": int(target_id), "inspector_id": group[0], "reason": "病假"},
    )
    assert response.status_code == 422
    assert "牵头部门" in response.get_json()["message"]
    with acting(app, "operator_a"):
        assert db.session.get(Draw, draw_id).substitutions in (None, "[]")


def test_two_substitutes_at_once_both_stay_in_the_chain(app, task, monkeypatch):
    """Two officers replace two members of one draw at the same moment: each step appends to
    the substitution chain it read, so without the draw's row lock one event was lost."""
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            pytest.skip("SQLite has no row locks; it serialises writers itself")
    _draw(app, task, "target")
    draw_id = _draw(app, task, "inspector")
    with acting(app, "operator_a"):
        groups = db.session.get(Draw, draw_id).result_data()
    members = [(int(t), group[0]) for t, group in list(groups.items())[:2]]
    chain = services._chain

    def slow_chain(draw):  # widen the window between reading the chain and writing it
        found = chain(draw)
        time.sleep(0.5)
        return found

    monkeypatch.setattr(services, "_chain", slow_chain)
    barrier = threading.Barrier(2)
    outcomes = []

    def substitute(target_id, inspector_id):
        with acting(app, "operator_a"):
            try:
                barrier.wait(timeout=10)
                draw = db.session.get(Draw, draw_id)
                services.substitute_inspector(draw, target_id, inspector_id, "病假")
                db.session.commit()
                outcomes.append("ok")
            except Exception as exc:  # noqa: BLE001
                db.session.rollback()
                outcomes.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=substitute, args=m) for m in members]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert outcomes == ["ok", "ok"], outcomes
    with acting(app, "operator_a"):
        draw = db.session.get(Draw, draw_id)
        assert len(draw.substitution_events()) == 2
        assert services.verify_draw(draw) == []


def test_the_target_draw_page_leads_on_to_the_inspector_draw(app, task, login_as):
    draw_id = _draw(app, task, "target")
    operator = login_as("operator_a")
    page = operator.get(f"/draws/show/{draw_id}").get_data(as_text=True)
    assert "下一步：为这些检查对象抽取检查人员" in page and f"/tasks/show/{task}" in page
    _draw(app, task, "inspector")
    assert "下一步" not in operator.get(f"/draws/show/{draw_id}").get_data(as_text=True)
