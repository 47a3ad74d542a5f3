"""The annual spot-check plan (年度抽查计划), its lines and revisions, coverage exemptions, and
the spot-check tasks (抽查任务) created from it (R5.2, R9.1–R9.7)."""

from __future__ import annotations

import calendar
import datetime as dt
from decimal import Decimal

from flask_appbuilder import Model
from flask_appbuilder.models.mixins import AuditMixin
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import relationship

from app.core.models import ScalarDefaults
from app.directory.models import InspectionItem, split_multi
from app.security import roles
from app.security.models import Department

PLAN_STATUSES = {
    "draft": _l("Draft"),
    "submitted": _l("Submitted"),
    "approved": _l("Approved"),
    "published": _l("Published"),
    "filed": _l("Filed"),
}
# What the public and the joint-meeting office may see: a plan once published, and kept
# visible while a revision of it is being prepared (its last published version is on record).
PUBLIC_PLAN_STATUSES = ("published", "filed")

TASK_STATUSES = {
    "planned": _l("Planned"),
    "targets_drawn": _l("Targets drawn"),
    "inspectors_drawn": _l("Inspectors drawn"),
    "inspecting": _l("Inspecting"),
    "results_entered": _l("Results entered"),
    "published": _l("Published"),
    "archived": _l("Archived"),
}
# A task whose results are public (R11.1): published, and archived after that.
PUBLISHED_TASK_STATUSES = ("published", "archived")
APPROVALS = {
    "approved": _l("Approved"),
    "pending": _l("Waiting for a Leader's approval"),
    "rejected": _l("Refused"),
}
RISK_STRATA = ("A", "B", "C", "D")
SPECIAL_STRATUM = "special"  # targets with a special-supervision flag (R9.7)

_LIST_KEEPERS = roles.STAFF_ROLES


def percent(value) -> str:
    """Decimal("25.00") -> "25", Decimal("2.50") -> "2.5"."""
    return format(Decimal(value or 0).normalize(), "f")


def february_deadline(year: int) -> dt.date:
    """R9.1: the plan is made before the end of February."""
    return dt.date(year, 2, calendar.monthrange(year, 2)[1])


plan_line_item = Table(
    "plan_line_item",
    Model.metadata,
    Column("id", Integer, primary_key=True),
    Column("line_id", Integer, ForeignKey("plan_line.id", ondelete="CASCADE"), nullable=False),
    Column("item_id", Integer, ForeignKey("inspection_item.id"), nullable=False),
    UniqueConstraint("line_id", "item_id", name="uq_plan_line_item"),
)

plan_line_department = Table(
    "plan_line_department",
    Model.metadata,
    Column("id", Integer, primary_key=True),
    Column("line_id", Integer, ForeignKey("plan_line.id", ondelete="CASCADE"), nullable=False),
    Column("department_id", Integer, ForeignKey("department.id"), nullable=False),
    UniqueConstraint("line_id", "department_id", name="uq_plan_line_department"),
)

task_item = Table(
    "task_item",
    Model.metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "task_id", Integer, ForeignKey("spot_check_task.id", ondelete="CASCADE"), nullable=False
    ),
    Column("item_id", Integer, ForeignKey("inspection_item.id"), nullable=False),
    UniqueConstraint("task_id", "item_id", name="uq_task_item"),
)

task_department = Table(
    "task_department",
    Model.metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "task_id", Integer, ForeignKey("spot_check_task.id", ondelete="CASCADE"), nullable=False
    ),
    Column("department_id", Integer, ForeignKey("department.id"), nullable=False),
    UniqueConstraint("task_id", "department_id", name="uq_task_department"),
)


class ScopeAndRatios:
    """The target filter and the sampling ratios that a plan line hands down to its tasks."""

    SCOPE_FIELDS = (
        "target_types",
        "areas",
        "industries",
        "risk_classes",
        "ratio_a",
        "ratio_b",
        "ratio_c",
        "ratio_d",
        "ratio_special",
        "window_start",
        "window_end",
        "skip_clean_months",
    )

    target_types = Column(String(100), nullable=True)  # "企业、个体工商户"; empty: all
    areas = Column(Text, nullable=True)  # area names; empty: all
    industries = Column(String(300), nullable=True)  # empty: all
    risk_classes = Column(String(20), nullable=True)  # "A、B"; empty: all
    ratio_a = Column(Numeric(5, 2), nullable=False, default=0)
    ratio_b = Column(Numeric(5, 2), nullable=False, default=0)
    ratio_c = Column(Numeric(5, 2), nullable=False, default=0)
    ratio_d = Column(Numeric(5, 2), nullable=False, default=0)
    ratio_special = Column(Numeric(5, 2), nullable=False, default=0)
    window_start = Column(Date, nullable=True)
    window_end = Column(Date, nullable=True)
    # Frequency rule (避免重复检查): targets found without problems by a check in the last N
    # months are left out of the draw, recorded as excluded with their reason. Empty: off.
    skip_clean_months = Column(Integer, nullable=True)

    def ratio_for(self, stratum: str):
        return getattr(self, f"ratio_{stratum.lower()}")

    @property
    def ratios_text(self) -> str:
        parts = [f"{s}类 {percent(self.ratio_for(s))}%" for s in RISK_STRATA]
        parts.append(f"特殊监管对象 {percent(self.ratio_special)}%")
        return "；".join(parts)

    @property
    def scope_text(self) -> str:
        def show(value):
            return "、".join(split_multi(value)) or "全部"

        return (
            f"对象类型：{show(self.target_types)}；区域：{show(self.areas)}；"
            f"行业：{show(self.industries)}；风险等级：{show(self.risk_classes)}"
        )


class AnnualPlan(ScalarDefaults, AuditMixin, Model):
    """One plan per department and year (R9.1)."""

    __tablename__ = "annual_plan"
    __scope_column__ = "department_id"
    __table_args__ = (UniqueConstraint("department_id", "year", name="uq_plan_department_year"),)

    id = Column(Integer, primary_key=True)
    department_id = Column(Integer, ForeignKey("department.id"), nullable=False, index=True)
    year = Column(Integer, nullable=False)
    title = Column(String(200), nullable=False)
    status = Column(String(12), nullable=False, default="draft", index=True)
    revision_no = Column(Integer, nullable=False, default=0)  # 0: the original plan
    return_comment = Column(Text, nullable=True)
    approved_by_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True)
    approved_on = Column(Date, nullable=True)
    first_published_on = Column(Date, nullable=True)
    published_on = Column(Date, nullable=True)  # date of the current published version
    filed_on = Column(Date, nullable=True)
    filing_sha256 = Column(String(64), nullable=True)
    # Set when a published version exists: the public keeps seeing it during a revision.
    has_published_version = Column(Boolean, nullable=False, default=False)

    department = relationship(Department)
    approved_by = relationship("User", foreign_keys=[approved_by_id])
    lines = relationship(
        "PlanLine", back_populates="plan", cascade="all, delete-orphan", order_by="PlanLine.id"
    )
    revisions = relationship(
        "PlanRevision",
        back_populates="plan",
        cascade="all, delete-orphan",
        order_by="PlanRevision.number",
    )
    exemptions = relationship(
        "CoverageExemption", back_populates="plan", cascade="all, delete-orphan"
    )

    @classmethod
    def role_clause(cls, user, names):
        if names & _LIST_KEEPERS:
            return None
        return cls.has_published_version.is_(True)

    @property
    def status_label(self):
        return PLAN_STATUSES.get(self.status, self.status)

    @property
    def deadline(self) -> dt.date:
        return february_deadline(self.year)

    def late_days(self, today: dt.date | None = None) -> int:
        """Days after the end of February at first publication (R9.1); for a plan not yet
        published, the days it is already late today. 0 when on time."""
        published = self.first_published_on
        reference = published or (today or dt.date.today())
        return max((reference - self.deadline).days, 0)

    @property
    def late_text(self) -> str:
        days = self.late_days()
        deadline = self.deadline.isoformat()
        if not days:
            return str(_l("On time (deadline %(date)s)", date=deadline))
        if self.first_published_on:
            return str(
                _l("Published %(days)d days late (deadline %(date)s)", days=days, date=deadline)
            )
        return str(
            _l(
                "Not published yet: %(days)d days late (deadline %(date)s)",
                days=days,
                date=deadline,
            )
        )

    @property
    def open_revision(self):
        return next((r for r in self.revisions if r.refiled_on is None), None)

    def __str__(self):
        return self.title


class PlanLine(ScopeAndRatios, ScalarDefaults, AuditMixin, Model):
    __tablename__ = "plan_line"
    # A joint check names departments other than the plan's (app/security/write_scope.py).
    __cross_department__ = {"participating_departments": "any"}
    __table_args__ = (Index("ix_plan_line_plan", "plan_id"),)

    id = Column(Integer, primary_key=True)
    plan_id = Column(Integer, ForeignKey("annual_plan.id", ondelete="CASCADE"), nullable=False)
    name = Column(String(200), nullable=False)
    method = Column(String(100), nullable=False)
    content = Column(Text, nullable=True)
    frequency = Column(String(50), nullable=True)

    plan = relationship(AnnualPlan, back_populates="lines")
    items = relationship(InspectionItem, secondary=plan_line_item)
    participating_departments = relationship(Department, secondary=plan_line_department)

    @classmethod
    def scope_clause(cls, department_ids):
        return cls.plan_id.in_(
            select(AnnualPlan.id).where(AnnualPlan.department_id.in_(department_ids))
        )

    @classmethod
    def role_clause(cls, user, names):
        if names & _LIST_KEEPERS:
            return None
        # A line being adjusted is not the published plan: hidden until republished (the
        # plan's page shows the version last published).
        return cls.plan_id.in_(
            select(AnnualPlan.id).where(
                AnnualPlan.has_published_version.is_(True),
                AnnualPlan.status.in_(PUBLIC_PLAN_STATUSES),
            )
        )

    def department_ids_for_scope(self):
        return {self.plan.department_id}

    def __str__(self):
        return self.name


class PlanRevision(ScalarDefaults, AuditMixin, Model):
    """An adjustment of a published plan (R9.6): why, when, the plan before and after, and
    the 10-working-day deadline to republish and refile it."""

    __tablename__ = "plan_revision"
    __table_args__ = (UniqueConstraint("plan_id", "number", name="uq_plan_revision_number"),)

    id = Column(Integer, primary_key=True)
    plan_id = Column(Integer, ForeignKey("annual_plan.id", ondelete="CASCADE"), nullable=False)
    number = Column(Integer, nullable=False)
    reason = Column(Text, nullable=False)
    adjusted_on = Column(Date, nullable=False)
    due_on = Column(Date, nullable=False)
    due_confirmed = Column(Boolean, nullable=False, default=True)  # calendar confirmed
    before = Column(Text, nullable=False)  # JSON snapshot of the published plan
    after = Column(Text, nullable=True)  # JSON snapshot when republished
    republished_on = Column(Date, nullable=True)
    refiled_on = Column(Date, nullable=True)

    plan = relationship(AnnualPlan, back_populates="revisions")

    @classmethod
    def scope_clause(cls, department_ids):
        return cls.plan_id.in_(
            select(AnnualPlan.id).where(AnnualPlan.department_id.in_(department_ids))
        )

    def overdue(self, today: dt.date | None = None) -> bool:
        done = self.refiled_on
        return (done or today or dt.date.today()) > self.due_on

    def __str__(self):
        return f"{self.plan} 第{self.number}次调整"


class CoverageExemption(ScalarDefaults, AuditMixin, Model):
    """A Leader's recorded reason why a published item is not covered by the plan (R9.4)."""

    __tablename__ = "coverage_exemption"
    __table_args__ = (UniqueConstraint("plan_id", "item_id", name="uq_coverage_exemption"),)

    id = Column(Integer, primary_key=True)
    plan_id = Column(Integer, ForeignKey("annual_plan.id", ondelete="CASCADE"), nullable=False)
    item_id = Column(Integer, ForeignKey("inspection_item.id"), nullable=False)
    reason = Column(Text, nullable=False)

    plan = relationship(AnnualPlan, back_populates="exemptions")
    item = relationship(InspectionItem)

    @classmethod
    def scope_clause(cls, department_ids):
        return cls.plan_id.in_(
            select(AnnualPlan.id).where(AnnualPlan.department_id.in_(department_ids))
        )


class SpotCheckTask(ScopeAndRatios, ScalarDefaults, AuditMixin, Model):
    """A spot-check task (抽查任务), normally from a plan line; outside the plan only with a
    reason and a Leader's approval, and counted separately (R9.3, R5.2)."""

    __tablename__ = "spot_check_task"
    __cross_department__ = {"participating_departments": "any"}
    __table_args__ = (UniqueConstraint("year", "seq", name="uq_task_number"),)

    id = Column(Integer, primary_key=True)
    year = Column(Integer, nullable=False)
    seq = Column(Integer, nullable=False)
    number = Column(String(60), nullable=False, unique=True)  # 东水双随机〔2027〕3号
    name = Column(String(200), nullable=False)
    department_id = Column(Integer, ForeignKey("department.id"), nullable=False, index=True)
    plan_id = Column(Integer, ForeignKey("annual_plan.id"), nullable=True, index=True)
    plan_line_id = Column(Integer, ForeignKey("plan_line.id"), nullable=True)
    method = Column(String(100), nullable=True)
    content = Column(Text, nullable=True)
    group_size = Column(Integer, nullable=False, default=2)
    # Inspector draw options: a member from every participating department in each group, and
    # a cap on the groups one inspector takes in the task (so that the load spreads).
    one_per_department = Column(Boolean, nullable=False, default=False)
    max_groups_per_inspector = Column(Integer, nullable=True)
    status = Column(String(20), nullable=False, default="planned", index=True)
    out_of_plan = Column(Boolean, nullable=False, default=False)
    out_of_plan_reason = Column(Text, nullable=True)
    approval = Column(String(10), nullable=False, default="approved")
    approval_note = Column(Text, nullable=True)
    approved_by_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True)
    results_published_on = Column(Date, nullable=True)
    archived_on = Column(Date, nullable=True)
    archived_by_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True)

    department = relationship(Department)
    plan = relationship(AnnualPlan)
    plan_line = relationship(PlanLine)
    items = relationship(InspectionItem, secondary=task_item)
    participating_departments = relationship(Department, secondary=task_department)
    approved_by = relationship("User", foreign_keys=[approved_by_id])
    archived_by = relationship("User", foreign_keys=[archived_by_id])

    @classmethod
    def scope_clause(cls, department_ids):
        # The lead department and every participating department of a joint check see it.
        return cls.department_id.in_(department_ids) | cls.id.in_(
            select(task_department.c.task_id).where(
                task_department.c.department_id.in_(department_ids)
            )
        )

    def department_ids_for_scope(self):
        return {self.department_id} | {d.id for d in self.participating_departments}

    @property
    def status_label(self):
        return TASK_STATUSES.get(self.status, self.status)

    @property
    def approval_label(self):
        return APPROVALS.get(self.approval, self.approval)

    def __str__(self):
        return f"{self.number} {self.name}"


class TaskScoped:
    """Rows of a task: visible to the task's departments (lead and participating)."""

    @classmethod
    def scope_clause(cls, department_ids):
        return cls.task_id.in_(
            select(SpotCheckTask.id).where(SpotCheckTask.scope_clause(department_ids))
        )

    def department_ids_for_scope(self):
        return self.task.department_ids_for_scope()


class TaskAttachment(TaskScoped, ScalarDefaults, AuditMixin, Model):
    """Training material of a task (R7.4), stored by app/core/files.py; never deleted, a
    correction is a new attachment."""

    __tablename__ = "task_attachment"

    id = Column(Integer, primary_key=True)
    task_id = Column(Integer, ForeignKey("spot_check_task.id"), nullable=False, index=True)
    file_name = Column(String(120), nullable=False)  # as uploaded; display only
    sha256 = Column(String(64), nullable=False)
    size = Column(Integer, nullable=False)
    content_type = Column(String(120), nullable=False)
    note = Column(String(200), nullable=True)

    task = relationship(SpotCheckTask, backref="attachments")
