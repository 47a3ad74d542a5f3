"""Issue 17, finding 9, without a browser: 检查方式 is one pick-list for items, plan lines, tasks
and records; required marks (FAB's star, 提交前必填) and the widget script with its Chinese texts
on the staff pages (the browser side: tests/e2e/test_widgets.py)."""

import html
import json
import re

import pytest

from app.core.errors import DomainError
from app.directory.models import INSPECTION_METHODS
from app.extensions import db
from app.inspections.models import METHODS
from app.planning import services
from app.planning.models import AnnualPlan
from tests.conftest import csrf_token_from
from tests.directory.conftest import acting
from tests.inspections.conftest import inspected  # noqa: F401  (fixture)


def test_records_and_items_share_one_list_of_methods():
    assert METHODS is INSPECTION_METHODS


@pytest.mark.parametrize("method", ["现场检查", "实地检查、随便看看"])
def test_a_plan_line_method_outside_the_pick_list_is_refused(app, plan, method):
    with acting(app, "operator_a"):
        line = db.session.get(AnnualPlan, plan).lines[0]
        line.method = method
        with pytest.raises(DomainError) as refused:
            services.check_line(line)
        assert "实地检查、书面检查" in str(refused.value)  # it says what is allowed
        db.session.rollback()


def test_a_plan_line_takes_several_methods_of_the_list(app, plan):
    with acting(app, "operator_a"):
        line = db.session.get(AnnualPlan, plan).lines[0]
        line.method = "书面检查、实地检查"
        services.check_line(line)
        assert line.method == "书面检查、实地检查"
        db.session.rollback()


def _label(page: str, name: str) -> str:
    match = re.search(rf'<label for="{name}"[^>]*>(.*?)</label>', page, re.S)
    assert match, name
    return match.group(1)


def test_the_plan_line_form_offers_the_items_methods_and_marks_what_it_needs(app, login_as, plan):
    with app.app_context():
        line_id = db.session.get(AnnualPlan, plan).lines[0].id
    page = login_as("operator_a").get(f"/plan-lines/edit/{line_id}").get_data(as_text=True)
    select = re.search(r'<select[^>]*id="method"[^>]*>(.*?)</select>', page, re.S)
    assert select and "multiple" in select.group(0)
    assert re.findall(r'<option[^>]*value="([^"]+)"', select.group(1)) == list(INSPECTION_METHODS)
    assert re.search(
        r'value="实地检查"[^>]*selected|selected[^>]*value="实地检查"', select.group(1)
    )
    for name in ("name", "items", "method"):
        assert "&#42;" in _label(page, name), name


def test_the_out_of_plan_task_form_marks_its_items_and_reason(login_as):
    page = login_as("operator_a").get("/tasks/add").get_data(as_text=True)
    for name in ("items", "out_of_plan_reason"):
        assert "&#42;" in _label(page, name), name
    assert "&#42;" not in _label(page, "content")


def test_an_out_of_plan_task_without_items_or_reason_is_refused_in_chinese(app, login_as, world):
    client = login_as("operator_a")
    token = csrf_token_from(client, "/tasks/add")
    page = client.post(
        "/tasks/add",
        data={"csrf_token": token, "name": "计划外检查", "department": str(world.dept_a)},
    ).get_data(as_text=True)
    assert page.count("该字段是必填字段") >= 2  # items and reason


def _widget_texts(page: str) -> dict:
    tag = re.search(r'<script src="/static/js/form_widgets.js[^"]*"([^>]*)>', page, re.S)
    assert tag, "form_widgets.js is not on the page"
    return {k: html.unescape(v) for k, v in re.findall(r'data-([\w-]+)="([^"]*)"', tag.group(1))}


def test_the_staff_pages_carry_the_widget_texts_in_chinese(login_as):
    texts = _widget_texts(login_as("operator_a").get("/tasks/add").get_data(as_text=True))
    assert texts["s2-remove-all"] == "全部清除"
    assert texts["s2-no-results"] == "未找到结果"
    assert texts["s2-searching"] == "搜索中…"
    assert "日期无效" in texts["date-invalid"] and "{value}" in texts["date-invalid"]
    assert json.loads(texts["submit-required"]) == []


def test_the_record_form_names_what_is_needed_before_submitting(app, login_as, inspected):  # noqa: F811
    from app.draws.models import DrawnTarget
    from app.inspections import services as inspections

    with acting(app, "inspector_a"):
        record = inspections.open_record(db.session.get(DrawnTarget, inspected.drawn[0]))
        db.session.commit()
        record_id = record.id
    page = login_as("inspector_a").get(f"/records/edit/{record_id}").get_data(as_text=True)
    texts = _widget_texts(page)
    assert texts["submit-hint"] == "提交前必填"
    needed = json.loads(texts["submit-required"])
    assert {"inspection_date", "method", "items", "result_code", "present_person"} <= set(needed)
    assert "opinions" not in needed
    for name in needed:
        assert f'for="{name}"' in page, name  # each names a field of the form
