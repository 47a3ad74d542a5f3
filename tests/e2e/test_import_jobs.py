"""The bulk import page with its background job, in real Chromium on a 390 px phone (issue 18):
the upload answers at once with the job's page (排队中 while no worker runs), the page follows
the job (进行中, the rows checked) and shows the report when it has ended, also after a
reload; nothing leaves the server, no console error, nothing wider than the phone.
The worker is huey's consumer, started as a real process (tests/directory/test_import_jobs.py).
Screenshots: test-output/e2e/import-job-*.png."""

from __future__ import annotations

import os
import signal
import time

import pytest
from playwright.sync_api import Error as PlaywrightError

from app.directory import queue
from app.directory.models import Target
from tests.directory.test_import_jobs import (
    _real_queue,
    _rows,
    _start_worker,
    _worker_env,
)
from tests.directory.test_imports import base, count  # noqa: F401  (base: a fixture)
from tests.e2e.conftest import require_browser
from tests.e2e.test_phone import OVERFLOW, PHONE_WIDTH, phone  # noqa: F401  (phone: a fixture)

require_browser()
pytestmark = pytest.mark.usefixtures("base")

ROWS = 12000


def _fits(v, name):
    v.shot(f"import-job-{name}")
    measured = v.page.evaluate(OVERFLOW, PHONE_WIDTH)
    assert measured["page"] <= min(measured["inner"], PHONE_WIDTH), measured
    assert measured["wide"] == [], measured


# Loaded by the worker process alone (sitecustomize runs at its start): each batch of checked
# rows waits a little, so that the job runs for several of the page's polls whatever the
# machine's speed (12,000 rows took under two seconds, one poll, on a fast machine).
_SLOW_WORKER = """
import time
from app.directory import imports
_spool = imports._Importer._spool_batch
def _slow_spool(self, batch, spool):
    time.sleep(0.5)
    return _spool(self, batch, spool)
imports._Importer._spool_batch = _slow_spool
"""


def _slow_worker_env(app, tmp_path) -> dict:
    env = _worker_env(app, tmp_path)
    hook = tmp_path / "slow-worker"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(_SLOW_WORKER, encoding="utf-8")
    env["PYTHONPATH"] = os.pathsep.join((str(hook), env["PYTHONPATH"]))
    return env


def test_an_upload_returns_at_once_and_the_page_follows_the_job(
    app,
    phone,  # noqa: F811
    monkeypatch,
    tmp_path,
):
    env = _slow_worker_env(app, tmp_path)
    monkeypatch.setattr(queue, "run_import_job", _real_queue(env, monkeypatch))
    v = phone()
    v.login("operator_a")
    v.go("/directory-import/")
    v.page.set_input_files(
        "#import-file", {"name": "检查对象.csv", "mimeType": "text/csv", "buffer": _rows(ROWS)}
    )
    started = time.monotonic()
    v.page.click("#import-submit")
    v.page.wait_for_url("**/directory-import/job/*")
    v.page.wait_for_selector("#import-job-state")
    answered = time.monotonic() - started
    assert answered < 15, answered  # no row is read before the page answers
    assert v.page.inner_text("#import-job-state") == "排队中"
    assert "检查对象.csv" in v.visible_text()
    _fits(v, "queued")

    worker = _start_worker(env)
    try:
        seen, shown = set(), set()
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                if v.page.query_selector("#import-job-done"):
                    break
                state = v.page.inner_text("#import-job-state", timeout=1000)
                checked = v.page.inner_text("#import-job-checked", timeout=1000)
                seen.add((state, checked not in ("0", "")))
                shown.add((state, v.page.get_attribute("#import-job-state", "class", timeout=1000)))
            except PlaywrightError:
                pass  # the page reloads itself when the job has ended
            time.sleep(0.2)
        else:
            raise AssertionError("the job did not end")
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)
    assert ("进行中", True) in seen, seen  # the page showed the rows checked on the way
    # The label changes with the state, colour included (not only the first state's).
    assert ("进行中", "label label-info") in shown, shown
    done = v.page.inner_text("#import-job-done")
    assert f"{ROWS} 行" in done or str(ROWS) in done, done
    assert v.page.inner_text("#import-job-written") == str(ROWS)
    _fits(v, "done")
    v.page.reload()
    assert v.page.inner_text("#import-job-state") == "已完成"
    assert str(ROWS) in v.page.inner_text("#import-job-done")
    assert count(app, Target) == ROWS


def test_the_page_stops_following_a_job_once_signed_out(
    app,
    phone,  # noqa: F811
    monkeypatch,
    tmp_path,
):
    """A session that ends while the page waits (signed out elsewhere, an idle timeout): the
    next status request is answered with the sign-in page, and the job's page reloads into it
    instead of asking again every few seconds for ever."""
    env = _worker_env(app, tmp_path)
    monkeypatch.setattr(queue, "run_import_job", _real_queue(env, monkeypatch))
    v = phone()
    v.login("operator_a")
    v.go("/directory-import/")
    v.page.set_input_files(
        "#import-file", {"name": "检查对象.csv", "mimeType": "text/csv", "buffer": _rows(20)}
    )
    v.page.click("#import-submit")
    v.page.wait_for_url("**/directory-import/job/*")
    assert v.page.inner_text("#import-job-state") == "排队中"  # no worker runs
    v.page.context.clear_cookies()
    v.page.wait_for_url("**/login/**", timeout=15000)
    assert "登录" in v.visible_text()
