"""Uploads of the import page run as background jobs (issue 18): the page returns at once with the
job's page, which shows the progress and then the report; one job per department and kind; a
worker that dies or fails leaves nothing written and the job shows 失败 with the reason; another
department cannot see the job. The worker here is huey's own consumer (`huey_consumer`), started
as a real process on the test database, or huey's immediate mode (tests/conftest.py)."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.directory import import_jobs, queue
from app.directory.import_jobs import DONE, FAILED, QUEUED, RUNNING, ImportJob
from app.directory.imports import import_file
from app.directory.models import Target
from app.extensions import db
from app.security.system_user import acting_as_system
from tests.conftest import csrf_token_from
from tests.directory.test_imports import (  # noqa: F401  (base: a fixture, used below)
    TARGET_HEADER,
    URL,
    _upload,
    base,
    count,
    csv_bytes,
    target_row,
)

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.usefixtures("base")


def _rows(n: int) -> bytes:
    return csv_bytes(TARGET_HEADER, [target_row(i) for i in range(1, n + 1)])


def _job(app, job_id: int) -> ImportJob:
    with app.app_context():
        job = db.session.get(ImportJob, job_id)
        db.session.expunge(job)
        return job


def _jobs(app) -> list[ImportJob]:
    with app.app_context():
        jobs = list(db.session.scalars(select(ImportJob).order_by(ImportJob.id)))
        db.session.expunge_all()
        return jobs


def _job_id_of(response) -> int:
    location = response.headers["Location"]
    assert "/directory-import/job/" in location, location
    return int(location.rstrip("/").rsplit("/", 1)[1])


def _running_job(app, world, username="operator_a", *, beat_ago=0, state=RUNNING) -> int:
    """A job of the user's department as a live (or silent) worker leaves it."""
    with app.app_context():
        user = app.appbuilder.sm.find_user(username=username)
        department = world.dept_a if username == "operator_a" else world.dept_b
        now = dt.datetime.now().replace(microsecond=0)
        job = ImportJob(
            department_id=department,
            kind="targets",
            filename="前一个文件.csv",
            sha256="0" * 64,
            stored_name="gone.csv",
            user_id=user.id,
            state=state,
            active_key=f"{department}:targets",
            rows_checked=3000,
            rows_written=0,
            created_on=now - dt.timedelta(seconds=beat_ago),
            started_on=now - dt.timedelta(seconds=beat_ago),
            heartbeat_on=now - dt.timedelta(seconds=beat_ago),
        )
        with acting_as_system():
            db.session.add(job)
            db.session.commit()
        return job.id


# --- the page -------------------------------------------------------------------------------


def test_an_upload_opens_the_jobs_page_with_the_counts(app, login_as):
    client = login_as("operator_a")
    response = _upload(client, "targets", _rows(3), "目录.csv", csrf_token_from(client, URL))
    assert response.status_code == 302
    job_id = _job_id_of(response)
    page = client.get(f"{URL}job/{job_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "已完成" in html and "目录.csv" in html
    assert "目录.csv 已导入" in html or "3" in html
    assert 'id="import-job-checked">3<' in html and 'id="import-job-written">3<' in html
    status = client.get(f"{URL}job/{job_id}/status").get_json()
    assert status == {
        "state": DONE,
        "state_label": "已完成",
        "finished": True,
        "checked": 3,
        "written": 3,
    }
    job = _job(app, job_id)
    assert job.active_key is None and job.finished_on is not None
    assert count(app, Target) == 3
    # The uploaded file is removed once the job has ended.
    assert not (Path(app.config["UPLOAD_FOLDER"]) / "import-jobs" / job.stored_name).exists()
    # The import page lists it under 最近的导入.
    assert f"{URL}job/{job_id}" in client.get(URL).get_data(as_text=True)


def test_a_refused_file_shows_its_error_table_and_writes_nothing(app, login_as):
    client = login_as("operator_a")
    data = csv_bytes(TARGET_HEADER, [target_row(1), target_row(2, 最近检查日期="昨天")])
    response = _upload(client, "targets", data, "错.csv", csrf_token_from(client, URL))
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "失败" in html and "未导入任何数据" in html
    assert re.search(r"<td[^>]*>3</td><td[^>]*>最近检查日期</td>", html)
    assert count(app, Target) == 0


def test_the_page_without_a_finished_job_polls_and_has_a_reload_link(app, world, login_as):
    job_id = _running_job(app, world)
    client = login_as("operator_a")
    html = client.get(f"{URL}job/{job_id}").get_data(as_text=True)
    assert "进行中" in html and "js/import_job.js" in html
    assert f'href="{URL}job/{job_id}" id="import-job-reload"' in html and "刷新" in html
    assert 'id="import-job-checked">3000<' in html


def test_progress_is_reported_every_thousand_rows_of_each_pass(app):
    calls = []
    with app.app_context(), acting_as_system():
        result = import_file(
            "targets",
            __import__("io").BytesIO(_rows(2500)),
            "t.csv",
            progress=lambda checked, written: calls.append((checked, written)),
        )
        assert result.ok
        db.session.rollback()
    # Every thousand rows checked, then every thousand written, never going back, ending at all.
    distinct = list(dict.fromkeys(calls))
    assert distinct == [
        (1000, 0),
        (2000, 0),
        (2500, 0),
        (2500, 1000),
        (2500, 2000),
        (2500, 2500),
    ]
    assert calls == sorted(calls) and calls[-1] == (2500, 2500)


# --- one job at a time per department -------------------------------------------------------


def test_a_second_upload_of_the_department_is_refused_while_one_runs(app, world, login_as):
    running = _running_job(app, world)
    with app.app_context():
        app.appbuilder.sm.find_user(username="operator_a").first_name = "小明"
        db.session.commit()
    client = login_as("operator_a")
    response = _upload(client, "targets", _rows(2), "第二个.csv", csrf_token_from(client, URL))
    assert response.headers["Location"].endswith(f"{URL}job/{running}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "本部门的另一次检查对象名录库导入进行中" in page and "前一个文件.csv" in page
    # The uploader by name (姓+名), as colleagues call them, not by login.
    assert "测试小明 于" in page and "operator_a 于" not in page
    assert "<td>测试小明（" in page  # 上传人 of the job's page
    assert ">测试小明</td>" in client.get(URL).get_data(as_text=True)  # 最近的导入
    assert [job.id for job in _jobs(app)] == [running]
    assert count(app, Target) == 0
    # Another department, or another kind of file, is not held up.
    other = login_as("operator_b")
    data = csv_bytes(TARGET_HEADER, [target_row(1, 主管部门="B")])
    response = _upload(other, "targets", data, "河湖.csv", csrf_token_from(other, URL))
    assert _job(app, _job_id_of(response)).state == DONE


def test_the_database_refuses_two_active_jobs_of_one_department_and_kind(app, world):
    _running_job(app, world)
    with pytest.raises(IntegrityError):
        _running_job(app, world, state=QUEUED)
    assert len(_jobs(app)) == 1


def test_a_silent_worker_is_given_up_and_the_next_upload_goes_through(
    app, world, login_as, monkeypatch
):
    monkeypatch.setitem(app.config, "IMPORT_JOB_LEASE_SECONDS", 60)
    stale = _running_job(app, world, beat_ago=120)
    client = login_as("operator_a")
    html = client.get(f"{URL}job/{stale}").get_data(as_text=True)
    assert "失败" in html and "后台进程已停止（超过 60 秒没有响应），未写入任何数据" in html
    assert _job(app, stale).active_key is None
    response = _upload(client, "targets", _rows(2), "再来.csv", csrf_token_from(client, URL))
    assert _job(app, _job_id_of(response)).state == DONE
    assert count(app, Target) == 2


def test_a_job_no_worker_takes_up_fails_after_the_queue_timeout(app, world, login_as, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_JOB_QUEUE_TIMEOUT_SECONDS", 600)
    waiting = _running_job(app, world, beat_ago=30, state=QUEUED)
    client = login_as("operator_a")
    assert client.get(f"{URL}job/{waiting}/status").get_json()["state"] == QUEUED
    monkeypatch.setitem(app.config, "IMPORT_JOB_QUEUE_TIMEOUT_SECONDS", 10)
    status = client.get(f"{URL}job/{waiting}/status").get_json()
    assert status["state"] == FAILED and status["state_label"] == "失败"
    assert "没有后台导入进程" in _job(app, waiting).error


# --- failures leave nothing written ---------------------------------------------------------


def test_an_error_after_rows_were_written_leaves_no_rows_and_a_failed_job(
    app, login_as, monkeypatch
):
    original = import_jobs._Progress.__call__

    def failing(self, checked, written):
        original(self, checked, written)
        if written >= 1000:
            raise RuntimeError("disk full")

    monkeypatch.setattr(import_jobs._Progress, "__call__", failing)
    client = login_as("operator_a")
    response = _upload(client, "targets", _rows(2500), "大.csv", csrf_token_from(client, URL))
    job = _job(app, _job_id_of(response))
    assert job.state == FAILED and job.active_key is None
    assert "内部错误" in job.error and "未写入任何数据" in job.error
    assert count(app, Target) == 0
    html = client.get(f"{URL}job/{job.id}").get_data(as_text=True)
    assert "失败" in html and "导入因内部错误中止" in html


def _worker_env(app, tmp_path) -> dict:
    env = dict(os.environ)
    env.pop("IMPORT_QUEUE", None)
    env.update(
        DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        UPLOAD_FOLDER=app.config["UPLOAD_FOLDER"],
        IMPORT_QUEUE_FILE=str(tmp_path / "import-queue.db"),
        INSTANCE_PATH=str(tmp_path / "instance"),
        SECRET_KEY="x" * 40,
        PYTHONPATH=str(ROOT),
    )
    return env


def _real_queue(env, monkeypatch):
    """The queue as the worker process sees it (its database, or its SQLite file)."""
    for name in ("DATABASE_URL", "IMPORT_QUEUE_FILE"):
        monkeypatch.setenv(name, env[name])
    monkeypatch.delenv("IMPORT_QUEUE", raising=False)
    real = queue.make_huey()
    return real.task()(queue.run_import_job.func)


def _start_worker(env) -> subprocess.Popen:
    consumer = Path(sys.executable).with_name("huey_consumer")
    return subprocess.Popen(
        [str(consumer), "app.directory.queue.huey", "-w", "1", "-d", "0.1", "-m", "0.5"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _wait(predicate, seconds=120):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out")


def _state_and_progress(app, job_id):
    with app.app_context():
        job = db.session.get(ImportJob, job_id)
        state, progress = job.state, import_jobs.progress_of(job)
        db.session.rollback()
        return state, progress


def test_the_huey_worker_runs_a_queued_upload(app, login_as, monkeypatch, tmp_path):
    env = _worker_env(app, tmp_path)
    monkeypatch.setattr(queue, "run_import_job", _real_queue(env, monkeypatch))
    client = login_as("operator_a")
    response = _upload(client, "targets", _rows(3), "t.csv", csrf_token_from(client, URL))
    job_id = _job_id_of(response)
    assert _job(app, job_id).state == QUEUED  # the page answered before any row was read
    assert client.get(f"{URL}job/{job_id}/status").get_json()["state_label"] == "排队中"
    worker = _start_worker(env)
    try:
        _wait(lambda: _job(app, job_id).state == DONE, 60)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)
    assert count(app, Target) == 3
    # The worker's audit rows name the uploader's address, not the command line.
    with app.app_context():
        from app.core.audit.models import AuditLog

        ips = set(
            db.session.scalars(
                select(AuditLog.ip).where(
                    AuditLog.action == "import", AuditLog.user_id.is_not(None)
                )
            )
        )
    assert ips == {"127.0.0.1"}


@pytest.mark.slow
def test_a_worker_killed_mid_import_leaves_no_rows_and_the_job_failed(
    app, login_as, monkeypatch, tmp_path
):
    env = _worker_env(app, tmp_path)
    monkeypatch.setattr(queue, "run_import_job", _real_queue(env, monkeypatch))
    client = login_as("operator_a")
    response = _upload(client, "targets", _rows(30000), "三万.csv", csrf_token_from(client, URL))
    job_id = _job_id_of(response)
    worker = _start_worker(env)
    try:
        # Killed (SIGKILL: no clean-up of any kind) once rows have been written.
        _wait(lambda: _state_and_progress(app, job_id)[1][1] > 0, 300)
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
    state, (checked, written) = _state_and_progress(app, job_id)
    assert state == RUNNING and checked == 30000 and 0 < written < 30000
    assert count(app, Target) == 0
    # The page says 失败 once the lease has run out.
    monkeypatch.setitem(app.config, "IMPORT_JOB_LEASE_SECONDS", 1)
    time.sleep(2.1)
    html = client.get(f"{URL}job/{job_id}").get_data(as_text=True)
    assert "失败" in html and "后台进程已停止" in html and "未写入任何数据" in html
    assert count(app, Target) == 0
    job = _job(app, job_id)
    assert job.active_key is None
    assert not (Path(app.config["UPLOAD_FOLDER"]) / "import-jobs" / job.stored_name).exists()


# --- who sees a job -------------------------------------------------------------------------


def test_another_departments_operator_cannot_see_the_job(app, world, login_as):
    job_id = _running_job(app, world)
    for username in ("operator_b", "inspector_a"):
        client = login_as(username)
        page = client.get(f"{URL}job/{job_id}")
        status = client.get(f"{URL}job/{job_id}/status")
        assert page.status_code in (403, 404) and status.status_code in (403, 404)
        assert "前一个文件.csv" not in page.get_data(as_text=True)
        if username == "operator_b":
            assert page.status_code == 404 and status.status_code == 404
            assert "前一个文件.csv" not in client.get(URL).get_data(as_text=True)
    # The department's Operators see it (and the uploader, of course).
    assert login_as("operator_a").get(f"{URL}job/{job_id}").status_code == 200
    assert login_as("operator_a").get(f"{URL}job/{job_id + 1000}").status_code == 404
