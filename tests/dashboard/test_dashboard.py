"""The dashboard (R9.5): every department of the user's scope, zero ones included; the rates
and counts of progress_by_department; late plans and adjustments; overdue records; the
blacklist per listing department; charts drawn from local assets only."""

import datetime as dt
import re
from pathlib import Path

from app.credit.models import BlacklistEntry
from app.dashboard.services import build_dashboard, parse_year
from app.draws.models import DrawnTarget
from app.extensions import db
from app.inspections import services as inspections
from app.planning import services as planning
from app.planning.models import AnnualPlan, SpotCheckTask
from tests.dashboard.conftest import chart_json, department_ids, department_row, table
from tests.directory.conftest import acting, new_item
from tests.inspections.conftest import enter_all, fill, finish

ROOT = Path(__file__).resolve().parents[2]
PROGRESS = "dashboard-progress-table"
PLANS = "dashboard-plans-table"
THIS_YEAR = dt.date.today().year


def _page(client, query: str = "?year=2027") -> str:
    response = client.get(f"/dashboard/{query}")
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def _all(world) -> set[int]:
    return {world.bureau, world.dept_a, world.dept_a1, world.dept_b}


# --- who sees what -----------------------------------------------------------------------------


def test_every_department_in_scope_appears_zero_ones_included(app, world, login_as):
    for username in ("leader", "jointoffice"):
        page = _page(login_as(username))
        assert department_ids(page) == _all(world)
        assert department_ids(page, PLANS) == _all(world)
        for name in ("东胜区水利局", "水资源管理科", "节约用水办公室", "河湖管理科"):
            assert name in page
        # Nothing happened in 2027: every department shows zeros and no rate.
        assert department_row(page, PROGRESS, world.dept_b)[1:] == ["0"] * 6 + ["—"] * 3
        data = chart_json(page)
        assert data["year"] == 2027
        assert data["rates"]["categories"][:4] == [
            "东胜区水利局",
            "水资源管理科",
            "节约用水办公室",
            "河湖管理科",
        ]
        assert all(v is None for s in data["rates"]["series"] for v in s["data"])


def test_a_section_leader_sees_the_section_and_below_only(app, world, login_as):
    page = _page(login_as("leader_a"))
    assert department_ids(page) == {world.dept_a, world.dept_a1}
    assert department_ids(page, PLANS) == {world.dept_a, world.dept_a1}
    assert "河湖管理科" not in page and "东胜区水利局" not in page
    assert "河湖管理科" not in chart_json(page)["rates"]["categories"]
    page = _page(login_as("operator_b"))
    assert department_ids(page) == {world.dept_b}
    assert "水资源管理科" not in page


def test_roles_without_the_dashboard_and_anonymous_visitors(app, world, client, login_as):
    assert login_as("inspector_a").get("/dashboard/").status_code == 403
    assert login_as("admin").get("/dashboard/").status_code == 403
    response = client.get("/dashboard/?year=2027")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_the_menu_offers_the_dashboard_to_leaders_and_the_joint_office(app, world, login_as):
    for username in ("leader", "leader_a", "jointoffice", "operator_a"):
        assert 'href="/dashboard/"' in login_as(username).get("/").get_data(as_text=True)
    assert 'href="/dashboard/"' not in login_as("inspector_a").get("/").get_data(as_text=True)


# --- the figures ---------------------------------------------------------------------------------


def test_rates_and_counts_follow_the_records(app, world, inspected, login_as):
    leader_a = login_as("leader_a")
    # Two targets drawn, nothing entered yet.
    row = department_row(_page(leader_a), PROGRESS, world.dept_a)
    assert row == ["水资源管理科", "2", "0", "0", "0", "0", "0", "0.0%", "0.0%", "—"]

    enter_all(app, inspected)
    page = _page(leader_a)
    assert department_row(page, PROGRESS, world.dept_a)[1:] == (
        ["2", "2", "2", "0", "0", "0", "0.0%", "100.0%", "—"]
    )
    rates = {s["key"]: s["data"] for s in chart_json(page)["rates"]["series"]}
    assert rates["entry_rate"] == [100.0, None, 100.0]  # A, A1, total
    assert rates["completion_rate"] == [0.0, None, 0.0]

    finish(app, inspected)
    for username in ("leader_a", "leader", "jointoffice"):
        page = _page(login_as(username))
        assert department_row(page, PROGRESS, world.dept_a)[1:] == (
            ["2", "2", "2", "2", "0", "2", "100.0%", "100.0%", "100.0%"]
        )
        assert department_row(page, PROGRESS, world.dept_a1)[1:] == ["0"] * 6 + ["—"] * 3
        total = re.search(r"<tfoot>(.*?)</tfoot>", table(page, PROGRESS), re.S).group(1)
        assert "100.0%" in total
        data = chart_json(page)
        rates = {s["key"]: s["data"] for s in data["rates"]["series"]}
        assert rates["completion_rate"][-1] == 100.0  # the total, last category
        # The trend ends on the table's totals.
        trend = {s["key"]: [v for v in s["data"] if v is not None] for s in data["trend"]["series"]}
        assert {key: values[-1] for key, values in trend.items()} == {
            "planned": 2,
            "inspected": 2,
            "entered": 2,
            "published": 2,
        }
        assert len(data["trend"]["months"]) >= 12


def test_overdue_records_are_listed_per_task_for_those_who_read_tasks(
    app, world, inspected, login_as
):
    with acting(app, "inspector_a"):
        record = inspections.open_record(db.session.get(DrawnTarget, inspected.drawn[0]))
        fill(record, inspected.item, inspection_date=dt.date.today() - dt.timedelta(days=60))
        inspections.check_record_entry(record)
        db.session.commit()
        number = db.session.get(SpotCheckTask, inspected.task).number

    page = _page(login_as("leader_a"))
    assert department_row(page, PROGRESS, world.dept_a)[5] == "1"
    overdue = table(page, "dashboard-overdue-table")
    assert number in overdue and f"/tasks/show/{inspected.task}" in overdue
    cells = re.findall(r"<td>(.*?)</td>", overdue)
    assert cells[0] == "水资源管理科" and cells[1] == "1"
    assert int(cells[3]) > 0  # working days overdue

    # The joint-meeting office sees the count, not the (unpublished) task.
    page = _page(login_as("jointoffice"))
    assert department_row(page, PROGRESS, world.dept_a)[5] == "1"
    assert number not in page and 'id="dashboard-overdue-table"' not in page

    # Department B's leader or operator does not see A's task.
    assert number not in _page(login_as("operator_b"))


def test_late_plans_and_overdue_adjustments(app, world, inspected):
    with acting(app, "leader") as user:
        # Before the end of February nothing is late; A's plan was published in time.
        board = build_dashboard(2027, None, user, today=dt.date(2027, 2, 28))
        assert board.late_plans == [] and board.late_revisions == []
        board = build_dashboard(2027, None, user, today=dt.date(2027, 3, 10))
        late = {p.department_id: p.late_days for p in board.late_plans}
        # B has a published item and no plan; the bureau and A1 have no item to plan.
        assert late == {world.dept_b: 10}
        idle = {r.department_id for r in board.rows if r.plan.nothing_to_plan}
        assert idle == {world.bureau, world.dept_a1}
        row_a = next(r for r in board.rows if r.department_id == world.dept_a)
        assert row_a.plan.status == "published" and not row_a.plan.late

    with acting(app, "operator_a"):
        plan = db.session.get(AnnualPlan, db.session.get(SpotCheckTask, inspected.task).plan_id)
        revision = planning.revise_plan(plan, "调整抽查比例", today=dt.date(2027, 3, 1))
        db.session.commit()
        due = revision.due_on
    with acting(app, "leader") as user:
        assert build_dashboard(2027, None, user, today=due).late_revisions == []
        board = build_dashboard(2027, None, user, today=due + dt.timedelta(days=1))
        [late] = board.late_revisions
        assert (late.department_id, late.number, late.open) == (world.dept_a, 1, True)
        row_a = next(r for r in board.rows if r.department_id == world.dept_a)
        assert row_a.late_revisions == 1
        # Another year's dashboard knows nothing of it.
        assert (
            build_dashboard(2028, None, user, today=due + dt.timedelta(days=1)).late_revisions == []
        )
    with acting(app, "leader_a") as user:
        from app.security.scope import departments_in_scope

        board = build_dashboard(2027, departments_in_scope(user), user, today=dt.date(2027, 3, 10))
        assert board.late_plans == []
        # Once A1's list has a published item, A1 owes a plan too.
        new_item("A1-001", world.dept_a1, published_by=user)
        db.session.commit()
        board = build_dashboard(2027, departments_in_scope(user), user, today=dt.date(2027, 3, 10))
        assert {p.department_id for p in board.late_plans} == {world.dept_a1}
    with acting(app, "operator_b") as user:
        from app.security.scope import departments_in_scope

        board = build_dashboard(2027, departments_in_scope(user), user, today=due)
        assert board.late_revisions == [] and [r.department_id for r in board.rows] == [
            world.dept_b
        ]


def test_an_overdue_adjustment_shows_on_the_page(app, world, inspected, login_as):
    with acting(app, "operator_a"):
        plan = db.session.get(AnnualPlan, db.session.get(SpotCheckTask, inspected.task).plan_id)
        planning.revise_plan(plan, "调整抽查比例", today=dt.date.today() - dt.timedelta(days=40))
        db.session.commit()
        plan_id = plan.id
    for username in ("leader", "jointoffice"):
        page = _page(login_as(username))
        assert department_row(page, PLANS, world.dept_a)[4] == "1"
        assert f"/plans/show/{plan_id}" in table(page, "dashboard-late-revisions-table")
    assert 'id="dashboard-late-revisions-table"' not in _page(login_as("operator_b"))


def _entry(target, department, status, listed_on=None, removed_on=None, published=True):
    return BlacklistEntry(
        target_id=target,
        department_id=department,
        basis="refused",
        status=status,
        origin="operator",
        listed_on=listed_on,
        period_months=12 if listed_on else None,
        published_on=listed_on if published and listed_on else None,
        removed_on=removed_on,
    )


def test_blacklist_counts_per_listing_department(app, world, directory, login_as):
    a, b = directory.target_a, directory.target_b
    with acting(app, "leader"):
        db.session.add_all(
            [
                _entry(a, world.dept_a, "listed", dt.date(2027, 3, 1)),
                _entry(a, world.dept_a, "removal_proposed", dt.date(2026, 5, 1)),
                _entry(a, world.dept_a, "listed", dt.date(2027, 4, 1), published=False),
                _entry(a, world.dept_a, "removed", dt.date(2026, 1, 5), dt.date(2026, 9, 1)),
                _entry(a, world.dept_a, "rejected"),
                _entry(b, world.dept_b, "removed", dt.date(2026, 1, 5), dt.date(2027, 6, 1)),
            ]
        )
        db.session.commit()

    # Current listings, listed in 2027, removed in 2027.
    page = _page(login_as("leader"))
    assert department_row(page, PLANS, world.dept_a)[5:] == ["3", "2", "0"]
    assert department_row(page, PLANS, world.dept_b)[5:] == ["0", "0", "1"]
    assert department_row(page, PLANS, world.dept_a1)[5:] == ["0", "0", "0"]
    assert department_row(page, PLANS, world.bureau)[5:] == ["0", "0", "0"]
    footer = re.search(r"<tfoot>(.*?)</tfoot>", table(page, PLANS), re.S).group(1)
    assert re.findall(r"<td>(\d+)</td>", footer)[-3:] == ["3", "2", "1"]
    # 2026: two listings of A (May, and January's, removed in September), one removal.
    page = _page(login_as("leader"), "?year=2026")
    assert department_row(page, PLANS, world.dept_a)[5:] == ["3", "2", "1"]

    # The joint-meeting office counts what was published only.
    page = _page(login_as("jointoffice"))
    assert department_row(page, PLANS, world.dept_a)[5:] == ["2", "1", "0"]
    assert department_row(page, PLANS, world.dept_b)[5:] == ["0", "0", "1"]

    # A section's leader: the section's listings, not department B's.
    page = _page(login_as("leader_a"))
    assert department_row(page, PLANS, world.dept_a)[5:] == ["3", "2", "0"]
    assert department_row(page, PLANS, world.dept_b) is None


# --- the year, the assets ----------------------------------------------------------------------


def test_a_bad_year_is_the_current_year(app, world, login_as):
    assert parse_year("2027") == 2027
    for bad in (None, "", "abc", "1999", "2101", "99999999999999999999", "20.5", "-1"):
        assert parse_year(bad) == THIS_YEAR, bad
    client = login_as("leader")
    for query in ("?year=abc", "?year=", "?year=99999999999999999999", "?year=0", ""):
        page = _page(client, query)
        assert chart_json(page)["year"] == THIS_YEAR
        assert f'value="{THIS_YEAR}"' in page


def test_the_page_loads_local_assets_only_and_no_inline_script(app, world, login_as):
    page = _page(login_as("jointoffice"))
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", page, re.S)
    assert scripts
    for attributes, body in scripts:
        assert 'src="/' in attributes and not body.strip(), attributes  # no inline script
    sources = re.findall(r'<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)="([^"]*)"', page)
    assert sources
    for source in sources:
        assert source.startswith("/") and not source.startswith("//"), source
        assert "http://" not in source and "https://" not in source
    assert '<script src="/static/vendor/echarts/echarts.min.js"></script>' in page
    assert '<script src="/static/js/dashboard.js"></script>' in page
    assert chart_json(page)["locale"] == "ZH"


def test_the_chart_scripts_are_served(app, client):
    response = client.get("/static/vendor/echarts/echarts.min.js")
    assert response.status_code == 200
    assert b"Apache" in response.data[:1000] and len(response.data) > 500_000
    response.close()
    response = client.get("/static/js/dashboard.js")
    assert response.status_code == 200 and b"dashboard-data" in response.data
    response.close()
    vendor = ROOT / "app" / "static" / "vendor" / "echarts"
    assert "Apache License" in (vendor / "LICENSE").read_text()
    assert "Apache ECharts" in (vendor / "NOTICE").read_text()


def test_the_charts_follow_the_interface_language(app, world, login_as):
    client = login_as("leader")
    assert chart_json(_page(client))["locale"] == "ZH"
    client.get("/lang/en")
    page = _page(client)
    assert chart_json(page)["locale"] == "EN"
    assert department_ids(page) == _all(world)
