"""What the public may see, in the government-portal layouts of docs/exports.md: the item list
(随机抽查事项清单), the annual plans (年度抽查计划), the results (抽查结果, also for the 部门协同监管平台 and
the 国家企业信用信息公示系统) and the blacklist (失信黑名单).

Each layout is a header list and a query of plain rows (no ORM objects, so an export of any size
streams with flat memory), plus a function turning a row into the cells of the layout. Only
published data is selected here: these feed the anonymous pages and their downloads."""

from __future__ import annotations

import json

from flask_babel import gettext as _
from sqlalchemy import func, select

from app.core.errors import DomainError
from app.core.masking import mask_person_name
from app.credit.models import BASES, PUBLIC_STATUSES, BlacklistEntry
from app.directory.models import NATURAL_PERSON, InspectionItem
from app.extensions import db
from app.inspections.models import ENTERED_RECORD_STATUSES, InspectionRecord
from app.inspections.result_codes import detail_text
from app.planning.models import (
    PUBLIC_PLAN_STATUSES,
    PUBLISHED_TASK_STATUSES,
    AnnualPlan,
    SpotCheckTask,
    percent,
)
from app.security.models import Department

CHECK_TYPE = "双随机抽查"


def public_name(name: str, target_type: str) -> str:
    """A target's name as the public sees it: a natural person's masked (张*、欧阳**)."""
    return mask_person_name(name) if target_type == NATURAL_PERSON else name


def public_code(uscc: str | None, target_type: str) -> str:
    """The USCC of an organisation; nothing for a natural person (no ID number in public)."""
    return "" if target_type == NATURAL_PERSON else (uscc or "")


def issuing_names(department_id: int) -> tuple[str, str]:
    """(issuing body, 承办科室) of a department: the bureau is the 检查实施机关 / 列入机关 the
    public reads, the section is its 承办科室 (Department.issuing_names). All departments are
    read once per application context (an export's rows run in one of their own), not per row."""
    from flask import g

    names = g.get("_issuing_names")
    if names is None:
        names = {d.id: d.issuing_names for d in db.session.scalars(select(Department))}
        g._issuing_names = names
    return names.get(department_id, ("", ""))


def _day(value) -> str:
    return value.isoformat() if value else ""


def like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")
    return f"%{escaped}%"


def _published_target_matches(model, text: str, pattern: str):
    """A search on the target as published (`model`'s snapshot columns): an organisation by
    name or USCC. A natural person is not found by name: a search would tell whether a full
    name the visitor guessed hides behind a masked one."""
    return (model.target_type != NATURAL_PERSON) & (
        model.target_name.like(pattern, escape="\\") | (model.target_code == text.upper())
    )


def published_identity(target_id: int) -> tuple[str, str] | None:
    """(name, code) of a target as the public last saw it published (the latest published
    result or listing), masked for a natural person; None when nothing about it is published."""
    record = db.session.execute(
        select(
            InspectionRecord.target_name,
            InspectionRecord.target_type,
            InspectionRecord.target_code,
            SpotCheckTask.results_published_on.label("day"),
        )
        .join(SpotCheckTask, InspectionRecord.task_id == SpotCheckTask.id)
        .where(
            InspectionRecord.target_id == target_id,
            SpotCheckTask.status.in_(PUBLISHED_TASK_STATUSES),
            SpotCheckTask.results_published_on.is_not(None),
            InspectionRecord.status.in_(ENTERED_RECORD_STATUSES),
        )
        .order_by(SpotCheckTask.results_published_on.desc(), InspectionRecord.id.desc())
        .limit(1)
    ).first()
    listing = db.session.execute(
        select(
            BlacklistEntry.target_name,
            BlacklistEntry.target_type,
            BlacklistEntry.target_code,
            BlacklistEntry.published_on.label("day"),
        )
        .where(
            BlacklistEntry.target_id == target_id,
            BlacklistEntry.published_on.is_not(None),
            BlacklistEntry.status.in_(PUBLIC_STATUSES),
        )
        .order_by(BlacklistEntry.published_on.desc(), BlacklistEntry.id.desc())
        .limit(1)
    ).first()
    found = [row for row in (record, listing) if row is not None and row.target_name]
    if not found:
        return None
    latest = max(found, key=lambda row: row.day)
    return (
        public_name(latest.target_name, latest.target_type),
        public_code(latest.target_code, latest.target_type),
    )


# --- 随机抽查事项清单 ----------------------------------------------------------------------------

ITEM_HEADERS = [
    "序号",
    "事项编码",
    "抽查类别",
    "抽查事项",
    "检查对象",
    "事项类别",
    "检查方式",
    "检查主体",
    "检查依据",
    "抽查比例",
    "抽查频次",
    "备注",
    "版本日期",
]


def items_query(text: str = ""):
    query = select(
        InspectionItem.code,
        InspectionItem.category,
        InspectionItem.name,
        InspectionItem.target_type,
        InspectionItem.item_class,
        InspectionItem.method,
        InspectionItem.inspecting_body,
        InspectionItem.legal_basis,
        InspectionItem.sampling_ratio,
        InspectionItem.frequency,
        InspectionItem.remarks,
        InspectionItem.published_on,
    ).where(InspectionItem.status == "published")
    if text:
        pattern = like_pattern(text)
        query = query.where(
            InspectionItem.name.like(pattern, escape="\\")
            | InspectionItem.code.like(pattern, escape="\\")
            | InspectionItem.category.like(pattern, escape="\\")
        )
    return query.order_by(InspectionItem.code)


def items_date():
    """The list's date: the latest publication of an item still in force."""
    return db.session.scalar(
        select(func.max(InspectionItem.published_on)).where(InspectionItem.status == "published")
    )


def item_row(n: int, row) -> list:
    return [
        n,
        row.code,
        row.category,
        row.name,
        row.target_type,
        row.item_class,
        row.method,
        row.inspecting_body,
        row.legal_basis or "",
        f"{percent(row.sampling_ratio)}%" if row.sampling_ratio is not None else "",
        row.frequency or "",
        row.remarks or "",
        _day(row.published_on),
    ]


# --- 年度抽查计划 --------------------------------------------------------------------------------

PLAN_HEADERS = [
    "序号",
    "计划名称",
    "年度",
    "实施部门",
    "抽查事项",
    "抽查范围",
    "抽查比例",
    "抽查方式",
    "检查内容",
    "实施时间起",
    "实施时间止",
    "发布日期",
    "版本",
]


def public_plans(year: int | None = None) -> list[AnnualPlan]:
    """Plans with a published version: published or filed ones, and those whose revision is
    being prepared (the public keeps seeing the version last published)."""
    query = select(AnnualPlan).where(AnnualPlan.has_published_version.is_(True))
    if year:
        query = query.where(AnnualPlan.year == year)
    return list(
        db.session.scalars(query.order_by(AnnualPlan.year.desc(), AnnualPlan.department_id))
    )


def public_plan_years() -> list[int]:
    """The years that have a plan with a published version, newest first."""
    query = select(AnnualPlan.year).where(AnnualPlan.has_published_version.is_(True)).distinct()
    return sorted(db.session.scalars(query), reverse=True)


def published_version(plan: AnnualPlan) -> dict:
    """The version the public sees: the plan itself when it is published; while a revision is
    being prepared, the snapshot of the version published before it."""
    from app.planning.services import plan_snapshot

    if plan.status in PUBLIC_PLAN_STATUSES or plan.open_revision is None:
        version = plan_snapshot(plan)
        version["windows"] = [(line.window_start, line.window_end) for line in plan.lines]
        version["item_names"] = [[f"{i.code} {i.name}" for i in line.items] for line in plan.lines]
    else:
        version = json.loads(plan.open_revision.before)
        names = dict(db.session.execute(select(InspectionItem.code, InspectionItem.name)).all())
        version["windows"] = [
            tuple(part or None for part in line["window"].split("–", 1))
            for line in version["lines"]
        ]
        version["item_names"] = [
            [f"{code} {names.get(code, '')}".strip() for code in line["items"]]
            for line in version["lines"]
        ]
    live = plan.status in PUBLIC_PLAN_STATUSES
    # The version before an open revision is one adjustment earlier; a plan never published
    # (a draft's filing CSV) is the original plan, never "第-1次调整".
    before = plan.open_revision is not None and not live
    version["revision"] = max(0, plan.revision_no - 1 if before else plan.revision_no)
    return version


def plan_rows(plan: AnnualPlan, start: int = 1):
    version = published_version(plan)
    label = f"第{version['revision']}次调整" if version["revision"] else "原计划"
    for n, (line, window, items) in enumerate(
        zip(version["lines"], version["windows"], version["item_names"], strict=True),
        start=start,
    ):
        yield [
            n,
            version["title"],
            version["year"],
            "、".join([plan.department.name, *line["participating"]]),
            "、".join(items),
            line["scope"],
            line["ratios"],
            line["method"],
            line["content"],
            str(window[0] or ""),
            str(window[1] or ""),
            _day(plan.published_on),
            label,
        ]


def all_plan_rows(plans):
    n = 1
    for plan in plans:
        for row in plan_rows(plan, start=n):
            yield row
            n += 1


# --- 抽查结果 ---------------------------------------------------------------------------------

RESULT_HEADERS = [
    "序号",
    "任务编号",
    "任务名称",
    "检查对象名称",
    "统一社会信用代码",
    "检查实施机关",
    "检查类型",
    "检查日期",
    "检查结果",
    "后续处置",
    "公示日期",
    "承办科室",
]


def results_query(text: str = "", task_id: int | None = None):
    """The entered records of tasks whose results are published."""
    query = (
        select(
            SpotCheckTask.id.label("task_id"),
            SpotCheckTask.number,
            SpotCheckTask.name.label("task_name"),
            InspectionRecord.target_id,
            # The target as entered with the record: a later rename changes nothing published.
            InspectionRecord.target_name.label("name"),
            InspectionRecord.target_type,
            InspectionRecord.target_code.label("uscc"),
            SpotCheckTask.department_id,
            InspectionRecord.inspection_date,
            InspectionRecord.result_code,
            InspectionRecord.result_detail,
            InspectionRecord.follow_up,
            SpotCheckTask.results_published_on,
        )
        .join(SpotCheckTask, InspectionRecord.task_id == SpotCheckTask.id)
        .where(
            SpotCheckTask.status.in_(PUBLISHED_TASK_STATUSES),
            SpotCheckTask.results_published_on.is_not(None),
            InspectionRecord.status.in_(ENTERED_RECORD_STATUSES),
        )
    )
    if task_id is not None:
        query = query.where(SpotCheckTask.id == task_id)
    if text:
        pattern = like_pattern(text)
        query = query.where(
            SpotCheckTask.name.like(pattern, escape="\\")
            | SpotCheckTask.number.like(pattern, escape="\\")
            | _published_target_matches(InspectionRecord, text, pattern)
        )
    return query.order_by(*RESULTS_ORDER)


RESULTS_ORDER = (
    SpotCheckTask.results_published_on.desc(),
    SpotCheckTask.number,
    InspectionRecord.id,
)


def result_row(n: int, row) -> list:
    bureau, section = issuing_names(row.department_id)
    return [
        n,
        row.number,
        row.task_name,
        public_name(row.name, row.target_type),
        public_code(row.uscc, row.target_type),
        bureau,
        CHECK_TYPE,
        _day(row.inspection_date),
        row.result_code or "",
        row.follow_up or "",
        _day(row.results_published_on),
        section,
    ]


# The national layout (`?layout=national`, `flask export results --layout national`): the
# columns above with the second level of the result (检查结果细类) after 检查结果, as the national
# public site names them. The layout above stays byte for byte what it was.
NATIONAL_DETAIL_HEADER = "检查结果细类"
_RESULT_AT = RESULT_HEADERS.index("检查结果") + 1
NATIONAL_RESULT_HEADERS = [
    *RESULT_HEADERS[:_RESULT_AT],
    NATIONAL_DETAIL_HEADER,
    *RESULT_HEADERS[_RESULT_AT:],
]
RESULT_LAYOUTS = ("portal", "national")


def national_result_row(n: int, row) -> list:
    cells = result_row(n, row)
    detail = detail_text(row.result_code, row.result_detail)
    return [*cells[:_RESULT_AT], detail, *cells[_RESULT_AT:]]


def result_layout(layout: str):
    """(headers, make_row, has_copy) of a results layout; an unknown name is refused."""
    if layout == "national":
        return NATIONAL_RESULT_HEADERS, national_result_row, False
    if layout in ("", "portal"):
        return RESULT_HEADERS, result_row, True
    raise DomainError(_("Unknown layout: use portal or national."))


def published_tasks_query(text: str = ""):
    query = (
        select(SpotCheckTask)
        .where(
            SpotCheckTask.status.in_(PUBLISHED_TASK_STATUSES),
            SpotCheckTask.results_published_on.is_not(None),
        )
        .order_by(SpotCheckTask.results_published_on.desc(), SpotCheckTask.number)
    )
    if text:
        pattern = like_pattern(text)
        query = query.where(
            SpotCheckTask.name.like(pattern, escape="\\")
            | SpotCheckTask.number.like(pattern, escape="\\")
            | SpotCheckTask.id.in_(
                select(InspectionRecord.task_id).where(
                    _published_target_matches(InspectionRecord, text, pattern)
                )
            )
        )
    return query


# --- 失信黑名单 ---------------------------------------------------------------------------------

BLACKLIST_HEADERS = [
    "序号",
    "主体名称",
    "统一社会信用代码",
    "列入原因",
    "决定文号",
    "列入日期",
    "列入机关",
    "移出日期",
    "承办科室",
]


def blacklist_query(text: str = ""):
    """Published listings and removals."""
    query = (
        select(
            BlacklistEntry.target_id.label("id"),
            # The target as published with the listing.
            BlacklistEntry.target_name.label("name"),
            BlacklistEntry.target_type,
            BlacklistEntry.target_code.label("uscc"),
            BlacklistEntry.basis,
            BlacklistEntry.decision_number,
            BlacklistEntry.listed_on,
            BlacklistEntry.department_id,
            BlacklistEntry.removed_on,
        )
        .where(
            BlacklistEntry.published_on.is_not(None),
            BlacklistEntry.status.in_(PUBLIC_STATUSES),
        )
    )
    text = text.strip()
    if text:
        # By organisation name or USCC. A natural person is not found by name: a search would
        # tell whether a full name the visitor guessed hides behind a masked one.
        query = query.where(_published_target_matches(BlacklistEntry, text, like_pattern(text)))
    return query.order_by(*BLACKLIST_ORDER)


BLACKLIST_ORDER = (BlacklistEntry.listed_on.desc(), BlacklistEntry.id.desc())


def blacklist_row(n: int, row) -> list:
    bureau, section = issuing_names(row.department_id)
    return [
        n,
        public_name(row.name, row.target_type),
        public_code(row.uscc, row.target_type),
        BASES.get(row.basis, row.basis),
        row.decision_number or "",
        _day(row.listed_on),
        bureau,
        _day(row.removed_on),
        section,
    ]


# --- The same rows written by PostgreSQL (COPY) -------------------------------------------------
#
# result_row and blacklist_row as SQL, for app/core/csvfile.copy_chunks: the query of the layout
# (the same filters and order) with its columns replaced by the cells, each through `sql_cell`.
# tests/disclosure/test_export_copy.py compares the two files byte for byte.


def _sql_day(column):
    from sqlalchemy import func

    return func.to_char(column, "YYYY-MM-DD")


def _sql_public_name(name, target_type):
    from sqlalchemy import case

    from app.core.masking import pg_mask_person_name

    return case((target_type == NATURAL_PERSON, pg_mask_person_name(name)), else_=name)


def _sql_public_code(code, target_type):
    from sqlalchemy import case

    return case((target_type == NATURAL_PERSON, None), else_=code)


def _sql_issuing_names():
    """issuing_names of every department as a VALUES list to join on (a handful of rows)."""
    from sqlalchemy import Integer, String, column, values

    names = [(d.id, *d.issuing_names) for d in db.session.scalars(select(Department))]
    names = names or [(0, "", "")]
    return values(
        column("id", Integer),
        column("bureau", String),
        column("section", String),
        name="issuing",
    ).data(names)


def _copy_select(query, order, department_id, make_cells):
    from sqlalchemy import func

    from app.core.csvfile import sql_cell

    issuing = _sql_issuing_names()
    cells = [sql_cell(cell) for cell in make_cells(issuing)]
    return query.with_only_columns(
        func.row_number().over(order_by=order), *cells, maintain_column_froms=True
    ).outerjoin(issuing, issuing.c.id == department_id)


def results_copy(query):
    """`results_query(...)` as the SELECT of result_row's cells."""
    from sqlalchemy import literal

    def cells(issuing):
        return [
            SpotCheckTask.number,
            SpotCheckTask.name,
            _sql_public_name(InspectionRecord.target_name, InspectionRecord.target_type),
            _sql_public_code(InspectionRecord.target_code, InspectionRecord.target_type),
            issuing.c.bureau,
            literal(CHECK_TYPE),
            _sql_day(InspectionRecord.inspection_date),
            InspectionRecord.result_code,
            InspectionRecord.follow_up,
            _sql_day(SpotCheckTask.results_published_on),
            issuing.c.section,
        ]

    return _copy_select(query, RESULTS_ORDER, SpotCheckTask.department_id, cells)


def blacklist_copy(query):
    """`blacklist_query(...)` as the SELECT of blacklist_row's cells."""
    from sqlalchemy import case

    def cells(issuing):
        basis = BlacklistEntry.basis
        return [
            _sql_public_name(BlacklistEntry.target_name, BlacklistEntry.target_type),
            _sql_public_code(BlacklistEntry.target_code, BlacklistEntry.target_type),
            case(*((basis == key, label) for key, label in BASES.items()), else_=basis),
            BlacklistEntry.decision_number,
            _sql_day(BlacklistEntry.listed_on),
            issuing.c.bureau,
            _sql_day(BlacklistEntry.removed_on),
            issuing.c.section,
        ]

    return _copy_select(query, BLACKLIST_ORDER, BlacklistEntry.department_id, cells)
