"""The production set-up of docs/deploy.md starts: gunicorn with gunicorn.conf.py and several
workers serves pages from the migrated database."""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(app, tmp_path, **extra):
    """gunicorn -c gunicorn.conf.py run:app with two workers on a free port, in its own process
    group; (process, base URL) once it answers."""
    gunicorn = Path(sys.executable).with_name("gunicorn")
    if not gunicorn.exists() and not shutil.which("gunicorn"):
        pytest.skip("gunicorn is not installed")
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "INSTANCE_PATH": str(tmp_path),
        "SECRET_KEY": "x" * 48,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "2",
        **extra,
    }
    process = subprocess.Popen(
        [str(gunicorn), "-c", "gunicorn.conf.py", "run:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "/public/", timeout=2)
            break
        except OSError:
            time.sleep(0.2)
    return process, base


def test_gunicorn_serves_the_application(app, world, tmp_path):
    process, base = _start(app, tmp_path)
    try:
        for path in ("/public/", "/public/blacklist", "/login/"):
            with urllib.request.urlopen(base + path, timeout=5) as response:
                assert response.status == 200, path
                assert "default-src 'self'" in response.headers["Content-Security-Policy"]
                # Nothing tells a prober which server software answers.
                assert response.headers.get("Server") is None, response.headers.get("Server")
    finally:
        process.terminate()
        _, errors = process.communicate(timeout=30)
    assert b"Traceback" not in errors, errors.decode(errors="replace")[-2000:]


def test_a_killed_server_loses_nothing_it_acknowledged(app, world, tmp_path):
    """Every change is committed before its answer is sent: kill -9 the whole server right
    after the last acknowledgement, and every acknowledged row is in the database."""
    import json
    import os
    import signal

    from sqlalchemy import func, select

    from app.directory.models import Target
    from app.extensions import db
    from tests.conftest import PASSWORD
    from tests.directory.conftest import uscc

    process, base = _start(app, tmp_path, RATELIMIT_ENABLED="false")

    def call(path, body, token=None):
        request = urllib.request.Request(
            base + path,
            data=json.dumps(body).encode(),
            headers={
                "Content-Type": "application/json",
                **({"Authorization": f"Bearer {token}"} if token else {}),
            },
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())

    try:
        _, login = call(
            "/api/v1/security/login",
            {"username": "operator_a", "password": PASSWORD, "provider": "db"},
        )
        acknowledged = []
        for n in range(20):
            status, body = call(
                "/api/v1/target/",
                {
                    "target_type": "企业",
                    "name": f"断电测试对象{n}",
                    "uscc": uscc(800 + n),
                    "risk_class": "B",
                    "registration_status": "存续",
                    "department": world.dept_a,
                },
                login["access_token"],
            )
            assert status == 201, body
            acknowledged.append(body["id"])
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # no graceful shutdown, workers included
        process.wait(timeout=30)
    with app.app_context():
        found = db.session.scalar(select(func.count(Target.id)).where(Target.id.in_(acknowledged)))
    assert found == len(acknowledged) == 20
