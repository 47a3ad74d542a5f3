"""Two-factor sign-in in real Chromium on a 390 px phone (issue 20, part 2): an Operator enrols
through the pages (the code computed, as an authenticator app would, from the secret shown in
text), keeps the recovery codes (downloaded as a .txt), signs out and signs in with password
and code. Every page fits the screen, speaks Chinese, loads nothing from outside and logs no
console error. Screenshots in test-output/e2e/two-factor-*.png."""

from __future__ import annotations

import time

import pyotp

from tests.conftest import PASSWORD
from tests.e2e.conftest import Visit, require_browser
from tests.e2e.test_pages import _english
from tests.e2e.test_phone import OVERFLOW, PHONE_WIDTH, phone  # noqa: F401  (fixture)

require_browser()

# Latin words the two-factor pages name on purpose.
NAMED = {"TOTP", "RFC"}


def _check(v: Visit, name: str, *shown: str):
    v.page.wait_for_load_state("networkidle")
    v.shot(f"two-factor-{name}")
    measured = v.page.evaluate(OVERFLOW, PHONE_WIDTH)
    assert measured["page"] <= min(measured["inner"], PHONE_WIDTH), (name, measured)
    assert measured["wide"] == [], (name, measured)
    text = v.visible_text()
    for value in shown:  # the secret and the codes are random letters, not English
        for group in value.split():
            text = text.replace(group, "")
    assert [w for w in _english(text) if w not in NAMED] == [], name


def test_enrol_sign_out_and_sign_in_with_the_code_on_a_phone(phone):  # noqa: F811
    v = phone()
    v.login("operator_a")
    v.page.click("button.navbar-toggle")  # the phone's collapsed menu
    v.page.click("a.dropdown-toggle:has(.fa-user)")
    v.page.click("text=两步验证")
    v.page.wait_for_url("**/two-factor/")
    assert "未启用两步验证" in v.visible_text()
    _check(v, "off")

    v.page.click("a.btn:has-text('启用两步验证')")
    v.page.wait_for_url("**/two-factor/enrol")
    assert v.page.locator(".two-factor-qr svg").is_visible()
    shown = v.page.inner_text("#two-factor-secret")
    _check(v, "enrol", shown)
    secret = shown.replace(" ", "")
    assert len(secret) == 32

    v.page.fill("input[name=code]", "000000")
    v.page.click("button:has-text('启用')")
    assert "验证码错误" in v.visible_text()
    v.page.fill("input[name=code]", pyotp.TOTP(secret).now())
    v.page.click("button:has-text('启用')")
    v.page.wait_for_load_state()
    codes = v.page.locator("#recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    assert "只显示这一次" in v.visible_text()
    _check(v, "recovery-codes", *codes)
    with v.page.expect_download() as download:
        v.page.click("#download-codes")
    saved = download.value
    assert saved.suggested_filename == "两步验证恢复码.txt"
    assert all(code in open(saved.path(), encoding="utf-8").read() for code in codes)
    v.page.click("text=完成：我已妥善保存")
    assert "已于" in v.visible_text()
    assert shown not in v.page.content() and secret not in v.page.content()

    v.go("/logout/")
    v.go("/login/")
    v.page.fill("input[name=username]", "operator_a")
    v.page.fill("input[name=password]", PASSWORD)
    v.page.click("input[type=submit]")
    v.page.wait_for_url("**/login/code")
    assert "6位验证码" in v.visible_text()
    _check(v, "login-code")
    # The code of the enrolment's time step is used up: the app's next one (in the window).
    v.page.fill("input[name=code]", pyotp.TOTP(secret).at(time.time() + 30))
    v.page.click("button[type=submit]")
    v.page.wait_for_load_state()
    assert "/login" not in v.page.url
    v.go("/two-factor/")
    assert "已于" in v.visible_text()
    assert v.outside == [], v.outside
    assert v.console_errors == [], v.console_errors
