"""R11.3: a result is entered within 20 working days of the check (official working-day
calendar: weekends, holidays and 调休 workdays)."""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _

from app.core.calendar import add_working_days, working_days_between


def due_date(inspection_date: dt.date, working_days: int):
    """(due date, calendar confirmed for every year it crosses)."""
    return add_working_days(inspection_date, working_days)


def working_days_left(record, today: dt.date | None = None) -> int | None:
    """Working days from today to the due date (negative: overdue), for a record not yet
    entered; None without an inspection date."""
    if record.due_on is None:
        return None
    return working_days_between(today or dt.date.today(), record.due_on).days


def entered_late_by(record) -> int:
    """Working days a submitted record came after its due date (0: on time)."""
    if record.due_on is None or record.submitted_on is None:
        return 0
    return max(0, working_days_between(record.due_on, record.submitted_on.date()).days)


def deadline_text(record, today: dt.date | None = None) -> str:
    """剩余 N 个工作日 / 逾期 N 个工作日 for a record being entered; 按期录入 / 逾期 N 个工作日录入
    once entered."""
    if record.status in ("submitted", "reviewed"):
        late = entered_late_by(record)
        return _("Entered %(n)d working days late", n=late) if late else _("Entered on time")
    left = working_days_left(record, today)
    if left is None:
        return _("No inspection date yet")
    text = (
        _("%(n)d working days left", n=left)
        if left >= 0
        else _("%(n)d working days overdue", n=-left)
    )
    if not record.due_confirmed:
        text += _(" (calendar not confirmed)")
    return text


def is_overdue(record, today: dt.date | None = None) -> bool:
    if record.status in ("submitted", "reviewed"):
        return entered_late_by(record) > 0
    left = working_days_left(record, today)
    return left is not None and left < 0
