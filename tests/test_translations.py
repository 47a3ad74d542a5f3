"""Chinese first (X1): every string of ours and every string FAB shows is translated in zh,
nothing fuzzy, and the UI is Chinese by default and English on request."""

from pathlib import Path

import flask_appbuilder
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
OUR_PO = ROOT / "translations" / "zh" / "LC_MESSAGES" / "messages.po"
FAB_DIR = Path(flask_appbuilder.__file__).parent
FAB_PO = FAB_DIR / "translations" / "zh" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {"_": None, "gettext": None, "lazy_gettext": None, "_l": None, "ngettext": (1, 2)}
METHOD_MAP = [("**.py", "python"), ("**/templates/**.html", "jinja2")]


def _msgids(directory: Path) -> set[str]:
    found = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(directory), method_map=METHOD_MAP, keywords=KEYWORDS
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return {m for m in found if m}


def _translated(po_path: Path) -> dict[str, str]:
    with open(po_path, "rb") as fh:
        catalog = read_po(fh, locale="zh")
    return {
        m.id: m.string
        for m in catalog
        if m.id and isinstance(m.id, str) and m.string and not m.fuzzy
    }


def test_our_catalogue_has_no_fuzzy_or_empty_entry():
    with open(OUR_PO, "rb") as fh:
        catalog = read_po(fh, locale="zh")
    bad = [m.id for m in catalog if m.id and (m.fuzzy or not m.string)]
    assert bad == [], f"untranslated or fuzzy in {OUR_PO}: {bad}"


def test_every_string_of_ours_is_translated():
    ours = _msgids(ROOT / "app")
    missing = sorted(ours - set(_translated(OUR_PO)))
    assert missing == [], f"add zh translations (make translations-extract): {missing}"


def test_every_string_fab_shows_is_translated_by_fab_or_by_us():
    translated = set(_translated(FAB_PO)) | set(_translated(OUR_PO))
    # OAuth, LDAP, OpenID and registration pages are not used by this product (AUTH_DB only).
    unused = {"OpenID", "Enter your OpenID Username", "Sign In with "}
    missing = sorted(_msgids(FAB_DIR) - translated - unused)
    assert missing == [], f"FAB strings without a zh translation: {missing}"


def test_placeholders_survive_translation():
    import re

    pattern = re.compile(r"%\(\w+\)[sd]")
    for msgid, msgstr in _translated(OUR_PO).items():
        assert sorted(pattern.findall(msgid)) == sorted(pattern.findall(msgstr)), msgid


@pytest.mark.parametrize(
    "url, zh, en",
    [
        ("/departments/list/", "部门", "Departments"),
        ("/holidays/list/", "节假日与调休", "Holidays and adjusted workdays"),
    ],
)
def test_ui_is_chinese_by_default_and_english_on_request(login_as, url, zh, en):
    client = login_as("admin")
    html = client.get(url).get_data(as_text=True)
    assert zh in html
    assert "新增" in html or "查看" in html or "编辑" in html
    client.get("/lang/en")
    html = client.get(url).get_data(as_text=True)
    assert en in html
    client.get("/lang/zh")
    assert zh in client.get(url).get_data(as_text=True)


def test_booleans_read_as_yes_and_no(login_as):
    html = login_as("admin").get("/departments/list/").get_data(as_text=True)
    assert "是" in html
    assert ">True<" not in html and "True</" not in html
