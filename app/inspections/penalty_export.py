"""双公示 行政处罚: the penalties in the layout of 信用中国's 行政处罚 data standard, as CSV or XLSX,
for the staff who file them with the credit platform (`flask export penalties`, the download on
the penalty list). One definition, `LAYOUT`, gives the columns in order, what each holds and
whether the standard requires it; the CSV, the XLSX, the warnings and the tests read it, and
docs/exports.md describes it.

This file is not public: it holds a natural person's ID number unmasked (the platform needs
it). Only a user with the right to export penalties gets it, in their department scope, and
every export is written to the audit log. Rows missing a required field are written as they are
and listed in a warning (`missing_fields`): the file is the bureau's data as it stands, and the
warning says which rows to complete before the platform takes them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.inspections.models import (
    CONFISCATION_KINDS,
    FINE_KIND,
    LICENCE_KINDS,
    PARTY_PERSON,
    Penalty,
    party_category_of,
)
from app.planning.models import SpotCheckTask
from app.security.scope import descendants, row_clause

ID_CARD = "身份证"
FORMATS = ("csv", "xlsx")


def _party(p: Penalty) -> str:
    return p.party_category or party_category_of(p.target.target_type)


def _is_person(p: Penalty) -> bool:
    return _party(p) == PARTY_PERSON


def _organisation_only(value: Callable[[Penalty], str | None]):
    return lambda p: "" if _is_person(p) else (value(p) or "")


def _person_only(value: Callable[[Penalty], str | None]):
    return lambda p: (value(p) or "") if _is_person(p) else ""


def amount_text(value: Decimal | None) -> str:
    """万元 as written: no trailing zeros of the six decimals ("2", "0.35")."""
    if value is None:
        return ""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _day(value: dt.date | None) -> str:
    return value.isoformat() if value else ""


def _has_kind(kinds) -> Callable[[Penalty], bool]:
    kinds = {kinds} if isinstance(kinds, str) else set(kinds)
    return lambda p: bool(kinds & set(p.kind_list))


@dataclass(frozen=True)
class Column:
    header: str
    meaning: str
    # "是" (always), "否" (optional) or the condition under which the standard requires it.
    required: str
    cell: Callable[[Penalty], str]
    # Whether this penalty must have the cell filled (from `required`).
    needed: Callable[[Penalty], bool]
    text: bool = False  # a code kept as text in XLSX (all its 18 characters)


def _always(_p: Penalty) -> bool:
    return True


def _never(_p: Penalty) -> bool:
    return False


def _organisation(p: Penalty) -> bool:
    return not _is_person(p)


LAYOUT: tuple[Column, ...] = (
    Column("行政相对人名称", "单位名称或自然人姓名", "是", lambda p: p.target.name, _always),
    Column("行政相对人类别", "法人及非法人组织、自然人或个体工商户", "是", _party, _always),
    Column(
        "统一社会信用代码",
        "法人及非法人组织、个体工商户的统一社会信用代码；自然人为空",
        "法人及非法人组织、个体工商户必填",
        _organisation_only(lambda p: p.target.uscc),
        _organisation,
        text=True,
    ),
    Column(
        "法定代表人",
        "法定代表人（个体工商户为经营者）姓名；自然人为空",
        "法人及非法人组织、个体工商户必填",
        _organisation_only(lambda p: p.target.legal_representative),
        _organisation,
    ),
    Column(
        "证件类型",
        "自然人的证件类型（身份证）；其他为空",
        "自然人必填",
        _person_only(lambda p: ID_CARD),
        _is_person,
    ),
    Column(
        "证件号码",
        "自然人的公民身份号码（不打码，仅供报送）；其他为空",
        "自然人必填",
        _person_only(lambda p: p.target.id_number),
        _is_person,
        text=True,
    ),
    Column("行政处罚决定书文号", "处罚决定书文号", "是", lambda p: p.decision_number, _always),
    Column("违法行为类型", "违法行为的类型", "是", lambda p: p.violation_type, _always),
    Column("违法事实", "违法的事实", "是", lambda p: p.violation_facts, _always),
    Column("处罚依据", "处罚所依据的法律法规条款", "是", lambda p: p.legal_basis, _always),
    Column(
        "处罚类别",
        "《行政处罚法》第九条的处罚种类，多个以“、”分隔",
        "是",
        lambda p: p.kinds,
        _always,
    ),
    Column("处罚内容", "处罚决定的内容", "是", lambda p: p.content, _always),
    Column(
        "罚款金额（万元）",
        "罚款数额，单位万元，最多 6 位小数",
        "处罚类别含罚款时必填",
        lambda p: amount_text(p.fine_amount),
        _has_kind(FINE_KIND),
    ),
    Column(
        "没收违法所得、没收非法财物的金额（万元）",
        "没收的金额，单位万元，最多 6 位小数",
        "处罚类别含没收违法所得或没收非法财物时必填",
        lambda p: amount_text(p.confiscation_amount),
        _has_kind(CONFISCATION_KINDS),
    ),
    Column(
        "暂扣或吊销证照名称及编号",
        "被暂扣或吊销的证照名称及编号",
        "处罚类别含暂扣或吊销许可证件时必填",
        lambda p: p.licence,
        _has_kind(LICENCE_KINDS),
    ),
    Column("处罚决定日期", "YYYY-MM-DD", "是", lambda p: _day(p.decision_date), _always),
    Column(
        "处罚有效期",
        "YYYY-MM-DD；无期限的为 2099-12-31",
        "是",
        lambda p: _day(p.valid_until),
        _always,
    ),
    Column(
        "公示截止期",
        "YYYY-MM-DD；默认警告、通报批评为决定日期后 3 个月，其他为 1 年",
        "是",
        lambda p: _day(p.publicity_until),
        _always,
    ),
    Column("处罚机关", "作出处罚决定的机关", "是", lambda p: p.authority, _always),
    Column(
        "处罚机关统一社会信用代码",
        "处罚机关的统一社会信用代码",
        "是",
        lambda p: p.authority_uscc,
        _always,
        text=True,
    ),
    Column("数据来源单位", "报送数据的单位", "是", lambda p: p.source_unit, _always),
    Column(
        "数据来源单位统一社会信用代码",
        "数据来源单位的统一社会信用代码",
        "是",
        lambda p: p.source_uscc,
        _always,
        text=True,
    ),
    Column("备注", "其他需要说明的事项", "否", lambda p: p.note, _never),
)
HEADERS = [c.header for c in LAYOUT]
TEXT_COLUMNS = [n for n, c in enumerate(LAYOUT) if c.text]


def penalty_row(p: Penalty) -> list[str]:
    return [c.cell(p) or "" for c in LAYOUT]


def missing_fields(p: Penalty) -> list[str]:
    """The headers of the required cells this penalty leaves empty."""
    return [c.header for c in LAYOUT if c.needed(p) and not (c.cell(p) or "").strip()]


def penalties_query(
    user=None,
    *,
    scoped: bool = True,
    department_id: int | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
):
    """The penalties `user` may see (department scope and role rule: row_clause; everything
    with `scoped=False`, for the command line), of the tasks
    of `department_id` and the departments below it, decided from `date_from` to `date_to`."""
    query = select(Penalty).options(selectinload(Penalty.target), selectinload(Penalty.task))
    clause = row_clause(Penalty, user) if scoped else None
    if clause is not None:
        query = query.where(clause)
    if department_id is not None:
        query = query.where(
            Penalty.task_id.in_(
                select(SpotCheckTask.id).where(
                    SpotCheckTask.department_id.in_(descendants([department_id]))
                )
            )
        )
    if date_from is not None:
        query = query.where(Penalty.decision_date >= date_from)
    if date_to is not None:
        query = query.where(Penalty.decision_date <= date_to)
    return query.order_by(Penalty.decision_date, Penalty.id)


@dataclass
class PenaltyExport:
    rows: list[list[str]]
    # (row number in the file, decision number, missing headers) of incomplete rows.
    incomplete: list[tuple[int, str, list[str]]]
    ids: list[int]


def build(penalties: Iterable[Penalty]) -> PenaltyExport:
    rows, incomplete, ids = [], [], []
    for n, penalty in enumerate(penalties, 2):  # row 1 is the header
        rows.append(penalty_row(penalty))
        ids.append(penalty.id)
        missing = missing_fields(penalty)
        if missing:
            incomplete.append((n, penalty.decision_number, missing))
    return PenaltyExport(rows, incomplete, ids)


def warning_lines(export: PenaltyExport) -> list[str]:
    """One line per incomplete row: 第 3 行（东水罚〔2026〕1号）缺少：违法事实、处罚依据."""
    return [
        f"第 {n} 行（{number}）缺少：{'、'.join(missing)}"
        for n, number, missing in export.incomplete
    ]


SHEET = "行政处罚"


def write_xlsx_file(target, rows: Iterable[Iterable]) -> None:
    from app.core.xlsxfile import write_xlsx

    write_xlsx(target, SHEET, HEADERS, rows, text_columns=TEXT_COLUMNS)


def file_name(fmt: str, today: dt.date | None = None) -> str:
    return f"双公示_行政处罚_{(today or dt.date.today()).isoformat()}.{fmt}"
