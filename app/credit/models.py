"""The dishonesty blacklist (失信黑名单, R12): one row per listing proposal, from the proposal
through the department's review and the Leader's decision to the listing, its publication and
its removal (信用修复 / 期满移出), with every step kept as an event.

A target has at most one open entry at a time (a database constraint on `active_key`); a
rejected, dismissed or removed entry stays on record, and a later listing is a new entry."""

from __future__ import annotations

from flask_appbuilder import Model
from flask_appbuilder.models.mixins import AuditMixin
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import (
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    inspect,
    select,
    union,
)
from sqlalchemy.orm import relationship

from app.core.models import ScalarDefaults
from app.directory.models import Target, TargetSnapshot
from app.inspections.models import InspectionRecord, Penalty, RectificationCase
from app.security import roles
from app.security.models import Department

# R12.1: the grounds of a listing, as the filings and the public page write them.
BASES = {"refused": "拒不整改", "inadequate": "整改不到位", "penalty": "受到行政处罚"}
# The rectification-case outcome that backs each case basis.
CASE_BASIS = {"refused": "refused", "inadequate": "inadequate"}

STATUSES = {
    "suggested": _l("Suggested by the system"),
    "draft": _l("Draft"),
    "proposed": _l("Proposed, awaiting department review"),
    "reviewed": _l("Reviewed, awaiting the Leader's decision"),
    "rejected": _l("Not listed"),
    "dismissed": _l("Suggestion not taken up"),
    "listed": _l("Listed"),
    "removal_proposed": _l("Listed, removal proposed"),
    "removed": _l("Removed"),
}
# Entries that still hold the target's one open place (see active_key).
OPEN_STATUSES = ("suggested", "draft", "proposed", "reviewed", "listed", "removal_proposed")
EDITABLE_STATUSES = ("suggested", "draft")
# While listed (removal pending included) the target is drawn in the highest stratum (R9.7).
LISTED_STATUSES = ("listed", "removal_proposed")
# What the public sees once published: current listings and removals.
PUBLIC_STATUSES = ("listed", "removal_proposed", "removed")

REMOVAL_KINDS = {"repair": "信用修复", "expired": "期满移出"}
ORIGINS = {
    "operator": _l("Department staff"),
    "inspector": _l("Inspector, from an inspection record"),
    "system": _l("System suggestion"),
}
EVENTS = {
    "suggest": _l("Suggested by the system"),
    "create": _l("Drafted"),
    "propose": _l("Proposed"),
    "review": _l("Passed the department review"),
    "return": _l("Returned by the department review"),
    "approve": _l("Listed by the Leader's decision"),
    "reject": _l("Listing refused by the Leader"),
    "dismiss": _l("Suggestion not taken up"),
    "publish": _l("Published"),
    "propose_removal": _l("Removal proposed"),
    "approve_removal": _l("Removed by the Leader's decision"),
    "reject_removal": _l("Removal refused by the Leader"),
}

MAX_PERIOD_MONTHS = 60
_LIST_KEEPERS = roles.STAFF_ROLES

blacklist_record = Table(
    "blacklist_record",
    Model.metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "entry_id",
        Integer,
        ForeignKey("blacklist_entry.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("record_id", Integer, ForeignKey("inspection_record.id"), nullable=False),
)


class BlacklistEntry(TargetSnapshot, ScalarDefaults, AuditMixin, Model):
    """The target as it was at publication is kept with the entry (`TargetSnapshot`): the
    public blacklist and its exports print what was published, whatever the directory says
    later (a removal shows on the same published name)."""

    __tablename__ = "blacklist_entry"
    __names_drawn_targets__ = True  # R13.1: the records it cites, app/draws/confidential.py

    @classmethod
    def drawn_task_ids(cls, ids):
        return union(
            select(RectificationCase.task_id)
            .join(cls, cls.case_id == RectificationCase.id)
            .where(cls.id.in_(ids)),
            select(Penalty.task_id).join(cls, cls.penalty_id == Penalty.id).where(cls.id.in_(ids)),
            select(InspectionRecord.task_id)
            .join(blacklist_record, blacklist_record.c.record_id == InspectionRecord.id)
            .where(blacklist_record.c.entry_id.in_(ids)),
        )
    # The target comes from the evidence (a joint check's, a case of the responsible department).
    __cross_department__ = {"target": "new"}

    id = Column(Integer, primary_key=True)
    target_id = Column(Integer, ForeignKey("target.id"), nullable=False, index=True)
    # 列入机关: the department that proposes and decides (in the proposer's scope).
    department_id = Column(Integer, ForeignKey("department.id"), nullable=False, index=True)
    basis = Column(String(12), nullable=False)
    reasons = Column(Text, nullable=True)
    status = Column(String(20), nullable=False, default="draft", index=True)
    origin = Column(String(10), nullable=False, default="operator")
    # "<target id>" while the entry is open: one open entry per target, whatever the process.
    active_key = Column(String(20), nullable=True, unique=True)
    case_id = Column(Integer, ForeignKey("rectification_case.id"), nullable=True, index=True)
    penalty_id = Column(Integer, ForeignKey("penalty.id"), nullable=True, index=True)

    proposed_on = Column(DateTime, nullable=True)
    proposed_by_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True)
    reviewed_on = Column(DateTime, nullable=True)
    reviewed_by_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True)
    review_comment = Column(Text, nullable=True)
    decided_on = Column(DateTime, nullable=True)
    decided_by_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True)
    decision_number = Column(String(60), nullable=True)  # 列入决定文号
    rejection_reason = Column(Text, nullable=True)
    listed_on = Column(Date, nullable=True)
    period_months = Column(Integer, nullable=True)
    expires_on = Column(Date, nullable=True)  # 列入期限届满日
    published_on = Column(Date, nullable=True)

    removal_kind = Column(String(10), nullable=True)
    removal_reason = Column(Text, nullable=True)
    removal_proposed_on = Column(DateTime, nullable=True)
    removal_proposed_by_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True)
    removal_decision_number = Column(String(60), nullable=True)  # 移出决定文号
    removal_decided_by_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True)
    removal_refusal = Column(Text, nullable=True)
    removed_on = Column(Date, nullable=True)
    # The target as published (TargetSnapshot), taken when the entry is published.
    target_name = Column(String(200), nullable=True)
    target_type = Column(String(10), nullable=True)
    target_code = Column(String(18), nullable=True)
    target_address = Column(String(300), nullable=True)

    target = relationship(Target)
    department = relationship(Department)
    case = relationship(RectificationCase)
    penalty = relationship(Penalty)
    records = relationship(InspectionRecord, secondary=blacklist_record)
    proposed_by = relationship("User", foreign_keys=[proposed_by_id])
    reviewed_by = relationship("User", foreign_keys=[reviewed_by_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])
    removal_proposed_by = relationship("User", foreign_keys=[removal_proposed_by_id])
    removal_decided_by = relationship("User", foreign_keys=[removal_decided_by_id])
    events = relationship(
        "BlacklistEvent",
        order_by="BlacklistEvent.id",
        back_populates="entry",
        cascade="all, delete-orphan",
    )

    @classmethod
    def scope_clause(cls, department_ids):
        # The listing department, and the department the target belongs to.
        return cls.department_id.in_(department_ids) | cls.target_id.in_(
            select(Target.id).where(Target.department_id.in_(department_ids))
        )

    @classmethod
    def role_clause(cls, user, names):
        if names & _LIST_KEEPERS:
            return None
        if "JointOffice" in names:
            # The joint-meeting office reads what was published.
            return cls.published_on.is_not(None)
        # An inspector follows the proposals they drafted.
        return cls.created_by_fk == user.id

    def snapshot_due(self, session) -> bool:
        """Published in this flush (or published without a snapshot): frozen from then on."""
        if self.published_on is None:
            return False
        if self in session.new or self.target_name is None:
            return True
        history = inspect(self).attrs.published_on.history
        return bool(history.added) and not any(history.deleted)

    def department_ids_for_scope(self):
        return {self.department_id, self.target.department_id}

    @property
    def status_label(self):
        return STATUSES.get(self.status, self.status)

    @property
    def basis_label(self) -> str:
        return BASES.get(self.basis, self.basis or "")

    @property
    def removal_kind_label(self) -> str:
        return REMOVAL_KINDS.get(self.removal_kind, self.removal_kind or "")

    @property
    def origin_label(self):
        return ORIGINS.get(self.origin, self.origin)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_listed(self) -> bool:
        return self.status in LISTED_STATUSES

    @property
    def evidence_text(self) -> str:
        parts = []
        if self.case is not None:
            parts.append(f"整改案件（{self.case.status_label}，{self.case.closed_on or '未结案'}）")
        if self.penalty is not None:
            parts.append(f"行政处罚 {self.penalty.decision_number}（{self.penalty.decision_date}）")
        parts += [f"检查记录 {r}" for r in self.records]
        return "；".join(parts)

    @property
    def target_html(self) -> Markup:
        return self.target.__html__() if self.target is not None else Markup("—")

    def __str__(self):
        return f"{self.target.name}（{self.basis_label}）"


class BlacklistEvent(Model):
    """One step of an entry's history (R12.2: the listing history stays)."""

    __tablename__ = "blacklist_event"

    id = Column(Integer, primary_key=True)
    entry_id = Column(
        Integer, ForeignKey("blacklist_entry.id", ondelete="CASCADE"), nullable=False, index=True
    )
    at = Column(DateTime, nullable=False)
    user_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True)
    action = Column(String(20), nullable=False)
    comment = Column(Text, nullable=True)
    decision_number = Column(String(60), nullable=True)

    entry = relationship(BlacklistEntry, back_populates="events")
    user = relationship("User")

    @property
    def action_label(self):
        return EVENTS.get(self.action, self.action)
