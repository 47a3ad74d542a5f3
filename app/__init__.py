"""Application factory: the one place that wires extensions, views, APIs and CLI commands.

Nothing web-related is imported at module level: `python -m app.draws.verify` must run on a
machine that has only Python's standard library.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask
    from flask_appbuilder import AppBuilder

ROOT = Path(__file__).resolve().parent.parent


def _bureau_time() -> None:
    """Every time the system writes and shows is the bureau's: China Standard Time (UTC+8, no
    daylight saving), whatever zone the server's clock is set to. Naive datetimes (FAB's
    created_on, the audit log, decisions, draws) are therefore Beijing time, as the draw ledger's
    explicit +08:00 is. `TIMEZONE` (a POSIX TZ value) overrides it."""
    os.environ["TZ"] = os.environ.get("TIMEZONE", "CST-8")
    if hasattr(time, "tzset"):
        time.tzset()


_bureau_time()


def _drop_menu_entry(appbuilder, name: str) -> None:
    """FAB's menu entry for a page no role of ours may open (FAB's user groups are not used:
    roles are given to users directly, role_rules.py), which would answer 403."""

    def prune(items):
        items[:] = [i for i in items if i.name != name]
        for item in items:
            prune(item.childs)

    prune(appbuilder.menu.menu)


def menu_urls(appbuilder) -> list[str]:
    """The URL of every page the menu links to, in the menu's order (inside a request
    context): what the page tests and bench/pages.py open for each role."""
    urls: list[str] = []

    def walk(items):
        for item in items:
            if item.childs:
                walk(item.childs)
            elif item.name != "-" and (item.baseview or item.href):
                url = item.get_url()
                if url.startswith("/") and url not in urls:
                    urls.append(url)

    walk(appbuilder.menu.get_list())
    return urls


def create_app(overrides: dict | None = None) -> Flask:
    from flask import Flask
    from flask_appbuilder import AppBuilder

    from app.extensions import csrf, db, migrate
    from config import INSTANCE_DIR, build_config

    app = Flask(__name__, instance_path=str(INSTANCE_DIR), instance_relative_config=False)
    app.config.from_mapping(build_config())
    if overrides:
        app.config.update(overrides)

    from app.core import personal_data

    personal_data.init_app(app)

    from app.security.passwords import validate_password

    app.config["FAB_PASSWORD_COMPLEXITY_VALIDATOR"] = validate_password

    if app.config.get("PROXY_FIX_X_FOR"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_FIX_X_FOR"])

    # <int:pk> in every route (ours and FAB's): an id beyond the id columns' range names no row
    # (404), instead of failing in the database.
    from werkzeug.routing import IntegerConverter

    from app.core.models import MAX_ROW_ID

    class RowIdConverter(IntegerConverter):
        def __init__(self, url_map, *args, **kwargs):
            kwargs.setdefault("max", MAX_ROW_ID)
            super().__init__(url_map, *args, **kwargs)

    app.url_map.converters["int"] = RowIdConverter

    from app.core.i18n import name_the_blank_choice

    name_the_blank_choice()
    import_models()
    db.init_app(app)
    _sqlite_readers_beside_the_writer(app)
    migrate.init_app(
        app, db, directory=str(ROOT / "migrations"), compare_type=True, render_as_batch=True
    )
    # Before AppBuilder: FAB exempts its REST blueprints only if CSRFProtect is already there.
    csrf.init_app(app)
    # Registers the `database://` storage of the limits package before FAB's limiter opens it.
    from app.security import throttle  # noqa: F401

    with app.app_context():
        appbuilder = AppBuilder(base_template="layout.html")
        appbuilder.init_app(app, db.session)
        register_views(appbuilder)
        _drop_menu_entry(appbuilder, "List Groups")
        from app.security import permission_labels

        permission_labels.install()
        from app.security.role_rules import init_role_rules
        from app.security.sessions import init_session_versions

        init_session_versions(app)
        from app.security.session_controls import init_session_controls

        init_session_controls(app)
        init_role_rules()

    from app.directory.queue import bind_app

    bind_app(app)  # background imports of this process run in this application

    from app.disclosure import ledger_public  # noqa: F401  (the draw ledger's routes)
    from app.disclosure.public import bp as public_pages

    app.register_blueprint(public_pages)
    from app.core.request_checks import (
        refuse_bad_paging,
        refuse_deep_json,
        refuse_impossible_row_ids,
        refuse_nul_characters,
    )
    from app.security.headers import init_security_headers
    from app.security.manager import check_api_login_body
    from app.security.session_controls import check_browser_session, hold_until_password_changed
    from app.security.sessions import require_csrf_on_session_api_writes
    from app.security.throttle import refuse_locked_accounts
    from app.security.two_factor import hold_until_enrolled

    app.before_request(refuse_deep_json)
    app.before_request(require_csrf_on_session_api_writes)
    app.before_request(check_api_login_body)
    app.before_request(refuse_locked_accounts)
    app.before_request(check_browser_session)
    app.before_request(hold_until_enrolled)
    app.before_request(hold_until_password_changed)
    app.before_request(refuse_nul_characters)
    app.before_request(refuse_impossible_row_ids)
    app.before_request(refuse_bad_paging)

    init_security_headers(app)

    def ui_language() -> str:
        from flask_babel import get_locale

        locale = get_locale()
        return locale.language if locale else "zh"

    def first_in_page(name: str) -> bool:
        """True the first time a template asks for `name` in this request: FAB includes its
        confirmation dialog from the base layout and again from show widgets (duplicate ids)."""
        from flask import g

        seen = g.setdefault("_rendered_once", set())
        if name in seen:
            return False
        seen.add(name)
        return True

    app.jinja_env.globals["ui_language"] = ui_language
    app.jinja_env.globals["first_in_page"] = first_in_page
    from app.core.confirm import init_confirm

    init_confirm(app)
    register_cli(app)
    from app.core.errors import register_error_pages

    register_error_pages(app)
    from app.draws.confidential import write_pending

    app.after_request(write_pending)  # R13.1: views of unpublished drawn lists
    app.add_url_rule(
        "/favicon.ico",
        "favicon",
        lambda: app.send_static_file("favicon.png"),
    )
    return app


def _sqlite_readers_beside_the_writer(app) -> None:
    """SQLite in write-ahead-log mode: a long write (a background import of 100,000 rows) does
    not lock the readers out, so every page, the import's progress included, keeps working."""
    from sqlalchemy import event

    from app.extensions import db

    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return

    @event.listens_for(engine, "connect")
    def _write_ahead_log(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()


def import_models() -> None:
    """Every model module, so that db.metadata is complete for Alembic and the audit recorder."""
    import app.core.audit.models  # noqa: F401
    import app.core.audit.recorder  # noqa: F401  (registers the session events)
    import app.core.calendar.models  # noqa: F401
    import app.core.decisions  # noqa: F401
    import app.credit.models  # noqa: F401
    import app.directory.import_jobs  # noqa: F401
    import app.directory.models  # noqa: F401
    import app.draws.models  # noqa: F401
    import app.inspections.archive  # noqa: F401  (the archive guard on every flush)
    import app.inspections.models  # noqa: F401
    import app.planning.models  # noqa: F401
    import app.security.models  # noqa: F401
    import app.security.write_scope  # noqa: F401  (department scope on every flush)


def register_views(appbuilder: AppBuilder) -> None:
    from flask_babel import lazy_gettext as _l

    from app.core.audit.views import AuditLogView, AuditReviewView
    from app.core.calendar.views import (
        CalendarImportView,
        CalendarYearView,
        HolidayApi,
        HolidayView,
    )
    from app.credit.api import BlacklistApi
    from app.credit.views import BlacklistView, BlacklistWorkflowView, CreditRecordView
    from app.dashboard.views import DashboardView
    from app.directory.import_views import DirectoryImportView
    from app.directory.views import (
        AreaView,
        ConflictApi,
        ConflictView,
        InspectionItemApi,
        InspectionItemView,
        InspectorApi,
        InspectorView,
        ItemRevisionView,
        ItemWorkflowView,
        TargetApi,
        TargetView,
    )
    from app.disclosure.views import FilingView
    from app.draws.views import DrawApi, DrawView, MyAssignmentsView, TaskDrawView
    from app.inspections.api import (
        InspectionRecordApi,
        InspectionSummaryApi,
        PenaltyApi,
        RectificationApi,
    )
    from app.inspections.views import (
        CaseWorkflowView,
        InspectionRecordView,
        InspectionSummaryView,
        PenaltyView,
        RecordWorkflowView,
        RectificationCaseView,
        SummaryWorkflowView,
        TaskResultsView,
    )
    from app.planning.views import (
        AnnualPlanApi,
        AnnualPlanView,
        PlanLineView,
        PlanWorkflowView,
        ProgressView,
        SpotCheckTaskApi,
        SpotCheckTaskView,
        TaskApprovalView,
        TaskMaterialView,
    )
    from app.security.two_factor_views import TwoFactorView
    from app.security.views import DepartmentApi, DepartmentView

    appbuilder.add_view_no_menu(TwoFactorView)
    organization = dict(
        category="Organization", category_label=_l("Organization"), category_icon="fa-sitemap"
    )
    appbuilder.add_view(
        DepartmentView, "Departments", label=_l("Departments"), icon="fa-building", **organization
    )
    calendar = dict(
        category="Calendar", category_label=_l("Working-day calendar"), category_icon="fa-calendar"
    )
    appbuilder.add_view(
        HolidayView,
        "Holidays",
        label=_l("Holidays and adjusted workdays"),
        icon="fa-calendar-o",
        **calendar,
    )
    appbuilder.add_view(
        CalendarYearView,
        "Calendar Years",
        label=_l("Calendar years"),
        icon="fa-check-square-o",
        **calendar,
    )
    appbuilder.add_view(
        CalendarImportView,
        "Import Calendar",
        label=_l("Import calendar"),
        icon="fa-upload",
        **calendar,
    )
    appbuilder.add_view(
        AuditLogView,
        "Audit Log",
        label=_l("Audit log"),
        icon="fa-history",
        category="System",
        category_label=_l("System"),
        category_icon="fa-cogs",
    )
    appbuilder.add_view(
        AuditReviewView,
        "Audit Review",
        label=_l("Audit review"),
        icon="fa-check-square-o",
        category="System",
    )

    appbuilder.add_view(
        AreaView, "Areas", label=_l("Areas (街道/镇)"), icon="fa-map-marker", **organization
    )

    directory = dict(
        category="Directory",
        category_label=_l("Item list and directories"),
        category_icon="fa-book",
    )
    appbuilder.add_view(
        InspectionItemView,
        "Inspection Items",
        label=_l("Inspection item list"),
        icon="fa-list",
        **directory,
    )
    appbuilder.add_view(
        ItemRevisionView,
        "Item Revisions",
        label=_l("Item revisions"),
        icon="fa-code-fork",
        **directory,
    )
    appbuilder.add_view(
        InspectorView, "Inspectors", label=_l("Inspector roster"), icon="fa-id-badge", **directory
    )
    appbuilder.add_view(
        TargetView, "Targets", label=_l("Target directory"), icon="fa-industry", **directory
    )
    appbuilder.add_view(
        ConflictView,
        "Conflicts",
        label=_l("Conflicts of interest (回避)"),
        icon="fa-user-times",
        **directory,
    )
    appbuilder.add_view(
        DirectoryImportView, "Import", label=_l("Bulk import"), icon="fa-upload", **directory
    )
    appbuilder.add_view_no_menu(ItemWorkflowView)

    planning = dict(
        category="Planning",
        category_label=_l("Plans and tasks"),
        category_icon="fa-calendar-check-o",
    )
    appbuilder.add_view(
        AnnualPlanView,
        "Annual Plans",
        label=_l("Annual spot-check plans"),
        icon="fa-file-text-o",
        **planning,
    )
    appbuilder.add_view(
        PlanLineView, "Plan Lines", label=_l("Plan lines"), icon="fa-list-ol", **planning
    )
    appbuilder.add_view(
        SpotCheckTaskView, "Tasks", label=_l("Spot-check tasks"), icon="fa-tasks", **planning
    )
    appbuilder.add_view(
        ProgressView, "Progress", label=_l("Progress (R9.5)"), icon="fa-bar-chart", **planning
    )
    appbuilder.add_view(
        DashboardView, "Dashboard", label=_l("Dashboard"), icon="fa-dashboard", **planning
    )
    appbuilder.add_view_no_menu(PlanWorkflowView)
    appbuilder.add_view_no_menu(TaskApprovalView)
    appbuilder.add_view_no_menu(TaskMaterialView)
    appbuilder.add_view(DrawView, "Draws", label=_l("Draws (摇号)"), icon="fa-random", **planning)
    appbuilder.add_view(
        MyAssignmentsView,
        "My Assignments",
        label=_l("My assignments"),
        icon="fa-user-circle",
        **planning,
    )
    appbuilder.add_view_no_menu(TaskDrawView)

    inspections = dict(
        category="Inspections", category_label=_l("Inspections"), category_icon="fa-search"
    )
    appbuilder.add_view(
        InspectionRecordView,
        "Inspection Records",
        label=_l("Inspection records"),
        icon="fa-pencil-square-o",
        **inspections,
    )
    appbuilder.add_view(
        InspectionSummaryView,
        "Summaries",
        label=_l("Summary reports"),
        icon="fa-file-text",
        **inspections,
    )
    appbuilder.add_view(
        RectificationCaseView,
        "Rectifications",
        label=_l("Rectification cases"),
        icon="fa-wrench",
        **inspections,
    )
    appbuilder.add_view(
        PenaltyView,
        "Penalties",
        label=_l("Administrative penalties"),
        icon="fa-gavel",
        **inspections,
    )
    for view in (RecordWorkflowView, SummaryWorkflowView, CaseWorkflowView, TaskResultsView):
        appbuilder.add_view_no_menu(view)

    appbuilder.add_view(
        BlacklistView,
        "Blacklist",
        label=_l("Dishonesty blacklist"),
        icon="fa-ban",
        category="Credit",
        category_label=_l("Credit supervision"),
        category_icon="fa-shield",
    )
    appbuilder.add_view_no_menu(BlacklistWorkflowView)
    appbuilder.add_view_no_menu(CreditRecordView)

    disclosure = dict(
        category="Disclosure", category_label=_l("Disclosure"), category_icon="fa-bullhorn"
    )
    appbuilder.add_view(
        FilingView,
        "Filings",
        label=_l("Filings with the joint-meeting office"),
        icon="fa-paper-plane",
        **disclosure,
    )
    appbuilder.add_link(
        "Public Pages",
        href="/public/",
        label=_l("Public disclosure pages"),
        icon="fa-globe",
        **disclosure,
    )

    # The OpenAPI spec (/api/v1/_openapi, DESIGN.md) without FAB's Swagger page.
    from flask_appbuilder.api.manager import OpenApi

    appbuilder.add_api(OpenApi)
    appbuilder.add_api(DepartmentApi)
    appbuilder.add_api(HolidayApi)
    appbuilder.add_api(InspectionItemApi)
    appbuilder.add_api(InspectorApi)
    appbuilder.add_api(TargetApi)
    appbuilder.add_api(ConflictApi)
    appbuilder.add_api(AnnualPlanApi)
    appbuilder.add_api(SpotCheckTaskApi)
    appbuilder.add_api(DrawApi)
    appbuilder.add_api(InspectionRecordApi)
    appbuilder.add_api(InspectionSummaryApi)
    appbuilder.add_api(RectificationApi)
    appbuilder.add_api(PenaltyApi)
    appbuilder.add_api(BlacklistApi)

    from app.draws.services import planned_counts
    from app.inspections.services import record_counts
    from app.planning.progress import register_counter

    register_counter(planned_counts)
    register_counter(record_counts)


def register_cli(app: Flask) -> None:
    from app.core.audit.cli import audit_cli
    from app.core.calendar.cli import calendar_cli
    from app.demo.cli import seed_demo_command
    from app.directory.cli import import_cli
    from app.disclosure.cli import export_command
    from app.draws.cli import draw_cli
    from app.inspections.cli import archive_cli
    from app.security.cli import security_cli

    app.cli.add_command(audit_cli)
    app.cli.add_command(calendar_cli)
    app.cli.add_command(import_cli)
    app.cli.add_command(security_cli)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(draw_cli)
    app.cli.add_command(archive_cli)
    app.cli.add_command(export_command)
