"""Progress of the year's checks (R9.5), per plan, per department and for the district.

应检查数 is the number of targets drawn for the year's tasks (for an approved task not drawn yet,
the number its draw would take); the other counts come from the inspection and disclosure
domains, which register a counter here when they exist. The rates:
完成率 = 已公示 / 应检查, 录入率 = 已录入 / 应检查, 完结率 = 完结数 / 已公示.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select

from app.extensions import db
from app.planning.models import SpotCheckTask
from app.security.models import Department

COUNT_NAMES = ("planned", "inspected", "entered", "published", "overdue_unentered", "closed")
CHINESE_HEADERS = {
    "planned": "应检查数",
    "inspected": "已检查数",
    "entered": "已录入",
    "published": "已公示",
    "overdue_unentered": "逾期未录入",
    "closed": "完结数",
    "completion_rate": "完成率",
    "entry_rate": "录入率",
    "closure_rate": "完结率",
}

# counter(year, department_ids) -> {task_id: {count_name: n}} for the year's tasks led by those
# departments (None: every department); later domains append theirs.
COUNTERS: list[Callable[[int, set[int] | None], dict[int, dict[str, int]]]] = []


def register_counter(counter) -> None:
    """Called by create_app for each domain that contributes counts (once per counter)."""
    if counter not in COUNTERS:
        COUNTERS.append(counter)


def rate(numerator: int, denominator: int) -> Decimal | None:
    """A percentage with one decimal, or None when there is nothing to divide by."""
    if not denominator:
        return None
    return (Decimal(numerator) * 100 / Decimal(denominator)).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )


@dataclass
class Progress:
    planned: int = 0
    inspected: int = 0
    entered: int = 0
    published: int = 0
    overdue_unentered: int = 0
    closed: int = 0
    tasks: int = 0
    out_of_plan_tasks: int = 0

    @property
    def completion_rate(self):
        return rate(self.published, self.planned)

    @property
    def entry_rate(self):
        return rate(self.entered, self.planned)

    @property
    def closure_rate(self):
        return rate(self.closed, self.published)

    def add(self, other: Progress) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


@dataclass
class ProgressReport:
    year: int
    rows: list[tuple[Department, Progress]] = field(default_factory=list)
    total: Progress = field(default_factory=Progress)


@dataclass
class TaskProgress:
    department: Department
    task: SpotCheckTask
    progress: Progress


def _departments(department_ids) -> list[Department]:
    query = select(Department).order_by(Department.sort_order, Department.id)
    if department_ids is not None:
        query = query.where(Department.id.in_(department_ids))
    return list(db.session.scalars(query))


def _task_counts(year: int, department_ids=None) -> dict[int, Progress]:
    """Every registered counter's counts, per task of the year led by the departments (only
    those are reported: a planned count previews the task's pool, which is not free)."""
    by_task: dict[int, Progress] = {}
    for counter in COUNTERS:
        for task_id, counts in counter(year, department_ids).items():
            progress = by_task.setdefault(task_id, Progress())
            for name, n in counts.items():
                if name in COUNT_NAMES:
                    setattr(progress, name, getattr(progress, name) + n)
    return by_task


def _year_tasks(year: int, department_ids=None) -> list[SpotCheckTask]:
    """The year's approved tasks (of the given lead departments), in number order."""
    query = select(SpotCheckTask).where(
        SpotCheckTask.year == year, SpotCheckTask.approval == "approved"
    )
    if department_ids is not None:
        query = query.where(SpotCheckTask.department_id.in_(department_ids))
    return list(db.session.scalars(query.order_by(SpotCheckTask.number, SpotCheckTask.id)))


def progress_by_department(year: int, department_ids=None) -> ProgressReport:
    """Every department is listed, those without tasks included; the total is the district's
    (or the given departments'). A task counts for its lead department."""
    departments = _departments(department_ids)
    by_id = {d.id: Progress() for d in departments}
    counts = _task_counts(year, department_ids)
    for task in _year_tasks(year, department_ids):
        if task.department_id not in by_id:
            continue
        row = by_id[task.department_id]
        row.tasks += 1
        row.out_of_plan_tasks += bool(task.out_of_plan)
        if task.id in counts:
            row.add(counts[task.id])
    report = ProgressReport(year)
    for dept in departments:
        report.rows.append((dept, by_id[dept.id]))
        report.total.add(by_id[dept.id])
    return report


def progress_by_task(year: int, department_ids=None) -> list[TaskProgress]:
    """Per department and task (the progress report filed with the joint-meeting office,
    R9.5): departments in tree order, their tasks in number order."""
    departments = {d.id: d for d in _departments(department_ids)}
    counts = _task_counts(year, department_ids)
    rows = []
    for task in _year_tasks(year, department_ids):
        if task.department_id in departments:
            progress = Progress(tasks=1, out_of_plan_tasks=int(bool(task.out_of_plan)))
            progress.add(counts.get(task.id, Progress()))
            rows.append(TaskProgress(departments[task.department_id], task, progress))
    order = {dept_id: n for n, dept_id in enumerate(departments)}
    rows.sort(key=lambda r: order[r.department.id])  # stable: tasks keep their order
    return rows
