"""Substitutes when the ranking is used up (issue 17, finding 6): the refusal says why and
offers the supplementary inspector draw (补充摇号) over today's roster, which is in the record,
the public draw ledger and the archive bundle, and which the standalone verifier checks."""

# ruff: noqa: F811  (pytest fixtures imported from the neighbouring suites)

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from app.core.errors import DomainError
from app.directory.models import Conflict, Inspector
from app.draws import ledger, protocol, services
from app.draws.models import Assignment, Draw, DrawLedgerEntry
from app.extensions import db
from app.planning.models import SpotCheckTask
from tests.conftest import csrf_token_from
from tests.directory.conftest import acting, directory  # noqa: F401  (fixture)
from tests.draws.test_draw_service import _draw, task  # noqa: F401  (fixture)
from tests.planning.conftest import plan  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parents[2]


def _seed(draw: Draw) -> bytes:
    return protocol.derive_seed(
        bytes.fromhex(draw.server_secret), draw.uid, draw.pool_hash, draw.params_hash, ""
    )


def _exhaust(app, task_id) -> tuple[int, int, int]:
    """Draw the inspectors, then substitute on one target until its ranking is used up: the
    task's four inspectors are all in its group or replaced. Returns (draw, target, member)."""
    _draw(app, task_id, "target")
    draw_id = _draw(app, task_id, "inspector")
    with acting(app, "operator_a"):
        draw = db.session.get(Draw, draw_id)
        target, group = next(iter(draw.result_data().items()))
        target, member = int(target), group[0]
        while not services.used_up_members(draw):
            member = services.substitute_inspector(draw, target, member, "病假").inspector_id
            db.session.commit()
        assert (target, member) in services.used_up_members(draw)
        return draw_id, target, member


def _add_inspectors(app, world, target, names=("新检查员甲", "新检查员乙", "新检查员丙")):
    """Inspectors added after the draw: eligible ones, one with an expired certificate and one
    with a conflict of interest with the target."""
    far = dt.date.today() + dt.timedelta(days=400)
    with acting(app, "operator_a"):
        added = []
        for n, name in enumerate(names):
            inspector = Inspector(
                name=name,
                department_id=world.dept_a,
                certificate_no=f"S-{n}",
                certificate_expiry=far,
                status="在岗",
            )
            db.session.add(inspector)
            added.append(inspector)
        expired = Inspector(
            name="过期证件者",
            department_id=world.dept_a,
            certificate_no="S-8",
            certificate_expiry=dt.date.today() - dt.timedelta(days=1),
            status="在岗",
        )
        conflicted = Inspector(
            name="有利害关系者",
            department_id=world.dept_a,
            certificate_no="S-9",
            certificate_expiry=far,
            status="在岗",
        )
        db.session.add_all([expired, conflicted])
        db.session.flush()
        db.session.add(
            Conflict(
                inspector_id=conflicted.id,
                target_id=target,
                reason="亲属关系",
                valid_from=dt.date.today() - dt.timedelta(days=1),
            )
        )
        db.session.commit()
        return [i.id for i in added], expired.id, conflicted.id


def test_a_used_up_ranking_says_why_and_a_supplementary_draw_takes_todays_roster(
    app, world, task, tmp_path
):
    draw_id, target, member = _exhaust(app, task)
    with acting(app, "operator_a"):
        draw = db.session.get(Draw, draw_id)
        with pytest.raises(DomainError) as refused:
            services.substitute_inspector(draw, target, member, "病假")
        message = str(refused.value)
        assert "该检查对象已无符合条件的检查人员可供递补" in message
        assert "新增" in message and "补充摇号" in message  # why, and the way on
        db.session.rollback()
    with acting(app, "leader_a"):
        # Nobody new in the roster yet: the supplementary draw says so, and writes nothing.
        draw = db.session.get(Draw, draw_id)
        with pytest.raises(DomainError, match="名录库中也没有"):
            services.supplementary_draw(draw, target, member, "病假")
        db.session.rollback()
    added, expired, conflicted = _add_inspectors(app, world, target)
    with acting(app, "leader_a"):
        draw = db.session.get(Draw, draw_id)
        events_before = len(draw.substitution_events())
        replacement = services.supplementary_draw(draw, target, member, "公务冲突")
        db.session.commit()
        event = draw.substitution_events()[-1]
        # The pool is today's eligible roster: the new inspectors, not the expired or the
        # conflicted one; the replaced member and the rest of the group are ranked out.
        pool_ids = [c["id"] for c in event["pool"]]
        assert set(added) <= set(pool_ids)
        assert expired not in pool_ids and conflicted not in pool_ids
        assert event["pool_hash"] == protocol.pool_hash(event["pool"])
        # The substitute is the best-ranked new inspector under the documented seed.
        seed = protocol.supplement_seed(
            _seed(draw), events_before + 1, target, event["pool_hash"], event["prev_hash"]
        )
        assert replacement.inspector_id == protocol.inspector_ranking(seed, target, added)[0]
        assert (event["target"], event["replaced"], event["substitute"]) == (
            target,
            member,
            replacement.inspector_id,
        )
        rows = db.session.scalars(
            select(Assignment).where(Assignment.draw_id == draw_id, Assignment.target_id == target)
        ).all()
        assert {(r.inspector_id, r.active) for r in rows} >= {
            (member, False),
            (replacement.inspector_id, True),
        }
        # Verifiable inside the system and against the public ledger.
        assert services.verify_draw(draw) == []
        assert services.verify_against_ledger(draw) == []
        entry = db.session.scalars(
            select(DrawLedgerEntry).where(
                DrawLedgerEntry.draw_uid == draw.uid, DrawLedgerEntry.event == "supplement"
            )
        ).one()
        assert set(entry.data()) >= {"n", "event_seal"} and "pool" not in entry.data()
        record = services.record(draw, reveal=True)
        entries = {"entries": ledger.all_entries(), "head": ledger.head()}
    # The standalone verifier (python -m app.draws.verify) checks it too, with the ledger.
    (tmp_path / "record.json").write_text(json.dumps(record, ensure_ascii=False), "utf-8")
    (tmp_path / "ledger.json").write_text(json.dumps(entries, ensure_ascii=False), "utf-8")
    run = [sys.executable, "-m", "app.draws.verify", str(tmp_path / "record.json")]
    result = subprocess.run(
        [*run, "--ledger", str(tmp_path / "ledger.json")],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0 and result.stdout.startswith("VALID"), result.stdout
    # A forged supplementary substitute, even with the chain rehashed, is caught.
    forged = json.loads(json.dumps(record))
    other = next(i for i in added if i != event["substitute"])
    forged["substitutions"][-1]["substitute"] = other
    forged["substitutions"][-1]["event_hash"] = protocol.event_hash(forged["substitutions"][-1])
    problems = protocol.verify(forged)
    assert any("should be inspector" in p for p in problems), problems


def test_a_supplementary_pool_changed_after_the_fact_is_reported(app, world, task):
    draw_id, target, member = _exhaust(app, task)
    _add_inspectors(app, world, target)
    with acting(app, "leader_a"):
        draw = db.session.get(Draw, draw_id)
        services.supplementary_draw(draw, target, member, "回避", "新申报")
        db.session.commit()
        record = services.record(draw, reveal=True)
    event = record["substitutions"][-1]
    event["pool"] = [c for c in event["pool"] if c["id"] != event["substitute"]]
    event["event_hash"] = protocol.event_hash(event)
    problems = protocol.verify(record)
    n = len(record["substitutions"])
    assert f"substitution {n}: pool_hash does not match its pool" in problems


def test_no_supplementary_draw_while_the_ranking_has_someone_left(app, world, task):
    _draw(app, task, "target")
    draw_id = _draw(app, task, "inspector")
    with acting(app, "leader_a"):
        draw = db.session.get(Draw, draw_id)
        target, group = next(iter(draw.result_data().items()))
        with pytest.raises(DomainError, match="递补抽取"):
            services.supplementary_draw(draw, int(target), group[0], "病假")
        assert draw.substitution_events() == []


def test_a_supplementary_draw_while_the_ranking_had_someone_is_invalid(app, world, task):
    """A record that claims a supplementary draw the rules did not allow is INVALID."""
    _draw(app, task, "target")
    draw_id = _draw(app, task, "inspector")
    with acting(app, "operator_a"):
        target, group = next(iter(db.session.get(Draw, draw_id).result_data().items()))
    _add_inspectors(app, world, int(target))
    with acting(app, "operator_a"):
        draw = db.session.get(Draw, draw_id)
        record = services.record(draw, reveal=True)
        pool = protocol.canonical_pool(
            protocol.pool_from_inspectors(
                services.supplementary_pool(draw.task, int(target), dt.date.today())
            )
        )
    digest = protocol.pool_hash(pool)
    state, _ = protocol.replay_state(record, _seed_of(record))
    unavailable = {group[0]}
    chosen = state.supplementary_substitute(
        _seed_of(record), 1, int(target), unavailable, record["params"], group[0], pool
    )
    event = {
        "target": int(target),
        "replaced": group[0],
        "substitute": chosen,
        "reason": "病假",
        "note": "",
        "at": "2026-04-03T08:40:00+08:00",
        "prev_hash": record["record_hash"],
        "pool": pool,
        "pool_hash": digest,
    }
    event["event_hash"] = protocol.event_hash(event)
    record["substitutions"] = [event]
    problems = protocol.verify(record)
    assert any("a supplementary draw while the draw's own ranking still had" in p for p in problems)


def _seed_of(record):
    return protocol.derive_seed(
        bytes.fromhex(record["server_secret"]),
        record["draw_id"],
        record["pool_hash"],
        record["params_hash"],
        record["witness_entropy"],
    )


def test_the_page_offers_the_supplementary_draw_and_asks_for_a_reason(app, world, login_as, task):
    draw_id, target, member = _exhaust(app, task)
    client = login_as("operator_a")
    page = client.get(f"/draws/show/{draw_id}").get_data(as_text=True)
    # The Operator edits the roster, so a Leader runs the supplementary draw: the Operator's
    # page says so and offers no button for it.
    assert "补充摇号待领导执行" in page
    assert f"/task-draw/draw/{draw_id}/supplement" not in page
    token = csrf_token_from(client, f"/draws/show/{draw_id}")
    form = {"csrf_token": token, "target_id": target, "inspector_id": member, "note": ""}
    # The substitute button says why it cannot help, and who can.
    answer = client.post(
        f"/task-draw/draw/{draw_id}/substitute",
        data={**form, "reason": "病假", "confirm": "1"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "可供递补" in answer and "由领导执行“补充摇号”" in answer
    added, _expired, _conflicted = _add_inspectors(app, world, target)
    refused = client.post(
        f"/task-draw/draw/{draw_id}/supplement", data={**form, "reason": "病假", "confirm": "1"}
    )
    assert refused.status_code == 403
    with acting(app, "operator_a"):
        assert not any("pool" in e for e in db.session.get(Draw, draw_id).substitution_events())
    leader = login_as("leader_a")
    page = leader.get(f"/draws/show/{draw_id}").get_data(as_text=True)
    # No reason preselected: a blank first choice.
    assert (
        '<option value="">（请选择原因）</option>' in page
        and "selected" not in page.split("（请选择原因）")[1].split("</select>")[0]
    )
    assert f"/task-draw/draw/{draw_id}/supplement" in page and "补充摇号" in page
    token = csrf_token_from(leader, f"/draws/show/{draw_id}")
    form["csrf_token"] = token
    # No reason chosen: a Chinese error, nothing written.
    answer = leader.post(
        f"/task-draw/draw/{draw_id}/supplement",
        data={**form, "reason": "", "confirm": "1"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "请选择检查人员不能参加检查的原因" in answer
    # Without confirm=1 the page asks first and draws nothing.
    asked = leader.post(
        f"/task-draw/draw/{draw_id}/supplement", data={**form, "reason": "病假"}
    ).get_data(as_text=True)
    assert "补充摇号" in asked and 'name="confirm"' in asked
    answer = leader.post(
        f"/task-draw/draw/{draw_id}/supplement",
        data={**form, "reason": "病假", "confirm": "1"},
        follow_redirects=True,
    ).get_data(as_text=True)
    with acting(app, "operator_a"):
        event = db.session.get(Draw, draw_id).substitution_events()[-1]
        assert "pool" in event and event["substitute"] in added
        name = db.session.get(Inspector, event["substitute"]).name
    assert f"已补充摇号：由 {name} 替换该检查人员。" in answer
    # Another department's operator cannot reach it.
    other = login_as("operator_b")
    token = csrf_token_from(other, "/plans/add")
    assert other.post(
        f"/task-draw/draw/{draw_id}/supplement",
        data={**form, "csrf_token": token, "reason": "病假", "confirm": "1"},
    ).status_code in (403, 404)


def test_the_rest_api_draws_a_supplementary_inspector(app, world, api_token, task):
    draw_id, target, member = _exhaust(app, task)
    client = app.test_client()
    operator = {"Authorization": f"Bearer {api_token('operator_a')}"}
    headers = {"Authorization": f"Bearer {api_token('leader_a')}"}
    body = {"target_id": target, "inspector_id": member, "reason": "病假"}
    refused = client.post(f"/api/v1/draw/{draw_id}/substitute", json=body, headers=operator)
    assert refused.status_code == 422 and "补充摇号" in refused.get_json()["message"]
    blank = client.post(
        f"/api/v1/draw/{draw_id}/supplement", json={**body, "reason": ""}, headers=headers
    )
    assert blank.status_code == 422 and "原因" in blank.get_json()["message"]
    added, _expired, _conflicted = _add_inspectors(app, world, target)
    other = {"Authorization": f"Bearer {api_token('operator_b')}"}
    for who in (other, operator):  # the Operators who edit the roster do not run it
        answer = client.post(f"/api/v1/draw/{draw_id}/supplement", json=body, headers=who)
        assert answer.status_code == 403
    with acting(app, "operator_a"):
        assert not any("pool" in e for e in db.session.get(Draw, draw_id).substitution_events())
    done = client.post(f"/api/v1/draw/{draw_id}/supplement", json=body, headers=headers)
    assert done.status_code == 200, done.get_json()
    with acting(app, "operator_a"):
        draw = db.session.get(Draw, draw_id)
        assert draw.substitution_events()[-1]["substitute"] in added
        assert services.verify_draw(draw) == []
        assert db.session.get(SpotCheckTask, task).status == "inspectors_drawn"


def test_parallel_supplementary_draws_are_one_draw_and_clear_refusals(app, world, api_token, task):
    """Six requests for the same supplementary draw at once: one draws, the others are
    refused in Chinese (the member was replaced already, or another operation holds the
    database), never a 500."""
    import threading

    draw_id, target, member = _exhaust(app, task)
    _add_inspectors(app, world, target)
    headers = {"Authorization": f"Bearer {api_token('leader_a')}"}
    body = {"target_id": target, "inspector_id": member, "reason": "病假"}
    barrier = threading.Barrier(6)
    answers = []

    def supplement():
        client = app.test_client()
        barrier.wait(timeout=10)
        answer = client.post(f"/api/v1/draw/{draw_id}/supplement", json=body, headers=headers)
        answers.append((answer.status_code, (answer.get_json() or {}).get("message")))

    threads = [threading.Thread(target=supplement) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    codes = sorted(code for code, _message in answers)
    assert len(answers) == 6 and codes.count(200) == 1, answers
    for code, message in answers:
        if code != 200:
            assert code in (409, 422) and message, answers
            assert any("\u4e00" <= ch <= "\u9fff" for ch in message), answers
    with acting(app, "operator_a"):
        draw = db.session.get(Draw, draw_id)
        assert sum("pool" in e for e in draw.substitution_events()) == 1
        assert services.verify_draw(draw) == []


def test_a_lock_that_times_out_is_a_clear_refusal(
    app, world, api_token, login_as, task, monkeypatch
):
    """SQLite's "database is locked" (or a lock timeout elsewhere) is not a 500: the page and
    the API say another operation is under way, and nothing is written."""
    import sqlite3

    from sqlalchemy.exc import OperationalError

    draw_id, target, member = _exhaust(app, task)

    def locked(*_args, **_kwargs):
        raise OperationalError("UPDATE draws", {}, sqlite3.OperationalError("database is locked"))

    monkeypatch.setattr(services, "supplementary_draw", locked)
    headers = {"Authorization": f"Bearer {api_token('leader_a')}"}
    body = {"target_id": target, "inspector_id": member, "reason": "病假"}
    answer = app.test_client().post(
        f"/api/v1/draw/{draw_id}/supplement", json=body, headers=headers
    )
    assert answer.status_code == 409
    assert answer.get_json()["message"] == "另一操作正在进行，请稍后重试。"
    leader = login_as("leader_a")
    token = csrf_token_from(leader, f"/draws/show/{draw_id}")
    page = leader.post(
        f"/task-draw/draw/{draw_id}/supplement",
        data={"csrf_token": token, **body, "note": "", "confirm": "1"},
    )
    assert page.status_code == 409 and "另一操作正在进行，请稍后重试" in page.get_data(as_text=True)
