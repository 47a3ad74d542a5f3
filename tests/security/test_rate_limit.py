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
