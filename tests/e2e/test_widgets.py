"""Widgets and layout at 1366×768 (issue 17, findings 9 and 11), in real Chromium:

- the top menu is one row for every role (every top-level entry, the user's menu included,
  shares one offsetTop, and the bar is one entry high);
- ONE date field: a date pasted or typed as 2026/12/1, 2026年12月1日 or 20261201 is kept and
  written 2026-12-01 (the picker cleared a pasted date on blur); an invalid date stays as
  typed with a Chinese message and the form is not sent; the native date inputs of our own
  templates are the same picker field;
- long multi-selects are searchable (select2), with select2's texts in Chinese;
- required marks: FAB's star on what a save needs (抽查事项, 计划外检查理由 too) and 提交前必填 on
  what a record needs before it is submitted.

Screenshots: test-output/e2e/widgets-*.png."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from app.directory.models import Inspector
from app.draws.models import DrawnTarget
from app.extensions import db
from app.inspections import services as inspections
from tests.directory.conftest import acting, directory  # noqa: F401  (fixture)
from tests.e2e.conftest import require_browser
from tests.inspections.conftest import enter_all, fill, inspected  # noqa: F401  (fixture)
from tests.planning.conftest import plan  # noqa: F401  (fixture)

require_browser()

DESKTOP = {"width": 1366, "height": 768}
ROLES = [
    "admin",
    "secadmin",
    "auditor",
    "leader",
    "leader_a",
    "operator_a",
    "inspector_a",
    "jointoffice",
]
DATE_FIELD = "#certificate_expiry"  # /inspectors/add: a FAB date field


@pytest.fixture
def desktop(visit):
    def _open(username):
        v = visit()
        v.page.set_viewport_size(DESKTOP)
        v.page.context.grant_permissions(["clipboard-read", "clipboard-write"])
        v.login(username)
        return v

    return _open


def _paste(v, selector: str, text: str) -> None:
    v.page.evaluate("t => navigator.clipboard.writeText(t)", text)
    v.page.fill(selector, "")
    v.page.focus(selector)
    v.page.keyboard.press("Control+V")


@pytest.mark.parametrize("username", ROLES)
def test_the_menu_is_one_row_for_every_role(desktop, username):
    v = desktop(username)
    v.go("/")
    entries = v.page.evaluate(
        """() => Array.from(document.querySelectorAll('.navbar .navbar-nav > li'))
               .filter(li => li.offsetParent !== null)
               .map(li => ({text: li.innerText.trim(), top: li.offsetTop,
                            height: li.offsetHeight}))"""
    )
    v.shot(f"widgets-menu-{username}")
    assert len(entries) >= 3, entries
    assert {e["top"] for e in entries} == {entries[0]["top"]}, entries
    navbar = v.page.evaluate("document.querySelector('.navbar-collapse').offsetHeight")
    assert navbar <= max(e["height"] for e in entries) + 2, (navbar, entries)
    # The content uses the width: not Bootstrap's fixed 1170 px container.
    width = v.page.evaluate("document.querySelector('body > .container').offsetWidth")
    assert width > 1300, width
    assert v.console_errors == [], v.console_errors


@pytest.mark.parametrize("pasted", ["2026-12-01", "2026/12/1", "2026年12月1日", "20261201"])
def test_a_pasted_date_is_kept_and_normalised(desktop, pasted):
    v = desktop("operator_a")
    v.go("/inspectors/add")
    _paste(v, DATE_FIELD, pasted)
    v.page.click("#name")  # blur: the picker used to clear the field here
    assert v.page.input_value(DATE_FIELD) == "2026-12-01"
    assert v.page.locator(".dsr-date-error").count() == 0


def test_a_typed_date_is_normalised_and_the_record_saved(desktop, app, world):
    v = desktop("operator_a")
    v.go("/inspectors/add")
    v.page.fill("#name", "钱进")
    v.page.fill("#certificate_no", "SZ-ZF-901")
    v.page.type(DATE_FIELD, "2027年3月5日")
    v.page.click("#name")
    assert v.page.input_value(DATE_FIELD) == "2027-03-05"
    v.page.click("button[type=submit], input[type=submit]")
    v.page.wait_for_load_state()
    with app.app_context():
        saved = db.session.scalar(select(Inspector).where(Inspector.name == "钱进"))
        assert saved is not None and saved.certificate_expiry == dt.date(2027, 3, 5)


def test_an_invalid_date_is_kept_with_a_chinese_message_and_not_sent(desktop, app, world):
    v = desktop("operator_a")
    v.go("/inspectors/add")
    v.page.fill("#name", "孙误")
    v.page.fill("#certificate_no", "SZ-ZF-902")
    _paste(v, DATE_FIELD, "2026-02-30")
    v.page.click("#name")
    assert v.page.input_value(DATE_FIELD) == "2026-02-30"  # not silently cleared
    message = v.page.inner_text(".dsr-date-error")
    assert "日期无效" in message and "2026-02-30" in message
    v.page.click("button[type=submit], input[type=submit]")
    v.page.wait_for_timeout(300)
    v.shot("widgets-invalid-date")
    assert "/inspectors/add" in v.page.url
    with app.app_context():
        count = db.session.scalar(
            select(func.count()).select_from(Inspector).where(Inspector.name == "孙误")
        )
        assert count == 0


def test_a_day_picked_in_the_calendar_replaces_a_wrong_entry(desktop):
    v = desktop("operator_a")
    v.go("/inspectors/add")
    v.page.type(DATE_FIELD, "2026-1")
    v.page.click("#name")
    assert v.page.locator(".dsr-date-error").count() == 1
    v.page.click(DATE_FIELD)  # the calendar opens on focus
    days = v.page.locator(".datepicker-days td.day:not(.old):not(.new)")
    days.filter(has_text=re.compile(r"^15$")).click()
    assert re.fullmatch(r"\d{4}-\d{2}-15", v.page.input_value(DATE_FIELD))
    assert v.page.locator(".dsr-date-error").count() == 0


def test_long_multi_selects_are_searchable_in_chinese(desktop):
    v = desktop("operator_a")
    v.go("/tasks/add")
    # 行业类别 was a plain Ctrl-click list; every multi-select is a select2 box now.
    plain = v.page.evaluate(
        """() => Array.from(document.querySelectorAll('select[multiple]'))
               .filter(s => !s.classList.contains('select2-hidden-accessible'))
               .map(s => s.name)"""
    )
    assert plain == []
    box = v.page.locator("#industries").locator("xpath=following-sibling::span[1]")
    box.click()
    v.page.keyboard.type("河道")
    options = v.page.locator(".select2-results__option")
    assert options.all_inner_texts() == ["河道采砂"]
    v.page.keyboard.press("Enter")
    assert v.page.evaluate("$('#industries').val()") == ["河道采砂"]
    box.click()
    v.page.keyboard.type("没有这个行业")
    assert options.all_inner_texts() == ["未找到结果"]
    v.page.keyboard.press("Escape")
    clear = box.locator(".select2-selection__clear")
    assert clear.get_attribute("title") == "全部清除"
    # 检查方式: the items' pick-list, no longer free text.
    methods = v.page.evaluate(
        "Array.from(document.querySelectorAll('#method option')).map(o => o.value)"
    )
    assert methods == ["实地检查", "书面检查", "网络监测", "检验检测", "委托专业机构"]
    v.shot("widgets-task-form")
    assert "Remove all items" not in v.page.content()
    assert v.console_errors == [], v.console_errors


def _label(v, name: str) -> str:
    return v.page.inner_text(f'label[for="{name}"]')


def test_required_fields_are_marked(desktop):
    v = desktop("operator_a")
    v.go("/tasks/add")
    for name in ("name", "department", "items", "out_of_plan_reason", "group_size"):
        assert "*" in _label(v, name), name
    assert "*" not in _label(v, "content")


def test_a_record_marks_what_it_needs_before_submitting(desktop, app, inspected):  # noqa: F811
    with acting(app, "inspector_a"):
        record = inspections.open_record(db.session.get(DrawnTarget, inspected.drawn[0]))
        db.session.commit()
        record_id = record.id
    v = desktop("inspector_a")
    v.go(f"/records/edit/{record_id}")
    for name in ("inspection_date", "method", "situation", "result_code", "present_person"):
        assert "提交前必填" in _label(v, name), name
    assert "提交前必填" not in _label(v, "opinions")
    # The record form's date is the same picker field, and takes a pasted date.
    assert v.page.locator(".appbuilder_date #inspection_date").count() == 1
    yesterday = dt.date.today() - dt.timedelta(days=1)
    _paste(v, "#inspection_date", f"{yesterday.year}年{yesterday.month}月{yesterday.day}日")
    v.page.click("#situation")
    assert v.page.input_value("#inspection_date") == yesterday.isoformat()
    v.shot("widgets-record-form")
    assert v.console_errors == [], v.console_errors


def test_native_date_inputs_are_the_same_picker(desktop, app, inspected):  # noqa: F811
    """A submitted record whose follow-up is 立案查处: the Operator records the penalty with a
    date (a native date input of our template until now)."""
    with acting(app, "inspector_a"):
        record = inspections.open_record(db.session.get(DrawnTarget, inspected.drawn[0]))
        fill(
            record,
            inspected.item,
            problems="未安装取水计量设施",
            result_code="发现问题待后续处理",
            result_detail="违反水资源管理规定",
            follow_up="立案查处",
        )
        inspections.submit_record(record)
        db.session.commit()
        record_id = record.id
    v = desktop("operator_a")
    v.go(f"/records/show/{record_id}")
    assert v.page.locator('input[type="date"]').count() == 0
    date = v.page.locator('form input[name="date"]').first
    assert date.count() == 1
    assert date.locator("xpath=ancestor::div[contains(@class,'dsr-date')]").count() == 1
    future = dt.date.today() + dt.timedelta(days=3)
    _paste(v, 'form input[name="date"]', future.strftime("%Y%m%d"))
    v.page.click('form input[name="number"]')
    assert date.input_value() == future.isoformat()
    assert "日期不能晚于" in v.page.inner_text(".dsr-date-error")  # the old max= kept
    v.shot("widgets-record-show")
    assert v.console_errors == [], v.console_errors


@pytest.mark.parametrize("path", ["/tasks/list/", "/plans/list/", "/records/list/"])
def test_dates_and_statuses_stay_on_one_line(desktop, app, inspected, path):  # noqa: F811
    """Lists use the width, and a date or a status (已发布) is never broken across lines."""
    enter_all(app, inspected)
    v = desktop("leader")
    v.go(path)
    v.shot(f"widgets-list{path.replace('/', '-').rstrip('-')}")
    cells = v.page.evaluate(
        r"""() => Array.from(document.querySelectorAll('table td'))
               .map(td => ({text: td.innerText.trim(), lines:
                            Math.round(td.getBoundingClientRect().height /
                                       parseFloat(getComputedStyle(td).lineHeight)),
                            wrap: getComputedStyle(td).whiteSpace}))
               .filter(c => /^(\d{4}-\d{2}-\d{2}|已\S{1,4}|待\S{1,6})$/.test(c.text))"""
    )
    assert cells, "no date or status cell on " + path
    for cell in cells:
        assert cell["wrap"] == "nowrap", cell
    assert v.console_errors == [], v.console_errors
