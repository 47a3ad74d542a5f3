"""Benchmark: a 1,000,000-row export streams with flat memory (issue 8).

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/dsr_bench .venv/bin/python bench/export.py [N ...]

Builds a fresh schema (default: a temporary SQLite file), inserts N targets and N published
blacklist listings with Core bulk inserts (not measured), then downloads
/public/blacklist?format=csv through the application, reading the streamed body chunk by chunk
as a client would, and prints: rows, bytes, seconds, the peak of Python allocations during the
export (tracemalloc) and the process's peak RSS growth. Several N (default 100000 1000000)
show whether memory grows with the rows. Results are recorded in docs/performance.md.
"""

from __future__ import annotations

import datetime as dt
import resource
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _setup import fresh_app  # noqa: E402


def seed(app, n: int) -> None:
    from sqlalchemy import delete, insert, select

    from app.credit.models import BlacklistEntry
    from app.directory.models import Target
    from app.extensions import db
    from app.security.models import Department
    from app.security.system_user import acting_as_system

    with app.app_context():
        db.session.execute(delete(BlacklistEntry))
        db.session.execute(delete(Target))
        db.session.commit()
        with acting_as_system() as system:
            dept = db.session.scalar(select(Department).where(Department.code == "BENCH"))
            if dept is None:
                dept = Department(code="BENCH", name="基准测试局", kind="bureau")
                db.session.add(dept)
                db.session.commit()
            dept_id, user_id = dept.id, system.id
        stamp = dt.datetime.now()
        today = dt.date.today()
        audit = {
            "created_on": stamp,
            "changed_on": stamp,
            "created_by_fk": user_id,
            "changed_by_fk": user_id,
        }
        with db.engine.begin() as conn:
            for start in range(1, n + 1, 10_000):
                ids = range(start, min(start + 10_000, n + 1))
                conn.execute(
                    insert(Target),
                    [
                        {
                            "id": i,
                            "department_id": dept_id,
                            "target_type": "企业" if i % 10 else "自然人",
                            "name": f"东胜区基准对象{i}有限公司" if i % 10 else f"张三{i}",
                            "uscc": f"9115060{i:011d}" if i % 10 else None,
                            "registration_status": "存续",
                            "risk_class": "B",
                            "listed_on": today,
                            **audit,
                        }
                        for i in ids
                    ],
                )
                conn.execute(
                    insert(BlacklistEntry),
                    [
                        {
                            "target_id": i,
                            "department_id": dept_id,
                            "basis": "refused",
                            "status": "listed",
                            "origin": "operator",
                            "active_key": str(i),
                            "decision_number": f"东水信〔2027〕{i}号",
                            "listed_on": today,
                            "period_months": 36,
                            "published_on": today,
                            **audit,
                        }
                        for i in ids
                    ],
                )
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.exec_driver_sql("SELECT setval('target_id_seq', (SELECT max(id) FROM target))")
                conn.exec_driver_sql("ANALYZE")


def measure(app) -> dict:
    client = app.test_client()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    started = time.perf_counter()
    response = client.get("/public/blacklist?format=csv", buffered=False)
    assert response.status_code == 200, response.status_code
    size = lines = 0
    for chunk in response.response:
        size += len(chunk)
        lines += chunk.count(b"\n")
    response.close()
    seconds = time.perf_counter() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "rows": lines - 1,
        "mb": size / 1e6,
        "seconds": seconds,
        "peak_mb": peak / 1e6,
        "rss_growth_mb": (rss_after - rss_before) / 1024,
    }


def main(sizes: list[int]) -> None:
    app, _workdir = fresh_app()
    with app.app_context():
        from app.extensions import db

        print(f"database: {db.engine.dialect.name}")
    for n in sizes:
        started = time.perf_counter()
        seed(app, n)
        print(f"seeded {n:,} listings in {time.perf_counter() - started:.0f} s")
        result = measure(app)
        print(
            f"N={n:>9,}  rows={result['rows']:,}  {result['mb']:.1f} MB in {result['seconds']:.1f} s"
            f"  peak Python allocations {result['peak_mb']:.1f} MB"
            f"  peak RSS growth {result['rss_growth_mb']:.1f} MB"
        )


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100_000, 1_000_000])
