"""Benchmark: the whole verifiable target draw against the bare pool query into Python.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/dsr_bench .venv/bin/python bench/draw.py [N]

Builds a fresh schema in the database named by DATABASE_URL (default: a temporary SQLite file),
inserts N targets (default 1,000,000; 1 in 50 closed, 1 in 97 flagged) with Core bulk inserts
(generation is not measured), then times, best of 3, in the same run:
  pool     SELECT id FROM target WHERE <scope>, every row into Python (the baseline)
  random   ... ORDER BY random() LIMIT k                (what a naive system would do)
  draw     the whole witnessed draw as two requests: freeze and hash the pool and the
           parameters, commit, publish the commitment (start_draw), then in a new session
           read the draw back, take the entropy, seed, allocate, rank, persist the selection
           and the record hash (complete_draw)
and prints the ratio, and `RESULT draw_1m ours=… baseline=… ratio=… goal=1.5` (at N =
1,000,000; `draw_<N>` otherwise). Then it measures memory in a separate process on the same
database (`--memory`: one whole draw, peak RSS growth, `RESULT draw_memory ours_mb=…
goal_mb=100`). Results are recorded in docs/performance.md.

`--memory` alone runs that measurement on a database a full run left filled; `--reuse` times
again on such a database without rebuilding it. `PROFILE=1` prints a profile of one draw
instead of timing, `STEPS=1` the time of each SQL statement of one draw.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _setup import fresh_app  # noqa: E402

GOAL_RATIO = 1.5
GOAL_MB = 100
DEPARTMENT = "BENCH"
TASK_NUMBER = "基准〔2027〕1号"
SCOPE = "department_id = :d AND registration_status = '存续'"


def best_of(n, fn, setup=None):
    times = []
    for _ in range(n):
        if setup:
            setup()  # not timed
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak() -> float | None:
    """Reset the process's peak RSS (Linux: /proc/self/clear_refs) and return the current RSS
    in MB, so the peak read afterwards is this step's alone; None where that is impossible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return _status_mb("VmRSS")
    except OSError:
        return None


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise OSError(field)


def existing_app():
    """The application on the database a full run filled (nothing dropped)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from app import create_app

    return create_app({"RATELIMIT_ENABLED": False})


def generate(app, n: int) -> tuple[int, int]:
    """N targets of one department and the task drawn from them: (department id, task id)."""
    import datetime as dt

    from sqlalchemy import func, insert, select

    from app.directory.models import Target
    from app.extensions import db
    from app.planning.models import SpotCheckTask
    from app.security.models import Department
    from app.security.system_user import acting_as_system

    with app.app_context():
        with acting_as_system() as system:
            dept = Department(code=DEPARTMENT, name="基准测试局", kind="bureau")
            db.session.add(dept)
            db.session.commit()
            dept_id, user_id = dept.id, system.id
        started = time.perf_counter()
        now = db.session.scalar(select(func.now())) if db.engine.dialect.name != "sqlite" else None
        stamp = now or dt.datetime.now()
        batch = []
        with db.engine.begin() as conn:
            for i in range(1, n + 1):
                batch.append(
                    {
                        "department_id": dept_id,
                        "target_type": "企业",
                        "name": f"对象{i}",
                        "uscc": None,
                        "registration_status": "存续" if i % 50 else "注销",
                        "risk_class": "ABCD"[i % 4],
                        "flags": "失信" if i % 97 == 0 else None,
                        "created_on": stamp,
                        "changed_on": stamp,
                        "created_by_fk": user_id,
                        "changed_by_fk": user_id,
                    }
                )
                if len(batch) == 10_000:
                    conn.execute(insert(Target), batch)
                    batch = []
            if batch:
                conn.execute(insert(Target), batch)
        if db.engine.dialect.name == "postgresql":
            # A directory long in use, not one just loaded: otherwise autovacuum's pass over the
            # million new rows runs during the timings (both sides, unevenly).
            autocommit = db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            with autocommit as conn:
                conn.exec_driver_sql("VACUUM ANALYZE target")
        print(
            f"generated {n} targets in {time.perf_counter() - started:.1f} s "
            f"({db.engine.dialect.name})"
        )
        with acting_as_system():
            task = SpotCheckTask(
                year=2027,
                seq=1,
                number=TASK_NUMBER,
                name="基准摇号",
                department_id=dept_id,
                ratio_a=3,
                ratio_b=3,
                ratio_c=3,
                ratio_d=3,
                ratio_special=10,
                group_size=2,
                approval="approved",
            )
            db.session.add(task)
            db.session.commit()
            return dept_id, task.id


def ids(app) -> tuple[int, int]:
    from sqlalchemy import select

    from app.extensions import db
    from app.planning.models import SpotCheckTask
    from app.security.models import Department

    with app.app_context():
        dept_id = db.session.scalar(select(Department.id).where(Department.code == DEPARTMENT))
        task_id = db.session.scalar(
            select(SpotCheckTask.id).where(SpotCheckTask.number == TASK_NUMBER)
        )
        return dept_id, task_id


def reset_draws(task_id: int) -> None:
    """The task back to planned, its earlier benchmark draws gone (not timed: not the draw's
    work), and the tables vacuumed as autovacuum would keep them."""
    from app.draws.models import Draw, DrawnTarget
    from app.extensions import db
    from app.planning.models import SpotCheckTask
    from app.security.system_user import acting_as_system

    with acting_as_system():
        t = db.session.get(SpotCheckTask, task_id)
        t.status = "planned"
        db.session.execute(DrawnTarget.__table__.delete())
        db.session.execute(Draw.__table__.delete())
        db.session.commit()
    db.session.remove()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM drawn_target, draw, draw_pool_stratum")


def whole_draw(task_id: int) -> None:
    """One witnessed target draw, its two steps as two requests would run them."""
    from app.draws import services
    from app.draws.models import Draw
    from app.draws.pool import pool_counts
    from app.extensions import db
    from app.planning.models import SpotCheckTask
    from app.security.system_user import acting_as_system

    with acting_as_system():  # the request that commits
        t = db.session.get(SpotCheckTask, task_id)
        expected = pool_counts([t])[task_id] if os.environ.get("CHECK") else None
        draw = services.start_draw(t, "target", witnesses="张三、李四", mode="witnessed")
        db.session.commit()
        draw_id = draw.id
        del draw
    db.session.remove()
    with acting_as_system():  # the request that takes the witnesses' entropy
        draw = db.session.get(Draw, draw_id)
        services.complete_draw(draw, "20270315 监督人 张三 李四")
        db.session.commit()
        if expected is not None:
            assert sum(len(v) for v in draw.result_data().values()) == expected
            assert services.verify_draw(draw) == []
        del draw
    db.session.remove()


def print_steps(task_id: int) -> None:
    """`STEPS=1`: one whole draw (after one to warm up), the time of each SQL statement it
    runs, longest first, and what is left for Python and COPY (not timed per statement)."""
    from sqlalchemy import event

    from app.extensions import db

    steps: list[tuple[float, str]] = []

    def before(conn, cursor, statement, *args):
        conn.info["started"] = time.perf_counter()

    def after(conn, cursor, statement, *args):
        elapsed = time.perf_counter() - conn.info.pop("started")
        steps.append((elapsed, " ".join(statement.split())[:100]))

    reset_draws(task_id)
    whole_draw(task_id)
    reset_draws(task_id)
    event.listen(db.engine, "before_cursor_execute", before)
    event.listen(db.engine, "after_cursor_execute", after)
    started = time.perf_counter()
    whole_draw(task_id)
    total = time.perf_counter() - started
    event.remove(db.engine, "before_cursor_execute", before)
    event.remove(db.engine, "after_cursor_execute", after)
    # Statements on two connections at once overlap: their sum can exceed the wall time.
    print(f"whole draw {total:.3f} s; {len(steps)} statements, {sum(s for s, _ in steps):.3f} s")
    for elapsed, statement in sorted(steps, reverse=True)[:10]:
        print(f"  {elapsed:7.3f} s  {statement}")


def measure_memory() -> None:
    """`--memory`: one whole draw in this fresh process, its peak RSS growth."""
    app = existing_app()
    _dept_id, task_id = ids(app)
    with app.app_context():
        from sqlalchemy import text

        from app.extensions import db

        db.session.execute(text("SELECT 1"))  # connected, modules loaded
        db.session.rollback()
        reset_draws(task_id)
        current = reset_peak()
        before = rss_mb()
        whole_draw(task_id)
        growth = (_status_mb("VmHWM") - current) if current is not None else rss_mb() - before
    print(f"whole draw: peak RSS growth {growth:.0f} MB (separate process)")
    print(f"RESULT draw_memory ours_mb={growth:.1f} goal_mb={GOAL_MB}")


def main(n: int, reuse: bool) -> None:
    if reuse:
        app = existing_app()
        dept_id, task_id = ids(app)
    else:
        app, _workdir = fresh_app()
        dept_id, task_id = generate(app, n)
    from sqlalchemy import text

    from app.extensions import db

    with app.app_context():
        dialect = db.engine.dialect.name
        k = 3 * n // 100
        random_fn = "random()" if dialect != "mysql" else "rand()"

        def pool_query():
            with db.engine.connect() as conn:
                conn.execute(text(f"SELECT id FROM target WHERE {SCOPE}"), {"d": dept_id}).all()

        def random_query():
            with db.engine.connect() as conn:
                conn.execute(
                    text(f"SELECT id FROM target WHERE {SCOPE} ORDER BY {random_fn} LIMIT :k"),
                    {"d": dept_id, "k": k},
                ).all()

        if os.environ.get("PROFILE"):
            import cProfile
            import pstats

            reset_draws(task_id)
            profiler = cProfile.Profile()
            profiler.runcall(whole_draw, task_id)
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
            return
        if os.environ.get("STEPS"):
            print_steps(task_id)
            return
        t_pool = best_of(3, pool_query)
        t_random = best_of(3, random_query)
        t_draw = best_of(3, lambda: whole_draw(task_id), lambda: reset_draws(task_id))
    ratio = t_draw / t_pool
    print(f"pool query      {t_pool:8.2f} s   1.0x   ({dialect})")
    print(f"random() LIMIT  {t_random:8.2f} s   {t_random / t_pool:.1f}x")
    print(f"whole draw      {t_draw:8.2f} s   {ratio:.2f}x   (goal {GOAL_RATIO}x)")
    name = "draw_1m" if n == 1_000_000 else f"draw_{n}"
    print(
        f"RESULT {name} ours={t_draw:.3f} baseline={t_pool:.3f} ratio={ratio:.2f} goal={GOAL_RATIO}"
    )
    # Memory in a separate process (nothing of this run's allocations in its peak).
    env = dict(os.environ, DATABASE_URL=db_url(app))
    subprocess.run([sys.executable, __file__, "--memory"], env=env, check=True)


def db_url(app) -> str:
    from app.extensions import db

    with app.app_context():
        return db.engine.url.render_as_string(hide_password=False)


if __name__ == "__main__":
    args = sys.argv[1:]
    if "--memory" in args:
        measure_memory()
    else:
        numbers = [int(a) for a in args if not a.startswith("--")]
        main(numbers[0] if numbers else 1_000_000, reuse="--reuse" in args)
