"""The anonymous public pages under /public (一公开, R2.3, R4.2, R9.2, R11.1, R12.1): no login,
nothing unpublished, natural persons' names masked and their ID numbers and phones never shown
(X3), every asset served by us. Each list is searchable and paged, and is also a download in the
portal layout of docs/exports.md: `?format=csv` (UTF-8 with BOM, `encoding=gb18030` on request)
or `?format=xlsx`.

The layouts and the queries of published data are in portal.py; this module only pages,
renders and streams them."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_babel import gettext as _
from sqlalchemy import func, select

from app.core.downloads import attach
from app.core.errors import DomainError
from app.disclosure import portal
from app.disclosure.exports import csv_response, xlsx_response
from app.extensions import db
from app.planning.models import PUBLISHED_TASK_STATUSES

bp = Blueprint("public", __name__, url_prefix="/public")

PAGE_SIZE = 20


# For every template: the error pages of /public/… are rendered outside the blueprint when no
# route matched (app/core/errors.py).
@bp.app_context_processor
def _page_language():
    from flask_babel import get_locale

    locale = get_locale()
    return {"page_lang": "en" if locale and locale.language == "en" else "zh-CN"}


def _search_text() -> str:
    return (request.args.get("q") or "").strip()[:100]


def _page_number() -> int:
    try:
        return max(1, min(int(request.args.get("page", 1)), 100000))
    except ValueError:
        return 1


def _streamed(query, make_row):
    """Rows of `query` for an export, read while the response is streamed, after the view has
    returned: in an application context and a session of their own (closed at the end), from a
    server-side cursor in batches of plain tuples (no ORM object to load)."""
    app = current_app._get_current_object()

    def rows():
        with app.app_context():
            result = db.session.execute(query.execution_options(yield_per=500))
            try:
                for n, row in enumerate(result, start=1):
                    yield make_row(n, row)
            finally:
                result.close()

    return rows()


def _error(message: str, code: int = 400):
    return render_template("public/error.html", message=message), code


def _download(name: str, headers: list[str], rows, copy=None):
    """The `format` the visitor asked for, or None for the HTML page. `copy()`, when the layout
    has one, is its COPY statement (PostgreSQL writes the CSV: exports.export_chunks)."""
    fmt = request.args.get("format", "html")
    try:
        if fmt == "csv":
            return csv_response(f"{name}.csv", headers, rows(), copy)
        if fmt == "xlsx":
            return xlsx_response(f"{name}.xlsx", name, headers, rows())
    except DomainError as exc:
        return _error(str(exc))
    if fmt != "html":
        return _error(_("Unknown format: use csv or xlsx."))
    return None


def _page(query, make_row):
    """(rows of this page, the rows' raw records, page, pages, total)."""
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    page = _page_number()
    found = db.session.execute(query.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    first = (page - 1) * PAGE_SIZE + 1
    rows = [make_row(n, row) for n, row in enumerate(found, start=first)]
    return rows, found, page, max(1, -(-total // PAGE_SIZE)), total


@bp.route("/")
def index():
    return render_template("public/index.html")


@bp.route("/items")
def items():
    text = _search_text()
    query = portal.items_query(text)
    download = _download(
        "随机抽查事项清单", portal.ITEM_HEADERS, lambda: _streamed(query, portal.item_row)
    )
    if download is not None:
        return download
    rows, _found, page, pages, total = _page(query, portal.item_row)
    return render_template(
        "public/list.html",
        title=_("Spot-check item list"),
        intro=_("The list in force, as of %(day)s.", day=portal.items_date() or "—"),
        endpoint="public.items",
        headers=portal.ITEM_HEADERS,
        rows=rows,
        q=text,
        page=page,
        pages=pages,
        total=total,
    )


@bp.route("/plans")
def plans():
    try:
        year = int(request.args.get("year") or 0) or None
    except ValueError:
        year = None
    if year is not None and not 2000 <= year <= 2100:
        year = None  # no plan's year (and beyond the column's range: a 500 on PostgreSQL)
    chosen = portal.public_plans(year)
    # A handful of plans: their rows are made now, while the plans are bound to the session.
    download = _download(
        "年度抽查计划", portal.PLAN_HEADERS, lambda: list(portal.all_plan_rows(chosen))
    )
    if download is not None:
        return download
    shown = [
        {
            "plan": plan,
            "rows": list(portal.plan_rows(plan)),
            "revisions": [r for r in plan.revisions if r.republished_on is not None],
        }
        for plan in chosen
    ]
    years = portal.public_plan_years()
    return render_template(
        "public/plans.html", plans=shown, headers=portal.PLAN_HEADERS, year=year, years=years
    )


def _results_download(name: str, query):
    """The results in the layout asked for: `layout=portal` (the default, written by COPY on
    PostgreSQL) or `layout=national` (with 检查结果细类); None for the HTML page."""
    try:
        headers, make_row, has_copy = portal.result_layout(request.args.get("layout", "portal"))
    except DomainError as exc:
        return _error(str(exc))
    if headers is portal.NATIONAL_RESULT_HEADERS:
        name = f"{name}-全国格式"
    copy = (lambda: portal.results_copy(query)) if has_copy else None
    return _download(name, headers, lambda: _streamed(query, make_row), copy)


@bp.route("/results")
def results():
    text = _search_text()
    query = portal.results_query(text)
    download = _results_download("抽查结果", query)
    if download is not None:
        return download
    query = portal.published_tasks_query(text)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    page = _page_number()
    tasks = db.session.scalars(query.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    return render_template(
        "public/results.html",
        tasks=tasks,
        q=text,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        total=total,
    )


def _published_task(task_id: int):
    from app.planning.models import SpotCheckTask

    task = db.session.get(SpotCheckTask, task_id)
    if (
        task is None
        or task.status not in PUBLISHED_TASK_STATUSES
        or task.results_published_on is None
    ):
        abort(404)
    return task


@bp.route("/results/<int:task_id>")
def task_results(task_id: int):
    """One task's published results, with its draw records to verify."""
    from app.draws.models import Draw

    task = _published_task(task_id)
    query = portal.results_query(task_id=task.id)
    download = _results_download(f"抽查结果-{task.number}", query)
    if download is not None:
        return download
    # The page shows both levels of the result (the national layout's columns).
    rows = [
        portal.national_result_row(n, row) for n, row in enumerate(db.session.execute(query), 1)
    ]
    draws = db.session.scalars(
        select(Draw).where(Draw.task_id == task.id, Draw.status == "done").order_by(Draw.id)
    ).all()
    from app.disclosure.ledger_public import cancelled_attempts

    return render_template(
        "public/task_results.html",
        task=task,
        headers=portal.NATIONAL_RESULT_HEADERS,
        rows=rows,
        draws=draws,
        cancelled=cancelled_attempts(task.id),
    )


def _published_draw(uid: str):
    from app.draws.models import Draw

    draw = db.session.scalar(select(Draw).where(Draw.uid == uid[:64], Draw.status == "done"))
    if draw is None or not draw.published:
        abort(404)
    return draw


_VERIFIED: dict[tuple[str, str | None], tuple[str, ...]] = {}


def _verification(uid: str, record_hash: str | None, run) -> tuple[str, ...]:
    """A published draw's record never changes (its hash says so): verify it once per process,
    so that anonymous visitors cannot make the server re-run a million-candidate draw at will."""
    key = (uid, record_hash)
    if key not in _VERIFIED:
        if len(_VERIFIED) > 1000:
            _VERIFIED.clear()
        _VERIFIED[key] = tuple(run())
    return _VERIFIED[key]


@bp.route("/draws/<uid>")
def draw(uid: str):
    """A published draw: its record and the system's own verification of it; anyone can
    download the record and run `python -m app.draws.verify record.json` themselves."""
    from app.disclosure.ledger_public import ledger_check
    from app.draws import services as draws

    found = _published_draw(uid)
    problems = _verification(found.uid, found.record_hash, lambda: draws.verify_draw(found))
    return render_template(
        "public/draw.html",
        draw=found,
        record=draws.record(found, with_pool=False),
        problems=problems,
        ledger_problems=ledger_check(found),
    )


@bp.route("/draws/<uid>.json")
def draw_record(uid: str):
    from app.draws import services as draws

    found = _published_draw(uid)
    return attach(
        Response(draws.record_json(found), mimetype="application/json"),
        *found.download_names(),
    )


@bp.route("/blacklist")
def blacklist():
    text = _search_text()
    query = portal.blacklist_query(text)
    download = _download(
        "失信黑名单",
        portal.BLACKLIST_HEADERS,
        lambda: _streamed(query, portal.blacklist_row),
        lambda: portal.blacklist_copy(query),
    )
    if download is not None:
        return download
    rows, found, page, pages, total = _page(query, portal.blacklist_row)
    return render_template(
        "public/blacklist.html",
        headers=portal.BLACKLIST_HEADERS,
        rows=rows,
        target_ids=[row.id for row in found],
        q=text,
        page=page,
        pages=pages,
        total=total,
    )


@bp.route("/credit/<int:target_id>")
def credit(target_id: int):
    """A target's public credit record: published inspection results and published listings
    and removals. A target with nothing published is not found."""
    from app.credit.services import credit_events
    from app.directory.models import Target

    target = db.session.get(Target, target_id)
    if target is None:
        abort(404)
    events = credit_events(target, public=True)
    identity = portal.published_identity(target.id)
    if not events or identity is None:
        abort(404)
    name, code = identity  # as last published, not as the directory says today
    return render_template(
        "public/credit.html",
        name=name,
        code=code,
        events=[{k: v for k, v in e.items() if k != "link"} for e in events],
    )
