"""Issue 15, finding 7: signing out, a new password and deactivation end every session cookie
and API token of that user (access and refresh); changing one's own password asks for the
current one."""

import pytest
from werkzeug.security import check_password_hash

from app.extensions import db
from app.security.models import User
from tests.conftest import PASSWORD, csrf_token_from, set_password_of

NEW_PASSWORD = "Neu-Passwort-2027"


def _tokens(app, username, password=PASSWORD):
    response = app.test_client().post(
        "/api/v1/security/login",
        json={"username": username, "password": password, "provider": "db", "refresh": True},
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    return body["access_token"], body["refresh_token"]


def _api_works(app, access) -> bool:
    response = app.test_client().get(
        "/api/v1/target/", headers={"Authorization": f"Bearer {access}"}
    )
    assert response.status_code in (200, 401), response.status_code
    return response.status_code == 200


def _refresh_works(app, refresh) -> bool:
    response = app.test_client().post(
        "/api/v1/security/refresh", headers={"Authorization": f"Bearer {refresh}"}
    )
    assert response.status_code in (200, 401, 422), response.status_code
    return response.status_code == 200


def _page_works(client) -> bool:
    response = client.get("/users/userinfo/")  # every signed-in user's own profile
    assert response.status_code in (200, 302), response.status_code
    return response.status_code == 200


def _copy_of(app, client):
    """Another browser holding a copy of `client`'s session cookie (kept, stolen or backed up)."""
    other = app.test_client()
    other.set_cookie("session", client.get_cookie("session").value)
    return other


def _password_hash(app, username):
    with app.app_context():
        return db.session.query(User).filter_by(username=username).one().password


def test_a_cookie_kept_from_before_sign_out_opens_nothing(app, login_as):
    browser = login_as("operator_a")
    kept = _copy_of(app, browser)
    assert _page_works(kept)
    browser.get("/logout/")
    assert not _page_works(browser)
    assert not _page_works(kept)
    assert kept.get("/api/v1/target/").status_code == 401


@pytest.mark.many_places
def test_sign_out_ends_the_other_sessions_and_tokens_of_that_user_only(app, login_as):
    first, second = login_as("operator_a"), login_as("operator_a")
    colleague = login_as("operator_b")
    access, refresh = _tokens(app, "operator_a")
    assert _api_works(app, access) and _refresh_works(app, refresh)
    first.get("/logout/")
    assert not _page_works(second)
    assert not _api_works(app, access)
    assert not _refresh_works(app, refresh)
    assert _page_works(colleague)
    # Signing in again works as before.
    assert _page_works(login_as("operator_a"))
    assert _api_works(app, _tokens(app, "operator_a")[0])


def test_changing_ones_own_password_asks_for_the_current_one(app, login_as):
    browser = login_as("operator_a")
    token = csrf_token_from(browser, "/resetmypassword/form")
    form = {"password": NEW_PASSWORD, "conf_password": NEW_PASSWORD, "csrf_token": token}
    before = _password_hash(app, "operator_a")
    for current in (None, "", "wrong-Passw0rd"):
        data = dict(form) if current is None else {**form, "current_password": current}
        response = browser.post("/resetmypassword/form", data=data)
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert "当前密码" in html
        assert _password_hash(app, "operator_a") == before
    assert "当前密码不正确" in html
    response = browser.post("/resetmypassword/form", data={**form, "current_password": PASSWORD})
    assert response.status_code == 302
    assert check_password_hash(_password_hash(app, "operator_a"), NEW_PASSWORD)


@pytest.mark.many_places
def test_a_new_password_ends_every_other_session_and_token(app, login_as):
    browser, elsewhere = login_as("operator_a"), login_as("operator_a")
    access, refresh = _tokens(app, "operator_a")
    token = csrf_token_from(browser, "/resetmypassword/form")
    response = browser.post(
        "/resetmypassword/form",
        data={
            "current_password": PASSWORD,
            "password": NEW_PASSWORD,
            "conf_password": NEW_PASSWORD,
            "csrf_token": token,
        },
    )
    assert response.status_code == 302
    # The browser that changed it stays signed in; every other session and token is over.
    assert _page_works(browser)
    assert not _page_works(elsewhere)
    assert not _api_works(app, access)
    assert not _refresh_works(app, refresh)
    assert _api_works(app, _tokens(app, "operator_a", NEW_PASSWORD)[0])


def test_a_password_set_by_the_admin_ends_the_users_sessions(app, world, login_as):
    victim = login_as("operator_a")
    access, refresh = _tokens(app, "operator_a")
    admin = login_as("secadmin")
    response = set_password_of(admin, world.user("operator_a"), NEW_PASSWORD)
    assert response.status_code == 302
    assert not _page_works(victim)
    assert not _api_works(app, access) and not _refresh_works(app, refresh)
    assert _page_works(admin)


def test_deactivation_ends_sessions_for_good(app, world, login_as):
    browser = login_as("operator_a")
    access, _refresh = _tokens(app, "operator_a")
    with app.app_context():
        user = db.session.get(User, world.user("operator_a"))
        user.active = False
        db.session.commit()
        user.active = True  # switched on again: the old cookie and token stay dead
        db.session.commit()
    assert not _page_works(browser)
    assert not _api_works(app, access)
