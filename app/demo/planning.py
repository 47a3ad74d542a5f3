"""Demo plans: 水资源管理科's 2026 plan, published and filed in February, with one task; and
河湖管理科's 2027 plan as a draft. Idempotent: found by department and year."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from app.directory.models import InspectionItem
from app.disclosure.plan_export import plan_csv
from app.extensions import db
from app.planning import services
from app.planning.models import AnnualPlan, PlanLine


def _plan(department, year, title, item_codes, line_name, method):
    items = list(
        db.session.scalars(select(InspectionItem).where(InspectionItem.code.in_(item_codes)))
    )
    plan = AnnualPlan(department=department, year=year, title=title)
    plan.lines.append(
        PlanLine(
            name=line_name,
            method=method,
            items=items,
            content="检查许可执行、计量设施和台账",
            ratio_a=3,
            ratio_b=5,
            ratio_c=10,
            ratio_d=20,
            ratio_special=30,
            window_start=dt.date(year, 4, 1),
            window_end=dt.date(year, 10, 31),
        )
    )
    db.session.add(plan)
    return plan


def seed_planning(departments: dict, users: dict) -> None:
    existing = {(p.department_id, p.year) for p in db.session.scalars(select(AnnualPlan))}
    szyk, hhk = departments["SZYK"], departments["HHK"]
    if (szyk.id, 2026) not in existing:
        plan = _plan(
            szyk,
            2026,
            "水资源管理科2026年度“双随机、一公开”抽查计划",
            ["DSSL-SZY-001", "DSSL-SZY-002"],
            "取水许可与计划用水检查",
            "实地检查、书面检查",
        )
        db.session.flush()
        services.submit_plan(plan)
        services.approve_plan(plan, user=users["leader_szy"], today=dt.date(2026, 2, 16))
        services.publish_plan(plan, today=dt.date(2026, 2, 18))
        db.session.flush()
        services.file_plan(plan, plan_csv(plan), today=dt.date(2026, 2, 20))
        task = services.create_task_from_line(plan.lines[0], name="2026年取水许可专项抽查")
        db.session.add(task)
    if (hhk.id, 2027) not in existing:
        _plan(
            hhk,
            2027,
            "河湖管理科2027年度“双随机、一公开”抽查计划",
            ["DSSL-HH-001", "DSSL-HH-002"],
            "河道管理与采砂检查",
            "实地检查",
        )
    db.session.flush()
