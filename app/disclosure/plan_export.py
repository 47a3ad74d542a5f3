"""年度抽查计划 in the government-portal layout (docs/exports.md): the file a department files
(备案) with the district joint-meeting office (R9.2) and publishes. The layout is portal.py's, as
on the public plans page; the file is written by the one CSV writer (app/core/csvfile.py)."""

from __future__ import annotations

from app.core.csvfile import UTF8_BOM, csv_bytes
from app.disclosure.portal import PLAN_HEADERS, plan_rows
from app.planning.models import AnnualPlan


def plan_csv(plan: AnnualPlan, encoding: str = UTF8_BOM) -> bytes:
    return csv_bytes(PLAN_HEADERS, plan_rows(plan), encoding)
