"""Inspection records (检查记录) with their evidence, the task's summary report (检查小结) and its
versions, and follow-up supervision (后续监管): rectification cases with re-inspections,
administrative penalties and transfers to judicial organs (R3, R10.2–R10.4, R11.2–R11.4).

Everything here belongs to a task: the department scope is the task's, and once the task is
archived nothing under it changes any more (app/inspections/archive.py guards every flush)."""

from __future__ import annotations

import datetime as dt
import json

from flask_appbuilder import Model
from flask_appbuilder.models.mixins import AuditMixin
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    inspect,
    select,
)
from sqlalchemy.orm import backref, relationship

from app.core.models import ScalarDefaults
from app.directory.models import (
    INSPECTION_METHODS,
    InspectionItem,
    Target,
    TargetSnapshot,
    split_multi,
    target_code,
)
from app.draws.models import Assignment, DrawnTarget
from app.planning.models import PUBLISHED_TASK_STATUSES, SpotCheckTask, TaskScoped
from app.security import roles
from app.security.models import Department

# DESIGN.md "Formats": the values are stored as written there (they are what the filings and
# the public pages show).
# 检查方式: one list for items, plan lines, tasks and records (app/directory/models.py).
METHODS = INSPECTION_METHODS
RESULT_CODES = (
    "未发现问题",
    "发现问题已责令改正",
    "发现问题待后续处理",
    "未发现开展本次抽查涉及的经营活动",
    "已关闭停业或正在组织清算",
    "不配合检查情节严重",
    "通过登记的住所无法联系（查无下落）",
    "已注销或被吊销、撤销",
)
CLEAN_RESULT = "未发现问题"
PROBLEM_RESULTS = frozenset({"发现问题已责令改正", "发现问题待后续处理"})
NO_FOLLOW_UP = "无需后续处置"
FOLLOW_UPS = (
    NO_FOLLOW_UP,
    "责令改正、跟踪整改",
    "立案查处",
    "移送司法机关",
    "抄告相关部门",
    "其他",
)
NO_PROBLEM = "无"

RECORD_STATUSES = {
    "draft": _l("Draft"),
    "submitted": _l("Submitted"),
    "returned": _l("Returned"),
    "reviewed": _l("Reviewed, ready to publish"),
}
# A reviewed record of a task whose results are published (R11.1): no status of its own, the
# publication is the task's.
PUBLISHED_RECORD_LABEL = _l("Results published")
EDITABLE_RECORD_STATUSES = ("draft", "returned")
ENTERED_RECORD_STATUSES = ("submitted", "reviewed")

SUMMARY_STATUSES = {
    "draft": _l("Draft"),
    "submitted": _l("Submitted to the Leader"),
    "returned": _l("Returned"),
    "approved": _l("Approved"),
}

CASE_STATUSES = {
    "in_progress": "整改中",
    "rectified": "已整改",
    "inadequate": "整改不到位",
    "refused": "拒不整改",
}
CLOSED_CASE_STATUSES = ("rectified", "inadequate", "refused")
# R12.1: these outcomes, and penalties, are grounds to propose a blacklist listing.
BLACKLIST_GROUNDS = ("inadequate", "refused")

RECORD_WORKING_DAYS = 20  # R11.3
# What services.submit_record requires before a record is submitted (提交前必填).
RECORD_SUBMIT_REQUIRED = (
    "inspection_date",
    "method",
    "items",
    "situation",
    "problems",
    "result_code",
    "follow_up",
    "present_person",
)
# What the inspectors enter, on the page and through the REST API alike.
RECORD_ENTRY_COLUMNS = [
    "inspection_date",
    "method",
    "items",
    "other_items",
    "situation",
    "problems",
    "result_code",
    "result_detail",
    "follow_up",
    "opinions",
    "present_person",
]
SUMMARY_FIELDS = ["check_period", "content", "situation", "opinions"]
# The parts as the form labels them (views.LABELS), for a refusal that names the empty ones.
SUMMARY_FIELD_LABELS = {
    "check_period": _l("Check time"),
    "content": _l("Inspection content"),
    "situation": _l("On-site situation"),
    "opinions": _l("Handling opinions and suggestions"),
}

record_item = Table(
    "record_item",
    Model.metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "record_id",
        Integer,
        ForeignKey("inspection_record.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("item_id", Integer, ForeignKey("inspection_item.id"), nullable=False),
    UniqueConstraint("record_id", "item_id", name="uq_record_item"),
)


_LIST_KEEPERS = roles.STAFF_ROLES | {roles.JOINT_OFFICE}
_STAFF = roles.STAFF_ROLES


class InspectionRecord(TaskScoped, TargetSnapshot, ScalarDefaults, AuditMixin, Model):
    """One record per drawn target, entered by the inspectors of its group (谁检查谁录入).

    The target as it was when the record was entered is kept with it (`TargetSnapshot`): taken
    when the record is created and at every save while it is being entered (draft, returned),
    frozen from its submission on. What is published and archived prints these columns."""

    __tablename__ = "inspection_record"
    __names_drawn_targets__ = True  # R13.1, app/draws/confidential.py
    # A joint check's drawn target may belong to a participating department; records are
    # only created by the services, from the drawn target (app/security/write_scope.py).
    __cross_department__ = {"target": "new"}

    id = Column(Integer, primary_key=True)
    task_id = Column(Integer, ForeignKey("spot_check_task.id"), nullable=False, index=True)
    target_id = Column(Integer, ForeignKey("target.id"), nullable=False, index=True)
    drawn_target_id = Column(Integer, ForeignKey("drawn_target.id"), nullable=False, unique=True)
    status = Column(String(10), nullable=False, default="draft", index=True)
    inspection_date = Column(Date, nullable=True)
    method = Column(String(20), nullable=True)
    other_items = Column(Text, nullable=True)  # "其他" items, one per line
    situation = Column(Text, nullable=True)  # 现场检查情况
    problems = Column(Text, nullable=True)  # 发现的问题, or 无
    result_code = Column(String(40), nullable=True)
    # 检查结果细类: the second level of result_code (app/inspections/result_codes.py).
    result_detail = Column(String(40), nullable=True)
    follow_up = Column(String(20), nullable=True)
    opinions = Column(Text, nullable=True)  # 处理意见和建议
    present_person = Column(String(100), nullable=True)  # 在场的法定代表人或联系人
    due_on = Column(Date, nullable=True)  # inspection date + 20 working days (R11.3)
    due_confirmed = Column(Boolean, nullable=False, default=True)
    submitted_on = Column(DateTime, nullable=True)
    submitted_by_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True)
    reviewed_on = Column(DateTime, nullable=True)
    reviewed_by_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True)
    return_comment = Column(Text, nullable=True)
    follow_up_closed = Column(Boolean, nullable=False, default=False)
    follow_up_closed_on = Column(Date, nullable=True)
    follow_up_note = Column(Text, nullable=True)  # how a 抄告/其他 follow-up was closed
    # The target as entered (TargetSnapshot): what public pages, exports and bundles print.
    target_name = Column(String(200), nullable=False)
    target_type = Column(String(10), nullable=False)
    target_code = Column(String(18), nullable=True)  # USCC, or the ID number masked
    target_address = Column(String(300), nullable=True)

    task = relationship(SpotCheckTask)
    target = relationship(Target)
    drawn_target = relationship(DrawnTarget)
    items = relationship(InspectionItem, secondary=record_item)
    submitted_by = relationship("User", foreign_keys=[submitted_by_id])
    reviewed_by = relationship("User", foreign_keys=[reviewed_by_id])

    @classmethod
    def role_clause(cls, user, names):
        # R3.2: an inspector sees the records of their own assignments only; the joint-meeting
        # office the records of tasks whose results are published.
        if names & _STAFF:
            return None
        if "JointOffice" in names:
            return cls.task_id.in_(
                select(SpotCheckTask.id).where(SpotCheckTask.status.in_(PUBLISHED_TASK_STATUSES))
            )
        return Assignment.of_user(user, cls.task_id, cls.target_id).exists()

    def snapshot_due(self, session) -> bool:
        """New, or saved while being entered: the status before this flush is editable."""
        if self in session.new:
            return True
        history = inspect(self).attrs.status.history
        before = history.deleted[0] if history.deleted else self.status
        return before in EDITABLE_RECORD_STATUSES

    @property
    def status_label(self):
        if self.status == "reviewed" and self.task.results_published_on is not None:
            return PUBLISHED_RECORD_LABEL
        return RECORD_STATUSES.get(self.status, self.status)

    @property
    def editable(self) -> bool:
        return self.status in EDITABLE_RECORD_STATUSES

    @property
    def items_text(self) -> str:
        names = [i.name for i in self.items] + [
            line.strip() for line in (self.other_items or "").splitlines() if line.strip()
        ]
        return "、".join(names)

    @property
    def deadline_text(self) -> str:
        from app.inspections.deadlines import deadline_text

        return deadline_text(self)

    @property
    def result_detail_label(self) -> str:
        from app.inspections.result_codes import detail_text

        return detail_text(self.result_code, self.result_detail)

    @property
    def follow_up_text(self) -> str:
        if not self.follow_up:
            return ""
        state = "已完结" if self.follow_up_closed else "未完结"
        return f"{self.follow_up}（{state}）"

    def __str__(self):
        return f"{self.task.number} {self.target.name}"


class Evidence(TaskScoped, ScalarDefaults, AuditMixin, Model):
    """A photo or document attached to a record (R10.2). Never removed; a correction is a new
    attachment with a note. The uploader and time are AuditMixin's created_by / created_on."""

    __tablename__ = "evidence"
    __names_drawn_targets__ = True  # R13.1, app/draws/confidential.py

    id = Column(Integer, primary_key=True)
    record_id = Column(Integer, ForeignKey("inspection_record.id"), nullable=False, index=True)
    task_id = Column(Integer, ForeignKey("spot_check_task.id"), nullable=False, index=True)
    file_name = Column(String(120), nullable=False)  # as uploaded; display only
    sha256 = Column(String(64), nullable=False)
    size = Column(Integer, nullable=False)
    kind = Column(String(10), nullable=False)
    content_type = Column(String(120), nullable=False)
    note = Column(String(200), nullable=True)

    record = relationship(InspectionRecord, backref="evidence")
    task = relationship(SpotCheckTask)

    @property
    def is_photo(self) -> bool:
        return self.kind in ("jpeg", "png", "heic")


class InspectionSummary(TaskScoped, ScalarDefaults, AuditMixin, Model):
    """The task's summary report to the Leader in charge (R10.3); each submission is kept as a
    SummaryVersion with its decision."""

    __tablename__ = "inspection_summary"
    __names_drawn_targets__ = True  # R13.1, app/draws/confidential.py

    id = Column(Integer, primary_key=True)
    task_id = Column(Integer, ForeignKey("spot_check_task.id"), nullable=False, unique=True)
    status = Column(String(10), nullable=False, default="draft")
    check_period = Column(Text, nullable=True)  # 检查时间
    content = Column(Text, nullable=True)  # 检查内容
    situation = Column(Text, nullable=True)  # 现场检查情况 (aggregated, editable)
    opinions = Column(Text, nullable=True)  # 处理意见和建议
    version = Column(Integer, nullable=False, default=0)
    leader_comment = Column(Text, nullable=True)
    approved_on = Column(Date, nullable=True)

    task = relationship(SpotCheckTask)

    @classmethod
    def role_clause(cls, user, names):
        if names & _LIST_KEEPERS:
            return None
        return Assignment.of_user(user, cls.task_id).exists()

    @property
    def status_label(self):
        return SUMMARY_STATUSES.get(self.status, self.status)

    @property
    def editable(self) -> bool:
        return self.status in ("draft", "returned")

    def __str__(self):
        return f"{self.task.number} 检查小结"


class SummaryVersion(Model):
    """A submitted version of a summary and the Leader's decision on it."""

    __tablename__ = "summary_version"
    __table_args__ = (UniqueConstraint("summary_id", "version", name="uq_summary_version"),)

    id = Column(Integer, primary_key=True)
    summary_id = Column(Integer, ForeignKey("inspection_summary.id"), nullable=False)
    version = Column(Integer, nullable=False)
    data = Column(Text, nullable=False)  # JSON of the fields as submitted
    submitted_on = Column(DateTime, nullable=False)
    submitted_by_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False)
    decision = Column(String(10), nullable=True)  # approved / returned
    decided_on = Column(DateTime, nullable=True)
    decided_by_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True)
    comment = Column(Text, nullable=True)

    summary = relationship(InspectionSummary, backref="versions", order_by="SummaryVersion.version")
    submitted_by = relationship("User", foreign_keys=[submitted_by_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])

    def fields(self) -> dict:
        return json.loads(self.data)

    @property
    def decision_label(self):
        return SUMMARY_STATUSES.get(self.decision, "") if self.decision else ""


class RectificationCase(ScalarDefaults, AuditMixin, Model):
    """整改: from a record with problems; the responsible department (谁管辖谁负责) may be
    another department than the task's, and sees the case too."""

    __tablename__ = "rectification_case"
    __names_drawn_targets__ = True  # R13.1, app/draws/confidential.py
    # Opened naming the responsible department, which may be another one; handing it over
    # later is services.transfer_case (a recorded step), not a field edit.
    __cross_department__ = {"department": "new", "target": "new"}

    id = Column(Integer, primary_key=True)
    record_id = Column(Integer, ForeignKey("inspection_record.id"), nullable=False, unique=True)
    task_id = Column(Integer, ForeignKey("spot_check_task.id"), nullable=False, index=True)
    target_id = Column(Integer, ForeignKey("target.id"), nullable=False, index=True)
    department_id = Column(Integer, ForeignKey("department.id"), nullable=False, index=True)
    requirement = Column(Text, nullable=False)  # 整改要求
    deadline = Column(Date, nullable=False)
    status = Column(String(12), nullable=False, default="in_progress", index=True)
    closed_on = Column(Date, nullable=True)
    closing_note = Column(Text, nullable=True)

    record = relationship(InspectionRecord, backref="rectification_cases")
    task = relationship(SpotCheckTask)
    target = relationship(Target)
    department = relationship(Department)

    @classmethod
    def scope_clause(cls, department_ids):
        return cls.department_id.in_(department_ids) | cls.task_id.in_(
            select(SpotCheckTask.id).where(SpotCheckTask.scope_clause(department_ids))
        )

    @classmethod
    def role_clause(cls, user, names):
        if names & _LIST_KEEPERS:
            return None
        return Assignment.of_user(user, cls.task_id, cls.target_id).exists()

    def department_ids_for_scope(self):
        return {self.department_id} | self.task.department_ids_for_scope()

    @property
    def status_label(self):
        return CASE_STATUSES.get(self.status, self.status)

    @property
    def closed(self) -> bool:
        return self.status in CLOSED_CASE_STATUSES

    def __str__(self):
        return f"{self.target.name} 整改（{self.status_label}）"


class CaseTransfer(AuditMixin, Model):
    """移交: a rectification case handed over to the department that is competent for it
    (谁管辖谁负责), with the reason; the receiving department sees the case and this history.
    Written by services.transfer_case only, never changed."""

    __tablename__ = "case_transfer"

    id = Column(Integer, primary_key=True)
    case_id = Column(Integer, ForeignKey("rectification_case.id"), nullable=False, index=True)
    from_department_id = Column(Integer, ForeignKey("department.id"), nullable=False)
    to_department_id = Column(Integer, ForeignKey("department.id"), nullable=False)
    reason = Column(Text, nullable=False)

    case = relationship(RectificationCase, backref=backref("handovers", order_by="CaseTransfer.id"))
    from_department = relationship(Department, foreign_keys=[from_department_id])
    to_department = relationship(Department, foreign_keys=[to_department_id])

    @classmethod
    def scope_clause(cls, department_ids):
        return cls.case_id.in_(
            select(RectificationCase.id).where(RectificationCase.scope_clause(department_ids))
        )


class Reinspection(ScalarDefaults, AuditMixin, Model):
    """复查: a check of the rectification, with its finding."""

    __tablename__ = "reinspection"
    # The responsible department of a case re-inspects it under the case's task.
    __cross_department__ = {"task": "new"}

    id = Column(Integer, primary_key=True)
    case_id = Column(Integer, ForeignKey("rectification_case.id"), nullable=False, index=True)
    task_id = Column(Integer, ForeignKey("spot_check_task.id"), nullable=False, index=True)
    date = Column(Date, nullable=False)
    finding = Column(Text, nullable=False)
    rectified = Column(Boolean, nullable=False, default=False)

    case = relationship(RectificationCase, backref="reinspections", order_by="Reinspection.date")
    task = relationship(SpotCheckTask)


# 双公示 行政处罚 (信用中国's data standard): the kinds of penalty of 《行政处罚法》(2021) art. 9,
# stored as one text column joined with 、 (as the other multi-choice columns: join_multi).
PENALTY_KINDS = (
    "警告",
    "通报批评",
    "罚款",
    "没收违法所得",
    "没收非法财物",
    "暂扣许可证件",
    "降低资质等级",
    "吊销许可证件",
    "限制开展生产经营活动",
    "责令停产停业",
    "责令关闭",
    "限制从业",
    "行政拘留",
    "其他",
)
# Kinds that need an amount or a licence named (the standard's conditional fields).
FINE_KIND = "罚款"
CONFISCATION_KINDS = frozenset({"没收违法所得", "没收非法财物"})
LICENCE_KINDS = frozenset({"暂扣许可证件", "吊销许可证件"})
# Kinds whose publicity lasts 3 months (信用中国's rule for minor penalties); every other
# penalty is public for 1 year at least (up to 3): the default 公示截止期.
MINOR_KINDS = frozenset({"警告", "通报批评"})
# 行政相对人类别 of the standard, and the one a target's type gives by default.
PARTY_LEGAL = "法人及非法人组织"
PARTY_PERSON = "自然人"
PARTY_INDIVIDUAL_BUSINESS = "个体工商户"
PARTY_CATEGORIES = (PARTY_LEGAL, PARTY_PERSON, PARTY_INDIVIDUAL_BUSINESS)
PARTY_BY_TARGET_TYPE = {"自然人": PARTY_PERSON, "个体工商户": PARTY_INDIVIDUAL_BUSINESS}
# 处罚有效期 when the penalty has no limit: the standard writes 2099-12-31.
NO_LIMIT_DATE = dt.date(2099, 12, 31)


def party_category_of(target_type: str | None) -> str:
    return PARTY_BY_TARGET_TYPE.get(target_type or "", PARTY_LEGAL)


class Penalty(TaskScoped, ScalarDefaults, AuditMixin, Model):
    """行政处罚 decided on the findings of a record, with the fields of 信用中国's 双公示
    行政处罚 standard (app/inspections/penalty_export.py writes its layout). Rows from before
    the standard's fields have them empty where the migration could not fill them."""

    __tablename__ = "penalty"
    __names_drawn_targets__ = True  # R13.1, app/draws/confidential.py
    __cross_department__ = {"target": "new"}  # the record's target (a joint check's)

    id = Column(Integer, primary_key=True)
    record_id = Column(Integer, ForeignKey("inspection_record.id"), nullable=False, index=True)
    task_id = Column(Integer, ForeignKey("spot_check_task.id"), nullable=False, index=True)
    target_id = Column(Integer, ForeignKey("target.id"), nullable=False, index=True)
    decision_number = Column(String(60), nullable=False)  # 处罚决定书文号
    decision_date = Column(Date, nullable=False)
    content = Column(Text, nullable=False)  # 处罚内容
    party_category = Column(String(20), nullable=True)  # 行政相对人类别
    violation_type = Column(String(200), nullable=True)  # 违法行为类型
    violation_facts = Column(Text, nullable=True)  # 违法事实
    legal_basis = Column(Text, nullable=True)  # 处罚依据
    kinds = Column(String(200), nullable=True)  # 处罚类别, "警告、罚款"
    fine_amount = Column(Numeric(18, 6), nullable=True)  # 罚款金额（万元）
    confiscation_amount = Column(Numeric(18, 6), nullable=True)  # 没收…的金额（万元）
    licence = Column(String(200), nullable=True)  # 暂扣或吊销证照名称及编号
    valid_until = Column(Date, nullable=True)  # 处罚有效期
    publicity_until = Column(Date, nullable=True)  # 公示截止期
    authority = Column(String(200), nullable=True)  # 处罚机关
    authority_uscc = Column(String(18), nullable=True)
    source_unit = Column(String(200), nullable=True)  # 数据来源单位
    source_uscc = Column(String(18), nullable=True)
    note = Column(Text, nullable=True)  # 备注

    record = relationship(InspectionRecord, backref="penalties")
    task = relationship(SpotCheckTask)
    target = relationship(Target)

    @property
    def kind_list(self) -> list[str]:
        return split_multi(self.kinds)

    @property
    def target_display(self) -> str:
        """The party as staff pages name it, with a natural person's ID number masked."""
        code = target_code(self.target) if self.target is not None else None
        name = self.target.name if self.target is not None else ""
        return f"{name}（{code}）" if code else name

    def __str__(self):
        day = self.decision_date.isoformat() if self.decision_date else ""
        return f"{self.decision_number}（{day}）" if day else str(self.decision_number or "")


class JudicialTransfer(TaskScoped, ScalarDefaults, AuditMixin, Model):
    """移送司法机关."""

    __tablename__ = "judicial_transfer"
    __names_drawn_targets__ = True  # R13.1, app/draws/confidential.py

    id = Column(Integer, primary_key=True)
    record_id = Column(Integer, ForeignKey("inspection_record.id"), nullable=False, index=True)
    task_id = Column(Integer, ForeignKey("spot_check_task.id"), nullable=False, index=True)
    transfer_date = Column(Date, nullable=False)
    organ = Column(String(120), nullable=False)  # 接收机关
    description = Column(Text, nullable=False)

    record = relationship(InspectionRecord, backref="transfers")
    task = relationship(SpotCheckTask)
