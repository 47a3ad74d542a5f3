"""Session controls in real Chromium on a 390 px phone (issue 20, part 3): an Inspector whose
password has expired is held on 修改密码 until they choose a new one, and a session left idle
lands on the sign-in page with the notice. The server runs in this process: the tests move
session_controls.clock instead of waiting. Every page fits the screen, speaks Chinese, loads
nothing from outside and logs no console error. Screenshots in test-output/e2e/session-*.png."""

from __future__ import annotations

import time

from app.security import session_controls
from tests.conftest import PASSWORD
from tests.e2e.conftest import Visit, require_browser
from tests.e2e.test_pages import _english
from tests.e2e.test_phone import OVERFLOW, PHONE_WIDTH, phone  # noqa: F401  (fixture)

require_browser()

NEW_PASSWORD = "Neu-Passwort-2027"


def _check(v: Visit, name: str):
    v.page.wait_for_load_state("networkidle")
    v.shot(f"session-{name}")
    measured = v.page.evaluate(OVERFLOW, PHONE_WIDTH)
    assert measured["page"] <= min(measured["inner"], PHONE_WIDTH), (name, measured)
    assert measured["wide"] == [], (name, measured)
    assert _english(v.visible_text()) == [], name


def _sign_in(v: Visit, username: str, password: str = PASSWORD):
    v.go("/login/")
    v.page.fill("input[name=username]", username)
    v.page.fill("input[name=password]", password)
    v.page.click("input[type=submit]")
    v.page.wait_for_load_state()


def test_an_expired_password_is_changed_on_a_phone(phone, monkeypatch):  # noqa: F811
    monkeypatch.setattr(session_controls, "clock", lambda: time.time() + 91 * 24 * 3600)
    v = phone()
    _sign_in(v, "inspector_a")
    v.page.wait_for_url("**/resetmypassword/form")
    assert "您的密码已使用超过 90 天" in v.visible_text()
    _check(v, "password-expired")
    v.go("/my-assignments/")  # any other page sends them back
    assert v.page.url.endswith("/resetmypassword/form")

    v.page.fill("input[name=current_password]", PASSWORD)
    v.page.fill("input[name=password]", PASSWORD)
    v.page.fill("input[name=conf_password]", PASSWORD)
    v.page.click("button[type=submit], input[type=submit]")
    v.page.wait_for_load_state()
    assert "新密码不能与当前密码相同" in v.visible_text()
    _check(v, "password-same")

    v.page.fill("input[name=current_password]", PASSWORD)
    v.page.fill("input[name=password]", NEW_PASSWORD)
    v.page.fill("input[name=conf_password]", NEW_PASSWORD)
    v.page.click("button[type=submit], input[type=submit]")
    v.page.wait_for_load_state()
    assert not v.page.url.endswith("/resetmypassword/form")
    v.go("/my-assignments/")
    assert v.page.url.endswith("/my-assignments/")


def test_an_idle_session_lands_on_the_sign_in_page_on_a_phone(phone, monkeypatch):  # noqa: F811
    later = {"by": 0}
    monkeypatch.setattr(session_controls, "clock", lambda: time.time() + later["by"])
    v = phone()
    _sign_in(v, "inspector_a")
    assert "/login" not in v.page.url
    assert "这是该账号的首次登录" in v.visible_text()
    later["by"] = 31 * 60
    v.go("/my-assignments/")
    v.page.wait_for_load_state()
    assert "/login/" in v.page.url
    assert "您已超过 30 分钟未操作，请重新登录" in v.visible_text()
    _check(v, "idle")
