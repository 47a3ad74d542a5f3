"""What earlier checks found, as the draw needs it: the frequency rule (避免重复检查) leaves out
targets that a check found without problems within the plan's number of months (R9.3: 防止任意检查和执法扰民). Special
targets (R9.7) are drawn harder, never left out by this rule."""

from __future__ import annotations

import datetime as dt

from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select

from app.inspections.models import CLEAN_RESULT, ENTERED_RECORD_STATUSES, InspectionRecord


def clean_since(months: int | None, today: dt.date) -> dt.date | None:
    """The first day of the window, or None when the rule is off."""
    if not months:
        return None
    return today - relativedelta(months=months)


def clean_checks_query(since: dt.date):
    """SELECT target_id, latest clean inspection date: entered records without problems on or
    after `since`."""
    return (
        select(InspectionRecord.target_id, func.max(InspectionRecord.inspection_date))
        .where(
            InspectionRecord.status.in_(ENTERED_RECORD_STATUSES),
            InspectionRecord.result_code == CLEAN_RESULT,
            InspectionRecord.inspection_date >= since,
        )
        .group_by(InspectionRecord.target_id)
    )


def clean_target_ids(since: dt.date):
    """SELECT target_id subquery for NOT IN filters."""
    return clean_checks_query(since).with_only_columns(InspectionRecord.target_id)
