"""Staff pages of disclosure: the filings with the joint-meeting office (R9.2, R9.5)."""

from __future__ import annotations

import datetime as dt

from flask import flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from sqlalchemy import select

from app.core.audit import log_event
from app.core.errors import DomainError
from app.disclosure.exports import csv_response, requested_encoding
from app.disclosure.filings import PROGRESS_HEADERS, progress_rows
from app.extensions import db
from app.planning.models import AnnualPlan
from app.security.scope import ALL, departments_in_scope, scope_clause


def _year() -> int:
    try:
        year = int(request.args.get("year") or dt.date.today().year)
    except ValueError:
        return dt.date.today().year
    return year if 2000 <= year <= 2100 else dt.date.today().year


class FilingView(BaseView):
    """备案与报送: the progress report for the chosen year (CSV, for the user's departments; all
    of them for the joint-meeting office) and the plans filed, with the SHA-256 of each filing."""

    route_base = "/filings"
    class_permission_name = "Filing"
    method_permission_name = {"index": "read", "progress": "read"}
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        year = _year()
        query = select(AnnualPlan).where(AnnualPlan.filed_on.is_not(None))
        clause = scope_clause(AnnualPlan, departments_in_scope())
        if clause is not None:
            query = query.where(clause)
        plans = db.session.scalars(
            query.order_by(AnnualPlan.year.desc(), AnnualPlan.department_id)
        ).all()
        return self.render_template("disclosure/filings.html", year=year, plans=plans)

    @expose("/progress.csv")
    @has_access
    def progress(self):
        year = _year()
        scope = departments_in_scope()
        try:
            requested_encoding()
        except DomainError as exc:
            flash(str(exc), "danger")
            return redirect(url_for(".index", year=year))
        # Unpublished figures leave the system: who, what and for which departments (R13.2).
        log_event(
            "export",
            "progress_report",
            year,
            detail={
                "year": year,
                "departments": "all" if scope is ALL else sorted(scope),
                "encoding": request.args.get("encoding") or "utf-8",
            },
        )
        db.session.commit()
        rows = list(progress_rows(year, None if scope is ALL else scope))
        return csv_response(f"抽查工作进度-{year}.csv", PROGRESS_HEADERS, rows)
