"""Benchmark: import N generated targets from one CSV file (all or nothing, every check kept).

    DATABASE_URL=... .venv/bin/python bench/import_targets.py [N] [--runs 3] [--memory]

Builds a fresh schema in the database named by DATABASE_URL (default: a temporary SQLite
file) and writes N rows (8 columns) to a temporary CSV file. Then, best of `--runs`:

- ours: `import_file("targets", ...)` as the system user and commit (two passes, audit rows);
- on PostgreSQL, two baselines of the same rows, read with the csv module, the USCC validated
  in Python, names mapped to ids, written with psycopg's COPY: into a table `LIKE target`
  without its indexes ("plain COPY"), and into `LIKE target INCLUDING ALL` (shaped and indexed
  like `target`). The goal (issue 18) is ours <= 3x the indexed COPY:
  `RESULT import_targets ours=... baseline=... ratio=... goal=3`;
- on SQLite and MariaDB, a baseline of batched Core `insert()` (executemany of plain dicts,
  1,000 rows a batch) into `target`; both times are printed, no goal.

The tables are emptied between runs (target, target_item, the audit log and its head).
`--memory` runs our import once more, alone, and prints the growth of the peak resident memory
(`RESULT import_targets_memory ours_mb=... goal_mb=100`); the times are never taken in that run.
Results are recorded in docs/performance.md.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _setup import fresh_app  # noqa: E402

GOAL = 3.0
MEMORY_GOAL_MB = 100
HEADER = [
    "检查对象类型",
    "名称",
    "统一社会信用代码",
    "所属区域",
    "行业类别",
    "登记状态",
    "信用风险等级",
    "主管部门",
]
COLUMNS = (
    "target_type",
    "name",
    "uscc",
    "area_id",
    "industry",
    "registration_status",
    "risk_class",
    "department_id",
    "created_on",
    "changed_on",
    "created_by_fk",
    "changed_by_fk",
)


def write_csv(path: Path, n: int) -> None:
    from app.core.identifiers import USCC

    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for i in range(1, n + 1):
            body = f"91150602MA{i:07d}"
            writer.writerow(
                [
                    "企业",
                    f"基准企业{i}",
                    body + USCC.calc_check_digit(body),
                    "交通街道",
                    "取水单位",
                    "存续",
                    "ABCD"[i % 4],
                    "BENCH",
                ]
            )


def baseline_rows(path: Path, user_id: int):
    """The file's rows as the baselines write them: read, the USCC validated, ids mapped."""
    from app.core.identifiers import USCC
    from app.directory.models import Area
    from app.extensions import db
    from app.security.models import Department

    areas = dict(db.session.execute(db.select(Area.name, Area.id)).all())
    departments = dict(db.session.execute(db.select(Department.code, Department.id)).all())
    now = dt.datetime.now()
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        for target_type, name, uscc, area, industry, status, risk, department in reader:
            if not USCC.is_valid(uscc):
                raise ValueError(uscc)
            yield (
                target_type,
                name,
                uscc,
                areas[area],
                industry,
                status,
                risk,
                departments[department],
                now,
                now,
                user_id,
                user_id,
            )


def empty_tables(app) -> None:
    with app.app_context():
        _empty_tables()


def _empty_tables() -> None:
    from app.core.audit.models import GENESIS_HASH
    from app.extensions import db

    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("TRUNCATE target, target_item, audit_log RESTART IDENTITY CASCADE")
        else:
            for table in ("target_item", "target", "audit_log"):
                conn.exec_driver_sql(f"DELETE FROM {table}")
        conn.exec_driver_sql(
            f"UPDATE audit_chain_head SET last_seq = 0, last_hash = '{GENESIS_HASH}'"
        )
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM target, target_item, audit_log")


def ours(app, path: Path) -> float:
    from app.directory.imports import import_file
    from app.extensions import db
    from app.security.system_user import acting_as_system

    empty_tables(app)
    started = time.perf_counter()
    with app.app_context(), acting_as_system(), path.open("rb") as stream:
        result = import_file("targets", stream, path.name)
        assert result.ok, result.errors[:5]
        db.session.commit()
    elapsed = time.perf_counter() - started
    assert result.created == result.rows
    return elapsed


def copy_baseline(app, path: Path, table: str, like: str) -> float:
    """COPY of the validated rows into a fresh table `LIKE target <like>`."""
    from app.extensions import db
    from app.security.system_user import acting_as_system

    with app.app_context(), acting_as_system() as user:
        with db.engine.begin() as conn:
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
            conn.exec_driver_sql(f"CREATE TABLE {table} (LIKE target {like})")
        started = time.perf_counter()
        with db.engine.begin() as conn:
            cursor = conn.connection.driver_connection.cursor()
            with cursor.copy(f"COPY {table} ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for row in baseline_rows(path, user.id):
                    copy.write_row(row)
        elapsed = time.perf_counter() - started
        with db.engine.begin() as conn:
            conn.exec_driver_sql(f"DROP TABLE {table}")
    return elapsed


def insert_baseline(app, path: Path) -> float:
    """Batched Core insert() of plain dicts into `target` (SQLite, MariaDB)."""
    from sqlalchemy import insert

    from app.directory.models import Target
    from app.extensions import db
    from app.security.system_user import acting_as_system

    empty_tables(app)
    with app.app_context(), acting_as_system() as user:
        started = time.perf_counter()
        with db.engine.begin() as conn:
            batch = []
            for row in baseline_rows(path, user.id):
                batch.append(dict(zip(COLUMNS, row, strict=True)))
                if len(batch) == 1000:
                    conn.execute(insert(Target.__table__), batch)
                    batch = []
            if batch:
                conn.execute(insert(Target.__table__), batch)
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("n", nargs="?", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--memory", action="store_true", help="peak RSS growth of one import")
    args = parser.parse_args()

    app, workdir = fresh_app()
    from app.directory.models import Area
    from app.extensions import db
    from app.security.models import Department
    from app.security.system_user import acting_as_system

    with app.app_context():
        with acting_as_system():
            db.session.add(Department(code="BENCH", name="基准测试局", kind="bureau"))
            db.session.add(Area(name="交通街道", kind="街道"))
            db.session.commit()
        dialect = db.engine.dialect.name
    path = workdir / "targets.csv"
    write_csv(path, args.n)
    size = path.stat().st_size / 2**20

    if args.memory:
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        ours(app, path)
        growth = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
        print(f"{args.n} targets ({size:.1f} MB CSV) on {dialect}: peak RSS growth {growth:.0f} MB")
        print(f"RESULT import_targets_memory ours_mb={growth:.1f} goal_mb={MEMORY_GOAL_MB}")
        return

    times: dict[str, list[float]] = {}
    for _run in range(args.runs):
        times.setdefault("ours", []).append(ours(app, path))
        if dialect == "postgresql":
            times.setdefault("plain", []).append(
                copy_baseline(app, path, "bench_target_plain", "INCLUDING DEFAULTS")
            )
            times.setdefault("indexed", []).append(
                copy_baseline(app, path, "bench_target_indexed", "INCLUDING ALL")
            )
        else:
            times.setdefault("insert", []).append(insert_baseline(app, path))
    best = {name: min(values) for name, values in times.items()}
    labels = {
        "ours": "our import (checks, audit rows, one transaction)",
        "plain": "COPY, USCC validated in Python, no indexes",
        "indexed": "COPY into LIKE target INCLUDING ALL (indexed)",
        "insert": "batched Core insert() of plain dicts into target",
    }
    print(f"{args.n} targets ({size:.1f} MB CSV) on {dialect}, best of {args.runs}:")
    for name, value in best.items():
        runs = ", ".join(f"{t:.2f}" for t in times[name])
        print(f"  {labels[name]:<52} {value:7.2f} s  ({runs}; {args.n / value:,.0f} rows/s)")
    if dialect == "postgresql":
        ratio = best["ours"] / best["indexed"]
        print(
            f"RESULT import_targets ours={best['ours']:.3f} baseline={best['indexed']:.3f} "
            f"ratio={ratio:.2f} goal={GOAL:g}"
        )
    else:
        print(f"  ratio to the batched insert: {best['ours'] / best['insert']:.2f} (no goal)")


if __name__ == "__main__":
    main()
