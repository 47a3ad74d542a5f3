"""年度抽查计划 in the government-portal layout (docs/exports.md): the file a department files
(备案) with the district joint-meeting office (R9.2) and publishes."""

from __future__ import annotations

import csv
import io

from app.disclosure.exports import neutralise
from app.planning.models import AnnualPlan

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


def plan_rows(plan: AnnualPlan):
    for n, line in enumerate(plan.lines, start=1):
        yield [
            n,
            plan.title,
            plan.year,
            "、".join([plan.department.name] + [d.name for d in line.participating_departments]),
            "、".join(f"{i.code} {i.name}" for i in line.items),
            line.scope_text,
            line.ratios_text,
            line.method,
            line.content or "",
            line.window_start.isoformat() if line.window_start else "",
            line.window_end.isoformat() if line.window_end else "",
            plan.published_on.isoformat() if plan.published_on else "",
            f"第{plan.revision_no}次调整" if plan.revision_no else "原计划",
        ]


def plan_csv(plan: AnnualPlan, encoding: str = "utf-8-sig") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(PLAN_HEADERS)
    for row in plan_rows(plan):
        writer.writerow([neutralise(cell) for cell in row])
    return buffer.getvalue().encode(encoding)
