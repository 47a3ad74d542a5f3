"""No message names a row outside the user's scope (issue 17, finding 15): a duplicate
certificate, citizen ID or login says that it is already registered, and names the inspector
only when the user may see that inspector."""

from __future__ import annotations

from app.directory.imports import INSPECTOR_COLUMNS
from tests.conftest import csrf_token_from
from tests.directory.conftest import citizen_id, directory  # noqa: F401  (fixture)
from tests.directory.test_imports import csv_bytes, inspector_row, run_import

INSPECTOR_HEADER = [c.header for c in INSPECTOR_COLUMNS]


def test_a_duplicate_certificate_in_the_form_names_no_other_departments_inspector(
    app, world, directory, login_as  # noqa: F811
):
    client = login_as("operator_b")
    token = csrf_token_from(client, "/inspectors/add")
    response = client.post(
        "/inspectors/add",
        data={
            "csrf_token": token,
            "name": "新检查员",
            "department": str(world.dept_b),
            "certificate_no": "C-A-1",  # department A's 王建国
            "certificate_expiry": "2030-01-01",
            "status": "在岗",
        },
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "C-A-1" in page and "已登记" in page  # refused, saying why
    assert "王建国" not in page


def test_an_import_names_no_inspector_outside_the_users_scope(app, directory):  # noqa: F811
    # Department B's operator imports a row whose citizen ID is department A's inspector's.
    row = inspector_row(1, 所属部门="B", **{"公民身份号码": citizen_id(1)})
    result = run_import(app, "inspectors", csv_bytes(INSPECTOR_HEADER, [row]), user="operator_b")
    assert not result.ok
    text = " ".join(str(e.reason) for e in result.errors)
    assert "王建国" not in text
    assert "已登记" in text
    # Within the user's scope the holder is named, as before.
    row = inspector_row(2, 所属部门="A", **{"公民身份号码": citizen_id(1)})
    result = run_import(app, "inspectors", csv_bytes(INSPECTOR_HEADER, [row]), user="operator_a")
    assert not result.ok
    assert "王建国" in " ".join(str(e.reason) for e in result.errors)
