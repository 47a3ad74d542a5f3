"""List filters that a department actually uses on the directories."""

import datetime as dt

from dateutil.relativedelta import relativedelta
from flask_appbuilder.models.filters import BaseFilter
from flask_babel import lazy_gettext as _l

from app.directory.models import ACTIVE_STATUS, LIVE_STATUS

# Months a "within N months" filter reaches back at most: a century, and no date arithmetic
# overflow for whatever number is typed into the search box.
MAX_MONTHS = 1200


def _since(value) -> dt.date:
    """The first day of the last N months; N is 12 when the value is empty or no number."""
    try:
        months = int(value) if str(value).strip() else 12
    except (TypeError, ValueError):
        months = 12
    return dt.date.today() - relativedelta(months=min(max(months, 0), MAX_MONTHS))


class FilterInspectedWithinMonths(BaseFilter):
    """last_inspected_on within the last N months (12 when the value is empty)."""

    name = _l("Inspected within the last N months")
    arg_name = "within_months"

    def apply(self, query, value):
        return query.filter(self.model.last_inspected_on >= _since(value))


class FilterNotInspectedWithinMonths(FilterInspectedWithinMonths):
    name = _l("Not inspected within the last N months")
    arg_name = "not_within_months"

    def apply(self, query, value):
        column = self.model.last_inspected_on
        return query.filter(column.is_(None) | (column < _since(value)))


class FilterTargetDrawable(BaseFilter):
    """是 = drawable (registration status 存续), 否 = not drawable."""

    name = _l("Drawable (是/否)")
    arg_name = "target_drawable"

    def apply(self, query, value):
        wanted = str(value).strip().lower() not in {"否", "0", "no", "false", "n"}
        column = self.model.registration_status
        return query.filter(column == LIVE_STATUS if wanted else column != LIVE_STATUS)


class FilterInspectorDrawable(BaseFilter):
    """是 = drawable today (在岗 and certificate valid), 否 = not drawable."""

    name = _l("Drawable (是/否)")
    arg_name = "inspector_drawable"

    def apply(self, query, value):
        wanted = str(value).strip().lower() not in {"否", "0", "no", "false", "n"}
        model, today = self.model, dt.date.today()
        drawable = (model.status == ACTIVE_STATUS) & (model.certificate_expiry >= today)
        return query.filter(drawable if wanted else ~drawable)


class FilterContainsTerm(BaseFilter):
    """A term inside a multi-value text column such as flags (投诉举报多、失信)."""

    name = _l("Includes")
    arg_name = "includes"

    def apply(self, query, value):
        term = str(value or "").strip()
        if not term:
            return query
        return query.filter(getattr(self.model, self.column_name).contains(term))


class FilterInspectorAccounts(BaseFilter):
    """The logins an inspector may be linked to: accounts with the Inspector role in the user's
    departments (the form's choices; check_inspector refuses any other on every path)."""

    name = _l("Inspector accounts of your departments")
    arg_name = "inspector_accounts"

    def apply(self, query, value):
        from sqlalchemy import select

        from app.security import roles
        from app.security.models import user_department
        from app.security.scope import ALL, departments_in_scope

        query = query.filter(self.model.roles.any(name=roles.INSPECTOR))
        scope = departments_in_scope()
        if scope is ALL:
            return query
        members = select(user_department.c.user_id).where(
            user_department.c.department_id.in_(scope or {-1})
        )
        return query.filter(self.model.id.in_(members))
