"""Benchmark: a web upload of N target rows returns at once; the background job costs about what
the synchronous import cost (issue 18).

    DATABASE_URL=... .venv/bin/python bench/import_jobs.py [N]

On a fresh schema (bench/_setup.py) an Operator uploads a CSV of N new targets through the
import page (the Flask test client: multipart parsing, the file stored, the job queued) and the
time until the page answers is measured. The baseline: files of N other targets imported the
old, synchronous way (`import_file` + commit as the Operator, what the page did before), once
before and once after the queued job is run as the worker runs it (`import_jobs.execute`,
progress written beside the transaction); their mean is the baseline. Printed:

    RESULT import_upload_returns ours=<upload> baseline=<synchronous import> ratio=... goal=0.05
    RESULT import_job_overhead ours=<job> baseline=<synchronous import> ratio=... goal=1.15
"""

from __future__ import annotations

import csv
import io
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
    "信用风险等级",
    "主管部门",
]
PASSWORD = "Bench-Passw0rd-2026"


def _csv(first: int, n: int) -> bytes:
    from app.core.identifiers import USCC

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    for i in range(first, first + n):
        body = f"91150602MA{i:07d}"
        writer.writerow(
            [
                "企业",
                f"基准企业{i}",
                body + USCC.calc_check_digit(body),
                "交通街道",
                "取水单位",
                "ABCD"[i % 4],
                "BENCH",
            ]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def main(n: int) -> None:
    app, _workdir = fresh_app()
    from flask import g

    from app.directory import import_jobs, queue
    from app.directory.imports import import_file
    from app.directory.models import Area
    from app.extensions import db
    from app.security import roles
    from app.security.models import Department
    from app.security.system_user import acting_as_system

    app.config["WTF_CSRF_ENABLED"] = False
    queued = []
    queue.run_import_job = queued.append  # no worker yet: the job is run below
    with app.app_context(), acting_as_system():
        department = Department(code="BENCH", name="基准测试局", kind="bureau")
        db.session.add_all([department, Area(name="交通街道", kind="街道")])
        db.session.flush()
        sm = app.appbuilder.sm
        user = sm.add_user(
            username="bench_operator",
            first_name="基准",
            last_name="测试",
            email="bench@test.invalid",
            role=sm.find_role(roles.OPERATOR),
            password=PASSWORD,
        )
        user.departments = [department]
        db.session.commit()
        dialect = db.engine.dialect.name

    upload, other, third = _csv(1, n), _csv(n + 1, n), _csv(2 * n + 1, n)
    client = app.test_client()
    client.post("/login/", data={"username": "bench_operator", "password": PASSWORD})
    started = time.perf_counter()
    response = client.post(
        "/directory-import/",
        data={"kind": "targets", "file": (io.BytesIO(upload), "targets.csv")},
        content_type="multipart/form-data",
    )
    upload_time = time.perf_counter() - started
    assert response.status_code == 302 and "/job/" in response.headers["Location"], response
    (job_id,) = queued

    def synchronous(data: bytes) -> float:
        started = time.perf_counter()
        with app.app_context():
            g.user = app.appbuilder.sm.find_user(username="bench_operator")  # as the page did
            result = import_file("targets", io.BytesIO(data), "other.csv")
            assert result.ok, result.errors[:5]
            db.session.commit()
        return time.perf_counter() - started

    before = synchronous(other)
    started = time.perf_counter()
    with app.app_context():
        import_jobs.execute(job_id)
        job = db.session.get(import_jobs.ImportJob, job_id)
        assert job.state == import_jobs.DONE, (job.state, job.error)
        written = job.rows_written
    job_time = time.perf_counter() - started

    after = synchronous(third)
    # The job ran between two synchronous imports: their mean has as many rows in the table.
    sync_time = (before + after) / 2

    size = len(upload) / 2**20
    print(
        f"{n} targets ({size:.1f} MB CSV) on {dialect}: the upload answered in {upload_time:.2f} s; "
        f"the job wrote {written} rows in {job_time:.1f} s; the synchronous imports of as many "
        f"rows took {before:.1f} s and {after:.1f} s"
    )
    print(
        f"RESULT import_upload_returns ours={upload_time:.3f} baseline={sync_time:.3f} "
        f"ratio={upload_time / sync_time:.2f} goal=0.05"
    )
    print(
        f"RESULT import_job_overhead ours={job_time:.3f} baseline={sync_time:.3f} "
        f"ratio={job_time / sync_time:.2f} goal=1.15"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
