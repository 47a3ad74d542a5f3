"""Issue 17, finding 4, in Chromium at 1366×768: 公示检查结果 asks first. The dialog states what
will happen and that it cannot be undone; 取消 changes nothing, 确定 publishes."""

from sqlalchemy import select

from app.extensions import db
from app.inspections import services
from app.inspections.models import InspectionSummary
from app.planning.models import SpotCheckTask
from tests.directory.conftest import acting, directory, uscc  # noqa: F401  (fixtures)
from tests.e2e.conftest import Visit, require_browser
from tests.inspections.conftest import inspected  # noqa: F401  (fixture)
from tests.inspections.test_confirmations import PUBLISH_MESSAGE, _ready_to_publish
from tests.planning.conftest import plan  # noqa: F401  (fixture)

require_browser()


def _status(app, task_id):
    with app.app_context():
        db.session.expire_all()
        return db.session.scalar(select(SpotCheckTask.status).where(SpotCheckTask.id == task_id))


def test_publishing_the_results_shows_the_dialog_cancel_keeps_confirm_publishes(
    app,
    browser,
    live_server,
    inspected,  # noqa: F811
):
    summary_id = _ready_to_publish(app, inspected)
    with acting(app, "leader_a"):
        services.decide_summary(db.session.get(InspectionSummary, summary_id), True, "")
        db.session.commit()
    context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 768})
    try:
        visit = Visit(context, live_server)
        visit.login("operator_a")
        visit.go(f"/tasks/show/{inspected.task}")
        page = visit.page
        button = page.locator("#publish-results button[type=submit]")
        button.click()
        dialog = page.locator("#confirm-step-dialog")
        dialog.wait_for(state="visible")
        assert PUBLISH_MESSAGE in dialog.inner_text()
        assert "请确认" in dialog.inner_text()
        visit.shot("confirm-publish-results-dialog")
        page.locator("#confirm-step-cancel").click()
        dialog.wait_for(state="hidden")
        assert f"/tasks/show/{inspected.task}" in page.url
        assert _status(app, inspected.task) == "results_entered"
        # Again, and confirm this time: the results are published.
        button.click()
        dialog.wait_for(state="visible")
        with page.expect_navigation():
            page.locator("#confirm-step-ok").click()
        page.wait_for_load_state()
        assert "检查结果已公示" in visit.visible_text() or "已公示" in visit.visible_text()
        assert _status(app, inspected.task) == "published"
        visit.shot("confirm-publish-results-done")
        assert visit.console_errors == [] and visit.outside == []
    finally:
        context.close()


def test_without_javascript_the_server_asks_on_a_page(
    app,
    browser,
    live_server,
    inspected,  # noqa: F811
):
    summary_id = _ready_to_publish(app, inspected)
    with acting(app, "leader_a"):
        services.decide_summary(db.session.get(InspectionSummary, summary_id), True, "")
        db.session.commit()
    context = browser.new_context(
        locale="zh-CN", viewport={"width": 1366, "height": 768}, java_script_enabled=False
    )
    try:
        visit = Visit(context, live_server)
        visit.login("operator_a")
        visit.go(f"/tasks/show/{inspected.task}")
        page = visit.page
        with page.expect_navigation():
            page.locator("#publish-results button[type=submit]").click()
        text = visit.visible_text()
        assert PUBLISH_MESSAGE in text and "请确认" in text
        assert _status(app, inspected.task) == "results_entered"
        visit.shot("confirm-publish-results-page")
        with page.expect_navigation():
            page.locator("#confirm-step button[type=submit]").click()
        assert _status(app, inspected.task) == "published"
    finally:
        context.close()
