"""Demo plans and the task a new user works on, all in the current year (today's year, never a
fixed one):

- 水资源管理科's plan of this year, approved, published and filed, with one line for the whole
  year; from it the task 「<year>年取水许可与计划用水专项抽查」, whose window runs from five
  working days before today to twenty working days after (within the year), its targets and
  inspectors drawn with two witnesses. The section's only inspectors on duty are 王建国
  (inspector_wang) and 苏日娜, and a group has two members: whatever the draw picks,
  inspector_wang is in every group and has records to enter on the first day.
- 河湖管理科's plan of next year as a draft.

Idempotent for the day: plans are found by department and year, the task by its department,
year and name; a task already drawn is left alone, a draw left half-done is completed."""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager

from flask import g
from sqlalchemy import select

from app.core.calendar.service import add_working_days, load_calendar
from app.directory.models import InspectionItem
from app.disclosure.plan_export import plan_csv
from app.draws import services as draws
from app.extensions import db
from app.planning import services
from app.planning.models import AnnualPlan, PlanLine, SpotCheckTask

# The draw's two witnesses (监督人) and the digits they call out after the commitment is public.
WITNESSES = "白玉梅（驻局纪检监察组）、郝建平（群众代表）"
WITNESS_ENTROPY = {"target": "监督人现场报数 4 8 2 6", "inspector": "监督人现场报数 7 1 9 3"}
WINDOW_BEFORE, WINDOW_AFTER = 5, 20  # working days around today


@contextmanager
def acting_as(user):
    """Steps a person takes in the UI are taken as that person (audit rows, scope checks)."""
    previous = g.get("user")
    g.user = user
    try:
        yield user
    finally:
        g.user = previous


def current_task_name(year: int) -> str:
    return f"{year}年取水许可与计划用水专项抽查"


def task_window(today: dt.date) -> tuple[dt.date, dt.date]:
    """From the fifth working day before today to the twentieth after, cut to today's year:
    the window always contains today."""
    calendar = load_calendar()
    start, counted = today, 0
    while counted < WINDOW_BEFORE and start > dt.date(today.year, 1, 1):
        start -= dt.timedelta(days=1)
        counted += calendar.is_working_day(start)
    end = min(add_working_days(today, WINDOW_AFTER).date, dt.date(today.year, 12, 31))
    return start, end


def _plan(department, year, title, item_codes, line_name, method, content, window):
    items = list(
        db.session.scalars(select(InspectionItem).where(InspectionItem.code.in_(item_codes)))
    )
    plan = AnnualPlan(department=department, year=year, title=title)
    plan.lines.append(
        PlanLine(
            name=line_name,
            method=method,
            items=items,
            content=content,
            ratio_a=3,
            ratio_b=5,
            ratio_c=10,
            ratio_d=20,
            ratio_special=30,
            window_start=window[0],
            window_end=window[1],
        )
    )
    db.session.add(plan)
    return plan


def _on_or_before(today: dt.date, month: int, day: int) -> dt.date:
    """A date of the year's usual schedule, or today when that is still to come."""
    return min(dt.date(today.year, month, day), today)


def _szyk_plan(szyk, users, today) -> AnnualPlan:
    year = today.year
    plan = db.session.scalar(
        select(AnnualPlan).where(AnnualPlan.department_id == szyk.id, AnnualPlan.year == year)
    )
    if plan is not None:
        return plan
    plan = _plan(
        szyk,
        year,
        f"水资源管理科{year}年度“双随机、一公开”抽查计划",
        ["DSSL-SZY-001", "DSSL-SZY-002"],
        "取水许可与计划用水检查",
        "实地检查、书面检查",
        "检查取水许可执行、取水计量设施运行、取用水台账和计划用水执行情况",
        (dt.date(year, 1, 1), dt.date(year, 12, 31)),
    )
    db.session.flush()
    with acting_as(users["operator_szy"]):
        services.submit_plan(plan)
    services.approve_plan(plan, user=users["leader_szy"], today=_on_or_before(today, 2, 16))
    with acting_as(users["operator_szy"]):
        services.publish_plan(plan, today=_on_or_before(today, 2, 18))
        db.session.flush()
        services.file_plan(plan, plan_csv(plan), today=_on_or_before(today, 2, 20))
    db.session.flush()
    return plan


def _current_task(plan: AnnualPlan, operator, today) -> SpotCheckTask:
    name = current_task_name(plan.year)
    task = db.session.scalar(
        select(SpotCheckTask).where(
            SpotCheckTask.department_id == plan.department_id,
            SpotCheckTask.year == plan.year,
            SpotCheckTask.name == name,
        )
    )
    if task is not None:
        return task
    with acting_as(operator):
        task = services.create_task_from_line(plan.lines[0], name=name)
        task.window_start, task.window_end = task_window(today)
        services.check_task(task)
        db.session.add(task)
        db.session.flush()
    return task


def _draw(task: SpotCheckTask, kind: str) -> None:
    """One witnessed draw: the commitment is committed (public) before the entropy is taken."""
    draw = next((d for d in draws.open_draws(task) if d.kind == kind), None)
    if draw is None:
        draw = draws.start_draw(task, kind, witnesses=WITNESSES, mode="witnessed")
        db.session.commit()
    if draw.status == "committed":
        draws.complete_draw(draw, witness_entropy=WITNESS_ENTROPY[kind])
        db.session.commit()


def draw_current_task(task: SpotCheckTask, operator) -> None:
    with acting_as(operator):
        if task.status == "planned":
            _draw(task, "target")
        if task.status == "targets_drawn":
            _draw(task, "inspector")


def seed_planning(departments: dict, users: dict) -> None:
    today = dt.date.today()
    szyk, hhk = departments["SZYK"], departments["HHK"]
    plan = _szyk_plan(szyk, users, today)
    task = _current_task(plan, users["operator_szy"], today)
    db.session.commit()  # the task exists before its draws' commitments go public
    draw_current_task(task, users["operator_szy"])

    next_year = today.year + 1
    if not db.session.scalar(
        select(AnnualPlan.id).where(AnnualPlan.department_id == hhk.id, AnnualPlan.year == next_year)
    ):
        _plan(
            hhk,
            next_year,
            f"河湖管理科{next_year}年度“双随机、一公开”抽查计划",
            ["DSSL-HH-001", "DSSL-HH-002"],
            "河道管理与采砂检查",
            "实地检查",
            "检查河道管理范围内建设项目批准情况、采砂许可范围、时段和开采量",
            (dt.date(next_year, 4, 1), dt.date(next_year, 10, 31)),
        )
    db.session.flush()
