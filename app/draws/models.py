"""Draws (摇号) of a task's targets and inspectors, their selections and the inspectors'
assignments. A draw row is written once (committed), completed once (done), and never edited
after; a cancelled draw stays visible with its reason."""

from __future__ import annotations

import json

from flask_appbuilder import Model
from flask_appbuilder.models.mixins import AuditMixin
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    select,
)
from sqlalchemy.dialects import mysql, postgresql
from sqlalchemy.orm import deferred, relationship

from app.core.models import ScalarDefaults
from app.directory.models import Inspector, Target
from app.planning.models import PUBLISHED_TASK_STATUSES, SpotCheckTask, TaskScoped

# A pool of a million targets is tens of megabytes of JSON: MariaDB's TEXT holds 64 KB.
LongText = Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")

DRAW_KINDS = {"target": _l("Targets"), "inspector": _l("Inspectors")}
DRAW_STATUSES = {
    "committed": _l("Committed, waiting for the witnesses' entropy"),
    "done": _l("Done"),
    "cancelled": _l("Cancelled"),
}
SUBSTITUTION_REASONS = ("病假", "公务冲突", "回避", "其他")
DRAW_MODES = {
    "one_step": _l("One step, no outside entropy (无外部随机源)"),
    "witnessed": _l("With witnesses"),
    "public": _l("With a declared future public source"),
}


# A committed target draw's pool on PostgreSQL, per stratum: the ids of its candidates as one
# bigint[] each (app/draws/pool.py). Written beside the pool's canonical JSON in the statement
# that freezes it (one snapshot, the same candidates), read by the ranking that completes the
# draw instead of parsing tens of megabytes of JSON, and deleted then: derived data, covered
# by the pool's hash (the verifier ranks from draw.pool). Unused on SQLite and MariaDB.
BigIntegers = Text().with_variant(postgresql.ARRAY(BigInteger), "postgresql")
draw_pool_stratum = Table(
    "draw_pool_stratum",
    Model.metadata,
    Column("draw_id", Integer, ForeignKey("draw.id", ondelete="CASCADE"), primary_key=True),
    Column("stratum", String(20), primary_key=True),
    Column("ids", BigIntegers, nullable=False),
)


class Draw(TaskScoped, ScalarDefaults, AuditMixin, Model):
    __tablename__ = "draw"
    # The audit log keeps the SHA-256 of these (a pool can be tens of megabytes).
    __audit_digest_columns__ = ("pool", "excluded")
    # What the audit log never shows of a draw, and what it shows only once the task's results
    # are published (app/core/audit/shown.py); explicit events name a draw by its uid.
    __secret_columns__ = ("server_secret",)
    __confidential_columns__ = ("pool", "excluded", "result", "substitutions", "witness_entropy")
    __audit_key__ = "uid"
    # What drawn_target's foreign key refers to: a drawn target's task is its draw's task.
    __table_args__ = (UniqueConstraint("id", "task_id", name="uq_draw_task"),)

    id = Column(Integer, primary_key=True)
    uid = Column(String(40), nullable=False, unique=True)  # the protocol's draw id
    task_id = Column(Integer, ForeignKey("spot_check_task.id"), nullable=False, index=True)
    kind = Column(String(10), nullable=False)
    status = Column(String(10), nullable=False, default="committed")
    # "<task>:<kind>" while the draw is committed or done, NULL once cancelled: the unique
    # constraint lets exactly one draw per task and kind exist, whatever the number of
    # processes drawing at the same moment.
    active_key = Column(String(40), nullable=True, unique=True)
    mode = Column(String(10), nullable=False, default="one_step")  # one_step / witnessed / public
    witnesses = Column(String(200), nullable=True)
    witness_entropy = Column(Text, nullable=True)
    server_secret = Column(String(64), nullable=False)  # hex; shown only once published
    commitment = Column(String(64), nullable=False)
    pool_hash = Column(String(64), nullable=False)
    params_hash = Column(String(64), nullable=False)
    record_hash = Column(String(64), nullable=True)
    pool_size = Column(Integer, nullable=False, default=0)
    params = Column(Text, nullable=False)
    # Deferred: loading a draw does not pull in a pool of tens of megabytes it may not need.
    pool = deferred(Column(LongText, nullable=False))
    excluded = Column(LongText, nullable=True)
    result = Column(Text, nullable=True)  # selection (targets) or groups (inspectors), JSON
    substitutions = Column(Text, nullable=True)  # JSON list of events
    drawn_at = Column(DateTime, nullable=True)
    cancel_reason = Column(Text, nullable=True)

    task = relationship(SpotCheckTask)

    @property
    def kind_label(self):
        return DRAW_KINDS.get(self.kind, self.kind)

    @property
    def status_label(self):
        return DRAW_STATUSES.get(self.status, self.status)

    def download_names(self) -> tuple[str, str]:
        """(file name, ASCII fallback) of this draw's record as a download:
        "东水双随机〔2026〕3号_取水许可专项检查_检查对象抽取结果.json"."""
        from app.core.downloads import task_file_names

        what = "检查对象抽取结果" if self.kind == "target" else "检查人员抽取结果"
        ascii_what = "target-draw" if self.kind == "target" else "inspector-draw"
        if self.status == "cancelled":
            what, ascii_what = f"{what}（已作废）", f"{ascii_what}-cancelled"
        return task_file_names(self.task, what, ascii_what, "json")

    @property
    def mode_label(self):
        return DRAW_MODES.get(self.mode, self.mode)

    @property
    def published(self) -> bool:
        return self.task.status in PUBLISHED_TASK_STATUSES

    @property
    def blacklisted_ids(self) -> list[int]:
        """Targets of the pool on the dishonesty blacklist at the draw (R12.2), as its
        parameters state them; they were in the special stratum."""
        return json.loads(self.params).get("blacklisted", []) if self.params else []

    def audit_hidden_columns(self):
        if self.published:
            return ()
        if self.status == "done":
            return ("pool", "excluded", "result", "substitutions")
        return self.__confidential_columns__

    @property
    def entropy_source(self) -> str | None:
        """params.entropy_source: "witnesses", "public:<source>" or 无外部随机源."""
        return json.loads(self.params).get("entropy_source") if self.params else None

    @property
    def entropy_source_label(self) -> str:
        from app.draws.ledger_chain import NO_ENTROPY

        source = self.entropy_source
        if source is None and self.mode == "witnessed":  # drawn before params declared it
            source = "witnesses"
        if source is None or source == NO_ENTROPY:
            return NO_ENTROPY
        if source == "witnesses":
            return str(_l("Entropy typed by the witnesses (监督人)"))
        return str(_l("Declared public source: %(source)s", source=source.removeprefix("public:")))

    def result_data(self):
        return json.loads(self.result) if self.result else {}

    def substitution_events(self) -> list[dict]:
        return json.loads(self.substitutions) if self.substitutions else []

    def __str__(self):
        return f"{self.task.number} {self.kind_label}"


class DrawnTarget(Model):
    """A target selected by a done target draw (for lists, scope and the progress counts)."""

    __tablename__ = "drawn_target"
    # Drawn from the task's frozen pool, which a joint check takes from several departments.
    __cross_department__ = {"target": "new"}
    # One foreign key for the draw and its task (each checked per row when a draw of tens of
    # thousands is written; the task's own key follows from the draw's). uq_drawn_target,
    # whose first column is draw_id, serves the lookups by draw.
    __table_args__ = (
        UniqueConstraint("draw_id", "target_id", name="uq_drawn_target"),
        ForeignKeyConstraint(
            ["draw_id", "task_id"], ["draw.id", "draw.task_id"], name="fk_drawn_target_draw"
        ),
    )

    # Shown on the draw's page: read with its permission and scope; the selection stays out of
    # stored copies until the task's results are published (app/core/audit/shown.py).
    __read_permission__ = "Draw"
    __confidential_columns__ = ("target_id", "inspector_id", "stratum", "rank", "position")

    def department_ids_for_scope(self):
        return self.draw.department_ids_for_scope()

    def audit_hidden_columns(self):
        return () if self.draw.published else self.__confidential_columns__

    id = Column(Integer, primary_key=True)
    draw_id = Column(Integer, nullable=False)
    task_id = Column(Integer, nullable=False, index=True)
    target_id = Column(Integer, ForeignKey("target.id"), nullable=False, index=True)
    stratum = Column(String(20), nullable=False)
    rank = Column(Integer, nullable=False)

    draw = relationship(Draw, backref="drawn_targets")
    target = relationship(Target)


class Assignment(Model):
    """An inspector in the group of a drawn target. A substitute adds a row; the replaced row
    stays, inactive, with the reason (R7.2)."""

    __tablename__ = "assignment"
    __cross_department__ = {"target": "new", "inspector": "new"}

    # Shown on the draw's page: read with its permission and scope; the selection stays out of
    # stored copies until the task's results are published (app/core/audit/shown.py).
    __read_permission__ = "Draw"
    __confidential_columns__ = ("target_id", "inspector_id", "stratum", "rank", "position")

    def department_ids_for_scope(self):
        return self.draw.department_ids_for_scope()

    def audit_hidden_columns(self):
        return () if self.draw.published else self.__confidential_columns__

    id = Column(Integer, primary_key=True)
    draw_id = Column(Integer, ForeignKey("draw.id"), nullable=False, index=True)
    task_id = Column(Integer, ForeignKey("spot_check_task.id"), nullable=False, index=True)
    target_id = Column(Integer, ForeignKey("target.id"), nullable=False, index=True)
    inspector_id = Column(Integer, ForeignKey("inspector.id"), nullable=False, index=True)
    position = Column(Integer, nullable=False)
    active = Column(Boolean, nullable=False, default=True)
    substitute_for_id = Column(Integer, ForeignKey("assignment.id"), nullable=True)
    unavailable_reason = Column(String(20), nullable=True)
    unavailable_note = Column(Text, nullable=True)

    draw = relationship(Draw, backref="assignments")
    target = relationship(Target)
    inspector = relationship(Inspector)

    @classmethod
    def of_user(cls, user, task, target=None):
        """SELECT the user's active assignments in a task (and to a target): `task` and
        `target` are ids or columns, so the same rule serves checks and row filters."""
        query = (
            select(cls.id)
            .join(Inspector, Inspector.id == cls.inspector_id)
            .where(cls.task_id == task, cls.active.is_(True), Inspector.user_id == user.id)
        )
        return query if target is None else query.where(cls.target_id == target)


class DrawLedgerEntry(Model):
    """One entry of the public draw ledger (摇号公示台账): append-only, hash-chained, anonymous
    (app/draws/ledger.py writes it, app/draws/ledger_chain.py states the hash rule). `body` is
    the entry's canonical JSON, exactly the bytes hashed (with `hash` added); the other columns
    repeat its fields for queries. Unique seq and prev_hash: a fork cannot be stored."""

    __tablename__ = "draw_ledger"

    id = Column(Integer, primary_key=True)
    seq = Column(BigInteger, nullable=False, unique=True)
    event = Column(String(20), nullable=False, index=True)
    draw_uid = Column(String(40), nullable=True, index=True)
    day = Column(String(10), nullable=False, index=True)  # YYYY-MM-DD in +08:00
    prev_hash = Column(String(64), nullable=False, unique=True)
    hash = Column(String(64), nullable=False)
    body = Column(Text, nullable=False)

    def data(self) -> dict:
        return json.loads(self.body)


class DrawLedgerHead(Model):
    """The single row with the ledger's newest seq and hash; appenders lock it."""

    __tablename__ = "draw_ledger_head"

    id = Column(Integer, primary_key=True, autoincrement=False)
    last_seq = Column(BigInteger, nullable=False, default=0)
    last_hash = Column(String(64), nullable=False)
