"""Benchmark: the whole target draw against the bare pool query.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/dsr_bench .venv/bin/python bench/draw.py [N]

Builds a fresh schema in the database named by DATABASE_URL (default: a temporary SQLite file),
inserts N targets (default 1,000,000) with Core bulk inserts (generation is not measured), then
times, best of 3:
  pool     SELECT id FROM target WHERE <scope>          (the bare pool query)
  random   ... ORDER BY random() LIMIT k                (what a naive system would do)
  draw     the whole draw: freeze and hash the pool and parameters, commit, seed, allocate,
           rank, persist the selection and the record   (start_draw + complete_draw)
and prints the ratios. Results are recorded in docs/performance.md.
"""

from __future__ import annotations

import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _setup import fresh_app  # noqa: E402


def best_of(n, fn):
    times = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def main(n: int) -> None:
    app, workdir = fresh_app()
    from sqlalchemy import func, insert, select, text

    from app.directory.models import Target
    from app.draws import services
    from app.draws.models import Draw, DrawnTarget
    from app.extensions import db
    from app.planning.models import SpotCheckTask
    from app.security.models import Department
    from app.security.system_user import acting_as_system

    with app.app_context():
        with acting_as_system() as system:
            dept = Department(code="BENCH", name="基准测试局", kind="bureau")
            db.session.add(dept)
            db.session.commit()
            dept_id, user_id = dept.id, system.id
        started = time.perf_counter()
        now = db.session.scalar(select(func.now())) if db.engine.dialect.name != "sqlite" else None
        import datetime as dt

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
            with db.engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE target")
        print(
            f"generated {n} targets in {time.perf_counter() - started:.1f} s "
            f"({db.engine.dialect.name})"
        )

        scope = "department_id = :d AND registration_status = '存续'"
        k = 3 * n // 100
        random_fn = "random()" if db.engine.dialect.name != "mysql" else "rand()"

        def pool_query():
            with db.engine.connect() as conn:
                conn.execute(
                    text(f"SELECT id FROM target WHERE {scope}"), {"d": dept_id}
                ).fetchall()

        def random_query():
            with db.engine.connect() as conn:
                conn.execute(
                    text(f"SELECT id FROM target WHERE {scope} ORDER BY {random_fn} LIMIT :k"),
                    {"d": dept_id, "k": k},
                ).fetchall()

        with acting_as_system():
            task = SpotCheckTask(
                year=2027,
                seq=1,
                number="基准〔2027〕1号",
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
            task_id = task.id

        def whole_draw():
            with acting_as_system():
                t = db.session.get(SpotCheckTask, task_id)
                t.status = "planned"
                db.session.execute(DrawnTarget.__table__.delete())
                db.session.execute(Draw.__table__.delete())
                db.session.commit()
                draw = services.start_draw(t, "target")
                db.session.commit()
                services.complete_draw(draw)
                db.session.commit()
                db.session.expunge_all()

        if os.environ.get("PROFILE"):
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.runcall(whole_draw)
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
            return
        t_pool = best_of(3, pool_query)
        t_random = best_of(3, random_query)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t_draw = best_of(3, whole_draw)
        growth = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
        print(f"pool query      {t_pool:8.2f} s   1.0x")
        print(f"random() LIMIT  {t_random:8.2f} s   {t_random / t_pool:.1f}x")
        print(
            f"whole draw      {t_draw:8.2f} s   {t_draw / t_pool:.1f}x   "
            f"(peak RSS growth {growth:.0f} MB)"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
