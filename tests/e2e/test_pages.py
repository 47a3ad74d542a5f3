"""Every main page, as each role sees it, in real Chromium: no console error (a CSP violation
would be one), no request leaving 127.0.0.1, no English left in the Chinese UI beyond an
explicit allow-list of proper nouns and formats; screenshots in test-output/e2e/."""

import re

import pytest

from tests.e2e.conftest import require_browser

require_browser()

# Latin words that may stand in the Chinese UI: formats, standards, product names, codes.
ALLOWED_LATIN = {
    "CSV",
    "XLSX",
    "GB18030",
    "UTF",
    "JSON",
    "DOCX",
    "PDF",
    "SHA",
    "ECharts",
    "Apache",
    "English",
    "AppBuilder",
    "Flask",
    # the test users' own names (tests/conftest.py `world`)
    "admin",
    "secadmin",
    "auditor",
    "leader",
    "jointoffice",
}
_WORD = re.compile(r"\b[A-Za-z][A-Za-z]{2,}\b")

PAGES = {
    "leader": [
        "/",
        "/dashboard/",
        "/targets/list/",
        "/inspectors/list/",
        "/items/list/",
        "/plans/list/",
        "/tasks/list/",
        "/records/list/",
        "/rectifications/list/",
        "/blacklist/list/",
        "/progress/",
        "/filings/",
    ],
    "operator_a": ["/", "/targets/list/", "/targets/add", "/blacklist/list/", "/blacklist/add"],
    "inspector_a": ["/", "/my-assignments/"],
    "jointoffice": ["/", "/dashboard/", "/filings/", "/records/list/"],
}
PUBLIC = ["/public/", "/public/items", "/public/plans", "/public/results", "/public/blacklist"]


def _english(text: str) -> list[str]:
    return sorted({w for w in _WORD.findall(text) if w not in ALLOWED_LATIN})


def _tour(v, name: str, paths):
    for path in paths:
        v.go(path)
        v.page.wait_for_load_state("networkidle")
        slug = path.strip("/").replace("/", "-") or "home"
        v.shot(f"{name}-{slug}")
        words = _english(v.visible_text())
        assert not words, (name, path, words)
    assert v.outside == [], v.outside
    assert v.console_errors == [], v.console_errors


@pytest.mark.parametrize("username", sorted(PAGES))
def test_staff_pages_are_clean(visit, username):
    v = visit()
    v.login(username)
    _tour(v, username, PAGES[username])


def test_public_pages_are_clean(visit):
    _tour(visit(), "public", PUBLIC)
