"""Issue 20, part 2: two-factor sign-in (TOTP, RFC 6238) with one-time recovery codes, on the
form login, the REST login and the enrolment pages (app/security/two_factor.py)."""

from __future__ import annotations

import re

import pyotp
import pytest
from sqlalchemy import select

from app.core.audit.models import AuditLog
from app.extensions import db
from app.security import two_factor
from app.security.models import UserRecoveryCode, UserTwoFactor
from tests.conftest import PASSWORD, csrf_token_from, login
from tests.security.test_rate_limit import limited_app  # noqa: F401  (fixture)

SECRET_RE = re.compile(r'id="two-factor-secret">([A-Z2-7 ]+)<')
CODES_RE = re.compile(r"<li><code>([a-z0-9-]+)</code></li>")
SHOWN_FACTOR = r"两步验证</th>\s*<td><span[^>]*>{}</span>"  # on the user's page (SecurityAdmin)


class Clock:
    """two_factor.clock, moved by the test: codes are those of a known time step."""

    def __init__(self):
        self.now = 1_900_000_020.0  # the start of a 30-second step

    def __call__(self):
        return self.now

    def step(self, steps=1):
        self.now += 30 * steps


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(two_factor, "clock", fake)
    return fake


def code_at(secret, clock, offset_steps=0):
    return pyotp.TOTP(secret).at(clock.now + 30 * offset_steps)


def enrol(client, clock):
    """Enrol the client's user through the pages: (secret, recovery codes)."""
    page = client.get("/two-factor/enrol")
    assert page.status_code == 200
    secret = SECRET_RE.search(page.get_data(as_text=True)).group(1).replace(" ", "")
    token = csrf_token_from(client, "/two-factor/enrol")
    done = client.post(
        "/two-factor/enrol", data={"code": code_at(secret, clock), "csrf_token": token}
    )
    assert done.status_code == 200, done.get_data(as_text=True)[:300]
    codes = CODES_RE.findall(done.get_data(as_text=True))
    assert len(codes) == 10
    return secret, codes


def password_step(app, username, password=PASSWORD):
    browser = app.test_client()
    response = login(browser, username, password)
    return browser, response


def code_step(browser, code):
    token = csrf_token_from(browser, "/login/code")
    return browser.post("/login/code", data={"code": code, "csrf_token": token})


def signed_in(browser) -> bool:
    response = browser.get("/departments/list/")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def actions(app, user_id=None):
    with app.app_context():
        query = select(AuditLog.action).order_by(AuditLog.seq)
        if user_id is not None:
            query = query.where(AuditLog.object_id == str(user_id))
        return list(db.session.scalars(query))


def api_login(app, username, **extra):
    return app.test_client().post(
        "/api/v1/security/login",
        json={"username": username, "password": PASSWORD, "provider": "db", **extra},
    )


@pytest.fixture
def enrolled(app, world, login_as, clock):
    """operator_a with an authenticator: (secret, recovery codes); the clock one step on."""
    secret, codes = enrol(login_as("operator_a"), clock)
    clock.step()
    return secret, codes


# --- enrolment ----------------------------------------------------------------------------


@pytest.mark.many_places
def test_enrolment_is_active_only_after_a_right_first_code(app, world, login_as, clock):
    browser = login_as("operator_a")
    page = browser.get("/two-factor/enrol").get_data(as_text=True)
    assert "<svg" in page and "扫描" in page  # the QR code is drawn in the page
    secret = SECRET_RE.search(page).group(1)
    assert all(len(group) == 4 for group in secret.split())
    token = csrf_token_from(browser, "/two-factor/enrol")
    wrong = browser.post("/two-factor/enrol", data={"code": "000000", "csrf_token": token})
    assert wrong.status_code == 200
    assert "验证码错误" in wrong.get_data(as_text=True)
    with app.app_context():
        record = db.session.get(UserTwoFactor, world.user("operator_a"))
        assert record.enrolled_at is None
        assert db.session.scalar(select(UserRecoveryCode.id)) is None
    # Not active yet: the password alone still signs in.
    assert password_step(app, "operator_a")[1].headers["Location"] == "/"

    good = pyotp.TOTP(secret.replace(" ", "")).at(clock.now)
    done = browser.post("/two-factor/enrol", data={"code": good, "csrf_token": token})
    assert done.status_code == 200
    assert len(CODES_RE.findall(done.get_data(as_text=True))) == 10
    assert 'download="两步验证恢复码.txt"' in done.get_data(as_text=True)
    assert "two_factor_enrol" in actions(app, world.user("operator_a"))
    assert "已于" in browser.get("/two-factor/").get_data(as_text=True)


def test_the_secret_is_in_no_page_after_enrolment(app, world, login_as, enrolled):
    secret, codes = enrolled
    browser = login_as("secadmin")
    own = login_as("inspector_a")
    user_id = world.user("operator_a")
    operator, _ = password_step(app, "operator_a")
    code_step(operator, pyotp.TOTP(secret).at(two_factor.clock()))
    pages = [
        operator.get("/two-factor/"),
        operator.get("/two-factor/enrol", follow_redirects=True),
        operator.get("/users/userinfo/"),
        operator.get("/"),
        browser.get(f"/users/show/{user_id}"),
        login_as("auditor").get("/audit/list/"),
        own.get("/two-factor/"),
    ]
    grouped = two_factor.grouped(secret)
    for page in pages:
        text = page.get_data(as_text=True)
        assert page.status_code == 200, page.request.path
        assert secret not in text and grouped not in text
        assert not any(code in text for code in codes)
    with app.app_context():
        details = " ".join(str(d) for d in db.session.scalars(select(AuditLog.detail)))
        changes = " ".join(str(c) for c in db.session.scalars(select(AuditLog.changes)))
    assert secret not in details + changes


# --- the form login ----------------------------------------------------------------------


def test_the_password_alone_is_no_session_for_an_enrolled_user(app, enrolled, world):
    secret, _codes = enrolled
    browser, response = password_step(app, "operator_a")
    assert response.status_code == 302 and response.headers["Location"] == "/login/code"
    assert not signed_in(browser)
    assert actions(app, world.user("operator_a")).count("login") == 1  # the enrolment's
    page = browser.get("/login/code").get_data(as_text=True)
    assert "两步验证" in page and "6位验证码" in page

    done = code_step(browser, pyotp.TOTP(secret).at(two_factor.clock()))
    assert done.status_code == 302 and done.headers["Location"] == "/"
    assert signed_in(browser)
    assert actions(app, world.user("operator_a")).count("login") == 2


def test_a_wrong_code_is_refused_audited_and_counted_like_a_wrong_password(app, enrolled, world):
    secret, _codes = enrolled
    # Four wrong codes, then the password again (which must not wipe the count), and a fifth.
    browser, _response = password_step(app, "operator_a")
    for _ in range(4):
        refused = code_step(browser, "123456")
        assert refused.status_code == 200
        assert "验证码错误或已使用过" in refused.get_data(as_text=True)
        assert not signed_in(browser)
    browser, _response = password_step(app, "operator_a")
    locked = code_step(browser, "654321")
    assert locked.status_code == 429
    assert "已被锁定" in locked.get_data(as_text=True)
    log = actions(app, world.user("operator_a"))
    assert log.count("two_factor_failed") == 5 and "login_locked" in log
    # Locked: the right password and the right code open nothing now.
    assert password_step(app, "operator_a")[1].status_code == 429


def test_a_code_is_good_once(app, enrolled):
    secret, _codes = enrolled
    code = pyotp.TOTP(secret).at(two_factor.clock())
    first, _ = password_step(app, "operator_a")
    assert code_step(first, code).status_code == 302 and signed_in(first)
    second, _ = password_step(app, "operator_a")
    assert code_step(second, code).status_code == 200
    assert not signed_in(second)
    # An earlier step's code is refused too, though still in the window.
    earlier = pyotp.TOTP(secret).at(two_factor.clock() - 30)
    assert code_step(second, earlier).status_code == 200 and not signed_in(second)


def test_one_step_either_side_is_accepted(app, enrolled, clock):
    secret, _codes = enrolled
    browser, _ = password_step(app, "operator_a")
    assert code_step(browser, pyotp.TOTP(secret).at(clock.now + 30)).status_code == 302
    clock.step(3)
    browser, _ = password_step(app, "operator_a")
    assert code_step(browser, pyotp.TOTP(secret).at(clock.now - 60)).status_code == 200
    assert code_step(browser, pyotp.TOTP(secret).at(clock.now - 30)).status_code == 302


def test_a_recovery_code_works_once(app, enrolled, world):
    _secret, codes = enrolled
    browser, _ = password_step(app, "operator_a")
    done = code_step(browser, codes[3].upper())  # typed in capitals: the same code
    assert done.status_code == 302
    assert "还剩 9 个恢复码" in browser.get("/").get_data(as_text=True)
    assert signed_in(browser)
    assert "two_factor_recovery_used" in actions(app, world.user("operator_a"))
    again, _ = password_step(app, "operator_a")
    assert code_step(again, codes[3]).status_code == 200
    assert not signed_in(again)


def test_the_half_signed_in_state_ends_after_five_minutes(app, enrolled, clock):
    secret, _codes = enrolled
    browser, _ = password_step(app, "operator_a")
    clock.now += two_factor.PENDING_SECONDS + 1
    late = code_step_without_form(browser, pyotp.TOTP(secret).at(clock.now))
    assert late.status_code == 302 and late.headers["Location"].startswith("/login/")
    assert not signed_in(browser)


def code_step_without_form(browser, code):
    # The form page itself sends an expired state back to the password: post with the token
    # of the password form instead.
    token = csrf_token_from(browser, "/login/")
    return browser.post("/login/code", data={"code": code, "csrf_token": token})


def test_the_half_signed_in_state_is_bound_to_its_user(app, enrolled, world):
    secret, _codes = enrolled
    browser, _ = password_step(app, "operator_a")
    # The user signs out everywhere (or changes the password) meanwhile: the state is void.
    with app.app_context():
        user = db.session.get(app.appbuilder.sm.user_model, world.user("operator_a"))
        user.session_version = (user.session_version or 0) + 1
        db.session.commit()
    late = code_step_without_form(browser, pyotp.TOTP(secret).at(two_factor.clock()))
    assert late.status_code == 302 and not signed_in(browser)
    # Nobody reaches the code step without a password step of their own.
    other = app.test_client()
    assert other.get("/login/code").status_code == 302


# --- the REST login ----------------------------------------------------------------------


def test_the_rest_login_asks_an_enrolled_user_for_the_code(app, enrolled, world):
    secret, codes = enrolled
    without = api_login(app, "operator_a")
    assert without.status_code == 401 and "access_token" not in without.get_json()
    assert "两步验证" in without.get_json()["message"]
    wrong = api_login(app, "operator_a", totp="000000")
    assert wrong.status_code == 401 and "access_token" not in wrong.get_json()
    assert "验证码错误" in wrong.get_json()["message"]
    good = api_login(app, "operator_a", totp=pyotp.TOTP(secret).at(two_factor.clock()))
    assert good.status_code == 200 and good.get_json()["access_token"]
    replayed = api_login(app, "operator_a", totp=pyotp.TOTP(secret).at(two_factor.clock()))
    assert replayed.status_code == 401
    assert api_login(app, "operator_a", totp=codes[0]).status_code == 200
    assert api_login(app, "operator_a", totp=codes[0]).status_code == 401
    # Accounts without a second factor sign in as before.
    assert api_login(app, "operator_b").status_code == 200
    assert actions(app, world.user("operator_a")).count("two_factor_failed") == 3


def test_the_openapi_describes_the_totp_field(app, world, api_token):
    spec = app.test_client().get(
        "/api/v1/_openapi", headers={"Authorization": f"Bearer {api_token('operator_a')}"}
    )
    body = spec.get_json()["paths"]["/api/v1/security/login"]["post"]["requestBody"]
    assert "totp" in body["content"]["application/json"]["schema"]["properties"]


# --- recovery codes and switching off ------------------------------------------------------


def test_new_recovery_codes_need_a_current_code(app, world, login_as, clock):
    browser = login_as("inspector_a")
    secret, old = enrol(browser, clock)
    clock.step()
    token = csrf_token_from(browser, "/two-factor/")
    refused = browser.post(
        "/two-factor/recovery-codes", data={"code": "111111", "csrf_token": token}
    )
    assert refused.status_code == 302
    made = browser.post(
        "/two-factor/recovery-codes",
        data={"code": pyotp.TOTP(secret).at(clock.now), "csrf_token": token},
    )
    new = CODES_RE.findall(made.get_data(as_text=True))
    assert len(new) == 10 and not set(new) & set(old)
    assert "two_factor_recovery_codes" in actions(app, world.user("inspector_a"))
    browser_b, _ = password_step(app, "inspector_a")
    assert code_step(browser_b, old[0]).status_code == 200  # the old codes are gone


def test_switching_off_needs_the_password_and_a_code(app, world, login_as, clock):
    browser = login_as("inspector_a")
    secret, _codes = enrol(browser, clock)
    clock.step()
    token = csrf_token_from(browser, "/two-factor/")
    code = pyotp.TOTP(secret).at(clock.now)
    browser.post(
        "/two-factor/disable",
        data={"off-password": "wrong", "off-code": code, "off-csrf_token": token},
    )
    with app.app_context():
        assert db.session.get(UserTwoFactor, world.user("inspector_a")).enrolled_at is not None
    clock.step()
    code = pyotp.TOTP(secret).at(clock.now)
    browser.post(
        "/two-factor/disable",
        data={"off-password": PASSWORD, "off-code": code, "off-csrf_token": token},
    )
    with app.app_context():
        assert db.session.get(UserTwoFactor, world.user("inspector_a")) is None
    assert "two_factor_disable" in actions(app, world.user("inspector_a"))
    assert password_step(app, "inspector_a")[1].headers["Location"] == "/"


# --- TOTP_REQUIRED ------------------------------------------------------------------------


def test_totp_required_holds_an_account_on_the_enrolment_page(
    app, world, login_as, clock, monkeypatch
):
    monkeypatch.setitem(app.config, "TOTP_REQUIRED", True)
    browser = app.test_client()
    response = login(browser, "operator_a")
    assert response.headers["Location"] == "/two-factor/enrol"
    for url in ("/", "/departments/list/", "/targets/list/"):
        held = browser.get(url)
        assert held.status_code == 302 and held.headers["Location"] == "/two-factor/enrol"
    assert browser.get("/api/v1/department/").status_code == 403
    refused = api_login(app, "operator_a")
    assert refused.status_code == 401 and "须先启用两步验证" in refused.get_json()["message"]

    secret, _codes = enrol(browser, clock)
    assert signed_in(browser)
    clock.step()
    # It cannot be switched off while required.
    token = csrf_token_from(browser, "/two-factor/")
    assert "/two-factor/disable" not in browser.get("/two-factor/").get_data(as_text=True)
    browser.post(
        "/two-factor/disable",
        data={
            "off-password": PASSWORD,
            "off-code": pyotp.TOTP(secret).at(clock.now),
            "off-csrf_token": token,
        },
    )
    with app.app_context():
        assert db.session.get(UserTwoFactor, world.user("operator_a")).enrolled_at is not None


# --- the security administrator's reset -------------------------------------------------------------


def test_the_security_administrator_resets_a_lost_second_factor_audited(
    app, enrolled, world, login_as
):
    user_id = world.user("operator_a")
    admin = login_as("secadmin")
    assert re.search(SHOWN_FACTOR.format("是"), admin.get(f"/users/show/{user_id}").text)
    token = csrf_token_from(admin, f"/users/show/{user_id}")
    url = f"/users/action/reset_two_factor/{user_id}"
    asked = admin.post(url, data={"csrf_token": token})  # no confirm=1: asks first
    assert asked.status_code == 200 and "确定清除" in asked.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(UserTwoFactor, user_id) is not None
    done = admin.post(url, data={"csrf_token": token, "confirm": "1"})
    assert done.status_code == 302
    with app.app_context():
        assert db.session.get(UserTwoFactor, user_id) is None
        assert db.session.scalar(select(UserRecoveryCode.id)) is None
        row = db.session.scalars(
            select(AuditLog).where(AuditLog.action == "two_factor_reset")
        ).one()
        assert row.object_id == str(user_id) and row.user_id == world.user("secadmin")
    assert password_step(app, "operator_a")[1].headers["Location"] == "/"
    assert re.search(SHOWN_FACTOR.format("否"), admin.get(f"/users/show/{user_id}").text)


def test_nobody_else_sees_or_resets_a_users_second_factor(app, enrolled, world, login_as):
    user_id = world.user("operator_a")
    for name in ("operator_b", "leader", "inspector_a", "admin", "auditor"):
        other = login_as(name)
        token = csrf_token_from(other, "/resetmypassword/form")
        response = other.post(
            f"/users/action/reset_two_factor/{user_id}", data={"csrf_token": token, "confirm": "1"}
        )
        assert response.status_code in (302, 403, 404)
        # Their own page speaks of their own account only.
        assert "未启用两步验证" in other.get("/two-factor/").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(UserTwoFactor, user_id).enrolled_at is not None
    assert "two_factor_reset" not in actions(app)


def test_an_administrators_second_factor_is_reset_on_the_server_only(
    app, world, login_as, clock
):
    """三员分立, rule 4: the security administrator's action refuses an administrator's account
    (the system administrator's here); `flask security reset-two-factor` does it, audited."""
    enrol(login_as("admin"), clock)
    admin_id = world.user("admin")
    security = login_as("secadmin")
    token = csrf_token_from(security, f"/users/show/{admin_id}")
    refused = security.post(
        f"/users/action/reset_two_factor/{admin_id}",
        data={"csrf_token": token, "confirm": "1"},
        follow_redirects=True,
    )
    assert "只能由运维人员在服务器上" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(UserTwoFactor, admin_id).enrolled_at is not None
    result = app.test_cli_runner().invoke(args=["security", "reset-two-factor", "admin"])
    assert result.exit_code == 0 and "已重置" in result.output, result.output
    with app.app_context():
        assert db.session.get(UserTwoFactor, admin_id) is None
    assert "two_factor_reset" in actions(app, admin_id)
    again = app.test_cli_runner().invoke(args=["security", "reset-two-factor", "admin"])
    assert "未启用两步验证" in again.output


def test_signing_out_ends_a_half_finished_sign_in(app, enrolled, clock):
    """Outside probe: password right, then 退出, then the code: it signed the user in."""
    secret, _codes = enrolled
    browser, _ = password_step(app, "operator_a")
    token = csrf_token_from(browser, "/login/code")
    browser.get("/logout/")
    response = browser.post(
        "/login/code", data={"code": code_at(secret, clock), "csrf_token": token}
    )
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert not signed_in(browser)


def test_the_code_page_is_rate_limited_per_address(limited_app):  # noqa: F811
    client = limited_app.test_client()
    codes = [client.post("/login/code", data={"code": "123456"}).status_code for _ in range(5)]
    assert codes[:3] == [302, 302, 302]  # no password step: back to the password
    assert codes[-1] == 429


def test_codes_guessed_on_the_own_page_are_counted(app, enrolled, world, login_as, clock):
    """A stolen session must not guess its way to new recovery codes (or switch it off)."""
    secret, _codes = enrolled
    browser, _ = password_step(app, "operator_a")
    code_step(browser, pyotp.TOTP(secret).at(clock.now))
    clock.step()
    token = csrf_token_from(browser, "/two-factor/")
    for guess in ("111111", "222222", "333333", "444444", "555555"):
        browser.post("/two-factor/recovery-codes", data={"code": guess, "csrf_token": token})
    right = browser.post(
        "/two-factor/recovery-codes",
        data={"code": pyotp.TOTP(secret).at(clock.now), "csrf_token": token},
        follow_redirects=True,
    )
    assert not CODES_RE.findall(right.get_data(as_text=True))
    assert "已被锁定" in right.get_data(as_text=True)
    log = actions(app, world.user("operator_a"))
    assert log.count("two_factor_failed") == 5 and "login_locked" in log
