"""Working-day arithmetic (R9.6: 10 working days; R11.3: 20 working days).

Conventions, used by every deadline in the system:
- `add_working_days(start, n)` is the n-th working day after `start`; `start` itself is never
  counted (a check on Friday with n=1 is due the next working day).
- `working_days_between(a, b)` counts the working days d with a < d <= b, negative when b < a,
  so that `working_days_between(a, add_working_days(a, n).date) == n`.
Both results carry `confirmed`: False when any year they touched has no confirmed holiday data,
in which case that year is counted Monday to Friday.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from typing import NamedTuple

from flask import g, has_app_context
from flask_babel import gettext as _
from sqlalchemy import select

from app.core.text import has_control_characters
from app.core.uploads import UploadError, decode_bytes
from app.extensions import db


class WorkingDayResult(NamedTuple):
    date: dt.date
    confirmed: bool


class WorkingDayCount(NamedTuple):
    days: int
    confirmed: bool


class WorkingCalendar:
    """Pure calendar: `special` maps a date to True (works although weekend) or False (rests
    although weekday); `confirmed_years` are the years whose data is official."""

    def __init__(self, special: dict[dt.date, bool], confirmed_years: Iterable[int]):
        self.special = dict(special)
        self.confirmed_years = frozenset(confirmed_years)

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.special:
            return self.special[day]
        return day.weekday() < 5

    def add_working_days(self, start: dt.date, n: int) -> WorkingDayResult:
        if n < 0:
            raise ValueError("n must not be negative")
        day, years = start, {start.year}
        remaining = n
        while remaining:
            day += dt.timedelta(days=1)
            years.add(day.year)
            if self.is_working_day(day):
                remaining -= 1
        return WorkingDayResult(day, years <= self.confirmed_years)

    def working_days_before(self, end: dt.date, n: int) -> WorkingDayResult:
        """The n-th working day before `end` (`end` itself is never counted), so that
        `working_days_between(working_days_before(end, n).date, end) == n` when `end` is a
        working day."""
        if n < 0:
            raise ValueError("n must not be negative")
        day, years = end, {end.year}
        remaining = n
        while remaining:
            day -= dt.timedelta(days=1)
            years.add(day.year)
            if self.is_working_day(day):
                remaining -= 1
        return WorkingDayResult(day, years <= self.confirmed_years)

    def working_days_between(self, a: dt.date, b: dt.date) -> WorkingDayCount:
        sign = 1
        if b < a:
            a, b, sign = b, a, -1
        count, day = 0, a
        while day < b:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        years = set(range(a.year, b.year + 1))
        return WorkingDayCount(sign * count, years <= self.confirmed_years)


def load_calendar() -> WorkingCalendar:
    """The calendar from the database, cached for the current request / CLI command."""
    from app.core.calendar.models import CalendarYear, Holiday

    cached = g.get("_working_calendar") if has_app_context() else None
    if cached is not None:
        return cached
    special = dict(db.session.execute(select(Holiday.date, Holiday.is_workday)).all())
    confirmed = db.session.scalars(
        select(CalendarYear.year).where(CalendarYear.confirmed.is_(True))
    ).all()
    calendar = WorkingCalendar(special, confirmed)
    if has_app_context():
        g._working_calendar = calendar
    return calendar


def unconfirmed_calendar_years(today: dt.date | None = None) -> list[int]:
    """This year and next, where their holidays are not confirmed yet: deadlines computed in
    them may move once the State Council publishes the year's arrangement."""
    today = today or dt.date.today()
    confirmed = load_calendar().confirmed_years
    return [y for y in (today.year, today.year + 1) if y not in confirmed]


def forget_cached_calendar() -> None:
    if has_app_context():
        g.pop("_working_calendar", None)


def add_working_days(start: dt.date, n: int) -> WorkingDayResult:
    return load_calendar().add_working_days(start, n)


def working_days_between(a: dt.date, b: dt.date) -> WorkingDayCount:
    return load_calendar().working_days_between(a, b)


def working_days_before(end: dt.date, n: int) -> WorkingDayResult:
    return load_calendar().working_days_before(end, n)


# --- keeping the table filled ---------------------------------------------------------------


def chinese_calendar_days() -> tuple[dict[dt.date, tuple[bool, str]], set[int]]:
    """Every special day the chinese-calendar package knows, with Chinese names."""
    from chinese_calendar.constants import Holiday as Festival
    from chinese_calendar.constants import holidays, workdays

    def chinese(name):
        try:
            return Festival(name).chinese
        except ValueError:
            return name

    days = {day: (False, chinese(name)) for day, name in holidays.items()}
    days.update({day: (True, f"{chinese(name)}调休上班") for day, name in workdays.items()})
    return days, {day.year for day in days}


def store_days(days: dict[dt.date, tuple[bool, str]], years: set[int], source: str) -> int:
    """Upsert the given days and mark the years confirmed. Days of those years that the new
    data no longer lists are removed (a corrected notice replaces the old one). Returns the
    number of rows written. The caller commits."""
    from app.core.calendar.models import CalendarYear, Holiday

    existing = (
        {
            h.date: h
            for h in db.session.scalars(
                select(Holiday).where(
                    Holiday.date >= dt.date(min(years), 1, 1),
                    Holiday.date <= dt.date(max(years), 12, 31),
                )
            )
            if h.date.year in years
        }
        if years
        else {}
    )
    written = 0
    for day, (is_workday, name) in sorted(days.items()):
        row = existing.pop(day, None)
        if row is None:
            db.session.add(Holiday(date=day, is_workday=is_workday, name=name, source=source))
            written += 1
        elif (row.is_workday, row.name) != (is_workday, name):
            row.is_workday, row.name, row.source = is_workday, name, source
            written += 1
    for stale in existing.values():
        db.session.delete(stale)
    for year in sorted(years):
        row = db.session.scalar(select(CalendarYear).where(CalendarYear.year == year))
        if row is None:
            db.session.add(CalendarYear(year=year, confirmed=True, source=source))
        elif not row.confirmed or row.source != source:
            row.confirmed, row.source = True, source
    forget_cached_calendar()
    return written


def seed_from_package() -> int:
    """Fill the years chinese-calendar covers that are not in the table yet (idempotent;
    years an admin already keeps are left alone)."""
    from app.core.calendar.models import CalendarYear

    days, years = chinese_calendar_days()
    known = set(db.session.scalars(select(CalendarYear.year)))
    new_years = years - known
    if not new_years:
        return 0
    return store_days(
        {d: v for d, v in days.items() if d.year in new_years}, new_years, "chinese-calendar"
    )


class CalendarImportError(ValueError):
    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


_TRUE = {"1", "true", "yes", "y", "是", "上班", "工作日", "调休上班"}
_FALSE = {"0", "false", "no", "n", "否", "休息", "放假", "节假日", "休"}
_HEADERS = {
    "date": "date",
    "日期": "date",
    "is_workday": "is_workday",
    "是否工作日": "is_workday",
    "name": "name",
    "名称": "name",
    "节日": "name",
}


def decode_upload(raw: bytes) -> str:
    """UTF-8 (with or without BOM) or GB18030, the encodings Excel on a Chinese desktop writes
    (detected by app.core.uploads, shared with the directory importer)."""
    try:
        return decode_bytes(raw)
    except UploadError as exc:
        raise CalendarImportError([str(exc)]) from None


def parse_calendar_csv(raw: bytes) -> tuple[dict[dt.date, tuple[bool, str]], set[int]]:
    """Parse `date,is_workday,name` rows (header optional, Chinese or English). All or nothing:
    every problem is reported with its line number and nothing is returned if there is one."""
    text = decode_upload(raw)
    rows = list(csv.reader(io.StringIO(text)))
    errors: list[str] = []
    days: dict[dt.date, tuple[bool, str]] = {}
    start = 0
    if rows and rows[0] and rows[0][0].strip().lower() in _HEADERS:
        header = [_HEADERS.get(c.strip().lower()) for c in rows[0]]
        if header[:2] != ["date", "is_workday"]:
            errors.append(
                _("Line 1: the header must be “日期,是否工作日,名称” (date,is_workday,name).")
            )
        start = 1
    for lineno, row in enumerate(rows[start:], start=start + 1):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < 2:
            errors.append(
                _("Line %(line)d: the columns date and is_workday are both needed.", line=lineno)
            )
            continue
        date_text, flag = row[0].strip(), row[1].strip().lower()
        try:
            day = dt.date.fromisoformat(date_text)
        except ValueError:
            errors.append(
                _(
                    "Line %(line)d: “%(value)s” is not a valid date; write it as YYYY-MM-DD.",
                    line=lineno,
                    value=date_text,
                )
            )
            continue
        if flag in _TRUE:
            is_workday = True
        elif flag in _FALSE:
            is_workday = False
        else:
            errors.append(
                _(
                    "Line %(line)d: is_workday must be 1/0, 是/否 or 上班/休息, not “%(value)s”.",
                    line=lineno,
                    value=row[1].strip(),
                )
            )
            continue
        name = row[2].strip() if len(row) > 2 else ""
        if has_control_characters(name):
            errors.append(
                _("Line %(line)d: the name contains invisible control characters.", line=lineno)
            )
            continue
        if len(name) > 64:
            errors.append(
                _("Line %(line)d: the name is too long (at most 64 characters).", line=lineno)
            )
            continue
        if day in days:
            errors.append(
                _(
                    "Line %(line)d: the date %(date)s appears twice.",
                    line=lineno,
                    date=day.isoformat(),
                )
            )
            continue
        days[day] = (is_workday, name or ("调休上班" if is_workday else "节假日"))
    if not days and not errors:
        errors.append(_("The file contains no dates."))
    if errors:
        raise CalendarImportError(errors)
    return days, {d.year for d in days}


def import_calendar_csv(raw: bytes, source: str = "import") -> int:
    days, years = parse_calendar_csv(raw)
    return store_days(days, years, source)
