import json

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import BigInteger, Column, DateTime, Index, Integer, String, Text

from app.core.audit import wording

GENESIS_HASH = "0" * 64


def changes_table(changes_json):
    if not changes_json:
        return ""
    rows = []
    for field, (before, after) in sorted(json.loads(changes_json).items()):
        rows.append(
            f"<tr><td>{escape(field)}</td><td>{escape(_fmt(before))}</td>"
            f"<td>{escape(_fmt(after))}</td></tr>"
        )
    return Markup(
        '<table class="table table-condensed"><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr>'
        "</thead><tbody>{}</tbody></table>"
    ).format(_l("Field"), _l("Before"), _l("After"), Markup("".join(rows)))


def _fmt(value):
    if value is None:
        return "—"
    if isinstance(value, list):
        return "、".join(str(v) for v in value) or "—"
    return str(value)


class AuditLog(Model):
    """One row per change or explicit event. Rows are written with Core inserts by the recorder
    only; the ORM refuses to add, change or delete them (see recorder.py)."""

    __tablename__ = "audit_log"
    __scope_column__ = "department_id"

    id = Column(Integer, primary_key=True)
    # Gapless position in the chain, assigned under the chain-head lock (database ids may skip).
    seq = Column(BigInteger, nullable=False, unique=True)
    created_at = Column(DateTime, nullable=False, index=True)
    user_id = Column(Integer, nullable=True, index=True)  # no FK: the log outlives users
    username = Column(String(128), nullable=True)
    roles = Column(String(200), nullable=True)
    ip = Column(String(64), nullable=True)
    action = Column(String(32), nullable=False, index=True)
    # A record's history (object_type, object_id, newest first) reads ix_audit_log_object.
    object_type = Column(String(64), nullable=True)
    object_id = Column(String(64), nullable=True)
    department_id = Column(Integer, nullable=True, index=True)
    changes = Column(Text, nullable=True)  # JSON {"field": [before, after]}
    detail = Column(Text, nullable=True)
    prev_hash = Column(String(64), nullable=False)
    row_hash = Column(String(64), nullable=False)

    __table_args__ = (Index("ix_audit_log_object", "object_type", "object_id", "seq"),)

    @property
    def action_label(self):
        return wording.action_label(self.action)

    @property
    def object_type_label(self):
        return wording.object_type_label(self.object_type)

    @property
    def username_label(self):
        """Who did it, by full name (the row keeps the login)."""
        return wording.actor_name(self.user_id, self.username)

    @property
    def roles_shown(self):
        from app.security.roles import ROLE_LABELS

        names = [r.strip() for r in (self.roles or "").split(",") if r.strip()]
        return "、".join(str(ROLE_LABELS.get(n, n)) for n in names)

    @property
    def ip_label(self):
        return wording.ip_label(self.ip)

    def _wording(self):
        from app.core.audit.shown import model_of_table

        return wording.Wording(model_of_table(self.object_type) if self.object_type else None)

    def _disclosure(self):
        # One rule for every stored copy of a row's values (app/core/audit/shown.py).
        from app.core.audit.shown import Disclosure

        return Disclosure(self.object_type, self.object_id, self.department_id)

    @property
    def changes_html(self):
        if not self.changes:
            return ""
        shown = self._disclosure().changes(json.loads(self.changes))
        return changes_table(json.dumps(self._wording().changes(shown), ensure_ascii=False))

    @property
    def detail_shown(self):
        shown = self._disclosure().detail(self.detail)
        try:
            data = json.loads(shown) if shown else None
        except ValueError:
            return shown
        if not isinstance(data, dict):
            return shown
        return self._wording().detail(data)

    def __str__(self):
        return f"#{self.seq} {self.action} {self.object_type or ''} {self.object_id or ''}".strip()


class AuditChainHead(Model):
    """A single row holding the chain's newest position. Appenders lock it (SELECT ... FOR UPDATE)
    so that concurrent transactions in any number of processes extend one chain, and `verify`
    compares the last row against it to detect removal of the newest rows."""

    __tablename__ = "audit_chain_head"

    id = Column(Integer, primary_key=True, autoincrement=False)
    last_seq = Column(BigInteger, nullable=False, default=0)
    last_hash = Column(String(64), nullable=False, default=GENESIS_HASH)


class AuditArchive(Model):
    """A segment of the audit log's oldest rows moved into an archive file by `flask audit
    archive` (app/core/audit/archive.py). The chain goes on across the cut: the first row left
    in the log names `last_hash` as its predecessor, and `verify` starts from the newest
    segment. Written by Core statements only, like the log."""

    __tablename__ = "audit_archive"
    __read_permission__ = "AuditLog"  # its events read as the log does (app/core/audit/shown.py)

    id = Column(Integer, primary_key=True)
    first_seq = Column(BigInteger, nullable=False, unique=True)
    last_seq = Column(BigInteger, nullable=False, unique=True)
    prev_hash = Column(String(64), nullable=False)  # the row before first_seq (or 64 zeros)
    last_hash = Column(String(64), nullable=False)  # row_hash of last_seq
    row_count = Column(BigInteger, nullable=False)
    cutoff = Column(DateTime, nullable=False)  # every archived row is older
    file_path = Column(String(500), nullable=False)
    file_sha256 = Column(String(64), nullable=False)
    created_at = Column(DateTime, nullable=False)
    username = Column(String(128), nullable=True)


class AuditReview(Model):
    """A mark 已审阅 with its note, set by the audit administrator on one audit row (the row
    itself is never changed: it is hash-chained). One mark per row, never changed or deleted:
    written by Core statements only (app/core/audit/review.py), the ORM refuses the rest
    (recorder.py). Each marking is itself an `audit_review` event in the chain. `audit_seq`
    names the row by its place in the chain (no foreign key: archiving takes the row and its
    mark out together, app/core/audit/archive.py)."""

    __tablename__ = "audit_review"
    # Only the audit administrator reads marks and notes, in the log's events too (shown.py).
    __read_permission__ = "AuditReview"

    id = Column(Integer, primary_key=True)
    audit_seq = Column(BigInteger, nullable=False, unique=True)
    reviewer_id = Column(Integer, nullable=True)  # no FK, as the log's user_id
    reviewer_username = Column(String(128), nullable=True)
    reviewed_at = Column(DateTime, nullable=False)
    note = Column(String(500), nullable=True)
