"""Helpers of the dashboard tests: read the page's tables and the JSON the charts are drawn
from (the UI strings are translated, so the tests look at numbers, names and data only)."""

import html as html_lib
import json
import re

from tests.directory.conftest import directory  # noqa: F401  (fixture)
from tests.inspections.conftest import inspected  # noqa: F401  (fixture)
from tests.planning.conftest import plan  # noqa: F401  (fixture)

_DATA_RE = re.compile(r'data-dashboard="([^"]*)"')
_CELL_RE = re.compile(r"<t[hd][^>]*>(.*?)</t[hd]>", re.S)
_TAG_RE = re.compile(r"<[^>]+>")


def chart_json(page: str) -> dict:
    match = _DATA_RE.search(page)
    assert match, "no data-dashboard attribute"
    return json.loads(html_lib.unescape(match.group(1)))


def table(page: str, table_id: str) -> str:
    match = re.search(rf'<table[^>]*id="{table_id}"[^>]*>(.*?)</table>', page, re.S)
    assert match, f"no table #{table_id}"
    return match.group(1)


def department_row(page: str, table_id: str, department_id: int) -> list[str] | None:
    """The cells of a department's row (name first), or None when the row is not there."""
    match = re.search(
        rf'<tr data-department-id="{department_id}">(.*?)</tr>', table(page, table_id), re.S
    )
    if match is None:
        return None
    return [_TAG_RE.sub("", cell).strip() for cell in _CELL_RE.findall(match.group(1))]


def department_ids(page: str, table_id: str = "dashboard-progress-table") -> set[int]:
    return {int(n) for n in re.findall(r'data-department-id="(\d+)"', table(page, table_id))}
