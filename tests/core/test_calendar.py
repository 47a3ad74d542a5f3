"""The working-day calendar behind every deadline of the regulation (R9.6: 10 working days,
R11.3: 20 working days): the Monday-Friday rule, public holidays and 调休 workdays from the
chinese-calendar package, the admin's CSV import, the holiday pages and the CLI.

The holiday and calendar_year tables survive between tests (they hold the seeded 2004-2026
data), so every test that writes uses the scratch years 2031-2039 and removes them again.
"""

from __future__ import annotations

import codecs
import io
from datetime import date, timedelta

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import delete, select

from app.core.calendar.models import CalendarYear, Holiday
from app.core.calendar.service import (
    CalendarImportError,
    WorkingCalendar,
    add_working_days,
    chinese_calendar_days,
    import_calendar_csv,
    load_calendar,
    parse_calendar_csv,
    unconfirmed_calendar_years,
    working_days_between,
)
from app.extensions import db
from app.security.system_user import acting_as_system
from tests.conftest import csrf_token_from

SCRATCH_FIRST, SCRATCH_LAST = date(2031, 1, 1), date(2039, 12, 31)

# A plausible 2031 notice: 元旦 on a Wednesday, 劳动节 Thursday 1 May to Monday 5 May, and
# Saturday 10 May worked instead (调休上班).
MAY_DAY_2031 = (
    "日期,是否工作日,名称\r\n"
    "2031-01-01,否,元旦\r\n"
    "2031-05-01,否,劳动节\r\n"
    "2031-05-02,否,劳动节\r\n"
    "2031-05-03,否,劳动节\r\n"
    "2031-05-04,否,劳动节\r\n"
    "2031-05-05,否,劳动节\r\n"
    "2031-05-10,是,劳动节调休上班\r\n"
)
MAY_DAY_2031_DAYS = {
    date(2031, 1, 1): (False, "元旦"),
    **{date(2031, 5, d): (False, "劳动节") for d in range(1, 6)},
    date(2031, 5, 10): (True, "劳动节调休上班"),
}
# Line 3 has a date Excel might write, which the import refuses.
BROKEN_2031 = "日期,是否工作日,名称\n2031-01-01,否,元旦\n2031/05/01,否,劳动节\n2031-05-10,是,调休\n"


def _scratch_rows() -> dict[date, tuple[bool, str]]:
    rows = db.session.scalars(
        select(Holiday).where(Holiday.date >= SCRATCH_FIRST, Holiday.date <= SCRATCH_LAST)
    )
    return {h.date: (h.is_workday, h.name) for h in rows}


def _delete_scratch_years() -> None:
    db.session.rollback()
    db.session.execute(
        delete(Holiday).where(Holiday.date >= SCRATCH_FIRST, Holiday.date <= SCRATCH_LAST)
    )
    db.session.execute(
        delete(CalendarYear).where(
            CalendarYear.year >= SCRATCH_FIRST.year, CalendarYear.year <= SCRATCH_LAST.year
        )
    )
    db.session.commit()


@pytest.fixture
def scratch(app, world):
    """Empty scratch years 2031-2039 before and after the test. Depends on `world` so that the
    audit rows the test writes are cleaned up too."""
    with app.app_context():
        _delete_scratch_years()
    try:
        yield
    finally:
        with app.app_context():
            _delete_scratch_years()


def import_and_commit(raw: bytes) -> int:
    """import_calendar_csv as the CLI calls it: as the system user (AuditMixin needs an
    author), then commit."""
    with acting_as_system():
        written = import_calendar_csv(raw)
        db.session.commit()
    return written


def stored_days(app) -> dict[date, tuple[bool, str]]:
    """The scratch-year rows of the holiday table, read in a fresh app context."""
    with app.app_context():
        return _scratch_rows()


def confirmed_scratch_years(app) -> set[int]:
    with app.app_context():
        return {
            y
            for y in load_calendar().confirmed_years
            if SCRATCH_FIRST.year <= y <= SCRATCH_LAST.year
        }


# --- the pure calendar ----------------------------------------------------------------------

MONDAY = date(2031, 3, 3)
PLAIN = WorkingCalendar({}, confirmed_years=[2031])


def test_monday_to_friday_are_working_days_and_the_weekend_is_not():
    week = [MONDAY + timedelta(days=i) for i in range(7)]
    assert [PLAIN.is_working_day(d) for d in week] == [True] * 5 + [False] * 2


def test_special_days_override_the_weekday_rule():
    holiday_wednesday, worked_saturday = MONDAY + timedelta(days=2), MONDAY + timedelta(days=5)
    calendar = WorkingCalendar({holiday_wednesday: False, worked_saturday: True}, [2031])
    assert not calendar.is_working_day(holiday_wednesday)
    assert calendar.is_working_day(worked_saturday)


def test_the_start_day_is_never_counted_friday_plus_one_is_monday():
    friday = MONDAY + timedelta(days=4)
    assert PLAIN.add_working_days(friday, 1).date == MONDAY + timedelta(days=7)
    assert PLAIN.add_working_days(friday, 5).date == friday + timedelta(days=7)


def test_adding_zero_working_days_returns_the_start_even_on_a_sunday():
    sunday = MONDAY - timedelta(days=1)
    assert PLAIN.add_working_days(sunday, 0).date == sunday
    assert PLAIN.working_days_between(sunday, sunday).days == 0


def test_a_negative_number_of_working_days_is_refused():
    with pytest.raises(ValueError):
        PLAIN.add_working_days(MONDAY, -1)


def test_counting_backwards_gives_a_negative_number():
    later = MONDAY + timedelta(days=14)
    assert PLAIN.working_days_between(MONDAY, later).days == 10
    assert PLAIN.working_days_between(later, MONDAY).days == -10


def test_a_result_is_unconfirmed_when_it_touches_a_year_without_confirmed_data():
    calendar = WorkingCalendar({}, confirmed_years=[2031])
    assert calendar.add_working_days(date(2031, 12, 1), 10).confirmed is True
    assert calendar.add_working_days(date(2031, 12, 22), 10).confirmed is False  # into 2032
    assert calendar.working_days_between(date(2031, 6, 1), date(2031, 7, 1)).confirmed is True
    assert calendar.working_days_between(date(2030, 12, 1), date(2031, 1, 5)).confirmed is False
    # Backwards across the year boundary is just as unconfirmed.
    assert calendar.working_days_between(date(2031, 1, 5), date(2030, 12, 1)).confirmed is False


# The three calendars the properties run on: no special days at all, the real 2004-2026 data of
# the chinese-calendar package, and arbitrary holidays and worked weekends.
PACKAGE_DAYS, PACKAGE_YEARS = chinese_calendar_days()
CALENDARS = {
    "monday-friday": WorkingCalendar({}, PACKAGE_YEARS),
    "chinese-calendar": WorkingCalendar(
        {d: is_workday for d, (is_workday, _name) in PACKAGE_DAYS.items()}, PACKAGE_YEARS
    ),
}
DATES = st.dates(min_value=date(2004, 1, 1), max_value=date(2026, 12, 31))
RANDOM_CALENDARS = st.dictionaries(DATES, st.booleans(), max_size=200).map(
    lambda special: WorkingCalendar(special, PACKAGE_YEARS)
)
ANY_CALENDAR = st.sampled_from(list(CALENDARS.values())) | RANDOM_CALENDARS


@given(calendar=ANY_CALENDAR, start=DATES, n=st.integers(min_value=0, max_value=60))
@example(calendar=CALENDARS["monday-friday"], start=date(2026, 9, 30), n=1)
@example(calendar=CALENDARS["chinese-calendar"], start=date(2026, 9, 30), n=1)
def test_working_days_between_undoes_add_working_days(calendar, start, n):
    due = calendar.add_working_days(start, n).date
    assert calendar.working_days_between(start, due).days == n
    assert calendar.working_days_between(due, start).days == -n
    if n:
        assert calendar.is_working_day(due)
        assert due > start


@given(calendar=ANY_CALENDAR, a=DATES, b=DATES)
def test_adding_the_counted_days_reaches_the_last_working_day_up_to_the_end(calendar, a, b):
    a, b = min(a, b), max(a, b)
    count = calendar.working_days_between(a, b).days
    assert count >= 0
    assert calendar.working_days_between(b, a).days == -count
    reached = calendar.add_working_days(a, count).date
    assert a <= reached <= b
    # Every day after the one reached, up to b, is a day off.
    assert not any(
        calendar.is_working_day(reached + timedelta(days=i))
        for i in range(1, (b - reached).days + 1)
    )


# --- the calendar from the database: 2026 National Day week ---------------------------------
# chinese-calendar: 中秋节 Fri 25 - Sun 27 September, 国庆节 Thu 1 - Wed 7 October, worked on
# Sunday 20 September and Saturday 10 October.


def test_one_working_day_after_30_september_2026_is_8_october(app):
    with app.app_context():
        result = add_working_days(date(2026, 9, 30), 1)
    assert result.date == date(2026, 10, 8)
    assert result.confirmed is True


def test_only_two_working_days_from_30_september_to_9_october_2026(app):
    with app.app_context():
        count = working_days_between(date(2026, 9, 30), date(2026, 10, 9))
    assert count.days == 2  # 8 and 9 October
    assert count.confirmed is True


def test_the_adjusted_saturday_10_october_2026_is_a_working_day(app):
    with app.app_context():
        assert add_working_days(date(2026, 10, 9), 1).date == date(2026, 10, 10)
        assert load_calendar().is_working_day(date(2026, 10, 10))


def test_the_adjusted_sunday_20_september_2026_is_a_working_day(app):
    with app.app_context():
        assert load_calendar().is_working_day(date(2026, 9, 20))
        assert add_working_days(date(2026, 9, 19), 1).date == date(2026, 9, 20)


def test_a_20_working_day_deadline_across_national_day_2026(app):
    # From Friday 25 September 2026 (中秋节; the start day is never counted):
    #   28, 29, 30 Sep                                   ->  3
    #   1-7 Oct 国庆节 off; 8, 9 Oct (Thu, Fri)          ->  5
    #   Sat 10 Oct 调休上班                              ->  6
    #   12-16 Oct                                        -> 11
    #   19-23 Oct                                        -> 16
    #   26, 27, 28, 29 Oct                               -> 20
    # Monday to Friday alone would have given Friday 23 October.
    with app.app_context():
        result = add_working_days(date(2026, 9, 25), 20)
        assert working_days_between(date(2026, 9, 25), date(2026, 10, 29)).days == 20
    assert result == (date(2026, 10, 29), True)


# --- years without confirmed data -----------------------------------------------------------


def test_a_year_without_confirmed_data_counts_monday_to_friday_unconfirmed(app, scratch):
    # 1 May 2031 is a Thursday; without data it is an ordinary working day.
    with app.app_context():
        result = add_working_days(date(2031, 4, 30), 1)
        week = working_days_between(date(2031, 4, 27), date(2031, 5, 4))
    assert result == (date(2031, 5, 1), False)
    assert week == (5, False)


def test_a_span_from_december_2026_into_2027_is_unconfirmed(app):
    with app.app_context():
        assert add_working_days(date(2026, 12, 1), 5).confirmed is True
        result = add_working_days(date(2026, 12, 20), 10)
        count = working_days_between(date(2026, 12, 20), date(2027, 1, 8))
    # Monday to Friday: 21-25 and 28-31 December, then Friday 1 January 2027 (元旦 is not
    # known for 2027 yet, so it counts as a working day).
    assert result == (date(2027, 1, 1), False)
    assert count == (15, False)


def test_unconfirmed_years_are_this_year_and_next_when_they_lack_data(app, scratch):
    with app.app_context():
        assert unconfirmed_calendar_years(today=date(2026, 11, 28)) == [2027]
        assert unconfirmed_calendar_years(today=date(2025, 6, 1)) == []
        assert unconfirmed_calendar_years(today=date(2031, 6, 1)) == [2031, 2032]


# --- parsing a CSV file ---------------------------------------------------------------------


def test_csv_with_chinese_header_in_gb18030_is_read():
    raw = MAY_DAY_2031.encode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # really GBK bytes, as Excel saves "CSV" on a Chinese desktop
    days, years = parse_calendar_csv(raw)
    assert days == MAY_DAY_2031_DAYS
    assert years == {2031}


def test_csv_in_utf8_with_bom_and_without_header_is_read():
    raw = codecs.BOM_UTF8 + "2031-01-01,否,元旦\n2032-01-03,是,元旦调休上班\n".encode()
    days, years = parse_calendar_csv(raw)
    assert days == {date(2031, 1, 1): (False, "元旦"), date(2032, 1, 3): (True, "元旦调休上班")}
    assert years == {2031, 2032}


@pytest.mark.parametrize(
    ("workday", "rest"), [("是", "否"), ("1", "0"), ("上班", "休息"), ("True", "False")]
)
def test_working_day_column_accepts_yes_no_1_0_and_work_rest(workday, rest):
    raw = f"2031-05-02,{rest},劳动节\n2031-05-10,{workday},劳动节调休上班\n".encode()
    days, _years = parse_calendar_csv(raw)
    assert days[date(2031, 5, 2)][0] is False
    assert days[date(2031, 5, 10)][0] is True


def test_a_missing_name_gets_a_default():
    days, _years = parse_calendar_csv(b"2031-05-02,0\n2031-05-10,1,\n")
    assert days == {date(2031, 5, 2): (False, "节假日"), date(2031, 5, 10): (True, "调休上班")}


def test_every_bad_line_is_reported_with_its_line_number(app):
    raw = (
        "日期,是否工作日,名称\n"
        "2031-01-01,否,元旦\n"
        "2031/05/01,否,劳动节\n"
        "\n"
        "2031-05-10,也许,调休\n"
        "2031-05-11\n"
    ).encode()
    with app.app_context(), pytest.raises(CalendarImportError) as caught:
        parse_calendar_csv(raw)
    errors = caught.value.errors
    assert len(errors) == 3
    assert errors[0].startswith("第 3 行") and "2031/05/01" in errors[0]
    assert errors[1].startswith("第 5 行") and "也许" in errors[1]
    assert errors[2].startswith("第 6 行")


def test_a_duplicate_date_is_reported(app):
    raw = "2031-05-01,否,劳动节\n2031-05-02,否,劳动节\n2031-05-01,是,调休\n".encode()
    with app.app_context(), pytest.raises(CalendarImportError) as caught:
        parse_calendar_csv(raw)
    assert caught.value.errors == ["第 3 行：日期 2031-05-01 重复。"]


def test_control_characters_in_a_name_are_reported(app):
    # PostgreSQL cannot store a NUL: the whole import failed with a 500.
    raw = "2031-05-01,否,劳动\x00节\n2031-05-02,否,劳动节\n".encode()
    with app.app_context(), pytest.raises(CalendarImportError) as caught:
        parse_calendar_csv(raw)
    [error] = caught.value.errors
    assert error.startswith("第 1 行") and "控制字符" in error


def test_a_file_without_dates_is_refused(app):
    with app.app_context(), pytest.raises(CalendarImportError) as caught:
        parse_calendar_csv("日期,是否工作日,名称\n".encode("gb18030"))
    assert caught.value.errors == ["文件中没有任何日期。"]


def test_import_errors_follow_the_users_language(app):
    with app.test_request_context("/?_l_=en"), pytest.raises(CalendarImportError) as caught:
        parse_calendar_csv(b"2031-13-01,0\n")
    assert caught.value.errors == [
        "Line 1: “2031-13-01” is not a valid date; write it as YYYY-MM-DD."
    ]


# --- importing into the database ------------------------------------------------------------


def test_import_confirms_the_year_and_changes_working_days(app, scratch):
    with app.app_context():
        assert 2031 not in load_calendar().confirmed_years
        import_and_commit(MAY_DAY_2031.encode("gb18030"))
    assert stored_days(app) == MAY_DAY_2031_DAYS
    with app.app_context():
        calendar = load_calendar()
        assert 2031 in calendar.confirmed_years
        assert not calendar.is_working_day(date(2031, 1, 1))  # 元旦, a Wednesday
        assert calendar.is_working_day(date(2031, 5, 10))  # 调休 Saturday
        assert add_working_days(date(2031, 4, 30), 1) == (date(2031, 5, 6), True)
        assert add_working_days(date(2031, 5, 9), 1) == (date(2031, 5, 10), True)


def test_importing_next_year_removes_it_from_the_unconfirmed_years(app, scratch):
    with app.app_context():
        assert unconfirmed_calendar_years(today=date(2030, 11, 28)) == [2030, 2031]
        import_and_commit(MAY_DAY_2031.encode())
    with app.app_context():
        assert unconfirmed_calendar_years(today=date(2030, 11, 28)) == [2030]


def test_a_file_with_one_bad_line_writes_nothing(app, scratch):
    with app.app_context():
        import_and_commit("2031-10-01,否,国庆节\n".encode())
    before = stored_days(app)
    with app.app_context(), acting_as_system():
        with pytest.raises(CalendarImportError) as caught:
            import_calendar_csv(BROKEN_2031.encode("gb18030"))
        db.session.rollback()
    assert [e[:5] for e in caught.value.errors] == ["第 3 行"]
    assert stored_days(app) == before == {date(2031, 10, 1): (False, "国庆节")}


def test_reimporting_a_year_replaces_its_earlier_entries(app, scratch):
    with app.app_context():
        import_and_commit("2031-01-01,否,元旦\n2031-05-02,否,劳动节\n".encode())
        import_and_commit("2032-01-01,否,元旦\n".encode())
    with app.app_context():
        # The corrected 2031 notice: 2 May is worked after all, 1 May is off, 1 January is gone.
        import_and_commit("2031-05-01,否,劳动节\n2031-05-02,是,劳动节调休上班\n".encode())
    assert stored_days(app) == {
        date(2031, 5, 1): (False, "劳动节"),
        date(2031, 5, 2): (True, "劳动节调休上班"),
        date(2032, 1, 1): (False, "元旦"),  # another year: untouched
    }
    with app.app_context():
        assert load_calendar().is_working_day(date(2031, 1, 1))


# --- the admin's import page ----------------------------------------------------------------


def _upload(client, raw: bytes, *, token: str | None, **kwargs):
    data = {"file": (io.BytesIO(raw), "2031.csv")}
    if token is not None:
        data["csrf_token"] = token
    return client.post("/calendar-import/", data=data, content_type="multipart/form-data", **kwargs)


def test_admin_sees_the_import_form(login_as, scratch):
    response = login_as("admin").get("/calendar-import/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "导入日历" in html
    assert 'type="file"' in html and 'name="file"' in html


def test_admin_imports_a_file_and_the_days_are_stored(app, login_as, scratch):
    client = login_as("admin")
    token = csrf_token_from(client, "/calendar-import/")
    response = _upload(client, MAY_DAY_2031.encode("gb18030"), token=token)
    assert response.status_code == 302
    assert "/holidays/list/" in response.headers["Location"]
    assert stored_days(app) == MAY_DAY_2031_DAYS
    assert confirmed_scratch_years(app) == {2031}
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "日历导入完成：写入 7 天。" in page


def test_admin_uploading_a_broken_file_sees_the_line_and_nothing_is_stored(app, login_as, scratch):
    client = login_as("admin")
    token = csrf_token_from(client, "/calendar-import/")
    response = _upload(client, BROKEN_2031.encode("gb18030"), token=token, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "第 3 行" in html and "2031/05/01" in html
    assert "未导入任何数据：请修正文件后重新上传。" in html
    assert stored_days(app) == {}
    assert confirmed_scratch_years(app) == set()


def test_an_upload_without_csrf_token_is_refused(app, login_as, scratch):
    response = _upload(login_as("admin"), MAY_DAY_2031.encode(), token=None)
    assert response.status_code == 400
    assert stored_days(app) == {}
    assert confirmed_scratch_years(app) == set()


def test_an_operator_may_not_import_a_calendar(app, login_as, scratch):
    client = login_as("operator_a")
    page = client.get("/calendar-import/")
    html = page.get_data(as_text=True)
    assert page.status_code == 403
    assert "您没有执行此操作的权限。" in html
    assert 'name="file"' not in html
    # A valid token of the operator's own session, so that only the permission check refuses.
    token = csrf_token_from(client, "/resetmypassword/form")
    response = _upload(client, MAY_DAY_2031.encode(), token=token)
    assert response.status_code == 403
    assert stored_days(app) == {}
    assert confirmed_scratch_years(app) == set()


# --- the holiday pages ----------------------------------------------------------------------


def test_admin_adds_a_holiday_by_hand(app, login_as, scratch):
    # The "working day" box left unticked, as for every ordinary holiday.
    client = login_as("admin")
    token = csrf_token_from(client, "/holidays/add")
    response = client.post(
        "/holidays/add",
        data={"csrf_token": token, "date": "2031-05-06", "name": "劳动节（补休）"},
    )
    assert response.status_code == 302
    with app.app_context():
        row = db.session.scalar(select(Holiday).where(Holiday.date == date(2031, 5, 6)))
        assert (row.name, row.is_workday, row.source) == ("劳动节（补休）", False, "manual")
        assert not load_calendar().is_working_day(date(2031, 5, 6))  # a Tuesday


def test_admin_adds_an_adjusted_workday_by_hand(app, login_as, scratch):
    client = login_as("admin")
    token = csrf_token_from(client, "/holidays/add")
    response = client.post(
        "/holidays/add",
        data={
            "csrf_token": token,
            "date": "2031-05-10",
            "name": "劳动节调休上班",
            "is_workday": "y",
        },
    )
    assert response.status_code == 302
    assert stored_days(app) == {date(2031, 5, 10): (True, "劳动节调休上班")}


def test_admin_withdraws_the_confirmation_of_a_year(app, login_as, scratch):
    # E.g. the State Council amends a notice: until the corrected days are entered, the year
    # must count Monday to Friday and show "not confirmed" again.
    with app.app_context():
        import_and_commit(MAY_DAY_2031.encode())
        year_id = db.session.scalar(select(CalendarYear.id).where(CalendarYear.year == 2031))
    client = login_as("admin")
    url = f"/calendar-years/edit/{year_id}"
    token = csrf_token_from(client, url)
    response = client.post(url, data={"csrf_token": token, "note": "国务院通知已更正"})
    assert response.status_code == 302
    assert confirmed_scratch_years(app) == set()
    with app.app_context():
        assert add_working_days(date(2031, 4, 30), 1).confirmed is False


def test_an_operator_reads_the_holiday_list(login_as):
    response = login_as("operator_a").get("/holidays/list/")
    assert response.status_code == 200
    assert "国庆节" in response.get_data(as_text=True)


def test_an_operator_may_not_add_a_holiday(app, login_as, scratch):
    client = login_as("operator_a")
    token = csrf_token_from(client, "/resetmypassword/form")
    response = client.post(
        "/holidays/add", data={"csrf_token": token, "date": "2031-05-06", "name": "自己放假"}
    )
    assert response.status_code == 403
    assert stored_days(app) == {}


# --- the CLI --------------------------------------------------------------------------------


def test_cli_imports_a_good_file(app, scratch, tmp_path):
    path = tmp_path / "2031.csv"
    path.write_bytes(MAY_DAY_2031.encode("gb18030"))
    result = app.test_cli_runner().invoke(args=["calendar", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "日历导入完成：写入 7 天" in result.output
    assert stored_days(app) == MAY_DAY_2031_DAYS
    assert confirmed_scratch_years(app) == {2031}


def test_cli_refuses_a_bad_file_and_stores_nothing(app, scratch, tmp_path):
    path = tmp_path / "2031.csv"
    path.write_bytes(BROKEN_2031.encode())
    result = app.test_cli_runner().invoke(args=["calendar", "import", str(path)])
    assert result.exit_code == 1
    assert "第 3 行" in result.stderr
    assert "未导入任何数据" in result.stderr
    assert stored_days(app) == {}
    assert confirmed_scratch_years(app) == set()


# --- the home page --------------------------------------------------------------------------


def test_home_page_warns_that_next_years_calendar_is_not_confirmed(app, login_as):
    next_year = date.today().year + 1
    with app.app_context():
        if next_year in load_calendar().confirmed_years:
            pytest.skip(f"{next_year} is confirmed in this database: nothing to warn about")
    html = login_as("operator_a").get("/").get_data(as_text=True)
    # "2027 年日历未确认：…" (or "2031、2032 年日历未确认：…" when this year lacks data too)
    assert f"{next_year} 年日历未确认" in html
