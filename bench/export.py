r"""Benchmark: exporting 1,000,000 blacklist rows as CSV (issues 8 and 18).

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/dsr_bench .venv/bin/python bench/export.py [N [K]]

Builds a fresh schema (default: a temporary SQLite file), inserts N targets and N published
blacklist listings with Core bulk inserts (not measured; default N = 1,000,000), then K times
(default 1; the seed of a million rows takes minutes, and BENCH_SEEDED=1 measures the rows
an earlier run left instead) downloads
/public/blacklist?format=csv through the application, reading the streamed body chunk by chunk
as a client would.

Time and memory are measured in separate runs, never time under tracemalloc (it made the
export four to five times slower):

- time, best of three, no tracing: on PostgreSQL the export is written by COPY
  (app/core/csvfile.copy_chunks); the baseline, in the same run, is psql writing the same
  SELECT (same columns, join, masking, order) with `COPY (…) TO STDOUT WITH (FORMAT csv)` to
  /dev/null, which is what psql's `\copy … TO '/dev/null'` does, best of three. Goal: ≤ 1.5×.
  Once, for the record, the Python writer (CSV_COPY = False) too.
- memory, in a run of its own: the peak of Python allocations (tracemalloc) during one export,
  and the process's peak RSS growth. Goal: ≤ 50 MB, whatever N.

Prints `RESULT export_csv ours=… baseline=… ratio=… goal=1.5` (PostgreSQL only) and
`RESULT export_memory ours_mb=… goal_mb=50`. Results are recorded in docs/performance.md.
"""

from __future__ import annotations

import datetime as dt
import os
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _setup import fresh_app  # noqa: E402

URL = "/public/blacklist?format=csv"
GOAL_RATIO = 1.5
GOAL_MB = 50
RUNS = 3


def _name(i: int) -> str:
    if i % 10 == 0:
        return f"张三{i}"
    if i % 100 == 1:
        return f"=东胜区基准对象{i},有限公司"
    return f"东胜区基准对象{i}有限公司"


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
                            "name": _name(i),
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
                            # The target as published: one in ten a natural person (masked),
                            # one in a hundred a name a spreadsheet would run (neutralised,
                            # quoted).
                            "target_name": _name(i),
                            "target_type": "企业" if i % 10 else "自然人",
                            "target_code": f"9115060{i:011d}" if i % 10 else None,
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


def download(app, copy: bool = True) -> tuple[int, int]:
    """(rows, bytes) of one download, read chunk by chunk."""
    app.config["CSV_COPY"] = copy
    response = app.test_client().get(URL, buffered=False)
    assert response.status_code == 200, response.status_code
    size = lines = 0
    for chunk in response.response:
        size += len(chunk)
        lines += chunk.count(b"\r\n")
    response.close()
    return lines - 1, size


def timed(run) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def psql_copy(app) -> float:
    """psql writing the export's own SELECT to /dev/null."""
    from sqlalchemy.engine import make_url

    from app.core.csvfile import copy_sql
    from app.disclosure import portal
    from app.extensions import db

    with app.test_request_context(URL):
        with db.engine.connect() as connection:
            sql = copy_sql(connection, portal.blacklist_copy(portal.blacklist_query()))
        url = make_url(str(db.engine.url))
    command = [
        "psql",
        "-X",
        "-q",
        "-v",
        "ON_ERROR_STOP=1",
        "-h",
        url.host or "127.0.0.1",
        "-p",
        str(url.port or 5432),
        "-U",
        url.username or "postgres",
        "-d",
        url.database,
        "-o",
        "/dev/null",
        "-f",
        "-",
    ]
    env = dict(os.environ, PGPASSWORD=url.password or "")
    # The statement on stdin: it is longer than an argument may be.
    return timed(lambda: subprocess.run(command, input=(sql + ";\n").encode(), check=True, env=env))


def main(n: int, repeats: int) -> None:
    if os.environ.get("BENCH_SEEDED"):  # the rows of an earlier run, kept: measure only
        from app import create_app

        app = create_app({"RATELIMIT_ENABLED": False})
    else:
        app, _workdir = fresh_app()
    with app.app_context():
        from app.extensions import db

        dialect = db.engine.dialect.name
    print(f"database: {dialect}")
    if not os.environ.get("BENCH_SEEDED"):
        started = time.perf_counter()
        seed(app, n)
        print(f"seeded {n:,} listings in {time.perf_counter() - started:.0f} s")
    for run in range(1, repeats + 1):
        print(f"--- run {run} of {repeats}")
        measure(app, dialect, n)


def measure(app, dialect: str, n: int) -> None:

    rows, size = download(app)  # warm-up: caches, the database's buffers
    print(f"N={n:,}  rows={rows:,}  {size / 1e6:.1f} MB")
    ours = min(timed(lambda: download(app)) for _ in range(RUNS))
    if dialect == "postgresql":
        baseline = min(psql_copy(app) for _ in range(RUNS))
        python = timed(lambda: download(app, copy=False))
        ratio = ours / baseline
        print(
            f"export (COPY) best of {RUNS}: {ours:.2f} s; psql COPY of the same SELECT: "
            f"{baseline:.2f} s ({ratio:.2f}×, goal ≤ {GOAL_RATIO}×); "
            f"the Python writer: {python:.2f} s"
        )
        print(
            f"RESULT export_csv ours={ours:.3f} baseline={baseline:.3f} ratio={ratio:.2f} "
            f"goal={GOAL_RATIO}"
        )
    else:
        print(f"export (Python writer, server-side cursor) best of {RUNS}: {ours:.2f} s")

    # Memory, in a run of its own (tracing slows the export: never timed).
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    download(app)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_growth = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    print(
        f"memory: peak Python allocations {peak / 1e6:.1f} MB, peak RSS growth "
        f"{rss_growth:.1f} MB (after the timed runs)"
    )
    print(f"RESULT export_memory ours_mb={peak / 1e6:.1f} goal_mb={GOAL_MB}")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(args[0] if args else 1_000_000, args[1] if len(args) > 1 else 1)
