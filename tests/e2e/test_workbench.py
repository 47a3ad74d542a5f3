"""工作台 in real Chromium at 1366×768 (issue 17, finding 10): the Operator's and the Leader's
home pages list what waits for them under 待办, with counts and the notes that say why (the
Leader's 意见 on a returned plan), and each row leads to the row itself. Screenshots of both go
to test-output/e2e/; DOCS_SCREENSHOTS=1 also refreshes docs/images/ (README.md shows them)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from app.directory.models import InspectionItem
from app.extensions import db
from app.planning import services as planning
from app.planning.models import AnnualPlan, PlanLine, SpotCheckTask
from tests.directory.conftest import acting, directory  # noqa: F401  (fixture)
from tests.e2e.conftest import SHOTS, require_browser
from tests.e2e.test_pages import _english
from tests.inspections.conftest import enter_all, inspected  # noqa: F401  (fixture)
from tests.planning.conftest import plan  # noqa: F401  (fixture)
from tests.planning.test_tasks import _out_of_plan

require_browser()

DOCS = Path(__file__).resolve().parents[2] / "docs" / "images"
DESKTOP = {"width": 1366, "height": 768}
RETURN_COMMENT = "请补充节约用水重点监控单位的抽查比例"


@pytest.fixture
def year_under_way(app, world, inspected):  # noqa: F811
    """Department A in the middle of its year: two records submitted, a second task to draw,
    a draft item; next year's plans: A's submitted to the Leader, A1's returned with a comment,
    a check outside the plan waiting for approval."""
    enter_all(app, inspected)
    with app.app_context():
        sm = app.appbuilder.sm
        for username, (family, given) in {
            "operator_a": ("刘", "晓敏"),
            "leader_a": ("张", "国华"),
        }.items():
            user = sm.find_user(username=username)
            user.last_name, user.first_name = family, given
        db.session.commit()
    with acting(app, "operator_a"):
        item = db.session.scalar(db.select(InspectionItem).where(InspectionItem.code == "A-001"))
        current = db.session.scalar(db.select(AnnualPlan).where(AnnualPlan.year == 2027))
        second = planning.create_task_from_line(current.lines[0])
        second.name = "取水计量设施专项检查"
        db.session.add(second)
        plans = {}
        for department, title in (
            (world.dept_a, "水资源管理科2028年度抽查计划"),
            (world.dept_a1, "节约用水办公室2028年度抽查计划"),
        ):
            p = AnnualPlan(department_id=department, year=2028, title=title)
            p.lines.append(
                PlanLine(
                    name="取水许可检查", method="实地检查", items=[item], ratio_b=5, ratio_c=10
                )
            )
            db.session.add(p)
            plans[department] = p
        db.session.commit()
        for p in plans.values():
            planning.submit_plan(p)
        task = planning.create_out_of_plan_task(
            _out_of_plan(world, None, name="群众举报超许可取水核查", items=[item])
        )
        db.session.add(task)
        db.session.commit()
        ids = {key: p.id for key, p in plans.items()}, task.id
    with acting(app, "leader_a"):
        planning.return_plan(db.session.get(AnnualPlan, ids[0][world.dept_a1]), RETURN_COMMENT)
        db.session.commit()
    return {"plan_a": ids[0][world.dept_a], "plan_a1": ids[0][world.dept_a1], "task": ids[1]}


def _open_home(visit, username):
    v = visit()
    v.page.set_viewport_size(DESKTOP)
    v.login(username)
    v.go("/")
    v.page.wait_for_load_state("networkidle")
    return v


def _todo(v, key):
    return v.page.locator(f'[data-todo="{key}"]')


def _fits(v):
    width = v.page.evaluate("document.documentElement.scrollWidth")
    assert width <= DESKTOP["width"], f"the page is {width} px wide"


def _clean(v):
    assert not _english(v.visible_text()), _english(v.visible_text())
    assert v.outside == [] and v.console_errors == [], (v.outside, v.console_errors)


def _screenshot(page, name: str) -> None:
    """Into test-output/e2e/; DOCS_SCREENSHOTS=1 also refreshes the README's picture."""
    page.screenshot(path=str(SHOTS / name))
    if os.environ.get("DOCS_SCREENSHOTS"):
        shutil.copyfile(SHOTS / name, DOCS / name)


def test_the_operators_workbench(visit, year_under_way, inspected):  # noqa: F811
    v = _open_home(visit, "operator_a")
    page = v.page
    assert page.locator("#workbench h3").inner_text() == "待办"
    review = _todo(v, "records_to_review")
    assert review.get_attribute("data-count") == "2"
    assert "2 条记录待审核" in review.inner_text() and "还有" not in review.inner_text()
    assert _todo(v, "targets_to_draw").get_attribute("data-count") == "1"
    assert _todo(v, "draft_items").get_attribute("data-count") == "1"
    returned = _todo(v, "returned_plans")
    assert RETURN_COMMENT in returned.inner_text()
    assert page.locator("#account-card").is_visible()
    assert page.locator("#public-site-link").get_attribute("href") == "/public/"
    _fits(v)
    _clean(v)
    _screenshot(page, "workbench-operator.png")
    # The returned plan's row opens that plan.
    returned.locator("a.list-group-item").first.click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/plans/show/{year_under_way['plan_a1']}")
    # The records to review open the task's page, where they are listed.
    v.go("/")
    _todo(v, "records_to_review").locator("a.list-group-item").first.click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/tasks/show/{inspected.task}")


def test_the_leaders_workbench(app, visit, year_under_way):
    v = _open_home(visit, "leader_a")
    page = v.page
    plans = _todo(v, "plans_to_approve")
    assert plans.get_attribute("data-count") == "1"
    assert "水资源管理科2028年度抽查计划" in plans.inner_text()
    assert "节约用水办公室2028年度抽查计划" not in plans.inner_text()  # returned: the Operator's
    assert _todo(v, "tasks_to_approve").get_attribute("data-count") == "1"
    assert "群众举报超许可取水" in _todo(v, "tasks_to_approve").inner_text()
    assert _todo(v, "items_to_publish").get_attribute("data-count") == "1"
    _fits(v)
    _clean(v)
    _screenshot(page, "workbench-leader.png")
    _todo(v, "tasks_to_approve").locator("a.list-group-item").first.click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/tasks/show/{year_under_way['task']}")
    with app.app_context():
        assert db.session.get(SpotCheckTask, year_under_way["task"]).approval == "pending"


@pytest.mark.parametrize("username", ["inspector_a", "jointoffice", "admin", "secadmin", "auditor"])
def test_every_other_role_has_its_workbench(visit, year_under_way, username):
    """The Inspector's, the joint-meeting office's and the Admin's home pages: 待办 heads the
    page (their to-dos, or 当前没有待办事项), in Chinese, within the screen's width."""
    v = _open_home(visit, username)
    assert v.page.locator("#workbench h3").inner_text() == "待办"
    assert v.page.locator("#workbench [data-todo]").count() or "当前没有待办事项" in (
        v.page.locator("#workbench").inner_text()
    )
    _fits(v)
    _clean(v)
    v.page.screenshot(path=str(SHOTS / f"workbench-{username}.png"))
