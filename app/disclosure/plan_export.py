"""年度抽查计划 in the government-portal layout (docs/exports.md): the file a department files
(备案) with the district joint-meeting office (R9.2) and publishes. The layout is portal.py's, as
on the public plans page; the file is written by the one CSV writer (app/core/csvfile.py).

The same plan is also given as a printable 备案表 (plan filing form): `filing_form_data` is what
the A4 print page (disclosure/plan_filing_print.html) and the DOCX
(app/inspections/documents.plan_filing_docx) show: the filing body (the bureau) and its 承办科室,
the plan's published version line by line, the SHA-256 of the filed CSV, and the seal area. The
CSV stays the filing itself (its SHA-256 is what file_plan records); the form goes with it."""

from __future__ import annotations

import datetime as dt
import hashlib

from app.core.csvfile import UTF8_BOM, csv_bytes
from app.core.text import chinese_date, chinese_date_range
from app.disclosure.portal import PLAN_HEADERS, plan_rows
from app.planning.models import AnnualPlan

FILING_FORM_TITLE = "年度随机抽查工作计划备案表"
RECEIVING_OFFICE = "区“双随机、一公开”监管工作联席会议办公室"
FILING_LINE_COLUMNS = ("序号", "抽查事项", "抽查范围", "抽查比例", "抽查方式", "实施时间", "实施部门")


def plan_csv(plan: AnnualPlan, encoding: str = UTF8_BOM) -> bytes:
    return csv_bytes(PLAN_HEADERS, plan_rows(plan), encoding)


def filing_form_data(plan: AnnualPlan, today: dt.date | None = None) -> dict:
    """The 备案表 of a published (or filed) plan, as plain data."""
    bureau, section = plan.department.issuing_names
    rows = list(plan_rows(plan))
    # portal.PLAN_HEADERS: 0 序号, 3 实施部门, 4 抽查事项, 5 抽查范围, 6 抽查比例, 7 抽查方式,
    # 9/10 实施时间起/止, 11 发布日期, 12 版本.
    lines = [
        {
            "no": row[0],
            "item_names": row[4],
            "scope": row[5],
            "ratios": row[6],
            "method": row[7],
            "period": chinese_date_range(row[9], row[10]) or "—",
            "departments": row[3],
        }
        for row in rows
    ]
    filed = plan.status == "filed" and plan.filed_on is not None
    day = plan.filed_on if filed else (today or dt.date.today())
    return {
        "title": f"{plan.year}{FILING_FORM_TITLE}",
        "bureau": bureau,
        "section": section,
        "plan_title": rows[0][1] if rows else plan.title,
        "year": plan.year,
        "published_on": chinese_date(plan.published_on) or "—",
        "version": rows[0][12] if rows else "原计划",
        "line_count": len(lines),
        "lines": lines,
        # Once filed, the SHA-256 recorded at the filing; before, that of the CSV to be filed.
        "csv_sha256": plan.filing_sha256 if filed else hashlib.sha256(plan_csv(plan)).hexdigest(),
        "filed_on": chinese_date(plan.filed_on) if filed else "",
        "receiver": RECEIVING_OFFICE,
        "date": day,
        "date_text": chinese_date(day),
    }
