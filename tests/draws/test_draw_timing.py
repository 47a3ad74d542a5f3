"""A target draw opens DRAW_OPENS_WORKING_DAYS_BEFORE working days before the task's window
(issue 17, finding 5): earlier is refused on the page, by the list action and by REST, with a
Chinese message naming the first day; the page says so before anyone clicks."""

# ruff: noqa: F811  (pytest fixtures imported from the neighbouring suites)

import datetime as dt

import pytest

from app.core.calendar import WorkingCalendar, add_working_days, working_days_between
from app.core.errors import DomainError
from app.draws import services
from app.draws.models import Draw
from app.extensions import db
from app.planning.models import SpotCheckTask
from tests.conftest import csrf_token_from
from tests.directory.conftest import acting, directory  # noqa: F401  (fixture)
from tests.draws.test_draw_service import task  # noqa: F401  (fixture)
from tests.planning.conftest import plan  # noqa: F401  (fixture)


def _window(app, task_id, start: dt.date, end: dt.date | None = None):
    with acting(app, "operator_a"):
        t = db.session.get(SpotCheckTask, task_id)
        t.window_start, t.window_end = start, end or start + dt.timedelta(days=60)
        db.session.commit()


def test_the_n_th_working_day_before_a_date():
    monday = dt.date(2031, 3, 3)
    plain = WorkingCalendar({}, [2031])
    assert plain.working_days_before(monday, 5).date == dt.date(2031, 2, 24)  # a week before
    assert plain.working_days_before(monday, 1).date == dt.date(2031, 2, 28)  # Friday
    assert plain.working_days_before(monday, 0).date == monday
    # A holiday inside the span moves the day one working day earlier; a 调休 Sunday counts.
    holiday = WorkingCalendar({dt.date(2031, 2, 26): False}, [2031])
    assert holiday.working_days_before(monday, 5).date == dt.date(2031, 2, 21)
    worked = WorkingCalendar({dt.date(2031, 3, 2): True}, [2031])
    assert worked.working_days_before(monday, 1).date == dt.date(2031, 3, 2)
    for n in range(8):
        assert plain.working_days_between(plain.working_days_before(monday, n).date, monday) == (
            n,
            True,
        )
    with pytest.raises(ValueError):
        plain.working_days_before(monday, -1)


def test_the_message_says_from_which_day_and_the_boundary_day_is_open(app, task):
    _window(app, task, dt.date(2027, 3, 1), dt.date(2027, 6, 30))
    with acting(app, "operator_a"):
        t = db.session.get(SpotCheckTask, task)
        opens = services.target_draw_opens_on(t)
        # Five working days of the bureau calendar: Monday 2027-03-01 opens on 2027-02-22.
        assert opens == dt.date(2027, 2, 22)
        assert working_days_between(opens, t.window_start).days == 5
        assert services.target_draw_not_open(t, dt.date(2027, 2, 19)) == (
            "该任务的检查时间为2027年3月1日至2027年6月30日，检查对象最早可于2027年2月22日抽取。"
        )
        assert services.target_draw_not_open(t, dt.date(2026, 12, 1))
        assert services.target_draw_not_open(t, opens) is None  # the boundary day itself
        assert services.target_draw_not_open(t, dt.date(2027, 3, 15)) is None


def test_the_setting_changes_the_opening_day(app, task):
    _window(app, task, dt.date(2027, 3, 1), dt.date(2027, 6, 30))
    with acting(app, "operator_a"):
        t = db.session.get(SpotCheckTask, task)
        app.config["DRAW_OPENS_WORKING_DAYS_BEFORE"] = 0
        try:
            assert services.target_draw_opens_on(t) == dt.date(2027, 3, 1)
        finally:
            app.config["DRAW_OPENS_WORKING_DAYS_BEFORE"] = 5
        t.window_start = None  # no window: nothing to wait for
        assert services.target_draw_opens_on(t) is None


def test_an_early_draw_is_refused_everywhere_and_writes_nothing(app, login_as, api_token, task):
    today = dt.date.today()
    with app.app_context():
        start = add_working_days(today, 6).date  # opens on the next working day: not today
    _window(app, task, start)
    with acting(app, "operator_a"):
        message = services.target_draw_not_open(db.session.get(SpotCheckTask, task))
        assert message and "检查对象最早可于" in message
        with pytest.raises(DomainError, match="最早可于"):
            services.start_draw(db.session.get(SpotCheckTask, task), "target")
        db.session.rollback()
    client = login_as("operator_a")
    # The task page says it before anyone clicks: the buttons are disabled, the date is shown.
    page = client.get(f"/tasks/show/{task}").get_data(as_text=True)
    assert message in page
    toolbar = page.split('class="btn-toolbar"')[1].split("</div>")[0]
    assert "disabled" in toolbar and f"/task-draw/{task}/witnessed" not in toolbar
    witnessed = client.get(f"/task-draw/{task}/witnessed").get_data(as_text=True)
    assert message in witnessed and "disabled" in witnessed
    token = csrf_token_from(client, f"/tasks/show/{task}")
    for url, data in (
        (f"/task-draw/{task}/targets", {}),
        (f"/task-draw/{task}/witnessed", {"witnesses": "张监督、李监督"}),
    ):
        answer = client.post(url, data={"csrf_token": token, **data}, follow_redirects=True)
        assert message in answer.get_data(as_text=True)
    # The list action.
    answer = client.post(
        "/tasks/action_post",
        data={"csrf_token": token, "confirm": "1", "action": "draw_targets", "rowid": [task]},
        follow_redirects=True,
    )
    assert message in answer.get_data(as_text=True)
    # REST.
    api = app.test_client()
    headers = {"Authorization": f"Bearer {api_token('operator_a')}"}
    refused = api.post(f"/api/v1/task/{task}/draw_targets", json={}, headers=headers)
    assert refused.status_code == 422 and refused.get_json()["message"] == message
    with acting(app, "operator_a"):
        assert db.session.query(Draw).count() == 0
        assert db.session.get(SpotCheckTask, task).status == "planned"


def test_the_draw_opens_on_its_day(app, login_as, api_token, task):
    today = dt.date.today()
    with app.app_context():
        start = add_working_days(today, 5).date  # 5 working days ahead: open today
    _window(app, task, start)
    with acting(app, "operator_a"):
        assert services.target_draw_not_open(db.session.get(SpotCheckTask, task)) is None
    page = login_as("operator_a").get(f"/tasks/show/{task}").get_data(as_text=True)
    assert "检查对象最早可于" not in page
    headers = {"Authorization": f"Bearer {api_token('operator_a')}"}
    done = app.test_client().post(f"/api/v1/task/{task}/draw_targets", json={}, headers=headers)
    assert done.status_code == 200, done.get_json()


def test_a_task_under_a_committed_draw_keeps_its_window_and_the_draw_rechecks_the_day(
    app, api_token, task
):
    """The outside prober's attack: move the window early, commit a witnessed draw, move the
    window back, complete the draw three weeks early. The window cannot change under a
    committed draw (REST and page, one service rule), and completing re-checks the day."""
    today = dt.date.today()
    with app.app_context():
        start = add_working_days(today, 5).date  # open today
    with acting(app, "operator_a"):
        t = db.session.get(SpotCheckTask, task)
        t.year = start.year
        t.window_start, t.window_end = start, start + dt.timedelta(days=10)
        db.session.commit()
    api = app.test_client()
    headers = {"Authorization": f"Bearer {api_token('operator_a')}"}
    committed = api.post(
        f"/api/v1/task/{task}/draw_targets",
        json={"mode": "witnessed", "witnesses": "张监督、李监督"},
        headers=headers,
    )
    assert committed.status_code == 200, committed.get_json()
    later = (start + dt.timedelta(days=3)).isoformat()
    moved = api.put(f"/api/v1/task/{task}", json={"window_start": later}, headers=headers)
    assert moved.status_code == 422, moved.get_json()
    assert "抽取已开始" in moved.get_json()["message"]
    # Nor by any field the draw's parameters depend on (the page's edit form and REST
    # share services.check_task_editable).
    for change in ({"group_size": 3}, {"window_end": later}, {"name": "改名"}):
        moved = api.put(f"/api/v1/task/{task}", json=change, headers=headers)
        assert moved.status_code == 422 and "抽取已开始" in moved.get_json()["message"]
    with acting(app, "operator_a"):
        t = db.session.get(SpotCheckTask, task)
        assert t.window_start == start and t.name != "改名"
        # Had the window moved anyway (an old row, a direct edit), the draw itself refuses.
        t.window_start = add_working_days(today, 9).date
        db.session.commit()
        draw = db.session.scalar(db.select(Draw).where(Draw.task_id == task))
        draw_id = draw.id
        with pytest.raises(DomainError, match="最早可于"):
            services.complete_draw(draw, "314159")
        db.session.rollback()
    done = api.post(
        f"/api/v1/task/{task}/draw_targets", json={"witness_entropy": "314159"}, headers=headers
    )
    assert done.status_code == 422 and "最早可于" in done.get_json()["message"]
    with acting(app, "operator_a"):
        assert db.session.get(Draw, draw_id).status == "committed"
        assert db.session.get(SpotCheckTask, task).status == "planned"
