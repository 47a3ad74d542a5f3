"""The preview of an office's own item list (issue 19) in real Chromium on a 390 px phone: the
upload of 淄博市水利局's layout opens the preview (the columns as they are read, 为所有行填写, the
first rows with the generated 事项编码), nothing wider than the phone, no English; 确认导入 with
the missing values queues the job. Screenshot: test-output/e2e/import-preview-*.png."""

from __future__ import annotations

import pytest

from app.directory.models import InspectionItem
from tests.directory.test_import_mapping import ZIBO_HEADER, ZIBO_ROWS
from tests.directory.test_imports import base, count, csv_bytes  # noqa: F401  (base: a fixture)
from tests.e2e.conftest import require_browser
from tests.e2e.test_phone import OVERFLOW, PHONE_WIDTH, phone  # noqa: F401  (phone: a fixture)

require_browser()
pytestmark = pytest.mark.usefixtures("base")


def test_the_preview_of_an_offices_own_list_on_a_phone(app, phone):  # noqa: F811
    v = phone()
    v.login("operator_a")
    v.go("/directory-import/")
    v.page.select_option("select[name=kind]", "items")
    v.page.set_input_files(
        "#import-file",
        {"name": "淄博.csv", "mimeType": "text/csv", "buffer": csv_bytes(ZIBO_HEADER, ZIBO_ROWS)},
    )
    v.page.click("#import-submit")
    v.page.wait_for_url("**/directory-import/preview")
    v.page.wait_for_selector("#import-preview-mapping")
    text = v.visible_text()
    assert "导入预览" in text and "为所有行填写" in text and "SJ-003" in text, text
    assert v.page.input_value("#set-department_id") == "A"  # the user's only department
    v.shot("import-preview-phone")
    measured = v.page.evaluate(OVERFLOW, PHONE_WIDTH)
    assert measured["page"] <= min(measured["inner"], PHONE_WIDTH), measured
    assert measured["wide"] == [], measured
    assert count(app, InspectionItem) == 3  # nothing written yet

    v.page.fill("#set-category", "水资源管理")
    v.page.fill("#set-inspecting_body", "东胜区水利局")
    v.page.click("#import-preview-confirm")
    v.page.wait_for_url("**/directory-import/job/*")
    assert "淄博.csv" in v.visible_text()
