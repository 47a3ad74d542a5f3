"""The audit administrator's review of the audit log (issue 20, part 4; GB/T 22239-2019 level 3,
安全审计): the filter of the review page, its CSV export, and the marks 已审阅 with a note.

- `ReviewFilter` is the one reading of the page's filter (person, action, object, time range,
  review state, security events only): the list, the export and the marking of every row of
  the filter all apply the same conditions. Bad input is a DomainError in Chinese.
- A mark is a row of `audit_review` (one per audit row, never changed or deleted) written by a
  Core insert, together with an `audit_review` event in the hash chain naming the rows, the
  note and, for a whole filter, the filter: the chain keeps every mark even after its row is
  archived. `mark_filtered` marks at most BULK_LIMIT rows at a time, the oldest first.
- The export's own `export` event names the filter and the number of rows; the rows are those
  the log held when it was made (up to its `seq`).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from app.core.audit.models import AuditLog, AuditReview
from app.core.audit.recorder import log_event
from app.core.audit.security_events import is_security_event, security_event_clause
from app.core.errors import DomainError
from app.core.text import has_control_characters
from app.extensions import db

NOTE_MAX = 500
BULK_LIMIT = 500
PAGE_SIZE = 50
REVIEWED, NOT_REVIEWED = "yes", "no"
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")

REVIEWED_LABEL = _l("Reviewed")
NOT_REVIEWED_LABEL = _l("Not reviewed")
SECURITY_EVENT_LABEL = _l("Security event")


@dataclass(frozen=True)
class ReviewFilter:
    username: str = ""
    action: str = ""
    object_type: str = ""
    object_id: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    reviewed: str = ""  # "", REVIEWED or NOT_REVIEWED
    security_only: bool = False

    @classmethod
    def from_args(cls, args) -> ReviewFilter:
        """The filter of a request's arguments (query string or form); DomainError in Chinese
        for a value that is not one."""
        username = _text(args, "username", 128, _l("User"))
        action = _code(args, "action", _l("Action"))
        object_type = _code(args, "object_type", _l("Object type"))
        object_id = _text(args, "object_id", 64, _l("Object id"))
        date_from = _day(args, "date_from", _l("Time from"))
        date_to = _day(args, "date_to", _l("Time until"))
        if date_from and date_to and date_from > date_to:
            raise DomainError(_("The start of the time range is after its end."))
        reviewed = (args.get("reviewed") or "").strip()
        if reviewed not in ("", REVIEWED, NOT_REVIEWED):
            raise DomainError(_("Review state: choose reviewed, not reviewed or all."))
        security = (args.get("security") or "").strip()
        if security not in ("", "1"):
            raise DomainError(_("Security events only: tick the box or leave it empty."))
        return cls(
            username, action, object_type, object_id, date_from, date_to, reviewed, security == "1"
        )

    def args(self) -> dict:
        """The filter as request arguments (empty ones left out): links and hidden fields."""
        found = {}
        for key, value in asdict(self).items():
            if key == "security_only":
                if value:
                    found["security"] = "1"
            elif value:
                found[key] = value.isoformat() if isinstance(value, dt.date) else value
        return found

    def conditions(self) -> list:
        found = []
        if self.username:
            found.append(AuditLog.username == self.username)
        if self.action:
            found.append(AuditLog.action == self.action)
        if self.object_type:
            found.append(AuditLog.object_type == self.object_type)
        if self.object_id:
            found.append(AuditLog.object_id == self.object_id)
        if self.date_from:
            found.append(AuditLog.created_at >= dt.datetime.combine(self.date_from, dt.time()))
        if self.date_to:
            end = dt.datetime.combine(self.date_to + dt.timedelta(days=1), dt.time())
            found.append(AuditLog.created_at < end)
        if self.reviewed == REVIEWED:
            found.append(AuditReview.id.is_not(None))
        elif self.reviewed == NOT_REVIEWED:
            found.append(AuditReview.id.is_(None))
        if self.security_only:
            found.append(security_event_clause(AuditLog))
        return found


def _text(args, name, limit, label) -> str:
    value = (args.get(name) or "").strip()
    if has_control_characters(value):
        raise DomainError(_("%(field)s holds control characters.", field=label))
    if len(value) > limit:
        raise DomainError(_("%(field)s: at most %(n)s characters.", field=label, n=limit))
    return value


def _code(args, name, label) -> str:
    value = (args.get(name) or "").strip()
    if value and not _CODE.match(value):
        raise DomainError(_("%(field)s: choose one of the list.", field=label))
    return value


def _day(args, name, label) -> dt.date | None:
    value = (args.get(name) or "").strip()
    if not value:
        return None
    try:
        if not _DAY.match(value):
            raise ValueError(value)
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise DomainError(
            _("%(field)s: write the date as YYYY-MM-DD, e.g. 2026-06-01.", field=label)
        ) from None
    if not 1970 <= day.year <= 9998:
        raise DomainError(_("%(field)s: a date between 1970 and 9998.", field=label))
    return day


def _reviewed_rows(query):
    """`query` over the log with each row's mark beside it (NULL for none), in the user's
    department scope (the audit administrator's is every department)."""
    from app.security.scope import departments_in_scope, scope_clause

    query = query.select_from(AuditLog).outerjoin(
        AuditReview, AuditReview.audit_seq == AuditLog.seq
    )
    clause = scope_clause(AuditLog, departments_in_scope())
    return query.where(clause) if clause is not None else query


def count(review_filter: ReviewFilter, up_to_seq: int | None = None) -> int:
    query = _reviewed_rows(select(func.count(AuditLog.id))).where(*review_filter.conditions())
    if up_to_seq is not None:
        query = query.where(AuditLog.seq <= up_to_seq)
    return db.session.scalar(query) or 0


def page(review_filter: ReviewFilter, number: int) -> list:
    """[(AuditLog, AuditReview or None)] of page `number` (from 1), newest first."""
    query = (
        _reviewed_rows(select(AuditLog, AuditReview))
        .where(*review_filter.conditions())
        .order_by(AuditLog.seq.desc())
        .limit(PAGE_SIZE)
        .offset((number - 1) * PAGE_SIZE)
    )
    return db.session.execute(query).all()


def flagged(entry) -> bool:
    return is_security_event(entry.action, entry.object_type, entry.changes)


# --- marks ------------------------------------------------------------------------------------


def check_note(note) -> str | None:
    note = (note or "").strip()
    if has_control_characters(note):
        raise DomainError(_("%(field)s holds control characters.", field=_l("Review note")))
    if len(note) > NOTE_MAX:
        raise DomainError(
            _("%(field)s: at most %(n)s characters.", field=_l("Review note"), n=NOTE_MAX)
        )
    return note or None


def _insert_marks(seqs: list[int], note: str | None, user) -> list[int]:
    now = dt.datetime.now().replace(microsecond=0)
    try:
        db.session.connection().execute(
            insert(AuditReview),
            [
                {
                    "audit_seq": seq,
                    "reviewer_id": user.id,
                    "reviewer_username": user.username,
                    "reviewed_at": now,
                    "note": note,
                }
                for seq in seqs
            ],
        )
    except IntegrityError:  # the caller rolls back
        raise DomainError(
            _("Someone marked some of these entries meanwhile: reload the page and try again.")
        ) from None
    return db.session.scalars(
        select(AuditReview.id).where(AuditReview.audit_seq.in_(seqs)).order_by(AuditReview.id)
    ).all()


def exists(seq: int) -> bool:
    """Whether the log holds entry `seq` (in the user's scope)."""
    query = _reviewed_rows(select(AuditLog.id)).where(AuditLog.seq == seq)
    return db.session.scalar(query) is not None


def mark(seq: int, note, user) -> None:
    """Mark the entry `seq` 已审阅 with `note`; the caller commits."""
    note = check_note(note)
    entry = db.session.execute(
        _reviewed_rows(select(AuditLog.seq, AuditReview.id)).where(AuditLog.seq == seq)
    ).first()
    if entry is None:
        raise DomainError(_("There is no audit entry No. %(seq)s.", seq=seq))
    if entry[1] is not None:
        raise DomainError(_("Audit entry No. %(seq)s is reviewed already.", seq=seq))
    (mark_id,) = _insert_marks([seq], note, user)
    log_event("audit_review", "audit_review", mark_id, detail={"seq": seq, "note": note}, user=user)


def mark_filtered(review_filter: ReviewFilter, note, user) -> tuple[int, int]:
    """Mark the oldest BULK_LIMIT unreviewed entries of the filter; (marked, left unreviewed).
    The caller commits."""
    note = check_note(note)
    query = (
        _reviewed_rows(select(AuditLog.seq))
        .where(*review_filter.conditions(), AuditReview.id.is_(None))
        .order_by(AuditLog.seq)
        .limit(BULK_LIMIT)
    )
    seqs = db.session.scalars(query).all()
    if not seqs:
        raise DomainError(_("No entry of this filter is left to review."))
    _insert_marks(seqs, note, user)
    log_event(
        "audit_review",
        "audit_review",
        None,
        detail={
            "count": len(seqs),
            "seqs": list(seqs),
            "filter": review_filter.args(),
            "note": note,
        },
        user=user,
    )
    left = count(ReviewFilter(**{**asdict(review_filter), "reviewed": NOT_REVIEWED}))
    return len(seqs), left


# --- export -----------------------------------------------------------------------------------

EXPORT_HEADERS = (
    _l("No."),
    _l("Time"),
    _l("Login account"),
    _l("User"),
    _l("Roles"),
    _l("IP address"),
    _l("Action"),
    _l("Action code"),
    _l("Object type"),
    _l("Object id"),
    _l("Security event"),
    _l("Review state"),
    _l("Reviewer"),
    _l("Reviewed at"),
    _l("Review note"),
    _l("Hash of this entry"),
)


def export_rows(review_filter: ReviewFilter, up_to_seq: int):
    """The rows of the CSV file, oldest first, read in batches: a generator the caller streams
    in the request's context. The statement is built now (the user's scope is read before the
    response is sent)."""
    query = (
        _reviewed_rows(select(AuditLog, AuditReview))
        .where(*review_filter.conditions(), AuditLog.seq <= up_to_seq)
        .order_by(AuditLog.seq)
        .execution_options(yield_per=500)
    )
    return _export_lines(query)


def _export_lines(query):
    yes, no = str(_l("Yes")), str(_l("No"))
    for entry, mark_row in db.session.execute(query):
        yield (
            entry.seq,
            entry.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            entry.username or "",
            entry.username_label,
            entry.roles_shown,
            entry.ip_label,
            str(entry.action_label),
            entry.action,
            str(entry.object_type_label),
            entry.object_id or "",
            yes if flagged(entry) else no,
            str(REVIEWED_LABEL if mark_row is not None else NOT_REVIEWED_LABEL),
            mark_row.reviewer_username if mark_row is not None else "",
            mark_row.reviewed_at.strftime("%Y-%m-%d %H:%M:%S") if mark_row is not None else "",
            (mark_row.note or "") if mark_row is not None else "",
            entry.row_hash,
        )


def log_export(review_filter: ReviewFilter, rows: int, up_to_seq: int, encoding: str) -> None:
    log_event(
        "export",
        "audit_log",
        None,
        detail={
            "rows": rows,
            "last_seq": up_to_seq,
            "filter": review_filter.args(),
            "format": "csv",
            "encoding": encoding,
        },
    )


def head_seq() -> int:
    return db.session.scalar(select(func.max(AuditLog.seq))) or 0
