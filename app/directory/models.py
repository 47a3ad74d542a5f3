"""一单两库: the inspection item list, the inspector roster, the target directory, and the
declared conflicts of interest between inspectors and targets (R4, R6, R7.3, R8.1).

Change history of inspectors and targets (R6.2, R8.1) is the audit log's before/after record of
each row; item revisions (R4.3) are a business record of their own, with a reason and a version.
"""

from __future__ import annotations

import datetime as dt
import json

from flask_appbuilder import Model
from flask_appbuilder.models.mixins import AuditMixin
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    event,
    select,
)
from sqlalchemy.orm import Session, relationship

from app.core.audit.history import history_html
from app.core.audit.models import changes_table
from app.core.masking import mask_id_number, mask_phone
from app.core.models import ScalarDefaults
from app.core.personal_data import BLIND_INDEX_HEX, Encrypted, blind_indexed
from app.security import roles
from app.security.models import Department

# Roles that keep the lists and directories; everybody else only reads what is published.
_LIST_KEEPERS = roles.STAFF_ROLES

# --- reference lists -----------------------------------------------------------------------
# Stored values are the Chinese terms of the regulation and of the bureau's Excel sheets, so an
# import file, an export and the database say the same thing.

ITEM_STATUSES = {"draft": _l("Draft"), "published": _l("Published"), "retired": _l("Retired")}
ITEM_CLASSES = ("重点", "一般")
# 检查方式: the one pick-list of items, plan lines, tasks and records.
INSPECTION_METHODS = ("实地检查", "书面检查", "网络监测", "检验检测", "委托专业机构")

INSPECTOR_STATUSES = ("在岗", "离岗", "调离", "退休")
ACTIVE_STATUS = "在岗"
GENDERS = ("男", "女")
SPECIALTIES = (
    "水资源",
    "河湖管理",
    "水土保持",
    "水利工程质量安全",
    "节约用水",
    "水政执法",
    "农村水利",
)

TARGET_TYPES = ("企业", "个体工商户", "其他组织", "自然人", "建设项目")
NATURAL_PERSON = "自然人"
REGISTRATION_STATUSES = ("存续", "注销", "吊销", "迁出")
LIVE_STATUS = "存续"
INDUSTRIES = (
    "取水单位",
    "用水大户",
    "生产建设项目",
    "河道采砂",
    "水利工程建设单位",
    "入河排污口设置单位",
    "水利工程管理单位",
    "其他",
)
RISK_CLASSES = ("A", "B", "C", "D")
SPECIAL_FLAGS = ("投诉举报多", "严重违法记录", "失信")

CONFLICT_REASONS = ("亲属关系", "曾在该单位任职", "经济往来", "其他")

# The areas (街道 / 镇) of Dongsheng district; an installation elsewhere edits the Area table.
DONGSHENG_AREAS = (
    ("交通街道", "街道"),
    ("公园街道", "街道"),
    ("林荫街道", "街道"),
    ("建设街道", "街道"),
    ("富兴街道", "街道"),
    ("天骄街道", "街道"),
    ("诃额伦街道", "街道"),
    ("巴音门克街道", "街道"),
    ("纺织街道", "街道"),
    ("兴胜街道", "街道"),
    ("民族街道", "街道"),
    ("幸福街道", "街道"),
    ("铜川镇", "镇"),
    ("罕台镇", "镇"),
    ("泊江海镇", "镇"),
)


def split_multi(value: str | None) -> list[str]:
    """'水资源、河湖管理' / '水资源,河湖管理' -> ['水资源', '河湖管理']"""
    if not value:
        return []
    for sep in ("、", "，", ";", "；", "|"):
        value = value.replace(sep, ",")
    return [part.strip() for part in value.split(",") if part.strip()]


def join_multi(values) -> str:
    return "、".join(v for v in values if v)


class Area(ScalarDefaults, AuditMixin, Model):
    """A 街道 or 镇 of the district: the place a target is in."""

    __tablename__ = "area"

    id = Column(Integer, primary_key=True)
    name = Column(String(50), nullable=False, unique=True)
    kind = Column(String(10), nullable=False, default="街道")
    sort_order = Column(Integer, nullable=False, default=0)
    active = Column(Boolean, nullable=False, default=True)

    def __str__(self):
        return self.name


# --- item list (随机抽查事项清单) -------------------------------------------------------------

# The fields an item revision records and compares (R4.1 plus ratio, frequency, remarks).
ITEM_FIELDS = (
    "code",
    "category",
    "name",
    "target_type",
    "item_class",
    "method",
    "inspecting_body",
    "legal_basis",
    "sampling_ratio",
    "frequency",
    "remarks",
)


class InspectionItem(ScalarDefaults, AuditMixin, Model):
    """An item of the spot-check list. Its columns hold the current version: the draft before
    the first publication, then the published version; a change to a published item waits in an
    ItemRevision (status pending) until a Leader publishes it."""

    __tablename__ = "inspection_item"
    __scope_column__ = "department_id"

    id = Column(Integer, primary_key=True)
    department_id = Column(Integer, ForeignKey("department.id"), nullable=False, index=True)
    code = Column(String(40), nullable=False, unique=True)
    category = Column(String(100), nullable=False)
    name = Column(String(200), nullable=False)
    target_type = Column(String(100), nullable=False)
    item_class = Column(String(10), nullable=False, default="一般")
    method = Column(String(100), nullable=False)
    inspecting_body = Column(String(100), nullable=False)
    legal_basis = Column(Text, nullable=True)
    sampling_ratio = Column(Numeric(5, 2), nullable=True)  # percent, 0 < r <= 100
    frequency = Column(String(50), nullable=True)
    remarks = Column(Text, nullable=True)
    status = Column(String(12), nullable=False, default="draft", index=True)
    version = Column(Integer, nullable=False, default=0)  # 0 until first published
    published_on = Column(Date, nullable=True)  # date of the current published version
    retired_on = Column(Date, nullable=True)
    retire_reason = Column(Text, nullable=True)

    department = relationship(Department)
    revisions = relationship(
        "ItemRevision",
        back_populates="item",
        order_by="ItemRevision.version",
        cascade="all, delete-orphan",
    )

    @property
    def status_label(self):
        return ITEM_STATUSES.get(self.status, self.status)

    @classmethod
    def role_clause(cls, user, names):
        # Drafts are the department's working papers: readers who keep no list see them not.
        if names & _LIST_KEEPERS:
            return None
        return cls.status != "draft"

    @property
    def pending_revision(self):
        return next((r for r in self.revisions if r.status == "pending"), None)

    def field_values(self) -> dict:
        return {name: _plain(getattr(self, name)) for name in ITEM_FIELDS}

    def visible_revisions(self, user=None) -> list:
        """The revisions the user may read: all of them for those who keep the list; the
        published ones for everyone else (a pending or returned proposal is not the list's
        content until a Leader publishes it), as ItemRevision.role_clause says for the
        revision pages."""
        from app.security.scope import current_actor, role_names

        user = user if user is not None else current_actor()
        if role_names(user) & _LIST_KEEPERS:
            return list(self.revisions)
        return [r for r in self.revisions if r.status == "published"]

    @property
    def revisions_html(self) -> Markup:
        """Every version side by side: who, when, why, which fields changed (R4.3)."""
        from app.directory.labels import LABELS

        rows = []
        for rev in sorted(self.visible_revisions(), key=lambda r: r.version, reverse=True):
            rows.append(
                Markup(
                    "<tr><td>v{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>"
                ).format(
                    rev.version,
                    rev.status_label,
                    rev.created_by or "",
                    rev.created_on.strftime("%Y-%m-%d") if rev.created_on else "",
                    rev.published_on.isoformat() if rev.published_on else "—",
                    rev.reason,
                    rev.changes_html,
                )
            )
        if not rows:
            return Markup("—")
        head = Markup(
            "<tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>"
        ).format(
            LABELS["version"],
            LABELS["status"],
            LABELS["created_by"],
            LABELS["created_on"],
            LABELS["published_on"],
            LABELS["reason"],
            LABELS["changes_html"],
        )
        return Markup('<table class="table table-bordered">{}{}</table>').format(
            head, Markup("").join(rows)
        )

    def __str__(self):
        return f"{self.code} {self.name}"


class ItemRevision(ScalarDefaults, AuditMixin, Model):
    """One version of an item (R4.3): what it said, why it changed, who changed it and when.
    `pending` revisions are proposals waiting for a Leader; `published` ones are history."""

    __tablename__ = "item_revision"
    __table_args__ = (UniqueConstraint("item_id", "version", name="uq_item_revision_version"),)

    id = Column(Integer, primary_key=True)
    item_id = Column(Integer, ForeignKey("inspection_item.id"), nullable=False, index=True)
    version = Column(Integer, nullable=False)
    status = Column(String(12), nullable=False, default="pending")  # pending/published/rejected
    values = Column(Text, nullable=False)  # JSON of ITEM_FIELDS
    changed_fields = Column(Text, nullable=True)  # JSON {"field": [before, after]}
    reason = Column(Text, nullable=False)
    published_on = Column(Date, nullable=True)
    published_by_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True)
    decision_note = Column(Text, nullable=True)

    item = relationship(InspectionItem, back_populates="revisions")
    published_by = relationship("User", foreign_keys=[published_by_id])

    @property
    def status_label(self):
        from app.directory.labels import REVISION_STATUSES

        return REVISION_STATUSES.get(self.status, self.status)

    @property
    def changes_html(self):
        from app.directory.labels import LABELS

        if not self.changed_fields:
            return _l("First version")
        changes = json.loads(self.changed_fields)
        shown = {str(LABELS.get(k, k)): v for k, v in changes.items()}
        return changes_table(json.dumps(shown, ensure_ascii=False))

    @classmethod
    def role_clause(cls, user, names):
        if names & _LIST_KEEPERS:
            return None
        return cls.status == "published"

    @classmethod
    def scope_clause(cls, department_ids):
        return cls.item_id.in_(
            select(InspectionItem.id).where(InspectionItem.department_id.in_(department_ids))
        )

    def __str__(self):
        return f"{self.item.code if self.item else ''} v{self.version}"


# --- inspector roster (执法检查人员名录库) ---------------------------------------------------


class Inspector(ScalarDefaults, AuditMixin, Model):
    __tablename__ = "inspector"
    __scope_column__ = "department_id"
    # Stored copies (audit log, change history) mask these as the pages do (app/core/audit/shown.py).
    __masked_columns__ = {"phone": mask_phone, "id_number": mask_id_number}
    # Encrypted at rest, with their blind indexes (app/core/personal_data.py).
    __blind_indexes__ = {"phone": "phone_bidx", "id_number": "id_number_bidx"}
    __secret_columns__ = tuple(__blind_indexes__.values())  # never shown (nor logged)
    # One inspector per citizen ID number: the constraint is on the blind index (equal numbers,
    # equal indexes); the service names the holder in Chinese before the database refuses.
    __table_args__ = (UniqueConstraint("id_number_bidx", name="uq_inspector_id_number_bidx"),)

    id = Column(Integer, primary_key=True)
    department_id = Column(Integer, ForeignKey("department.id"), nullable=False, index=True)
    name = Column(String(50), nullable=False)
    gender = Column(String(2), nullable=True)
    post = Column(String(100), nullable=True)
    certificate_no = Column(String(50), nullable=False, unique=True)
    certificate_expiry = Column(Date, nullable=False)
    specialties = Column(String(200), nullable=True)  # "水资源、河湖管理"
    status = Column(String(10), nullable=False, default=ACTIVE_STATUS, index=True)
    phone = Column(Encrypted("inspector.phone"), nullable=True)
    phone_bidx = Column(String(BLIND_INDEX_HEX), nullable=True)
    id_number = Column(Encrypted("inspector.id_number"), nullable=True)
    id_number_bidx = Column(String(BLIND_INDEX_HEX), nullable=True)
    user_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True, unique=True)

    department = relationship(Department)
    user = relationship("User", foreign_keys=[user_id])

    def not_drawable_reasons(self, on_date: dt.date | None = None) -> list[str]:
        """Why the inspector cannot be drawn on that date (R6.1); empty when drawable."""
        on_date = on_date or dt.date.today()
        reasons = []
        if self.status != ACTIVE_STATUS:
            reasons.append(_l("Status is %(status)s", status=self.status))
        if self.certificate_expiry is None:
            reasons.append(_l("No law-enforcement certificate"))
        elif self.certificate_expiry < on_date:
            reasons.append(
                _l("Certificate expired on %(date)s", date=self.certificate_expiry.isoformat())
            )
        return reasons

    def is_drawable(self, on_date: dt.date | None = None) -> bool:
        return not self.not_drawable_reasons(on_date)

    @property
    def specialty_list(self) -> list[str]:
        return split_multi(self.specialties)

    # --- shown on pages and in the API ---
    @property
    def drawable(self) -> bool:
        return self.is_drawable()

    @property
    def drawable_html(self) -> Markup:
        return _drawable_badge(self.not_drawable_reasons())

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone) or "—"

    @property
    def id_number_masked(self) -> str:
        return mask_id_number(self.id_number) or "—"

    @property
    def history_html(self) -> Markup:
        """Changes of status, certificate, post and department (R6.2)."""
        from app.directory.labels import INSPECTOR_LABELS

        return history_html(
            "inspector",
            self.id,
            INSPECTOR_LABELS,
            {"status", "certificate_no", "certificate_expiry", "department_id", "post", "name"},
        )

    def __str__(self):
        return self.name


# --- target directory (检查对象名录库) -------------------------------------------------------

target_item = Table(
    "target_item",
    Model.metadata,
    Column("id", Integer, primary_key=True),
    Column("target_id", Integer, ForeignKey("target.id", ondelete="CASCADE"), nullable=False),
    Column(
        "item_id", Integer, ForeignKey("inspection_item.id", ondelete="CASCADE"), nullable=False
    ),
    UniqueConstraint("target_id", "item_id", name="uq_target_item"),
    Index("ix_target_item_item", "item_id"),
)


# Indexes that only PostgreSQL has, made by the migrations and not declared on the models
# (SQLAlchemy cannot declare an index for one database only that Alembic also compares):
# migrations/env.py and the model-migration test leave them out of the comparison.
# The name's trigram index ("contains", pg_trgm) and the USCC's prefix index ("starts with").
POSTGRESQL_ONLY_INDEXES = frozenset({"ix_target_name_trgm", "ix_target_uscc_prefix"})


class Target(ScalarDefaults, AuditMixin, Model):
    __tablename__ = "target"
    # Kept up to date by the services for whichever department inspects or lists the target
    # (a joint check, the responsible department): app/security/write_scope.py.
    __derived_columns__ = ("last_inspected_on", "listed_on")
    __scope_column__ = "department_id"
    # Stored copies (audit log, change history) mask these as the pages do (app/core/audit/shown.py).
    __masked_columns__ = {"id_number": mask_id_number, "contact_phone": mask_phone}
    # Encrypted at rest, with their blind indexes (app/core/personal_data.py).
    __blind_indexes__ = {"id_number": "id_number_bidx", "contact_phone": "contact_phone_bidx"}
    __secret_columns__ = tuple(__blind_indexes__.values())  # never shown (nor logged)
    __table_args__ = (
        Index("ix_target_scope_risk", "department_id", "risk_class"),
        Index("ix_target_status", "registration_status"),
    )

    id = Column(Integer, primary_key=True)
    department_id = Column(Integer, ForeignKey("department.id"), nullable=False, index=True)
    target_type = Column(String(10), nullable=False)
    name = Column(String(200), nullable=False, index=True)
    # USCC for organisations, citizen ID for natural persons (one of the two, see services).
    uscc = Column(String(18), nullable=True, index=True)
    id_number = Column(Encrypted("target.id_number"), nullable=True)
    id_number_bidx = Column(String(BLIND_INDEX_HEX), nullable=True, index=True)
    legal_representative = Column(String(50), nullable=True)
    contact_person = Column(String(50), nullable=True)
    contact_phone = Column(Encrypted("target.contact_phone"), nullable=True)
    contact_phone_bidx = Column(String(BLIND_INDEX_HEX), nullable=True)
    address = Column(String(300), nullable=True)
    area_id = Column(Integer, ForeignKey("area.id"), nullable=True, index=True)
    industry = Column(String(30), nullable=True, index=True)
    registration_status = Column(String(10), nullable=False, default=LIVE_STATUS)
    risk_class = Column(String(1), nullable=False, default="B")
    flags = Column(String(60), nullable=True)  # "投诉举报多、失信"
    last_inspected_on = Column(Date, nullable=True)
    remarks = Column(Text, nullable=True)
    # On the dishonesty blacklist since (R12.2): set and cleared by app/credit/services.py only,
    # in the transaction of the Leader's decision; the draw reads it (R9.7).
    listed_on = Column(Date, nullable=True)

    department = relationship(Department)
    area = relationship(Area)
    items = relationship(InspectionItem, secondary=target_item)

    @property
    def identifier(self) -> str:
        return self.id_number if self.target_type == NATURAL_PERSON else (self.uscc or "")

    @property
    def flag_list(self) -> list[str]:
        return split_multi(self.flags)

    @property
    def is_special(self) -> bool:
        """Drawn in the special stratum (R9.7): a special-supervision flag, or listed."""
        return bool(self.flags) or self.listed_on is not None

    @classmethod
    def special_clause(cls):
        """SQL of is_special."""
        return and_(cls.flags.is_not(None), cls.flags != "") | cls.listed_on.is_not(None)

    @property
    def listed_badge(self) -> Markup:
        return blacklist_badge(self.listed_on)

    @property
    def credit_record_html(self) -> Markup:
        from flask import url_for

        return Markup('<a href="{}">{}</a>').format(
            url_for("CreditRecordView.target", pk=self.id), _l("Credit record")
        )

    def __html__(self) -> str:
        """The name with the blacklist badge wherever a page prints the target (str() stays
        the bare name, for exports and form fields)."""
        name = Markup.escape(self.name)
        if self.listed_on is None:
            return name
        return Markup("{} {}").format(name, self.listed_badge)

    def not_drawable_reasons(self) -> list[str]:
        if self.registration_status != LIVE_STATUS:
            return [_l("Registration status is %(status)s", status=self.registration_status)]
        return []

    def is_drawable(self) -> bool:
        return not self.not_drawable_reasons()

    # --- shown on pages and in the API ---
    @property
    def drawable_html(self) -> Markup:
        return _drawable_badge(self.not_drawable_reasons())

    @property
    def identifier_display(self) -> str:
        """The USCC, or a natural person's ID number masked (X3)."""
        if self.target_type == NATURAL_PERSON:
            return mask_id_number(self.id_number) or "—"
        return self.uscc or "—"

    @property
    def contact_phone_masked(self) -> str:
        return mask_phone(self.contact_phone) or "—"

    @property
    def history_html(self) -> Markup:
        from app.directory.labels import LABELS

        return history_html("target", self.id, LABELS)

    def __str__(self):
        return self.name


blind_indexed(Inspector)
blind_indexed(Target)


# --- what was published about a target ------------------------------------------------------


def target_code(target: Target) -> str | None:
    """The target's code as staff pages show it: the USCC, or a natural person's ID number
    masked. A snapshot never holds a full ID number."""
    if target.target_type == NATURAL_PERSON:
        return mask_id_number(target.id_number) or None
    return target.uscc or None


class TargetSnapshot:
    """A row that publishes something about a target (an inspection record, a blacklist
    listing) keeps the target as it was then: `target_name`, `target_type`, `target_code` and
    `target_address` (columns of the model). Public pages, exports, filings, DOCX reports and
    archive bundles print these, never the directory's current row: renaming a target later
    changes nothing that was published or archived. Staff pages of the directory show the
    current name.

    The model says when the snapshot is taken (`snapshot_due`); `take_target_snapshots`, a
    `before_flush` listener, takes it on every path (page, REST, service, CLI, fixture)."""

    def snapshot_due(self, session) -> bool:  # pragma: no cover - each model says
        raise NotImplementedError

    def take_target_snapshot(self, target: Target) -> None:
        self.target_name = target.name
        self.target_type = target.target_type
        self.target_code = target_code(target)
        self.target_address = target.address


def _snapshot_target(session, obj) -> Target | None:
    target = obj.__dict__.get("target")
    if target is None and getattr(obj, "target_id", None) is not None:
        target = session.get(Target, obj.target_id)
    return target


@event.listens_for(Session, "before_flush")
def take_target_snapshots(session, flush_context, instances):
    candidates = [o for o in (*session.new, *session.dirty) if isinstance(o, TargetSnapshot)]
    if not candidates:
        return
    with session.no_autoflush:
        for obj in candidates:
            if obj not in session.new and not session.is_modified(obj):
                continue
            if not obj.snapshot_due(session):
                continue
            target = _snapshot_target(session, obj)
            if target is not None:
                obj.take_target_snapshot(target)


# --- conflicts of interest (回避) -------------------------------------------------------------


class Conflict(AuditMixin, Model):
    """A declared interest between an inspector and a target: the draw never puts that
    inspector on that target while the declaration is valid (R7.3)."""

    __tablename__ = "conflict"
    # An inspector declares an interest in any target, of any department.
    __cross_department__ = {"target": "any"}
    __table_args__ = (Index("ix_conflict_pair", "inspector_id", "target_id"),)

    id = Column(Integer, primary_key=True)
    inspector_id = Column(Integer, ForeignKey("inspector.id"), nullable=False, index=True)
    target_id = Column(Integer, ForeignKey("target.id"), nullable=False, index=True)
    reason = Column(String(20), nullable=False)
    detail = Column(Text, nullable=True)
    valid_from = Column(Date, nullable=False)
    valid_until = Column(Date, nullable=True)  # open-ended when empty

    inspector = relationship(Inspector)
    target = relationship(Target)

    @classmethod
    def scope_clause(cls, department_ids):
        # Visible where either side is: the inspector's department records its people's
        # interests, the target's department must know whom to keep away from its target.
        return cls.inspector_id.in_(
            select(Inspector.id).where(Inspector.department_id.in_(department_ids))
        ) | cls.target_id.in_(select(Target.id).where(Target.department_id.in_(department_ids)))

    @classmethod
    def role_clause(cls, user, names):
        # An inspector sees and declares their own interests only.
        if names & _LIST_KEEPERS:
            return None
        return cls.inspector_id.in_(select(Inspector.id).where(Inspector.user_id == user.id))

    def department_ids_for_scope(self):
        return {self.inspector.department_id, self.target.department_id}

    def is_valid_on(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_until is None or day <= self.valid_until)

    def __str__(self):
        return f"{self.inspector} ↔ {self.target}"


def _person(user) -> str:
    if user is None:
        return "—"
    return f"{user.last_name or ''}{user.first_name or ''}" or user.username


def blacklist_badge(listed_on: dt.date | None) -> Markup:
    """The red 失信黑名单 label of a listed target (empty when not listed)."""
    if listed_on is None:
        return Markup("")
    from app.core.request_cache import per_request

    # A list (and its search select) prints the badge on every listed target's row.
    return per_request(
        "blacklist_badge",
        listed_on,
        lambda: Markup('<span class="label label-danger" title="{}">{}</span>').format(
            _l("On the dishonesty blacklist since %(day)s", day=listed_on.isoformat()),
            _l("Blacklisted"),
        ),
    )


def _drawable_badge(reasons) -> Markup:
    if not reasons:
        return Markup('<span class="label label-success">{}</span>').format(_l("Drawable"))
    return Markup('<span class="label label-danger">{}</span> {}').format(
        _l("Not drawable"), "；".join(str(r) for r in reasons)
    )


def _plain(value):
    """JSON-friendly value of an item field (Decimal ratio as a string without trailing zeros)."""
    from decimal import Decimal

    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return text
    return value


class ImportMapping(Model):
    """A department's own reading of an import's header (issue 19): a column of their lists
    (normalised source header) is this field of ours (`field`: the attribute, "" for 忽略). Written
    when an import the user mapped by hand succeeds; it pre-fills the department's next preview.
    Only the user's own department's mappings are read (app/directory/imports/remembered.py)."""

    __tablename__ = "import_mapping"
    __scope_column__ = "department_id"
    __table_args__ = (
        UniqueConstraint("department_id", "kind", "source_header", name="uq_import_mapping_key"),
    )

    id = Column(Integer, primary_key=True)
    department_id = Column(Integer, ForeignKey("department.id"), nullable=False)
    kind = Column(String(20), nullable=False)
    source_header = Column(String(200), nullable=False)
    field = Column(String(40), nullable=False)
    changed_on = Column(DateTime, nullable=False)

    department = relationship(Department)
