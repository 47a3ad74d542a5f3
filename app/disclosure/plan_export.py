"""年度抽查计划 in the government-portal layout (docs/exports.md): the file a department files
(备案) with the district joint-meeting office (R9.2) and publishes. The layout is portal.py's, as
on the public plans page."""

from __future__ import annotations

import csv
import io

from app.disclosure.exports import neutralise
from app.disclosure.portal import PLAN_HEADERS, plan_rows
from app.planning.models import AnnualPlan


def plan_csv(plan: AnnualPlan, encoding: str = "utf-8-sig") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(PLAN_HEADERS)
    for row in plan_rows(plan):
        writer.writerow([neutralise(cell) for cell in row])
    return buffer.getvalue().encode(encoding)
