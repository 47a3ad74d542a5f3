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
