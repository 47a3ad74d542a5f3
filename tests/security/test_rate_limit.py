"""Password guessing is throttled on the login form and on the REST API's JWT login alike."""

import pytest

from tests.conftest import PASSWORD


@pytest.fixture
def limited_app(app, world):
    """A second application on the same database, with rate limiting on (the suite's app has it
    off so that tests can sign in as often as they like)."""
    from app import create_app

    limited = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": "memory://",
            "AUTH_RATE_LIMIT": "3 per minute",
            "WTF_CSRF_ENABLED": False,
            "FAB_PASSWORD_HASH_METHOD": app.config["FAB_PASSWORD_HASH_METHOD"],
        }
    )
    yield limited
    with limited.app_context():
        from app.extensions import db

        db.session.remove()


def test_api_login_is_rate_limited(limited_app):
    client = limited_app.test_client()
    codes = [
        client.post(
            "/api/v1/security/login",
            json={"username": "admin", "password": "guess-1234x", "provider": "db"},
        ).status_code
        for _ in range(5)
    ]
    assert codes[:3] == [401, 401, 401]
    assert codes[-1] == 429
    # The right password does not get through the limit either.
    ok = client.post(
        "/api/v1/security/login",
        json={"username": "admin", "password": PASSWORD, "provider": "db"},
    )
    assert ok.status_code == 429


def test_form_login_is_rate_limited(limited_app):
    client = limited_app.test_client()
    codes = [
        client.post("/login/", data={"username": "admin", "password": "guess-1234x"}).status_code
        for _ in range(5)
    ]
    assert codes[-1] == 429
    assert "尝试次数过多" in client.post(
        "/login/", data={"username": "admin", "password": "x"}
    ).get_data(as_text=True)


@pytest.fixture
def redis_url(tmp_path):
    """A throwaway redis-server on a free port of 127.0.0.1 (the production set-up keeps the
    rate-limit counts in Redis, shared by every app process)."""
    import shutil
    import socket
    import subprocess
    import time

    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
    )
    for _ in range(50):
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(timeout=10)


def test_several_processes_share_one_budget_through_redis(app, world, redis_url):
    """Two application instances (two gunicorn workers, or two hosts) count the same
    attempts: guessing cannot be spread over processes."""
    from app import create_app

    settings = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": redis_url,
        "AUTH_RATE_LIMIT": "3 per minute",
        "WTF_CSRF_ENABLED": False,
        "FAB_PASSWORD_HASH_METHOD": app.config["FAB_PASSWORD_HASH_METHOD"],
    }
    first, second = create_app(dict(settings)), create_app(dict(settings))
    guess = {"username": "admin", "password": "guess-1234x", "provider": "db"}
    codes = [
        worker.test_client().post("/api/v1/security/login", json=guess).status_code
        for worker in (first, second, first, second)
    ]
    assert codes == [401, 401, 401, 429]
    for worker in (first, second):
        with worker.app_context():
            from app.extensions import db

            db.session.remove()


def _app_with(app, **settings):
    from app import create_app

    return create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "WTF_CSRF_ENABLED": False,
            "FAB_PASSWORD_HASH_METHOD": app.config["FAB_PASSWORD_HASH_METHOD"],
            **settings,
        }
    )


def _release(*apps):
    for worker in apps:
        with worker.app_context():
            from app.extensions import db

            db.session.remove()


def test_by_default_every_process_shares_one_budget_without_redis(app, world):
    """Issue 15, finding 11: the default storage is the database, so two workers (or hosts)
    count the same attempts; memory:// let each gunicorn worker grant its own 10 a minute."""
    settings = {"RATELIMIT_ENABLED": True, "AUTH_RATE_LIMIT": "3 per minute"}
    first, second = _app_with(app, **settings), _app_with(app, **settings)
    assert first.config["RATELIMIT_STORAGE_URI"] == "database://"
    guess = {"username": "nobody-here", "password": "guess-1234x", "provider": "db"}
    codes = [
        worker.test_client().post("/api/v1/security/login", json=guess).status_code
        for worker in (first, second, first, second)
    ]
    assert codes == [401, 401, 401, 429]
    _release(first, second)


def _login_form(client, username, password, ip):
    return client.post(
        "/login/",
        data={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": ip},
    )


def _login_api(client, username, password, ip):
    return client.post(
        "/api/v1/security/login",
        json={"username": username, "password": password, "provider": "db"},
        environ_base={"REMOTE_ADDR": ip},
    )


def test_an_account_is_locked_after_five_failures_from_any_ips(app, world):
    from sqlalchemy import select

    from app.core.audit.models import AuditLog
    from app.extensions import db

    worker = _app_with(app, RATELIMIT_ENABLED=False)
    client = worker.test_client()
    for n in range(5):
        response = _login_api(client, "operator_a", f"guess-{n}-1234x", f"10.0.0.{n}")
        assert response.status_code == 401
    # The right password, from yet another address, through the API and the form: locked.
    locked = _login_api(client, "operator_a", PASSWORD, "10.0.1.1")
    assert locked.status_code == 429
    message = locked.get_json()["message"]
    assert "锁定" in message and "15" in message
    page = _login_form(client, "operator_a", PASSWORD, "10.0.1.2")
    assert page.status_code == 429
    assert message in page.get_data(as_text=True)
    # Another account is not affected.
    assert _login_api(client, "operator_b", PASSWORD, "10.0.1.1").status_code == 200
    # An account that does not exist locks the same way, with the same answer.
    for n in range(5):
        response = _login_api(client, "no-such-user", f"guess-{n}-1234x", f"10.0.2.{n}")
        assert response.status_code == 401
    ghost = _login_api(client, "no-such-user", PASSWORD, "10.0.1.1")
    assert (ghost.status_code, ghost.get_json()) == (locked.status_code, locked.get_json())
    with app.app_context():
        events = db.session.scalars(
            select(AuditLog).where(AuditLog.action == "login_locked").order_by(AuditLog.seq)
        ).all()
        assert len(events) >= 4
        assert events[0].object_id == str(world.user("operator_a"))
    _release(worker)


def test_the_lock_ends_after_its_minutes_and_a_success_resets_the_count(app, world, monkeypatch):
    import time

    worker = _app_with(app, RATELIMIT_ENABLED=False)
    client = worker.test_client()
    for n in range(4):
        assert _login_api(client, "operator_a", f"guess-{n}-1234x", "10.0.0.1").status_code == 401
    assert _login_api(client, "operator_a", PASSWORD, "10.0.0.1").status_code == 200
    # Four more failures after a success do not lock (the count started again).
    for n in range(4):
        assert _login_api(client, "operator_a", f"again-{n}-1234x", "10.0.0.1").status_code == 401
    assert _login_api(client, "operator_a", PASSWORD, "10.0.0.1").status_code == 200
    for n in range(5):
        _login_api(client, "operator_a", f"third-{n}-1234x", "10.0.0.1")
    assert _login_api(client, "operator_a", PASSWORD, "10.0.0.1").status_code == 429
    later = time.time() + 15 * 60 + 1
    monkeypatch.setattr(time, "time", lambda: later)
    assert _login_api(client, "operator_a", PASSWORD, "10.0.0.1").status_code == 200
    _release(worker)


def test_the_administrator_lifts_a_lockout_from_the_command_line(app, world):
    worker = _app_with(app, RATELIMIT_ENABLED=False)
    client = worker.test_client()
    for n in range(5):
        _login_api(client, "operator_a", f"guess-{n}-1234x", f"10.0.3.{n}")
    assert _login_api(client, "operator_a", PASSWORD, "10.0.3.9").status_code == 429
    result = app.test_cli_runner().invoke(args=["security", "unlock", "operator_a"])
    assert result.exit_code == 0 and "已解除" in result.output
    assert _login_api(client, "operator_a", PASSWORD, "10.0.3.9").status_code == 200
    missing = app.test_cli_runner().invoke(args=["security", "unlock", "no-such-user"])
    assert missing.exit_code != 0
    _release(worker)
