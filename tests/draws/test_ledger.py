"""The public draw ledger (issue 16): every draw step is a hash-chained public entry, written in
the step's transaction; outside entropy for every draw (one-step draws refused by default);
attempts after a cancellation; the record and the verifier against the ledger; the audit
chain's head outside the database."""

from __future__ import annotations

import copy
import datetime as dt
import json
import secrets
import threading

import pytest
from sqlalchemy import func, select, text

from app.core.audit.cli import audit_cli
from app.core.audit.models import AuditChainHead
from app.core.errors import DomainError
from app.draws import ledger, protocol, services
from app.draws.ledger_chain import (
    GENESIS_HASH,
    NO_ENTROPY,
    check_chain,
    check_record,
    entry_hash,
    event_seal,
    without_ledger_fields,
)
from app.draws.models import Draw, DrawLedgerEntry, DrawnTarget
from app.draws.verify import main as verify_main
from app.extensions import db
from app.planning import services as planning
from app.planning.models import SpotCheckTask
from tests.conftest import csrf_token_from
from tests.directory.conftest import acting, directory, uscc  # noqa: F401  (fixture)
from tests.draws import test_draw_service
from tests.planning.conftest import plan  # noqa: F401  (fixture)

WITNESSES = "张监督、李监督"
task = test_draw_service.task  # the fixture: a task of department A with 12 targets


@pytest.fixture
def strict(app, monkeypatch):
    """The default configuration: no draw without outside entropy."""
    monkeypatch.setitem(app.config, "DRAW_ALLOW_NO_ENTROPY", False)


def _witnessed(app, task_id, kind, entropy="8 3 1 6", witnesses=WITNESSES) -> int:
    with acting(app, "operator_a"):
        draw = services.start_draw(
            db.session.get(SpotCheckTask, task_id), kind, witnesses, mode="witnessed"
        )
        db.session.commit()
        services.complete_draw(draw, entropy)
        db.session.commit()
        return draw.id


def _ledger(client, since=None) -> dict:
    url = "/public/draws/ledger.json" + (f"?since={since}" if since is not None else "")
    response = client.get(url)
    assert response.status_code == 200
    return response.get_json()


def _n_draws(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Draw.id)))


# --- outside entropy for every draw ---------------------------------------------------------------


def test_the_one_step_draw_is_refused_by_default(app, api_token, login_as, strict, task):
    from config import Config

    assert Config.DRAW_ALLOW_NO_ENTROPY is False  # the shipped default
    headers = {"Authorization": f"Bearer {api_token('operator_a')}"}
    client = app.test_client()
    for body in ({}, {"witness_entropy": "123"}):
        response = client.post(f"/api/v1/task/{task}/draw_targets", json=body, headers=headers)
        assert response.status_code == 422
        assert "外部随机源" in response.get_json()["message"]
    # The page's one-step button is not offered, and posting to it is refused the same way.
    operator = login_as("operator_a")
    page = operator.get(f"/tasks/show/{task}").get_data(as_text=True)
    assert f"/task-draw/{task}/targets" not in page and f"/task-draw/{task}/witnessed" in page
    token = csrf_token_from(operator, f"/tasks/show/{task}")
    refused = operator.post(
        f"/task-draw/{task}/targets",
        data={"csrf_token": token, "confirm": "1"},
        follow_redirects=True,
    )
    assert "外部随机源" in refused.get_data(as_text=True)
    assert _n_draws(app) == 0 and _ledger(client)["entries"] == []


def test_a_witnessed_draw_needs_two_named_witnesses(app, api_token, strict, task):
    headers = {"Authorization": f"Bearer {api_token('operator_a')}"}
    client = app.test_client()
    url = f"/api/v1/task/{task}/draw_targets"
    # One person, however written: a space inside a name, a zero-width space.
    for witnesses in (
        "",
        "张监督",
        "张监督、张监督",
        " 张监督 ，",
        "张 三",
        "张监督、张监督\u200b",
    ):
        response = client.post(
            url, json={"mode": "witnessed", "witnesses": witnesses}, headers=headers
        )
        assert response.status_code == 422, witnesses
        assert "至少两名" in response.get_json()["message"]
    assert _n_draws(app) == 0
    committed = client.post(
        url, json={"mode": "witnessed", "witnesses": WITNESSES}, headers=headers
    )
    assert committed.status_code == 200
    result = committed.get_json()["result"]
    assert result["status"] == "committed" and result["entropy_source"] == "witnesses"
    # The answer names the commitment's public ledger entry, and anyone sees it there now.
    position = result["ledger"]["commit"]
    public = _ledger(client)
    commit = next(e for e in public["entries"] if e["event"] == "commit")
    assert position == {"seq": commit["seq"], "hash": commit["hash"], "at": commit["at"]}
    assert commit["commitment"] == result["commitment"] and commit["draw_uid"] == result["draw_id"]
    assert commit["at"].endswith("+08:00") and public["head"]["seq"] == commit["seq"]
    # Nothing confidential: no pool, no result, no names.
    assert set(commit) == {
        "seq", "at", "event", "draw_uid", "prev_hash", "hash", "task", "kind", "attempt",
        "pool_size", "pool_hash", "params_hash", "commitment", "entropy_source",
    }  # fmt: skip
    done = client.post(url, json={"witness_entropy": " 20270315  8 "}, headers=headers)
    assert done.status_code == 200 and done.get_json()["result"]["status"] == "done"
    events = [e["event"] for e in _ledger(client, since=commit["seq"])["entries"]]
    assert events == ["entropy", "complete"]


def test_the_witness_page_shows_the_public_commitment_before_the_entropy(
    app, login_as, strict, task
):
    client = login_as("operator_a")
    token = csrf_token_from(client, f"/task-draw/{task}/witnessed")
    one = client.post(
        f"/task-draw/{task}/witnessed",
        data={"csrf_token": token, "witnesses": "张监督", "confirm": "1"},
    )
    assert "至少两名" in one.get_data(as_text=True) and _n_draws(app) == 0
    page = client.post(
        f"/task-draw/{task}/witnessed",
        data={"csrf_token": token, "witnesses": WITNESSES, "confirm": "1"},
    ).get_data(as_text=True)
    (commit,) = [e for e in _ledger(app.test_client())["entries"] if e["event"] == "commit"]
    # The witnesses see the entry (number, hash, time) that the public ledger shows.
    shown_at = commit["at"].replace("T", " ").removesuffix("+08:00")  # as people read it
    assert commit["hash"] in page and shown_at in page and f"第 {commit['seq']} 条" in page
    public_page = app.test_client().get("/public/draws/ledger").get_data(as_text=True)
    assert commit["hash"] in public_page and "摇号公示台账" in public_page
    done = client.post(
        f"/task-draw/{task}/witnessed",
        data={"csrf_token": token, "entropy": "3 8 1", "confirm": "1"},
    )
    assert done.status_code == 302
    with acting(app, "operator_a"):
        draw = db.session.scalar(select(Draw).where(Draw.task_id == task))
        assert draw.status == "done" and services.verify_against_ledger(draw) == []


def test_no_entropy_is_accepted_for_a_commitment_missing_from_the_ledger(
    app, monkeypatch, strict, task
):
    real_append = ledger.append

    def append_all_but_the_commitment(event_name, *args, **kwargs):
        if event_name != "commit":
            return real_append(event_name, *args, **kwargs)
        return {}

    with acting(app, "operator_a"):
        monkeypatch.setattr(ledger, "append", append_all_but_the_commitment)
        draw = services.start_draw(
            db.session.get(SpotCheckTask, task), "target", WITNESSES, mode="witnessed"
        )
        db.session.commit()
        monkeypatch.setattr(ledger, "append", real_append)
        with pytest.raises(DomainError, match="公示台账"):
            services.complete_draw(draw, "1 2 3")
        db.session.rollback()
        assert db.session.get(Draw, draw.id).status == "committed"


def test_a_declared_future_public_source(app, api_token, strict, task):
    headers = {"Authorization": f"Bearer {api_token('operator_a')}"}
    client = app.test_client()
    url = f"/api/v1/task/{task}/draw_targets"
    refused = client.post(url, json={"mode": "public", "entropy_source": " "}, headers=headers)
    assert refused.status_code == 422
    source = "中国福利彩票3D 第2027070期开奖号码"
    committed = client.post(url, json={"mode": "public", "entropy_source": source}, headers=headers)
    assert committed.status_code == 200
    assert committed.get_json()["result"]["entropy_source"] == f"public:{source}"
    (commit,) = [e for e in _ledger(client)["entries"] if e["event"] == "commit"]
    assert commit["entropy_source"] == f"public:{source}"
    # The draw waits, committed, until the result is out.
    empty = client.post(url, json={"witness_entropy": ""}, headers=headers)
    assert empty.status_code == 422
    done = client.post(url, json={"witness_entropy": "5 0 7"}, headers=headers)
    assert done.get_json()["result"]["status"] == "done"
    with acting(app, "operator_a"):
        draw = db.session.scalar(select(Draw).where(Draw.task_id == task))
        assert json.loads(draw.params)["entropy_source"] == f"public:{source}"
        assert services.verify_against_ledger(draw) == []


def test_a_draw_without_outside_entropy_says_so_everywhere(app, login_as, task):
    """Where DRAW_ALLOW_NO_ENTROPY is on (the suite's setting), the one-step draw is marked."""
    with acting(app, "operator_a"):
        draw = services.start_draw(db.session.get(SpotCheckTask, task), "target")
        db.session.commit()
        services.complete_draw(draw)
        db.session.commit()
        data = services.record(draw)
        draw_id = draw.id
    assert data["params"]["entropy_source"] == NO_ENTROPY
    mine = [e for e in _ledger(app.test_client())["entries"] if e["draw_uid"] == data["draw_id"]]
    assert [e["event"] for e in mine] == ["commit", "entropy", "complete"]
    assert mine[0]["entropy_source"] == NO_ENTROPY and all(e["note"] == NO_ENTROPY for e in mine)
    page = login_as("operator_a").get(f"/draws/show/{draw_id}").get_data(as_text=True)
    assert NO_ENTROPY in page


# --- the chain ---------------------------------------------------------------------------------


def test_every_step_is_a_chained_entry_and_the_day_starts_with_the_audit_head(app, strict, task):
    _witnessed(app, task, "target")
    _witnessed(app, task, "inspector")
    with acting(app, "operator_a"):
        draw = db.session.scalar(select(Draw).where(Draw.kind == "inspector"))
        target_id, group = next(iter(draw.result_data().items()))
        services.substitute_inspector(draw, int(target_id), group[0], "病假")
        db.session.commit()
        audit_after = db.session.get(AuditChainHead, 1).last_seq
        event_hash = draw.substitution_events()[0]["event_hash"]
        secret = draw.server_secret
    public = _ledger(app.test_client())
    entries = public["entries"]
    assert [e["event"] for e in entries] == [
        "audit_head", "commit", "entropy", "complete", "commit", "entropy", "complete",
        "substitute",
    ]  # fmt: skip
    assert check_chain(entries, public["head"]) == []
    assert entries[0]["prev_hash"] == GENESIS_HASH and [e["seq"] for e in entries] == list(
        range(1, 9)
    )
    assert all(entry_hash(e) == e["hash"] for e in entries)
    assert entries[0]["audit_seq"] >= 1 and entries[0]["audit_seq"] < audit_after
    # The public sees a seal of the event that only the draw's secret opens: the event's
    # hash could be found by trying the few possible substitutions (a drawn target, two
    # inspectors, a reason, the second it happened).
    assert entries[-1]["event_seal"] == event_seal(secret, event_hash)
    assert "event_hash" not in entries[-1] and event_hash not in json.dumps(public)
    assert set(entries[-1]) >= {"n", "event_seal"} and "reason" not in entries[-1]
    # ?since=SEQ: the entries after it; a wrong value is a clear 400, never a 500.
    assert [e["seq"] for e in _ledger(app.test_client(), since=6)["entries"]] == [7, 8]
    bad = app.test_client().get("/public/draws/ledger.json?since=-1")
    assert bad.status_code == 400 and "since" in bad.get_json()["message"]
    # The page: newest first.
    page = app.test_client().get("/public/draws/ledger").get_data(as_text=True)
    assert page.index(entries[-1]["hash"]) < page.index(entries[0]["hash"])
    # A changed entry breaks the chain at that entry.
    forged = copy.deepcopy(entries)
    forged[2]["entropy"] = "9 9 9"
    assert "ledger entry 3: its content does not hash to its hash" in check_chain(forged)
    del forged[2]
    assert check_chain(forged)[0].startswith("ledger: entry 3 is missing")


def test_the_ledger_is_append_only_for_the_orm(app, strict, task):
    _witnessed(app, task, "target")
    with app.app_context():
        entry = db.session.scalars(select(DrawLedgerEntry)).first()
        entry.body = "{}"
        with pytest.raises(ledger.LedgerIsAppendOnly):
            db.session.flush()
        db.session.rollback()


def _second_task(app, task_id):  # noqa: F811
    with acting(app, "operator_a"):
        line = db.session.get(SpotCheckTask, task_id).plan_line
        other = planning.create_task_from_line(line)
        db.session.add(other)
        db.session.commit()
        return other.id


def test_two_draws_at_once_leave_one_unbroken_chain(app, strict, task):
    """Two concurrent transactions (two threads, two database connections: on PostgreSQL and
    MariaDB the head row lock, on SQLite the database lock, serialise them)."""
    tasks = [task, _second_task(app, task)]
    barrier = threading.Barrier(2)
    errors = []

    def draw(task_id):
        try:
            with acting(app, "operator_a"):
                barrier.wait(timeout=10)
                d = services.start_draw(
                    db.session.get(SpotCheckTask, task_id), "target", WITNESSES, mode="witnessed"
                )
                db.session.commit()
                barrier.wait(timeout=10)
                services.complete_draw(d, "4 4 2")
                db.session.commit()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))
            db.session.rollback()

    threads = [threading.Thread(target=draw, args=(t,)) for t in tasks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    public = _ledger(app.test_client())
    entries = public["entries"]
    assert check_chain(entries, public["head"]) == []
    assert sorted(e["event"] for e in entries if e["draw_uid"]) == sorted(
        ["commit", "entropy", "complete"] * 2
    )
    assert len({e["prev_hash"] for e in entries}) == len(entries)
    with app.app_context():
        for d in db.session.scalars(select(Draw)):
            assert services.verify_against_ledger(d) == [], d.uid


# --- attempts ------------------------------------------------------------------------------------


def test_a_draw_after_a_cancellation_is_attempt_two_linked_to_the_first(app, strict, task):
    with acting(app, "operator_a"):
        first = services.start_draw(
            db.session.get(SpotCheckTask, task), "target", WITNESSES, mode="witnessed"
        )
        db.session.commit()
        first_uid = first.uid
    with acting(app, "leader_a"):
        services.cancel_draw(db.session.get(Draw, first.id), "监督人未到场")
        db.session.commit()
    second_id = _witnessed(app, task, "target")
    with acting(app, "operator_a"):
        second = db.session.get(Draw, second_id)
        params = json.loads(second.params)
        assert (params["attempt"], params["previous_draw"]) == (2, first_uid)
        assert protocol.params_hash(params) == second.params_hash  # the link is hashed
    entries = _ledger(app.test_client())["entries"]
    cancel = next(e for e in entries if e["event"] == "cancel")
    assert (cancel["draw_uid"], cancel["reason"]) == (first_uid, "监督人未到场")
    commits = [e for e in entries if e["event"] == "commit"]
    assert [c["attempt"] for c in commits] == [1, 2]


# --- record and verifier against the ledger -------------------------------------------------------


def _files(tmp_path, record, public):
    record_path, ledger_path = tmp_path / "record.json", tmp_path / "ledger.json"
    record_path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    ledger_path.write_text(json.dumps(public, ensure_ascii=False), encoding="utf-8")
    return str(record_path), str(ledger_path)


def _rehash(record):
    record["record_hash"] = protocol.record_hash(without_ledger_fields(record))
    return record


def test_a_rehashed_forged_record_is_invalid_against_the_ledger(
    app, strict, task, tmp_path, capsys
):
    draw_id = _witnessed(app, task, "target")
    with acting(app, "operator_a"):
        record = services.record(db.session.get(Draw, draw_id), reveal=True)
    public = _ledger(app.test_client())
    assert record["ledger"]["commit"]["seq"] < record["ledger"]["complete"]["seq"]
    assert record["committed_at"].endswith("+08:00") and record["completed_at"]
    assert verify_main(list(_files(tmp_path, record, public)[:1])) == 0
    assert "own consistency only" in capsys.readouterr().out
    assert (
        verify_main(
            ["--ledger", _files(tmp_path, record, public)[1], str(tmp_path / "record.json")]
        )
        == 0
    )
    assert capsys.readouterr().out.startswith("VALID\n(and against the public draw ledger")

    # The operator moves a selected candidate to `excluded`, picks a new secret, new witness
    # entropy, redraws and re-hashes everything: the record agrees with itself...
    forged = copy.deepcopy(record)
    stratum, chosen = next((s, ids) for s, ids in forged["selection"].items() if ids)
    forged["pool"] = [c for c in forged["pool"] if c["id"] != chosen[0]]
    forged["excluded"].append({"id": chosen[0], "reason": "not_live:吊销"})
    forged["pool_hash"] = protocol.pool_hash(forged["pool"])
    secret = secrets.token_bytes(32)
    forged["server_secret"], forged["commitment"] = secret.hex(), protocol.commitment(secret)
    forged["witness_entropy"] = "7 7 7"
    seed = protocol.derive_seed(
        secret, forged["draw_id"], forged["pool_hash"], forged["params_hash"], "7 7 7"
    )
    forged["selection"] = protocol.draw_targets(forged["pool"], forged["params"], seed)
    _rehash(forged)
    record_path, ledger_path = _files(tmp_path, forged, public)
    assert verify_main([record_path]) == 0
    capsys.readouterr()
    # ... but not with the ledger, which announced the commitment and hashes before.
    assert verify_main([record_path, "--ledger", ledger_path]) == 1
    out = capsys.readouterr().out
    assert out.startswith("INVALID") and "pool_hash" in out and "commitment" in out
    problems = check_record(forged, public["entries"])
    assert any("entropy differs" in p for p in problems)
    assert any("record_hash differs" in p for p in problems)


def test_cutting_substitutions_off_a_record_is_detected_with_the_ledger(
    app, strict, task, tmp_path
):
    _witnessed(app, task, "target")
    draw_id = _witnessed(app, task, "inspector")
    with acting(app, "operator_a"):
        draw = db.session.get(Draw, draw_id)
        target_id, group = next(iter(draw.result_data().items()))
        services.substitute_inspector(draw, int(target_id), group[0], "病假")
        db.session.commit()
        record = services.record(db.session.get(Draw, draw_id), reveal=True)
    public = _ledger(app.test_client())
    assert check_record(record, public["entries"]) == []
    cut = copy.deepcopy(record)
    cut["substitutions"] = []
    assert protocol.verify(without_ledger_fields(cut)) == []  # consistent by itself
    record_path, ledger_path = _files(tmp_path, cut, public)
    assert verify_main([record_path, "--ledger", ledger_path]) == 1
    assert "1 substitutions in the ledger, 0 in the record" in " ".join(
        check_record(cut, public["entries"])
    )


def test_a_truncated_or_forked_ledger_is_invalid(app, strict, task, tmp_path):
    draw_id = _witnessed(app, task, "target")
    with acting(app, "operator_a"):
        record = services.record(db.session.get(Draw, draw_id), reveal=True)
    public = _ledger(app.test_client())
    shortened = {"entries": public["entries"][:-1], "head": public["head"]}
    record_path, ledger_path = _files(tmp_path, record, shortened)
    assert verify_main([record_path, "--ledger", ledger_path]) == 1


# --- the public pages of a published task ------------------------------------------------------


def test_a_cancelled_and_redrawn_task_shows_both_attempts_publicly(
    app, world, strict, inspected_after_cancel
):
    from tests.inspections.conftest import finish

    finish(app, inspected_after_cancel)
    client = app.test_client()
    page = client.get(f"/public/results/{inspected_after_cancel.task}").get_data(as_text=True)
    with app.app_context():
        draws = db.session.scalars(
            select(Draw).where(Draw.task_id == inspected_after_cancel.task).order_by(Draw.id)
        ).all()
        cancelled, done = draws[0], [d for d in draws if d.status == "done"]
        assert cancelled.status == "cancelled"
    assert cancelled.uid in page and "监督人未到场" in page and "第 1 次" in page
    for d in done:
        assert d.uid in page or f"/public/draws/{d.uid}" in page
        draw_page = client.get(f"/public/draws/{d.uid}").get_data(as_text=True)
        assert "与摇号公示台账一致" in draw_page, draw_page


@pytest.fixture
def inspected_after_cancel(app, world, directory, plan):  # noqa: F811
    """As tests/inspections/conftest.py's `inspected`, the first target draw cancelled."""
    from tests.inspections.conftest import Inspected, published_task

    # Made before this context's session reads anything: MariaDB's repeatable read would not
    # show it a task committed by another session after its first query.
    task_id = published_task(app, world, directory, plan)
    with acting(app, "operator_a"):
        t = db.session.get(SpotCheckTask, task_id)
        first = services.start_draw(t, "target", WITNESSES, mode="witnessed")
        db.session.commit()
        task_id, first_id = t.id, first.id
    with acting(app, "leader_a"):
        services.cancel_draw(db.session.get(Draw, first_id), "监督人未到场")
        db.session.commit()
    _witnessed(app, task_id, "target")
    _witnessed(app, task_id, "inspector")
    with app.app_context():
        drawn = db.session.scalars(
            select(DrawnTarget.id).where(DrawnTarget.task_id == task_id).order_by(DrawnTarget.rank)
        ).all()
    return Inspected(task_id, list(drawn), directory.item_a)


# --- the audit head outside the database ----------------------------------------------------------


def test_audit_verify_checks_a_noted_head(app, strict, task):
    runner = app.test_cli_runner()
    _witnessed(app, task, "target")
    with app.app_context():
        head = db.session.get(AuditChainHead, 1)
        noted = f"{head.last_seq}:{head.last_hash}"
    ok = runner.invoke(audit_cli, ["verify", "--head", noted])
    assert ok.exit_code == 0 and "仍在链中" in ok.output, ok.output
    wrong = runner.invoke(
        audit_cli, ["verify", "--head", f"{noted[:-1]}{'0' if noted[-1] != '0' else '1'}"]
    )
    assert wrong.exit_code == 1 and "不符" in wrong.output
    assert runner.invoke(audit_cli, ["verify", "--head", "12"]).exit_code == 2
    # The chain rebuilt from scratch (rows removed and the head reset) no longer holds it.
    with app.app_context():
        db.session.rollback()
        with db.engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_log"))
            conn.execute(
                text("UPDATE audit_chain_head SET last_seq = 0, last_hash = :h"),
                {"h": GENESIS_HASH},
            )
    gone = runner.invoke(audit_cli, ["verify", "--head", noted])
    assert gone.exit_code == 1 and "已没有" in gone.output


def test_audit_head_writes_the_daily_entry_once(app, world):
    runner = app.test_cli_runner()
    first = runner.invoke(audit_cli, ["head"])
    assert first.exit_code == 0 and "已写入" in first.output, first.output
    again = runner.invoke(audit_cli, ["head"])
    assert again.exit_code == 0 and "已在" in again.output
    (entry,) = _ledger(app.test_client())["entries"]
    assert entry["event"] == "audit_head" and first.output.startswith(
        f"{entry['audit_seq']}:{entry['audit_hash']}"
    )
    assert entry["at"][:10] == dt.datetime.now(ledger.CST).date().isoformat()


def test_draw_verify_catches_a_draw_rewritten_in_the_database(app, strict, task):
    """Somebody with database access re-draws with other entropy and re-hashes the record: the
    record agrees with itself, the ledger announced other values."""
    draw_id = _witnessed(app, task, "target")
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["draw", "verify", str(draw_id)])
    assert ok.exit_code == 0 and "摇号公示台账一致" in ok.output, ok.output
    with acting(app, "operator_a"):
        draw = db.session.get(Draw, draw_id)
        seed = protocol.derive_seed(
            bytes.fromhex(draw.server_secret), draw.uid, draw.pool_hash, draw.params_hash, "9 9 9"
        )
        pool = protocol.canonical_pool(json.loads(draw.pool))
        result = protocol.select_targets(pool, json.loads(draw.params), seed)
        forged = services.record(draw, reveal=False, with_ledger=False)
        forged.update(witness_entropy="9 9 9", selection=result)
        digest = protocol.record_hash(forged)
        db.session.rollback()
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "UPDATE draw SET witness_entropy = :w, result = :r, record_hash = :h WHERE id = :id"
                ),
                {"w": "9 9 9", "r": json.dumps(result), "h": digest, "id": draw_id},
            )
        db.session.expire_all()
        assert services.verify_draw(db.session.get(Draw, draw_id)) == []  # consistent by itself
    bad = runner.invoke(args=["draw", "verify", str(draw_id)])
    assert bad.exit_code == 1 and "INVALID" in bad.output
    assert "entropy differs" in bad.output and "record_hash differs" in bad.output


def test_the_one_step_draw_is_offered_only_where_it_can_run(app, task, login_as, monkeypatch):
    """Without DRAW_ALLOW_NO_ENTROPY the one-step 摇号 could only end in a refusal naming a
    setting: the task page offers the witnessed draw alone; once drawn, no 摇号 at all."""
    operator = login_as("operator_a")
    assert f"/tasks/action/draw_targets/{task}" in operator.get(f"/tasks/show/{task}").get_data(
        as_text=True
    )
    monkeypatch.setitem(app.config, "DRAW_ALLOW_NO_ENTROPY", False)
    page = operator.get(f"/tasks/show/{task}").get_data(as_text=True)
    assert "/tasks/action/draw_targets/" not in page and "DRAW_ALLOW_NO_ENTROPY" not in page
    assert "draw_targets" not in operator.get("/tasks/list/").get_data(as_text=True)
    monkeypatch.setitem(app.config, "DRAW_ALLOW_NO_ENTROPY", True)
    _witnessed(app, task, "target")
    assert "/tasks/action/draw_targets/" not in operator.get(f"/tasks/show/{task}").get_data(
        as_text=True
    )
