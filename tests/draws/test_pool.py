"""One home for the target pool (app/draws/pool.py), the pool counts of several tasks in one
query, and PostgreSQL's in-database freezing and ranking against protocol.py."""

import ast
import json
from pathlib import Path

import pytest
from sqlalchemy import event, insert, select, text

from app.directory.models import Target
from app.draws import pool as pools
from app.draws import protocol, services
from app.draws.models import Draw, DrawnTarget
from app.extensions import db
from app.planning import services as planning
from app.planning.models import SpotCheckTask
from tests.directory.conftest import acting, directory  # noqa: F401  (fixture)
from tests.draws.test_draw_service import task  # noqa: F401  (fixture)
from tests.planning.conftest import plan  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parents[2]


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(module imported, whether inside a function) for every import of a source file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []

    def visit(node, in_function):
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.ImportFrom) and child.module:
                found.append((child.module, inner))
                found.extend((f"{child.module}.{a.name}", inner) for a in child.names)
            elif isinstance(child, ast.Import):
                found.extend((a.name, inner) for a in child.names)
            visit(child, inner)

    visit(tree, False)
    return found


def test_the_draw_and_the_planning_services_do_not_import_each_other():
    draws = _imports(ROOT / "app/draws/services.py")
    planning_imports = _imports(ROOT / "app/planning/services.py")
    pool = _imports(ROOT / "app/draws/pool.py")
    assert not [m for m, _ in planning_imports if m.startswith("app.draws.services")]
    # The draw may use the planning rules at module level (no circle), never in a function.
    assert not [m for m, inner in draws if inner and m.startswith("app.planning.services")]
    assert not [m for m, _ in pool if m.startswith(("app.draws.services", "app.planning.services"))]
    for name in ("pool_preview", "pool_query", "scoped_targets", "target_pool", "target_params"):
        assert not hasattr(planning, name) or getattr(planning, name) is getattr(pools, name)
        assert hasattr(pools, name)


def _second_task(app, task_id, **changes):
    with acting(app, "operator_a"):
        first = db.session.get(SpotCheckTask, task_id)
        other = planning.create_task_from_line(first.plan_line)
        for key, value in changes.items():
            setattr(other, key, value)
        db.session.add(other)
        db.session.commit()
        return other.id


def test_pool_counts_gives_each_task_its_preview_total_in_one_query(app, task):  # noqa: F811
    other = _second_task(app, task, risk_classes="A、B", ratio_a=100)
    with acting(app, "operator_a"):
        tasks = [db.session.get(SpotCheckTask, t) for t in (task, other)]
        expected = {t.id: sum(row["to_draw"] for row in pools.pool_preview(t)) for t in tasks}
        statements = []

        def count(conn, cursor, statement, *args):
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            counts = pools.pool_counts(tasks)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        assert counts == expected
        assert len(statements) == 1
        # The second task takes every A and B target (ratio 100 %): not the first task's count.
        assert counts[other] != counts[task]
        assert pools.pool_counts([]) == {}


def test_planned_counts_of_the_dashboard_use_the_grouped_counts(app, task):  # noqa: F811
    with acting(app, "operator_a"):
        t = db.session.get(SpotCheckTask, task)
        expected = sum(row["to_draw"] for row in pools.pool_preview(t))
        assert services.planned_counts(t.year)[task] == {"planned": expected}


def test_tasks_of_one_scope_share_a_pool_and_keep_their_own_ratios(app, task):  # noqa: F811
    same = _second_task(app, task, ratio_a=100)  # the first task's scope, another ratio
    narrower = _second_task(app, task, risk_classes="A")
    with acting(app, "operator_a"):
        tasks = [db.session.get(SpotCheckTask, t) for t in (task, same, narrower)]
        assert pools.task_scope(tasks[0]) == pools.task_scope(tasks[1])
        assert pools.task_scope(tasks[0]) != pools.task_scope(tasks[2])
        expected = {t.id: sum(row["to_draw"] for row in pools.pool_preview(t)) for t in tasks}
        assert pools.pool_counts(tasks) == expected
        assert expected[same] > expected[task]  # every A target, from the same pool


def _statements_of(function, *args) -> int:
    statements = []

    def count(conn, cursor, statement, *rest):
        statements.append(statement)

    db.session.expire_all()
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        function(*args)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(statements)


def test_planned_counts_read_every_undrawn_task_in_the_same_statements(app, task):  # noqa: F811
    """The items and departments of the tasks to count are loaded with the tasks, not once
    per task: three undrawn tasks cost the statements of one."""
    with acting(app, "operator_a"):
        year = db.session.get(SpotCheckTask, task).year
        one = _statements_of(services.planned_counts, year)
    _second_task(app, task, ratio_a=100)
    _second_task(app, task, risk_classes="A")
    with acting(app, "operator_a"):
        assert len(services.planned_counts(year)) == 3
        assert _statements_of(services.planned_counts, year) == one


# --- PostgreSQL: the pool frozen and ranked inside the database --------------------------------


def _skip_unless_postgresql(app):
    with app.app_context():
        name = db.engine.dialect.name
    if name != "postgresql":
        pytest.skip(
            "in-database freezing and ranking run on PostgreSQL only (SQLite and MariaDB keep "
            "the Python path); CI runs this test on PostgreSQL"
        )


def _draw_with_pool(task_id: int, pool_text: str) -> int:
    """A committed draw row holding the given pool text (only the pool matters here)."""
    draw = Draw(
        uid=f"test-{len(pool_text)}-{hash(pool_text) & 0xFFFF}",
        task_id=task_id,
        kind="target",
        status="cancelled",
        mode="one_step",
        server_secret="0" * 64,
        commitment="0" * 64,
        pool_hash=protocol.sha256_hex(pool_text.encode("utf-8")),
        params_hash="0" * 64,
        params="{}",
        pool=pool_text,
    )
    db.session.add(draw)
    db.session.flush()
    return draw.id


STRATA = ["A", "高风险", "中 风险", "special", 'quote"d', "back\\slash", "tab\there", "é"]
IDS = [1, 7, 10, 99, 100, 101, 999, 1000, 12345, 2_147_483_647, 9_007_199_254_740_993]


def test_postgresql_ranks_the_frozen_pool_with_protocol_digests(app, task):  # noqa: F811
    _skip_unless_postgresql(app)
    candidates = [
        {"id": cid * 16 + n, "stratum": stratum}
        for n, stratum in enumerate(STRATA)
        for cid in IDS
        if cid * 16 + n > 0
    ]
    frozen = protocol.canonical_pool(candidates)
    pool_text = protocol.encode_pool(frozen).decode("utf-8")
    seed = bytes.fromhex("0d9faada12ae50cb9767c977a48e937dfd5d2ea524590b57cf752fbc6445ec36")
    with acting(app, "operator_a"):
        draw_id = _draw_with_pool(task, pool_text)
        counts = {s: (n % len(IDS)) + 1 for n, s in enumerate(STRATA)}
        # A count is the head asked for: no ratio, the count as the minimum.
        strata = {s: {"ratio_bp": 0, "min": n, "max": None} for s, n in counts.items()}
        rows = pools.ranked_in_database(draw_id, strata, seed)
        assert {r[0]: r[1] for r in rows} == {s: len(IDS) for s in STRATA}
        for stratum in STRATA:
            ids = [c["id"] for c in frozen if c["stratum"] == stratum]
            expected = protocol.rank(seed, "target", stratum, ids, counts[stratum])
            got = [(cid, key) for s, _size, cid, _position, key in rows if s == stratum]
            assert [cid for cid, _ in got] == expected
            assert [key for _, key in got] == [
                protocol.rank_key(seed, "target", stratum, cid).hex() for cid in expected
            ]
        # The whole ranking of a stratum, not only its head.
        whole = {"高风险": {"ratio_bp": 0, "min": len(IDS), "max": None}}
        everything = [r for r in pools.ranked_in_database(draw_id, whole, seed) if r[0] == "高风险"]
        ids = [c["id"] for c in frozen if c["stratum"] == "高风险"]
        assert [r[2] for r in everything] == protocol.rank(seed, "target", "高风险", ids)
        # Freezing writes each stratum with PostgreSQL's to_json: Python's bytes for every one.
        for stratum in STRATA:
            pg = db.session.scalar(text("SELECT to_json(CAST(:s AS text))::text"), {"s": stratum})
            assert pg == json.dumps(stratum, ensure_ascii=False)
        db.session.rollback()


def _many_targets(app, world, n):
    """n targets of department A of every risk class, some flagged or closed."""
    from app.security.system_user import get_or_create_system_user

    with app.app_context():
        user = get_or_create_system_user()
        rows = [
            {
                "department_id": world.dept_a,
                "target_type": "企业",
                "name": f"批量对象{i}",
                "registration_status": "注销" if i % 23 == 0 else "存续",
                "risk_class": "ABCD"[i % 4],
                "flags": "失信" if i % 17 == 0 else None,
                "created_by_fk": user.id,
                "changed_by_fk": user.id,
            }
            for i in range(n)
        ]
        db.session.execute(insert(Target), rows)
        db.session.commit()


def test_postgresql_and_python_freeze_and_draw_the_same(app, world, task):  # noqa: F811
    _skip_unless_postgresql(app)
    _many_targets(app, world, 2000)
    with acting(app, "operator_a"):
        t = db.session.get(SpotCheckTask, task)
        t.items = []  # every target of the department: the new ones have no item
        db.session.flush()
        in_db = pools._freeze_in_database(t, None)
        pool, excluded = pools.target_pool(t)
        candidates = protocol.canonical_pool(pool)
        assert in_db.text is None  # left in the database for the draw's INSERT
        frozen_text = db.session.scalar(select(pools.frozen_text()))
        assert frozen_text == protocol.encode_pool(candidates).decode("utf-8")
        pools.release_frozen_text()
        assert in_db.pool_hash == protocol.pool_hash(candidates)
        assert in_db.excluded == excluded and len(excluded) > 50
        assert in_db.blacklisted == pools.blacklisted_in(candidates)
        assert in_db.size == len(candidates) > 1900
        assert {c["stratum"] for c in candidates} == {"A", "B", "C", "D", "special"}
        db.session.commit()
        draw = services.start_draw(t, "target", witnesses="张三、李四", mode="witnessed")
        db.session.commit()
        draw_id = draw.id
    with acting(app, "operator_a"):  # a later request: the draw read back
        draw = db.session.get(Draw, draw_id)
        assert getattr(draw, "frozen_sizes", None) is None
        services.complete_draw(draw, "4711")
        db.session.commit()
        seed = protocol.derive_seed(
            bytes.fromhex(draw.server_secret), draw.uid, draw.pool_hash, draw.params_hash, "4711"
        )
        assert draw.pool == protocol.encode_pool(candidates).decode("utf-8")
        python = protocol.select_targets(
            protocol.canonical_pool(json.loads(draw.pool)), json.loads(draw.params), seed
        )
        assert draw.result_data() == python
        assert sum(len(ids) for ids in python.values()) > 50
        assert services.verify_draw(draw) == []
        rows = db.session.execute(
            select(DrawnTarget.stratum, DrawnTarget.target_id, DrawnTarget.rank)
            .where(DrawnTarget.draw_id == draw_id)
            .order_by(DrawnTarget.stratum, DrawnTarget.rank)
        ).all()
        assert rows == [
            (stratum, target_id, position)
            for stratum, ids in sorted(python.items())
            for position, target_id in enumerate(ids, start=1)
        ]


def _committed_draw(app, world, task_id: int, n: int) -> int:  # noqa: F811
    """A witnessed target draw of n new targets, committed (its first request)."""
    _many_targets(app, world, n)
    with acting(app, "operator_a"):
        t = db.session.get(SpotCheckTask, task_id)
        t.items = []
        db.session.flush()
        draw = services.start_draw(t, "target", witnesses="张三、李四", mode="witnessed")
        db.session.commit()
        return draw.id


def _strata_rows(draw_id: int) -> dict[str, list[int]]:
    rows = db.session.execute(
        text("SELECT stratum, ids FROM draw_pool_stratum WHERE draw_id = :d"), {"d": draw_id}
    )
    return {stratum: sorted(ids) for stratum, ids in rows}


@pytest.mark.parametrize("strata", ["kept", "missing"])
def test_postgresql_ranks_from_the_frozen_strata(app, world, task, monkeypatch, strata):  # noqa: F811
    """The arrays written beside the pool hold exactly its candidates; the ranking reads them
    on two connections at once (the threshold lowered to this pool) and, when they are missing
    (a draw committed before revision 0017), rebuilds them from the stored JSON; either way
    the selection is the protocol's and the arrays are gone once the draw is done."""
    _skip_unless_postgresql(app)
    monkeypatch.setattr(pools, "PARALLEL_RANKING_MIN", 1)
    draw_id = _committed_draw(app, world, task, 1200)
    with acting(app, "operator_a"):
        draw = db.session.get(Draw, draw_id)
        pool = protocol.canonical_pool(json.loads(draw.pool))
        grouped: dict[str, list[int]] = {}
        for candidate in pool:
            grouped.setdefault(candidate["stratum"], []).append(candidate["id"])
        assert _strata_rows(draw_id) == grouped
        if strata == "missing":
            pools.release_strata(draw_id)
            db.session.commit()
    connections = []
    monkeypatch.setattr(
        pools,
        "_rank_on_own_connection",
        lambda *args, _real=pools._rank_on_own_connection: connections.append(1) or _real(*args),
    )
    with acting(app, "operator_a"):
        draw = db.session.get(Draw, draw_id)
        services.complete_draw(draw, "8080")
        db.session.commit()
        seed = protocol.derive_seed(
            bytes.fromhex(draw.server_secret), draw.uid, draw.pool_hash, draw.params_hash, "8080"
        )
        assert draw.result_data() == protocol.select_targets(pool, json.loads(draw.params), seed)
        assert services.verify_draw(draw) == []
        assert _strata_rows(draw_id) == {}
    # The second connection ranks only strata committed with the draw, not rebuilt ones.
    assert connections == ([1] if strata == "kept" else [])


def test_a_cancelled_draw_leaves_no_strata(app, world, task):  # noqa: F811
    _skip_unless_postgresql(app)
    draw_id = _committed_draw(app, world, task, 300)
    with acting(app, "operator_a"):
        assert _strata_rows(draw_id)
    with acting(app, "leader_a"):
        services.cancel_draw(db.session.get(Draw, draw_id), "见证人未到场")
        db.session.commit()
        assert _strata_rows(draw_id) == {}
