"""Demo plans and the task a new user works on, all in the current year (today's year, never a
fixed one):

- 水资源管理科's plan of this year, approved, published and filed, with one line for the whole
  year.
- From July on, its spring check 「<year>年春季取水许可专项抽查」 (March to May): drawn, every
  record entered, reviewed, the summary approved and the results published (history to look at).
- The task 「<year>年取水许可与计划用水专项抽查」, whose window runs from five
  working days before today to twenty working days after (within the year), its targets and
  inspectors drawn with two witnesses. The section's only inspectors on duty are 王建国
  (inspector_wang) and 苏日娜, and a group has two members: whatever the draw picks,
  inspector_wang is in every group and has records to enter on the first day.
- The task 「<year>年计划用水户用水计量专项抽查」, approved and not drawn, its window from today
  to the twentieth working day after: its draw is open, for a new user (and the checks outside
  the repository, DESIGN.md "Demo data") to draw targets and inspectors.
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
from app.inspections import services as inspections
from app.inspections.models import InspectionSummary
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


def waiting_task_name(year: int) -> str:
    return f"{year}年计划用水户用水计量专项抽查"


def _waiting_task(plan: AnnualPlan, operator, today) -> SpotCheckTask:
    """Approved, not drawn; its window starts today, so the draw is open (it opens a few
    working days before the window, DRAW_OPENS_WORKING_DAYS_BEFORE)."""
    window = (today, task_window(today)[1])
    return _task_of_line(plan, waiting_task_name(plan.year), operator, window)


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


def _find_task(plan: AnnualPlan, name: str) -> SpotCheckTask | None:
    return db.session.scalar(
        select(SpotCheckTask).where(
            SpotCheckTask.department_id == plan.department_id,
            SpotCheckTask.year == plan.year,
            SpotCheckTask.name == name,
        )
    )


def _current_task(plan: AnnualPlan, operator, today) -> SpotCheckTask:
    return _task_of_line(plan, current_task_name(plan.year), operator, task_window(today))


def _task_of_line(plan: AnnualPlan, name: str, operator, window) -> SpotCheckTask:
    """The plan's task of that name, made from its line with that window if it is not there."""
    task = _find_task(plan, name)
    if task is not None:
        return task
    with acting_as(operator):
        task = services.create_task_from_line(plan.lines[0], name=name)
        task.window_start, task.window_end = window
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


def draw_task(task: SpotCheckTask, operator) -> None:
    with acting_as(operator):
        if task.status == "planned":
            _draw(task, "target")
        if task.status == "targets_drawn":
            _draw(task, "inspector")


def finished_task_name(year: int) -> str:
    return f"{year}年春季取水许可专项抽查"


def finished_window(today: dt.date) -> tuple[dt.date, dt.date] | None:
    """The spring check (March to May), finished and published; only once it lies well before
    the current task's window (from July on)."""
    if today < dt.date(today.year, 7, 1):
        return None
    return dt.date(today.year, 3, 2), dt.date(today.year, 5, 29)


# What the inspectors found at the spring check, record by record (the first has a problem
# corrected on the spot; the others none).
FINDINGS = [
    # result, problems, opinions, follow-up
    (
        "发现问题已责令改正",
        "取水台账记录不完整，3月份取水量未登记；已当场责令补记",
        "补齐取水台账，按月报送取水量",
        "立案查处",
    ),
    (
        "发现问题待后续处理",
        "未按规定安装取水计量设施，自备井取水量无法计量",
        "限期安装经检定合格的取水计量设施",
        "责令改正、跟踪整改",
    ),
    ("未发现问题", "无", "继续规范取用水管理", "无需后续处置"),
]
# The second level of the results that have one (app/inspections/result_codes.py).
FINDING_DETAILS = {"发现问题待后续处理": "违反水资源管理规定"}
DECISION_NUMBER = "东水信用〔{year}〕1号"
FINDING_SITUATION = "取水计量设施运行正常，取水许可证在有效期内，取水量未超许可水量"


def _finish(task: SpotCheckTask, users: dict, window: tuple[dt.date, dt.date]) -> None:
    """Every record entered by inspector_wang, reviewed by the operator, the summary approved
    by the Leader in charge and the results published: the task as a bureau leaves it."""
    from app.draws.models import DrawnTarget

    with acting_as(users["inspector_wang"]):
        drawn = db.session.scalars(
            select(DrawnTarget).where(DrawnTarget.task_id == task.id).order_by(DrawnTarget.id)
        ).all()
        # The findings about a company's books and meters go to companies first (the draw may
        # have picked natural persons too).
        drawn = sorted(drawn, key=lambda row: row.target.target_type == "自然人")
        for n, row in enumerate(drawn):
            record = inspections.open_record(row)
            if not record.editable:
                continue
            result, problems, opinions, follow_up = FINDINGS[min(n, len(FINDINGS) - 1)]
            calendar_day = add_working_days(window[0], 10 + 3 * n).date
            record.inspection_date = min(calendar_day, window[1])
            record.method = "实地检查"
            record.items = list(task.items)
            record.situation = FINDING_SITUATION
            record.problems = problems
            record.result_code = result
            record.result_detail = FINDING_DETAILS.get(result)
            record.follow_up = follow_up
            record.opinions = opinions
            target = row.target
            record.present_person = (
                f"{target.name}（本人）"
                if target.target_type == "自然人"
                else f"{target.contact_person}（单位联系人）"
            )
            inspections.submit_record(record)
        db.session.flush()
    with acting_as(users["operator_szy"]):
        for record in inspections.task_records(task):
            if record.status == "submitted":
                inspections.review_record(record)
        db.session.flush()
    with acting_as(users["inspector_wang"]):
        summary = inspections.open_summary(task)
        if summary.editable:
            inspections.submit_summary(summary)
            db.session.flush()
    with acting_as(users["leader_szy"]):
        summary = db.session.scalar(
            select(InspectionSummary).where(InspectionSummary.task_id == task.id)
        )
        if summary.status == "submitted":
            inspections.decide_summary(summary, True, "同意，按程序公示")
            db.session.flush()
    with acting_as(users["operator_szy"]):
        inspections.publish_results(task)
    _dates_of_spring(task, window)
    db.session.commit()
    _refused_and_listed(task, users)
    _penalised(task, users)


# The demo's 行政处罚 (双公示): the record whose books were incomplete, fined by the bureau.
PENALTY = {
    "number": "东水罚〔{year}〕1号",
    "content": "警告，并处罚款人民币五千元",
    "violation_type": "未按规定填写取水台账",
    "violation_facts": "取水台账记录不完整，3月份取水量未登记，经当场责令已补记",
    "legal_basis": "《取水许可和水资源费征收管理条例》第五十二条",
    "kinds": "警告、罚款",
    "fine_amount": "0.5",
}


def _penalised(task: SpotCheckTask, users: dict) -> None:
    """The record with 立案查处: its penalty with the 双公示 fields (the other fields default:
    处罚有效期 2099-12-31, 公示 for a year, 处罚机关 the bureau with its code)."""
    record = next((r for r in inspections.task_records(task) if r.follow_up == "立案查处"), None)
    if record is None or record.penalties:
        return
    fields = dict(PENALTY)
    number, content = fields.pop("number").format(year=task.year), fields.pop("content")
    day = min(add_working_days(record.inspection_date, 10).date, dt.date.today())
    with acting_as(users["operator_szy"]):
        inspections.add_penalty(record, number, day, content, **fields)
    record.follow_up_closed_on = day
    db.session.commit()


def _refused_and_listed(task: SpotCheckTask, users: dict) -> None:
    """The record that called for rectification: its case closed as 拒不整改 after the
    re-inspection, the suggested listing proposed, reviewed by the Leader in charge, decided by
    the bureau's Leader and published (R12.1): the demo's blacklist entry."""
    from app.credit import services as credit
    from app.credit.models import BlacklistEntry

    record = next(
        (r for r in inspections.task_records(task) if r.follow_up == "责令改正、跟踪整改"), None
    )
    if record is None or record.rectification_cases:
        return
    deadline = add_working_days(record.inspection_date, 15).date
    with acting_as(users["operator_szy"]):
        case = inspections.open_case(
            record,
            task.department_id,
            "限期安装经检定合格的取水计量设施并报送安装验收资料",
            deadline,
        )
        db.session.flush()
        inspections.add_reinspection(
            case, add_working_days(deadline, 2).date, "复查时仍未安装取水计量设施", False
        )
        inspections.close_case(case, "refused", "逾期拒不安装取水计量设施，经复查仍未整改")
        db.session.flush()
        entry = db.session.scalar(select(BlacklistEntry).where(BlacklistEntry.case_id == case.id))
        credit.propose(entry)
        db.session.flush()
    proposed = _at(deadline, 3, 10)
    entry.proposed_on = proposed
    with acting_as(users["leader_szy"]):
        credit.review(entry, True, "情况属实，证据充分，同意列入")
    with acting_as(users["leader"]):
        credit.approve(
            entry,
            DECISION_NUMBER.format(year=task.year),
            period_months=12,
            decided_on=add_working_days(proposed.date(), 5).date,
        )
    with acting_as(users["operator_szy"]):
        credit.publish(entry)
    # As it happened: the case closed, reviewed and decided in spring, published in June.
    case.closed_on = add_working_days(deadline, 2).date
    entry.reviewed_on = _at(proposed.date(), 2, 15)
    entry.decided_on = _at(proposed.date(), 5, 11)
    entry.published_on = add_working_days(proposed.date(), 6).date
    steps = {
        "suggest": _at(deadline, 2, 16),
        "propose": proposed,
        "review": entry.reviewed_on,
        "approve": entry.decided_on,
        "publish": _at(proposed.date(), 6, 9),
    }
    for event in entry.events:
        event.at = steps.get(event.action, event.at)
    record.follow_up_closed_on = case.closed_on
    db.session.commit()


def _at(day: dt.date, working_days: int, hour: int) -> dt.datetime:
    return dt.datetime.combine(add_working_days(day, working_days).date, dt.time(hour, 30))


def _dates_of_spring(task: SpotCheckTask, window: tuple[dt.date, dt.date]) -> None:
    """The steps were taken just now; the history they stand for happened in spring: each record
    entered two working days after its inspection and reviewed two later, the summary approved
    and the results published within the 20 working days after the window (R11.1, R11.3)."""
    for record in inspections.task_records(task):
        record.submitted_on = _at(record.inspection_date, 2, 16)
        record.reviewed_on = _at(record.inspection_date, 4, 10)
    summary = db.session.scalar(
        select(InspectionSummary).where(InspectionSummary.task_id == task.id)
    )
    version = summary.versions[-1]
    version.submitted_on = _at(window[1], 3, 15)
    version.decided_on = _at(window[1], 5, 9)
    summary.approved_on = version.decided_on.date()
    task.results_published_on = add_working_days(window[1], 7).date


def _finished_task(plan: AnnualPlan, users: dict, today: dt.date) -> None:
    window = finished_window(today)
    if window is None:
        return
    operator = users["operator_szy"]
    task = _find_task(plan, finished_task_name(plan.year))
    if task is None:
        with acting_as(operator):
            task = services.create_task_from_line(plan.lines[0], name=finished_task_name(plan.year))
            task.window_start, task.window_end = window
            services.check_task(task)
            db.session.add(task)
        db.session.commit()
    if task.status == "published" or task.status == "archived":
        return
    draw_task(task, operator)
    _finish(task, users, window)


def seed_planning(departments: dict, users: dict) -> None:
    today = dt.date.today()
    szyk, hhk = departments["SZYK"], departments["HHK"]
    plan = _szyk_plan(szyk, users, today)
    _finished_task(plan, users, today)
    task = _current_task(plan, users["operator_szy"], today)
    db.session.commit()  # the task exists before its draws' commitments go public
    draw_task(task, users["operator_szy"])
    _waiting_task(plan, users["operator_szy"], today)

    next_year = today.year + 1
    if not db.session.scalar(
        select(AnnualPlan.id).where(
            AnnualPlan.department_id == hhk.id, AnnualPlan.year == next_year
        )
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
