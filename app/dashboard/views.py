"""The dashboard page (R9.5): rates, counts, late plans, overdue records and the blacklist per
department and for the district, with two charts drawn by app/static/js/dashboard.js from the
JSON in the page's `data-dashboard` attribute (no inline script, no external asset)."""

from __future__ import annotations

import json

from flask import request
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.dashboard.services import build_dashboard, chart_data, parse_year
from app.planning.models import PLAN_STATUSES
from app.security.scope import current_actor, departments_in_scope

LABELS = {
    "planned": _l("Checks planned"),
    "inspected": _l("Checks done"),
    "entered": _l("Records entered"),
    "published": _l("Results published"),
    "overdue_unentered": _l("Overdue, not entered"),
    "closed": _l("Checks closed"),
    "completion_rate": _l("Completion rate"),
    "entry_rate": _l("Entry rate"),
    "closure_rate": _l("Closure rate"),
}


def _echarts_locale() -> str:
    locale = get_locale()
    return "ZH" if locale is None or locale.language == "zh" else "EN"


class DashboardView(BaseView):
    """For Leaders, JointOffice and Operators, each within their department scope."""

    route_base = "/dashboard"
    class_permission_name = "Dashboard"
    method_permission_name = {"index": "read"}
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        year = parse_year(request.args.get("year"))
        board = build_dashboard(year, departments_in_scope(), current_actor())
        labels = {key: str(label) for key, label in LABELS.items()}
        data = chart_data(board, labels, _("Total"))
        data["locale"] = _echarts_locale()
        data["titles"] = {
            "rates": _("Rates per department, %(year)d", year=year),
            "trend": _("Cumulative progress of the %(year)d tasks per month", year=year),
        }
        sm = self.appbuilder.sm
        return self.render_template(
            "dashboard/index.html",
            board=board,
            year=year,
            labels=LABELS,
            plan_statuses=PLAN_STATUSES,
            chart_json=json.dumps(data, ensure_ascii=False),
            can_read_tasks=sm.has_access("can_read", "SpotCheckTask"),
            can_read_plans=sm.has_access("can_read", "AnnualPlan"),
        )
