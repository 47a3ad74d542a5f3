"""Browser: the draw timing on the task page and the supplementary draw (补充摇号) on the draw
page, at 1366×768 (issue 17, findings 5 and 6)."""

# ruff: noqa: F811  (pytest fixtures imported from the neighbouring suites)

import datetime as dt

from app.core.calendar import add_working_days
from app.draws.models import Draw
from app.extensions import db
from tests.directory.conftest import acting, directory  # noqa: F401  (fixture)
from tests.draws.test_draw_service import task  # noqa: F401  (fixture)
from tests.draws.test_draw_timing import _window
from tests.draws.test_supplement import _add_inspectors, _exhaust
from tests.e2e.conftest import require_browser
from tests.planning.conftest import plan  # noqa: F401  (fixture)

require_browser()

DESKTOP = {"width": 1366, "height": 768}


def test_the_task_page_says_from_when_its_targets_can_be_drawn(app, visit, task):
    with app.app_context():
        start = add_working_days(dt.date.today(), 8).date
    _window(app, task, start)
    v = visit()
    v.page.set_viewport_size(DESKTOP)
    v.login("operator_a")
    v.go(f"/tasks/show/{task}")
    text = v.visible_text()
    assert "检查对象最早可于" in text
    assert v.page.get_by_role("button", name="在监督人见证下抽取检查对象").is_disabled()
    v.shot("task-draw-not-open-1366")
    assert not v.console_errors and not v.outside


def test_the_draw_page_offers_the_supplementary_draw(app, world, visit, task):
    draw_id, target, member = _exhaust(app, task)
    added, _expired, _conflicted = _add_inspectors(app, world, target)
    v = visit()
    v.page.set_viewport_size(DESKTOP)
    v.login("leader_a")  # the Operator edits the roster: a Leader runs 补充摇号
    v.go(f"/draws/show/{draw_id}")
    row = (
        v.page.locator("form")
        .filter(has=v.page.locator(f"input[name=target_id][value='{target}']"))
        .filter(has=v.page.locator(f"input[name=inspector_id][value='{member}']"))
    )
    select = row.locator("select[name=reason]")
    assert select.input_value() == ""  # nothing preselected
    assert "请选择原因" in select.locator("option").first.inner_text()
    v.shot("draw-supplement-offered-1366")
    select.select_option("病假")
    row.get_by_role("button", name="补充摇号").click()
    # The confirmation dialog says what the supplementary draw does; 确定 sends the form to
    # the button's own formaction (/supplement), not to the form's /substitute.
    dialog = v.page.locator("#confirm-step-dialog")
    dialog.wait_for(state="visible")
    assert "补充摇号" in dialog.inner_text()
    with v.page.expect_navigation():
        dialog.locator("#confirm-step-ok").click()
    v.page.wait_for_load_state()
    with acting(app, "operator_a"):
        event = db.session.get(Draw, draw_id).substitution_events()[-1]
        assert "pool" in event and event["substitute"] in added
    assert "已补充摇号" in v.visible_text()
    v.shot("draw-supplement-done-1366")
    assert not v.console_errors and not v.outside
