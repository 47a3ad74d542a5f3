"""Issue 20, part 3: session controls of 等保 2.0 level 3 (身份鉴别 a/b): the idle timeout, one place
at a time, the last sign-in shown, password expiry with a forced change, and the security
administrator's unlock on the user's page (app/security/session_controls.py). The clock is
moved by the tests: nothing sleeps."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.core.audit.models import AuditLog
from app.extensions import db
from app.security import session_controls
from tests.conftest import (
    PASSWORD,
    change_own_password,
    csrf_token_from,
    login,
    set_password_of,
)

NEW_PASSWORD = "Neu-Passwort-2027"
MINUTE = 60
DAY = 24 * 60 * MINUTE


class Clock:
    def __init__(self):
        import time

        self.now = time.time()

    def __call__(self):
        return self.now

    def move(self, seconds):
        self.now += seconds


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(session_controls, "clock", fake)
    return fake


def page_works(client) -> bool:
    response = client.get("/users/userinfo/")
    assert response.status_code in (200, 302), response.status_code
    return response.status_code == 200


def events(app, action, user_id=None):
    with app.app_context():
        query = select(AuditLog).where(AuditLog.action == action)
        if user_id is not None:
            query = query.where(AuditLog.object_id == str(user_id))
        return db.session.scalars(query.order_by(AuditLog.seq)).all()


def api_login(app, username, password=PASSWORD):
    return app.test_client().post(
        "/api/v1/security/login",
        json={"username": username, "password": password, "provider": "db"},
    )


def api_get(app, token):
    return app.test_client().get("/api/v1/target/", headers={"Authorization": f"Bearer {token}"})


# --- idle timeout ---------------------------------------------------------------------------


def test_an_idle_session_is_signed_out_with_a_notice(app, world, login_as, clock):
    browser = login_as("operator_a")
    clock.move(29 * MINUTE)
    assert page_works(browser)
    clock.move(29 * MINUTE)  # every request counts as use: 58 minutes in, 29 idle
    assert page_works(browser)
    clock.move(31 * MINUTE)
    response = browser.get("/departments/list/")
    assert response.status_code == 302 and "/login/" in response.headers["Location"]
    notice = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "您已超过 30 分钟未操作，请重新登录" in notice
    assert not page_works(browser)
    [row] = events(app, "session_idle", world.user("operator_a"))
    assert row.user_id == world.user("operator_a") and '"minutes":30' in row.detail
    # Signing in again works at once.
    assert page_works(login_as("operator_a"))


def test_the_idle_browser_session_is_refused_on_the_api_too(app, world, login_as, clock):
    browser = login_as("operator_a")
    assert browser.get("/api/v1/target/").status_code == 200
    clock.move(31 * MINUTE)
    response = browser.get("/api/v1/target/")
    assert response.status_code == 401
    assert "未操作" in response.get_json()["message"]


def test_the_timeout_is_a_setting(app, world, login_as, clock, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_IDLE_MINUTES", 5)
    browser = login_as("operator_a")
    clock.move(6 * MINUTE)
    response = browser.get("/users/userinfo/", follow_redirects=True)
    assert "您已超过 5 分钟未操作" in response.get_data(as_text=True)
    monkeypatch.setitem(app.config, "SESSION_IDLE_MINUTES", 0)  # 0: no timeout
    browser = login_as("operator_a")
    clock.move(3 * DAY)
    assert page_works(browser)


def test_static_files_and_quick_requests_do_not_rewrite_the_cookie(app, world, login_as, clock):
    """The idle check rewrites the cookie at most once a minute (FAB's pages write their page
    history into it anyway: a script's request to the API shows it), static files never."""
    browser = login_as("operator_a")
    assert page_works(browser)
    clock.move(10)
    for url in ("/api/v1/target/", "/favicon.ico", "/static/favicon.png"):
        response = browser.get(url)
        assert response.status_code == 200, url
        assert "session=" not in response.headers.get("Set-Cookie", ""), url
    clock.move(2 * MINUTE)  # a request after a minute notes the time of use
    assert "session=" in browser.get("/api/v1/target/").headers.get("Set-Cookie", "")
    # A static file is no use of the session: it does not keep it alive.
    clock.move(31 * MINUTE)
    browser.get("/favicon.ico")
    assert not page_works(browser)


# --- one place at a time --------------------------------------------------------------------


def test_a_second_sign_in_ends_the_first_with_a_notice(app, world, login_as, clock):
    first = login_as("operator_a")
    token = api_login(app, "operator_a").get_json()["access_token"]
    clock.move(5 * MINUTE)
    second = login_as("operator_a")
    colleague = login_as("operator_b")
    assert page_works(second) and page_works(colleague)
    response = first.get("/departments/list/")
    assert response.status_code == 302 and "/login/" in response.headers["Location"]
    notice = first.get(response.headers["Location"]).get_data(as_text=True)
    assert "您的账号已在其他地方登录" in notice and "来自 127.0.0.1" in notice
    assert re.search(r"已在其他地方登录（\d{4}-\d\d-\d\d \d\d:\d\d，", notice)
    assert not page_works(first)
    assert page_works(second)
    [row] = events(app, "session_replaced", world.user("operator_a"))
    assert '"address":"127.0.0.1"' in row.detail
    # REST tokens are not a place: the form sign-in ended none, and a REST login ends no
    # browser session.
    assert api_get(app, token).status_code == 200
    assert api_login(app, "operator_a").status_code == 200
    assert page_works(second)


def test_signing_out_and_in_again_ends_no_other_place(app, world, login_as):
    first = login_as("operator_a")
    first.get("/logout/")
    login_as("operator_a")
    assert events(app, "session_replaced") == []


def test_with_the_setting_off_both_places_stay(app, world, login_as, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_SINGLE", False)
    first, second = login_as("operator_a"), login_as("operator_a")
    assert page_works(first) and page_works(second)
    assert events(app, "session_replaced") == []


def test_a_kept_cookie_of_the_ended_session_opens_nothing(app, world, login_as):
    first = login_as("operator_a")
    kept = app.test_client()
    kept.set_cookie("session", first.get_cookie("session").value)
    login_as("operator_a")
    assert not page_works(kept)
    assert not page_works(first)


# --- the last sign-in -----------------------------------------------------------------------


def signed_in(app, username):
    """A browser after the sign-in form, its notice not yet seen (login_as drops it)."""
    browser = app.test_client()
    assert login(browser, username).status_code == 302
    return browser


def test_the_notice_names_the_previous_sign_in_and_the_failures_since(app, world):
    first = signed_in(app, "operator_a")
    assert "这是该账号的首次登录" in first.get("/").get_data(as_text=True)
    first.get("/logout/")
    for _ in range(2):
        stranger = app.test_client()
        assert login(stranger, "operator_a", "Wrong-passw0rd").status_code == 302
    browser = signed_in(app, "operator_a")
    page = browser.get("/").get_data(as_text=True)
    [previous, _now] = events(app, "login", world.user("operator_a"))
    shown = previous.created_at.strftime("%Y-%m-%d %H:%M")
    assert f"上次登录：{shown}，来自 127.0.0.1；此后有 2 次失败的登录尝试" in page
    # Once: the next page does not repeat it.
    assert "上次登录" not in browser.get("/").get_data(as_text=True)


def test_no_failures_no_count(app, world):
    signed_in(app, "operator_a").get("/logout/")
    page = signed_in(app, "operator_a").get("/").get_data(as_text=True)
    assert "上次登录：" in page and "失败的登录尝试" not in page


# --- password expiry ------------------------------------------------------------------------


def test_an_expired_password_holds_the_user_on_the_change_page(app, world, login_as, clock):
    token = api_login(app, "operator_a").get_json()["access_token"]
    clock.move(91 * DAY)
    browser = login_as("operator_a")
    for url in ("/", "/departments/list/", "/targets/list/", "/two-factor/"):
        response = browser.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].endswith("/resetmypassword/form"), url
    page = browser.get("/resetmypassword/form").get_data(as_text=True)
    assert "您的密码已使用超过 90 天" in page
    # The REST API: the browser's session, an earlier token and a new login are refused.
    refused = browser.get("/api/v1/target/")
    assert refused.status_code == 403 and "密码已过期" in refused.get_json()["message"]
    assert api_get(app, token).status_code == 403
    answer = api_login(app, "operator_a")
    assert answer.status_code == 403 and "修改密码" in answer.get_json()["message"]
    assert "access_token" not in answer.get_json()
    # The new password must differ from the old one.
    same = change_own_password(browser, PASSWORD, PASSWORD)
    assert same.status_code == 200 and "新密码不能与当前密码相同" in same.get_data(as_text=True)
    assert browser.get("/departments/list/").status_code == 302
    done = change_own_password(browser, PASSWORD, NEW_PASSWORD)
    assert done.status_code == 302
    assert browser.get("/departments/list/").status_code == 200
    assert api_login(app, "operator_a", NEW_PASSWORD).status_code == 200


def test_expiry_is_a_setting(app, world, login_as, clock, monkeypatch):
    clock.move(89 * DAY)
    assert login_as("operator_a").get("/departments/list/").status_code == 200
    clock.move(2 * DAY)
    monkeypatch.setitem(app.config, "PASSWORD_MAX_AGE_DAYS", 0)  # 0: passwords never expire
    assert login_as("operator_a").get("/departments/list/").status_code == 200
    assert api_login(app, "operator_a").status_code == 200


def test_a_password_set_by_the_security_administrator_is_changed_at_sign_in(app, world, login_as):
    response = set_password_of(login_as("secadmin"), world.user("operator_a"), NEW_PASSWORD)
    assert response.status_code == 302
    browser = app.test_client()
    assert login(browser, "operator_a", NEW_PASSWORD).status_code == 302
    held = browser.get("/departments/list/", follow_redirects=True).get_data(as_text=True)
    assert "您的密码由安全管理员设置" in held
    assert api_login(app, "operator_a", NEW_PASSWORD).status_code == 403
    assert change_own_password(browser, NEW_PASSWORD, "Mein-Passwort-2028").status_code == 302
    assert browser.get("/departments/list/").status_code == 200


def test_with_two_factor_required_enrolment_comes_first(app, world, login_as, clock, monkeypatch):
    monkeypatch.setitem(app.config, "TOTP_REQUIRED", True)
    clock.move(91 * DAY)
    browser = app.test_client()
    assert login(browser, "operator_a").status_code == 302
    response = browser.get("/departments/list/", follow_redirects=True)
    assert response.status_code == 200 and response.request.path == "/two-factor/enrol"


# --- the security administrator's unlock ----------------------------------------------------


def lock(app, username):
    from app.security import throttle

    for _ in range(app.config["LOGIN_LOCKOUT_FAILURES"]):
        login(app.test_client(), username, "Wrong-passw0rd")
    with app.test_request_context():
        assert throttle.is_locked(username)


def is_locked(app, username) -> bool:
    from app.security import throttle

    with app.test_request_context():
        return throttle.is_locked(username)


SHOWN_LOCK = r"登录锁定</th>\s*<td><span[^>]*>{}</span>"


def unlock(client, user_id):
    token = csrf_token_from(client, "/resetmypassword/form")
    return client.post(f"/users/action/unlock/{user_id}", data={"csrf_token": token})


def test_the_security_administrator_unlocks_on_the_users_page(app, world, login_as):
    user_id = world.user("operator_a")
    security = login_as("secadmin")
    assert re.search(SHOWN_LOCK.format("未锁定"), security.get(f"/users/show/{user_id}").text)
    lock(app, "operator_a")
    page = security.get(f"/users/show/{user_id}").get_data(as_text=True)
    assert re.search(SHOWN_LOCK.format("已锁定"), page)
    assert "解除锁定" in page
    done = unlock(security, user_id)
    assert done.status_code == 302
    assert "已解除" in security.get(done.headers["Location"]).get_data(as_text=True)
    assert not is_locked(app, "operator_a")
    assert re.search(SHOWN_LOCK.format("未锁定"), security.get(f"/users/show/{user_id}").text)
    [row] = events(app, "login_unlocked", user_id)
    assert row.user_id == world.user("secadmin") and '"was_locked":true' in row.detail
    assert login(app.test_client(), "operator_a").status_code == 302


def test_nobody_else_unlocks(app, world, login_as):
    user_id = world.user("operator_a")
    lock(app, "operator_a")
    for name in ("operator_b", "leader", "admin", "auditor", "jointoffice"):
        response = unlock(login_as(name), user_id)
        assert response.status_code in (302, 403, 404), name
        assert is_locked(app, "operator_a"), name
    assert events(app, "login_unlocked") == []


def test_an_administrators_lock_is_lifted_on_the_server_only(app, world, login_as):
    security = login_as("secadmin")
    lock(app, "admin")
    refused = unlock(security, world.user("admin"))
    assert refused.status_code == 302
    page = security.get(refused.headers["Location"]).get_data(as_text=True)
    assert "只能由运维人员在服务器上" in page
    assert is_locked(app, "admin")
    assert events(app, "login_unlocked") == []
    result = app.test_cli_runner().invoke(args=["security", "unlock", "admin"])
    assert result.exit_code == 0 and "已解除" in result.output
    assert not is_locked(app, "admin")
