"""The anonymous public pages under /public (一公开, R2.3, R11.1, R12.1): no login, nothing
unpublished, natural persons' names masked and their ID numbers never shown (X3), every asset
served by us. Each list is also a download: `?format=csv` (UTF-8 with BOM, `encoding=gb18030`
on request) or `?format=xlsx`.

So far: the dishonesty blacklist and a target's public credit record; the item list, plans and
results join them with the disclosure issue."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from app.core.errors import DomainError
from app.core.masking import mask_person_name
from app.credit.models import BASES, PUBLIC_STATUSES, BlacklistEntry
from app.directory.models import NATURAL_PERSON, Target
from app.disclosure.exports import csv_response, xlsx_response
from app.extensions import db
from app.security.models import Department

bp = Blueprint("public", __name__, url_prefix="/public")


@bp.context_processor
def _page_language():
    from flask_babel import get_locale

    locale = get_locale()
    return {"page_lang": "en" if locale and locale.language == "en" else "zh-CN"}


PAGE_SIZE = 20
BLACKLIST_HEADERS = [
    "序号",
    "主体名称",
    "统一社会信用代码",
    "列入原因",
    "决定文号",
    "列入日期",
    "列入机关",
    "移出日期",
]


def public_name(target: Target) -> str:
    """A target's name as the public sees it: a natural person's masked (张*、欧阳**)."""
    if target.target_type == NATURAL_PERSON:
        return mask_person_name(target.name)
    return target.name


def public_code(target: Target) -> str:
    """The USCC of an organisation; nothing for a natural person (no ID number in public)."""
    return "" if target.target_type == NATURAL_PERSON else (target.uscc or "")


def _published_listings():
    """Published listings and removals as plain rows (no ORM objects: an export of any size
    streams with flat memory)."""
    return (
        select(
            Target.id,
            Target.name,
            Target.target_type,
            Target.uscc,
            BlacklistEntry.basis,
            BlacklistEntry.decision_number,
            BlacklistEntry.listed_on,
            Department.name.label("department"),
            BlacklistEntry.removed_on,
        )
        .join(Target, BlacklistEntry.target_id == Target.id)
        .join(Department, BlacklistEntry.department_id == Department.id)
        .where(
            BlacklistEntry.published_on.is_not(None),
            BlacklistEntry.status.in_(PUBLIC_STATUSES),
        )
    )


def _search(query, text: str):
    """By organisation name or USCC. A natural person is not found by name: a search would tell
    whether a full name the visitor guessed hides behind a masked one."""
    text = text.strip()[:100]
    if not text:
        return query
    pattern = "%" + text.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "%"
    return query.where(
        or_(
            (Target.target_type != NATURAL_PERSON) & Target.name.like(pattern, escape="\\"),
            (Target.target_type != NATURAL_PERSON) & (Target.uscc == text.upper()),
        )
    )


def _page_number() -> int:
    try:
        return max(1, min(int(request.args.get("page", 1)), 100000))
    except ValueError:
        return 1


@bp.route("/")
def index():
    return render_template("public/index.html")


@bp.route("/blacklist")
def blacklist():
    text = request.args.get("q", "")
    query = _search(_published_listings(), text)
    fmt = request.args.get("format", "html")
    ordered = query.order_by(BlacklistEntry.listed_on.desc(), BlacklistEntry.id.desc())
    if fmt in ("csv", "xlsx"):
        rows = _streamed(ordered, _blacklist_row)
        try:
            if fmt == "csv":
                return csv_response("失信黑名单.csv", BLACKLIST_HEADERS, rows)
            return xlsx_response("失信黑名单.xlsx", "失信黑名单", BLACKLIST_HEADERS, rows)
        except DomainError as exc:
            return render_template("public/error.html", message=str(exc)), 400
    if fmt != "html":
        return render_template(
            "public/error.html", message=_("Unknown format: use csv or xlsx.")
        ), 400
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    page = _page_number()
    found = db.session.execute(ordered.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    rows = [_blacklist_row(n, row) for n, row in enumerate(found, start=(page - 1) * PAGE_SIZE + 1)]
    return render_template(
        "public/blacklist.html",
        headers=BLACKLIST_HEADERS,
        rows=rows,
        target_ids=[row.id for row in found],
        q=text,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        total=total,
    )


def _streamed(query, make_row):
    """Rows of `query` for an export, read when the response is streamed (not before: the
    request's transaction may have ended by then) in batches from a server-side cursor."""
    result = db.session.execute(query.execution_options(yield_per=500))
    try:
        for n, row in enumerate(result, start=1):
            yield make_row(n, row)
    finally:
        result.close()


def _blacklist_row(n, row) -> list:
    person = row.target_type == NATURAL_PERSON
    return [
        n,
        mask_person_name(row.name) if person else row.name,
        "" if person else (row.uscc or ""),
        BASES.get(row.basis, row.basis),
        row.decision_number or "",
        row.listed_on.isoformat() if row.listed_on else "",
        row.department,
        row.removed_on.isoformat() if row.removed_on else "",
    ]


@bp.route("/credit/<int:target_id>")
def credit(target_id: int):
    """A target's public credit record: published inspection results and published listings
    and removals. A target with nothing published is not found."""
    from app.credit.services import credit_events

    target = db.session.get(Target, target_id)
    if target is None:
        abort(404)
    events = credit_events(target, public=True)
    if not events:
        abort(404)
    return render_template(
        "public/credit.html",
        name=public_name(target),
        code=public_code(target),
        events=[{k: v for k, v in e.items() if k != "link"} for e in events],
    )
