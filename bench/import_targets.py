"""Benchmark: import N generated targets from one CSV file (all or nothing, two passes).

    DATABASE_URL=... .venv/bin/python bench/import_targets.py [N]

Builds a fresh schema in the database named by DATABASE_URL (default: a temporary SQLite
file), writes N rows to a temporary CSV, imports them as the system user, prints the time and
the growth of the peak resident memory. Results are recorded in docs/performance.md.
"""

from __future__ import annotations

import csv
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _setup import fresh_app  # noqa: E402

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


def main(n: int) -> None:
    app, workdir = fresh_app()
    from app.core.identifiers import USCC
    from app.directory.imports import import_file
    from app.directory.models import Area
    from app.extensions import db
    from app.security.models import Department
    from app.security.system_user import acting_as_system

    with app.app_context():
        with acting_as_system():
            db.session.add(Department(code="BENCH", name="基准测试局", kind="bureau"))
            db.session.add(Area(name="交通街道", kind="街道"))
            db.session.commit()

    path = workdir / "targets.csv"
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

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    with app.app_context(), acting_as_system(), path.open("rb") as stream:
        result = import_file("targets", stream, path.name)
        assert result.ok, result.errors[:5]
        db.session.commit()
        dialect = db.engine.dialect.name
    elapsed = time.perf_counter() - started
    growth = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    size = path.stat().st_size / 2**20
    print(
        f"{n} targets ({size:.1f} MB CSV) on {dialect}: {elapsed:.1f} s, "
        f"{n / elapsed:.0f} rows/s, peak RSS growth {growth:.0f} MB"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
