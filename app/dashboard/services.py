"""The dashboard's figures (R9.5): pure data gathering, no request, no rendering.

Everything is restricted to the departments given (`departments_in_scope()`: a set of ids or
None for all) and counted per *lead* department of a task, as `app/planning/progress.py` does:

- the counts and rates are `progress_by_department`'s, not computed again here;
- the annual plan of each department (R9.1: published before the end of February) and the
  adjustments (`PlanRevision`, R9.6) not republished and refiled by their due date;
- the records not entered within 20 working days (逾期未录入), per task;
- the blacklist per listing department: current listings, listings and removals of the year;
- a monthly trend of the year's tasks: drawn targets (应检查), records with an inspection date
  (已检查), entered (已录入) and published (已公示), cumulative, whose last values are the
  table's totals.

`user` only selects a model's role rule (`role_clause`): JointOffice reads published plans and
published blacklist entries only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import and_, func, select, true

from app.credit.models import LISTED_STATUSES, BlacklistEntry
from app.directory.models import InspectionItem
from app.draws.models import Draw, DrawnTarget
from app.extensions import db
from app.inspections.deadlines import is_overdue, working_days_left
from app.inspections.models import ENTERED_RECORD_STATUSES, InspectionRecord
from app.planning.models import (
    PUBLISHED_TASK_STATUSES,
    AnnualPlan,
    PlanRevision,
    SpotCheckTask,
    february_deadline,
)
from app.planning.progress import Progress, progress_by_department
from app.security.scope import current_actor, role_clause

MIN_YEAR, MAX_YEAR = 2000, 2100
RATE_NAMES = ("completion_rate", "entry_rate", "closure_rate")


def parse_year(value, today: dt.date | None = None) -> int:
    """`?year=` as an int within 2000–2100; anything else is the current year."""
    current = (today or dt.date.today()).year
    try:
        year = int(str(value).strip())
    except (TypeError, ValueError):
        return current
    return year if MIN_YEAR <= year <= MAX_YEAR else current


@dataclass
class PlanState:
    """A department's annual plan of the year, as far as the user may see it (R9.1)."""

    department_id: int
    plan_id: int | None = None
    title: str | None = None
    status: str | None = None  # AnnualPlan.status; None: no (visible) plan
    first_published_on: dt.date | None = None
    deadline: dt.date | None = None
    late_days: int = 0  # after the deadline, at first publication or (not published) today
    # No plan and no published item in the department's list: nothing to plan (R9.4), not late.
    nothing_to_plan: bool = False

    @property
    def late(self) -> bool:
        return self.late_days > 0


@dataclass
class LateRevision:
    """An adjustment of a published plan (R9.6) not refiled by its due date."""

    department_id: int
    plan_id: int
    plan_title: str
    number: int
    adjusted_on: dt.date
    due_on: dt.date
    due_confirmed: bool
    republished_on: dt.date | None
    refiled_on: dt.date | None

    @property
    def open(self) -> bool:
        return self.refiled_on is None


@dataclass
class BlacklistCounts:
    listed: int = 0  # current listings: listed or removal proposed
    listed_in_year: int = 0  # listing decisions of the year
    removed_in_year: int = 0  # removals of the year

    def add(self, other: BlacklistCounts) -> None:
        self.listed += other.listed
        self.listed_in_year += other.listed_in_year
        self.removed_in_year += other.removed_in_year


@dataclass
class OverdueTask:
    """The records of one task not entered within 20 working days (R11.3)."""

    task_id: int
    number: str
    name: str
    department_id: int
    records: int = 0
    earliest_due_on: dt.date | None = None
    max_days_overdue: int = 0  # working days


@dataclass
class DepartmentRow:
    department_id: int
    name: str
    progress: Progress
    plan: PlanState
    blacklist: BlacklistCounts
    late_revisions: int = 0
    overdue_tasks: int = 0


@dataclass
class Trend:
    """Cumulative counts at the end of each month; None for months still to come."""

    months: list[str] = field(default_factory=list)  # "2027-03"
    planned: list[int | None] = field(default_factory=list)
    inspected: list[int | None] = field(default_factory=list)
    entered: list[int | None] = field(default_factory=list)
    published: list[int | None] = field(default_factory=list)


@dataclass
class Dashboard:
    year: int
    today: dt.date
    all_departments: bool  # the scope is the whole district
    rows: list[DepartmentRow] = field(default_factory=list)
    total: Progress = field(default_factory=Progress)
    blacklist_total: BlacklistCounts = field(default_factory=BlacklistCounts)
    overdue_tasks: list[OverdueTask] = field(default_factory=list)
    late_revisions: list[LateRevision] = field(default_factory=list)
    trend: Trend = field(default_factory=Trend)

    @property
    def deadline(self) -> dt.date:
        return february_deadline(self.year)

    @property
    def late_plans(self) -> list[PlanState]:
        return [row.plan for row in self.rows if row.plan.late]

    def department_name(self, department_id: int) -> str:
        return next((r.name for r in self.rows if r.department_id == department_id), "")


# --- the parts -------------------------------------------------------------------------------


def _in_departments(column, department_ids):
    return true() if department_ids is None else column.in_(department_ids)


def plan_states(
    year: int, department_ids: list[int], user=None, today: dt.date | None = None
) -> dict[int, PlanState]:
    """Every given department's plan of the year (or its absence) and how late it is."""
    today = today or dt.date.today()
    deadline = february_deadline(year)
    query = select(AnnualPlan).where(
        AnnualPlan.year == year, AnnualPlan.department_id.in_(department_ids)
    )
    rule = role_clause(AnnualPlan, user)
    if rule is not None:
        query = query.where(rule)
    plans = {p.department_id: p for p in db.session.scalars(query)}
    with_items = set(
        db.session.scalars(
            select(InspectionItem.department_id)
            .where(
                InspectionItem.status == "published",
                InspectionItem.department_id.in_(department_ids),
            )
            .distinct()
        )
    )
    states = {}
    for dept_id in department_ids:
        plan = plans.get(dept_id)
        if plan is None and dept_id not in with_items:
            states[dept_id] = PlanState(dept_id, deadline=deadline, nothing_to_plan=True)
        elif plan is None:
            states[dept_id] = PlanState(
                dept_id, deadline=deadline, late_days=max((today - deadline).days, 0)
            )
        else:
            states[dept_id] = PlanState(
                dept_id,
                plan_id=plan.id,
                title=plan.title,
                status=plan.status,
                first_published_on=plan.first_published_on,
                deadline=deadline,
                late_days=plan.late_days(today),
            )
    return states


def late_revisions(
    year: int, department_ids, user=None, today: dt.date | None = None
) -> list[LateRevision]:
    """Adjustments of the year's plans not republished and refiled within 10 working days:
    still open past their due date, or refiled after it (R9.6)."""
    today = today or dt.date.today()
    query = (
        select(PlanRevision, AnnualPlan)
        .join(AnnualPlan, AnnualPlan.id == PlanRevision.plan_id)
        .where(
            AnnualPlan.year == year,
            _in_departments(AnnualPlan.department_id, department_ids),
            PlanRevision.due_on < func.coalesce(PlanRevision.refiled_on, today),
        )
        .order_by(PlanRevision.due_on, PlanRevision.id)
    )
    rule = role_clause(AnnualPlan, user)
    if rule is not None:
        query = query.where(rule)
    return [
        LateRevision(
            department_id=plan.department_id,
            plan_id=plan.id,
            plan_title=plan.title,
            number=rev.number,
            adjusted_on=rev.adjusted_on,
            due_on=rev.due_on,
            due_confirmed=rev.due_confirmed,
            republished_on=rev.republished_on,
            refiled_on=rev.refiled_on,
        )
        for rev, plan in db.session.execute(query)
        if rev.overdue(today)
    ]


def blacklist_counts(year: int, department_ids, user=None) -> dict[int, BlacklistCounts]:
    """Per listing department: current listings, listings and removals of the year."""
    query = select(
        BlacklistEntry.department_id,
        BlacklistEntry.status,
        BlacklistEntry.listed_on,
        BlacklistEntry.removed_on,
    ).where(
        _in_departments(BlacklistEntry.department_id, department_ids),
        BlacklistEntry.status.in_((*LISTED_STATUSES, "removed")),
    )
    rule = role_clause(BlacklistEntry, user)
    if rule is not None:
        query = query.where(rule)
    counts: dict[int, BlacklistCounts] = {}
    for dept_id, status, listed_on, removed_on in db.session.execute(query):
        row = counts.setdefault(dept_id, BlacklistCounts())
        row.listed += status in LISTED_STATUSES
        row.listed_in_year += listed_on is not None and listed_on.year == year
        row.removed_in_year += (
            status == "removed" and removed_on is not None and removed_on.year == year
        )
    return counts


def overdue_tasks(year: int, department_ids, today: dt.date | None = None) -> list[OverdueTask]:
    """The year's tasks with records not entered within 20 working days, the most overdue
    first. Same rule as the 逾期未录入 count (`inspections.services.record_counts`)."""
    today = today or dt.date.today()
    query = (
        select(InspectionRecord, SpotCheckTask)
        .join(SpotCheckTask, SpotCheckTask.id == InspectionRecord.task_id)
        .where(
            SpotCheckTask.year == year,
            SpotCheckTask.approval == "approved",
            _in_departments(SpotCheckTask.department_id, department_ids),
            InspectionRecord.status.not_in(ENTERED_RECORD_STATUSES),
            InspectionRecord.due_on < today,  # a superset: is_overdue counts working days
        )
    )
    tasks: dict[int, OverdueTask] = {}
    for record, task in db.session.execute(query):
        if not is_overdue(record, today):
            continue
        row = tasks.setdefault(
            task.id, OverdueTask(task.id, task.number, task.name, task.department_id)
        )
        row.records += 1
        if row.earliest_due_on is None or record.due_on < row.earliest_due_on:
            row.earliest_due_on = record.due_on
        row.max_days_overdue = max(row.max_days_overdue, -(working_days_left(record, today) or 0))
    return sorted(tasks.values(), key=lambda t: (-t.max_days_overdue, t.number))


def _month(day) -> tuple[int, int] | None:
    if day is None:
        return None
    return (day.year, day.month)


def _months(first: tuple[int, int], last: tuple[int, int]) -> list[tuple[int, int]]:
    result, (y, m) = [], first
    while (y, m) <= last:
        result.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return result


def monthly_trend(year: int, department_ids, today: dt.date | None = None) -> Trend:
    """Cumulative 应检查 / 已检查 / 已录入 / 已公示 of the year's tasks at the end of each month
    of the year (and of any month before or after it in which one of them happened)."""
    today = today or dt.date.today()
    in_scope = and_(
        SpotCheckTask.approval == "approved",
        _in_departments(SpotCheckTask.department_id, department_ids),
    )
    events: dict[str, list[tuple[int, int]]] = {
        "planned": [],
        "inspected": [],
        "entered": [],
        "published": [],
    }
    drawn = db.session.execute(
        select(func.coalesce(Draw.drawn_at, Draw.created_on), func.count(DrawnTarget.id))
        .join(Draw, Draw.id == DrawnTarget.draw_id)
        .join(SpotCheckTask, SpotCheckTask.id == DrawnTarget.task_id)
        .where(SpotCheckTask.year == year, in_scope)
        .group_by(Draw.id, Draw.drawn_at, Draw.created_on)
    )
    for when, n in drawn:
        events["planned"] += [_month(when) or (year, 1)] * n
    records = db.session.execute(
        select(
            InspectionRecord.status,
            InspectionRecord.inspection_date,
            InspectionRecord.submitted_on,
            SpotCheckTask.status,
            SpotCheckTask.results_published_on,
        )
        .join(SpotCheckTask, SpotCheckTask.id == InspectionRecord.task_id)
        .where(SpotCheckTask.year == year, in_scope)
    )
    for status, inspection_date, submitted_on, task_status, published_on in records:
        if inspection_date is not None:
            events["inspected"].append(_month(inspection_date))
        if status in ENTERED_RECORD_STATUSES:
            entered = _month(submitted_on) or _month(inspection_date) or (year, 1)
            events["entered"].append(entered)
            if task_status in PUBLISHED_TASK_STATUSES:
                events["published"].append(_month(published_on) or entered)
    every = [m for months in events.values() for m in months]
    first = min([(year, 1), *every])
    last = max([(year, 12), *every])
    months = _months(first, last)
    now = _month(today)
    trend = Trend(months=[f"{y:04d}-{m:02d}" for y, m in months])
    for name, happened in events.items():
        series = []
        for month in months:
            if month > now:
                series.append(None)
            else:
                series.append(sum(1 for h in happened if h <= month))
        setattr(trend, name, series)
    return trend


# --- the whole page --------------------------------------------------------------------------


def build_dashboard(
    year: int, department_ids=None, user=None, today: dt.date | None = None
) -> Dashboard:
    """The dashboard of the year for the given departments (None: all)."""
    today = today or dt.date.today()
    user = user if user is not None else current_actor()
    report = progress_by_department(year, department_ids)
    ids = [dept.id for dept, _ in report.rows]
    plans = plan_states(year, ids, user, today)
    blacklist = blacklist_counts(year, department_ids, user)
    board = Dashboard(year=year, today=today, all_departments=department_ids is None)
    board.total = report.total
    board.overdue_tasks = overdue_tasks(year, department_ids, today)
    board.late_revisions = late_revisions(year, department_ids, user, today)
    board.trend = monthly_trend(year, department_ids, today)
    for dept, progress in report.rows:
        counts = blacklist.get(dept.id, BlacklistCounts())
        board.blacklist_total.add(counts)
        board.rows.append(
            DepartmentRow(
                department_id=dept.id,
                name=dept.name,
                progress=progress,
                plan=plans[dept.id],
                blacklist=counts,
                late_revisions=sum(1 for r in board.late_revisions if r.department_id == dept.id),
                overdue_tasks=sum(1 for t in board.overdue_tasks if t.department_id == dept.id),
            )
        )
    return board


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def chart_data(board: Dashboard, labels: dict[str, str], total_label: str) -> dict:
    """What app/static/js/dashboard.js draws: plain JSON, the labels already translated."""
    categories = [row.name for row in board.rows] + [total_label]
    progresses = [row.progress for row in board.rows] + [board.total]
    return {
        "year": board.year,
        "rates": {
            "categories": categories,
            "series": [
                {
                    "key": name,
                    "name": labels[name],
                    "data": [_number(getattr(p, name)) for p in progresses],
                }
                for name in RATE_NAMES
            ],
        },
        "trend": {
            "months": board.trend.months,
            "series": [
                {"key": name, "name": labels[name], "data": getattr(board.trend, name)}
                for name in ("planned", "inspected", "entered", "published")
            ],
        },
    }
