"""Browser tests: real Chromium (Debian's, through Playwright) against the application served
over real HTTP on 127.0.0.1.

Without Chromium these tests are skipped with one line saying so; CI sets E2E_REQUIRED=1, which
turns that skip into a failure. Playwright's own browser download does not work on the intranet
(nor here): `apt-get install chromium fonts-noto-cjk` and CHROMIUM=/usr/bin/chromium (default).
Screenshots go to test-output/e2e/."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest
from werkzeug.serving import make_server

from tests.conftest import PASSWORD

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "test-output" / "e2e"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _unavailable() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed"
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium fonts-noto-cjk)"
    return None


def require_browser() -> None:
    """Called at the top of each browser test module: skip the whole module in one line when
    Chromium is missing, or fail when CI requires the browser tests (E2E_REQUIRED)."""
    reason = _unavailable()
    if reason:
        if os.environ.get("E2E_REQUIRED"):
            pytest.fail(f"browser tests required (E2E_REQUIRED) but {reason}", pytrace=False)
        pytest.skip(f"browser tests skipped: {reason}", allow_module_level=True)


@pytest.fixture(scope="session")
def browser():
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def live_server(app, world):
    """The application on a free port of 127.0.0.1, in a thread, for this test."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


class Visit:
    """A browser page that records what must not happen: console errors (a Content-Security-
    Policy violation is one), failed page loads, and any request leaving 127.0.0.1 (those are
    refused, as the intranet would)."""

    def __init__(self, context, base: str):
        self.base = base
        self.page = context.new_page()
        self.console_errors: list[str] = []
        self.outside: list[str] = []
        self.page.on(
            "console",
            lambda msg: (
                self.console_errors.append(f"{msg.text} @ {self.page.url}")
                if msg.type == "error"
                else None
            ),
        )
        self.page.on("pageerror", lambda exc: self.console_errors.append(str(exc)))
        self.page.route("**/*", self._route)

    def _route(self, route):
        host = urlparse(route.request.url).hostname
        if host not in ("127.0.0.1", None):
            self.outside.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    def go(self, path: str):
        response = self.page.goto(self.base + path)
        assert response is not None and response.status < 400, (path, response and response.status)
        return response

    def login(self, username: str):
        self.go("/login/")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", PASSWORD)
        self.page.click("input[type=submit], button[type=submit]")
        self.page.wait_for_load_state()
        assert "/login" not in self.page.url, f"{username} could not sign in"

    def shot(self, name: str):
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)

    def visible_text(self) -> str:
        return self.page.inner_text("body")


@pytest.fixture
def visit(browser, live_server):
    context = browser.new_context(locale="zh-CN")
    visits = []

    def _open():
        v = Visit(context, live_server)
        visits.append(v)
        return v

    yield _open
    context.close()
