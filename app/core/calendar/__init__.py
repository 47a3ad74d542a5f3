"""The official working-day calendar (weekends, public holidays and 调休 workdays)."""

from app.core.calendar.service import (  # noqa: F401
    WorkingCalendar,
    WorkingDayCount,
    WorkingDayResult,
    add_working_days,
    working_days_before,
    working_days_between,
)
