from flask import flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.core.calendar.models import CALENDAR_SOURCES, CalendarYear, Holiday
from app.core.calendar.service import (
    CalendarImportError,
    forget_cached_calendar,
    import_calendar_csv,
    load_calendar,
)
from app.core.errors import DomainError
from app.extensions import db
from app.security.base_views import AppModelRestApi, AppModelView
from app.security.scope import AppInterface

_LABELS = {
    "date": _l("Date"),
    "is_workday": _l("Working day"),
    "name": _l("Name"),
    "source": _l("Source"),
    "source_label": _l("Source"),
    "year": _l("Year"),
    "confirmed": _l("Confirmed"),
    "note": _l("Note"),
    "created_on": _l("Created on"),
    "changed_on": _l("Changed on"),
    "created_by": _l("Created by"),
    "changed_by": _l("Changed by"),
}


def _check_holiday(item):
    if item.date is None:
        raise DomainError(_("The date is required."))
    if not (item.name or "").strip():
        raise DomainError(_("The name is required, e.g. 国庆节 or 国庆节调休上班."))
    item.source = "manual"


def _check_calendar_year(item):
    if item.year is None or not 2000 <= item.year <= 2100:
        raise DomainError(_("The year must be between 2000 and 2100."))
    item.source = "manual"


class HolidayView(AppModelView):
    route_base = "/holidays"
    datamodel = AppInterface(Holiday)
    class_permission_name = "Holiday"
    list_title = _l("Holidays and adjusted workdays")
    show_title = _l("Holiday")
    add_title = _l("Add holiday or adjusted workday")
    edit_title = _l("Edit holiday or adjusted workday")
    label_columns = _LABELS
    description_columns = {
        "is_workday": _l("Ticked: a weekend day that is worked (调休上班). Not ticked: a day off."),
    }
    list_columns = ["date", "name", "is_workday", "source_label"]
    show_columns = [
        "date",
        "name",
        "is_workday",
        "source_label",
        "created_on",
        "created_by",
        "changed_on",
        "changed_by",
    ]
    add_columns = ["date", "name", "is_workday"]
    edit_columns = add_columns
    search_columns = ["date", "name", "is_workday", "source"]
    order_columns = ["date", "name", "is_workday", "source"]
    base_order = ("date", "desc")
    item_rule = _check_holiday

    def post_add(self, item):
        forget_cached_calendar()

    post_update = post_delete = post_add


class HolidayApi(AppModelRestApi):
    resource_name = "holiday"
    datamodel = AppInterface(Holiday)
    class_permission_name = "Holiday"
    label_columns = _LABELS
    description_columns = HolidayView.description_columns
    list_columns = ["id", "date", "name", "is_workday", "source"]
    show_columns = list_columns
    add_columns = ["date", "name", "is_workday"]
    edit_columns = add_columns
    order_columns = ["date", "name"]
    search_columns = ["date", "name", "is_workday", "source"]
    base_order = ("date", "desc")
    item_rule = _check_holiday


class CalendarYearView(AppModelView):
    route_base = "/calendar-years"
    datamodel = AppInterface(CalendarYear)
    class_permission_name = "CalendarYear"
    list_title = _l("Calendar years")
    show_title = _l("Calendar year")
    add_title = _l("Add calendar year")
    edit_title = _l("Edit calendar year")
    label_columns = _LABELS
    description_columns = {
        "confirmed": _l(
            "Tick when every holiday and adjusted workday of the year has been entered from the "
            "State Council's notice. Until then deadlines in this year count Monday to Friday "
            "and are marked “calendar not confirmed”."
        ),
    }
    list_columns = ["year", "confirmed", "source_label", "note"]
    show_columns = [
        "year",
        "confirmed",
        "source_label",
        "note",
        "created_on",
        "created_by",
        "changed_on",
        "changed_by",
    ]
    add_columns = ["year", "confirmed", "note"]
    edit_columns = ["confirmed", "note"]
    search_columns = ["year", "confirmed", "source", "note"]
    order_columns = ["year", "confirmed", "source"]
    base_order = ("year", "desc")

    item_rule = _check_calendar_year

    def post_add(self, item):
        forget_cached_calendar()

    post_update = post_delete = post_add


class CalendarImportView(BaseView):
    """Upload a CSV (date,is_workday,name) with a year's holidays and adjusted workdays."""

    route_base = "/calendar-import"
    class_permission_name = "CalendarYear"
    method_permission_name = {"form": "write", "upload": "write"}
    default_view = "form"

    @expose("/", methods=["GET"])
    @has_access
    def form(self):
        calendar = load_calendar()
        return self.render_template(
            "calendar_import.html",
            confirmed_years=sorted(calendar.confirmed_years, reverse=True)[:5],
            sources=CALENDAR_SOURCES,
        )

    @expose("/", methods=["POST"])
    @has_access
    def upload(self):
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            flash(_("Choose a CSV file to import."), "danger")
            return redirect(url_for(".form"))
        try:
            written = import_calendar_csv(upload.read())
        except CalendarImportError as exc:
            db.session.rollback()
            for message in exc.errors[:50]:
                flash(message, "danger")
            flash(_("Nothing was imported: correct the file and upload it again."), "warning")
            return redirect(url_for(".form"))
        db.session.commit()
        flash(_("Calendar imported: %(n)d days written.", n=written), "success")
        return redirect(url_for("HolidayView.list"))
