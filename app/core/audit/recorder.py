"""Writes audit rows: one per created / updated / deleted object on every flush, and explicit
events through log_event(). Rows join the caller's transaction: a rolled-back change leaves no
audit row, a committed one always has its row."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import json

from flask import g, has_request_context, request
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from app.core.audit import chain
from app.core.audit.models import AuditChainHead, AuditLog, AuditReview

# Tables whose rows are machinery, not records anybody acts on: FAB's permission catalogue is
# rewritten by `security sync`; the audit tables protect themselves; a background import's job
# row (the import itself is logged, with the file's SHA-256, when its rows are committed; an
# upload must not wait for the audit chain that a running import holds). A review mark is
# written by Core statements with its own `audit_review` event (app/core/audit/review.py).
SKIPPED_TABLES = frozenset(
    {
        "ab_permission",
        "ab_view_menu",
        "ab_permission_view",
        "audit_log",
        "audit_chain_head",
        "audit_review",
        "import_job",
        # A second factor's secret and recovery-code hashes: its explicit events say what
        # happened (app/security/two_factor.py).
        "user_two_factor",
        "user_recovery_code",
    }
)
# Columns never shown in the log; only the fact that they changed is.
REDACTED_COLUMNS = frozenset({"password", "secret", "server_secret", "token", "api_key"})
# Columns that change on every write (or on every login) and say nothing by themselves; the
# blind indexes of the encrypted personal data (app/core/personal_data.py) follow their column.
NOISE_COLUMNS = frozenset(
    {
        "changed_on",
        "changed_by_fk",
        "last_login",
        "login_count",
        "fail_login_count",
        "id_number_bidx",
        "phone_bidx",
        "contact_phone_bidx",
        # The browser session of the account and its sign-in (session_controls.py).
        "current_session",
        "signed_in_at",
        "signed_in_ip",
    }
)
REDACTED = "******"


class AuditLogIsAppendOnly(RuntimeError):
    pass


def _json_value(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return _json_value(value.value)
    if isinstance(value, (bytes, bytearray)):
        return f"<{len(value)} bytes>"
    return str(value)


def _dump(data) -> str | None:
    if not data:
        return None
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _actor():
    """(user, ip) for the row; works for web requests, the REST API and CLI (g.user)."""
    user, ip = None, None
    if has_request_context():
        from flask import current_app

        ip = request.remote_addr
        appbuilder = getattr(current_app, "appbuilder", None)
        try:
            user = appbuilder.sm.current_user if appbuilder else None
        except Exception:  # noqa: BLE001 - a JWT error must not stop the audit row
            user = None
    else:
        # Outside a request: the command line, or a background job that carries the address
        # of the request that queued it (an upload's import job).
        ip = (g.get("audit_ip") if _has_app_ctx() else None) or "cli"
    if user is None:
        user = getattr(g, "user", None) if _has_app_ctx() else None
    if user is not None and not getattr(user, "is_authenticated", False):
        user = None
    return user, ip


def _has_app_ctx():
    from flask import has_app_context

    return has_app_context()


def base_entry(action, object_type=None, object_id=None, department_id=None, user=None, ip=None):
    """The fields of one audit row for the acting user (everything but seq and the hashes)."""
    return _base_entry(action, object_type, object_id, department_id, user, ip)


def dump(data) -> str | None:
    """JSON as the log stores `changes` and `detail` (keys sorted, non-ASCII kept)."""
    return _dump(data)


def created_changes(model, values: dict) -> str | None:
    """`changes` of a "create" row, {"field": [null, value]} for the values that are not None,
    as the flush hook writes it for an ORM object (same text), from a plain dict: for the bulk
    writers. `values` holds the columns (NOISE_COLUMNS left out by the caller) and, for a
    many-to-many collection, the sorted labels of its members."""
    parts = [
        f"{chain.json_text(key)}:[null,{chain.json_text(_created_value(model, key, value))}]"
        for key, value in sorted(values.items())
        if value is not None
    ]
    return "{" + ",".join(parts) + "}" if parts else None


class CreatedChanges:
    """`created_changes(model, dict(zip(keys, values)))` for many rows with the same keys (a
    bulk import's records): the keys sorted and written once, text and whole numbers encoded
    without the general path. Same text (tested)."""

    def __init__(self, model, keys):
        self.model = model
        digest = (
            set(getattr(model, "__audit_digest_columns__", ()))
            | set(getattr(model, "__masked_columns__", {}))
            | REDACTED_COLUMNS
        )
        self.plan = [
            (keys.index(key), f"{chain.json_text(key)}:[null,", key, key not in digest)
            for key in sorted(keys)
        ]

    def __call__(self, values) -> str | None:
        parts = []
        for index, prefix, key, plain in self.plan:
            value = values[index]
            if value is None:
                continue
            kind = type(value)
            if plain and (kind is str or kind is int):
                parts.append(prefix + chain.json_text(value) + "]")
            else:
                parts.append(prefix + chain.json_text(_created_value(self.model, key, value)) + "]")
        return "{" + ",".join(parts) + "}" if parts else None


def _base_entry(action, object_type=None, object_id=None, department_id=None, user=None, ip=None):
    actor, actor_ip = _actor()
    user = user or actor
    roles = None
    username = None
    user_id = None
    if user is not None:
        user_id = user.id
        username = user.username
        roles = ",".join(sorted(r.name for r in user.roles)) or None
    return {
        "created_at": dt.datetime.now(),
        "user_id": user_id,
        "username": username,
        "roles": roles,
        "ip": (ip or actor_ip or "")[:64] or None,
        "action": action,
        "object_type": object_type,
        "object_id": None if object_id is None else str(object_id),
        "department_id": department_id,
        "changes": None,
        "detail": None,
    }


def _department_of(obj):
    if obj.__table__.name == "department":
        return obj.id
    value = getattr(obj, getattr(type(obj), "__scope_column__", "department_id"), None)
    return value if isinstance(value, int) else None


def _object_id(obj):
    # In after_flush new objects have their primary key but no identity key yet.
    values = inspect(obj).mapper.primary_key_from_instance(obj)
    if any(v is None for v in values):
        return None
    return values[0] if len(values) == 1 else "-".join(str(v) for v in values)


def _digest(value) -> str:
    import hashlib

    return "sha256:" + hashlib.sha256(str(value).encode("utf-8")).hexdigest()


def _logged_value(obj, key, value):
    if key in getattr(type(obj), "__audit_digest_columns__", ()):
        # A digest the object already knows (a pool written by the database itself, which
        # never came into Python: app/draws/pool.py) stands for its value.
        known = getattr(obj, "audit_digests", None) or {}
        if key in known:
            return "sha256:" + known[key]
    return logged_value(type(obj), key, value)


def logged_value(model, key, value):
    """The value as the log keeps it: secrets redacted, personal data a model lists in
    `__masked_columns__` masked (the log holds no full citizen ID or phone number: they are
    encrypted in their own table), bulky columns a model lists in `__audit_digest_columns__`
    (a draw's frozen pool) as their SHA-256. Public for the bulk writers
    (app/directory/imports/), which build a create/update row without an ORM object."""
    if key in REDACTED_COLUMNS and value:
        return REDACTED
    masks = getattr(model, "__masked_columns__", None)
    if masks and key in masks and isinstance(value, str):
        return masks[key](value)
    if value is not None and key in getattr(model, "__audit_digest_columns__", ()):
        return _digest(value)
    return _json_value(value)


def _created_value(model, key, value):
    return value if isinstance(value, list) else logged_value(model, key, value)


def _column_snapshot(obj):
    """Columns, plus many-to-many collections that are loaded (a target's applicable items,
    a user's roles and departments)."""
    state = inspect(obj)
    data = {}
    for attr in state.mapper.column_attrs:
        key = attr.key
        if key in NOISE_COLUMNS:
            continue
        data[key] = _logged_value(obj, key, state.dict.get(key))
    for rel in state.mapper.relationships:
        if rel.secondary is not None and rel.uselist and rel.key in state.dict:
            members = sorted(str(o) for o in state.dict[rel.key])
            if members:
                data[rel.key] = members
    return data


def _changes(obj):
    """{"field": [before, after]} for changed columns and many-to-many collections."""
    state = inspect(obj)
    changes = {}
    for attr in state.mapper.column_attrs:
        key = attr.key
        if key in NOISE_COLUMNS:
            continue
        hist = state.attrs[key].history
        if not hist.has_changes():
            continue
        before = hist.deleted[0] if hist.deleted else None
        after = hist.added[0] if hist.added else None
        if before == after:
            continue
        changes[key] = [_logged_value(obj, key, before), _logged_value(obj, key, after)]
    for rel in state.mapper.relationships:
        if rel.secondary is None or not rel.uselist:
            continue
        hist = state.attrs[rel.key].history
        if not (hist.added or hist.deleted):
            continue
        unchanged = [str(o) for o in hist.unchanged]
        changes[rel.key] = [
            sorted(unchanged + [str(o) for o in hist.deleted]),
            sorted(unchanged + [str(o) for o in hist.added]),
        ]
    return changes


def _audited(obj) -> bool:
    table = getattr(obj, "__table__", None)
    return table is not None and table.name not in SKIPPED_TABLES


@event.listens_for(Session, "before_flush")
def _refuse_audit_changes(session, flush_context, instances):
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if isinstance(obj, (AuditLog, AuditChainHead)):
            raise AuditLogIsAppendOnly("审计日志只能追加，不能通过程序新增、修改或删除记录")
        if isinstance(obj, AuditReview):
            raise AuditLogIsAppendOnly("审阅标记只能由审计管理员在审阅页面添加，不能修改或删除")


@event.listens_for(Session, "after_flush")
def _record_changes(session, flush_context):
    entries = []
    with session.no_autoflush:
        for obj in session.new:
            if _audited(obj):
                entry = _base_entry(
                    "create", obj.__table__.name, _object_id(obj), _department_of(obj)
                )
                entry["changes"] = _dump(
                    {k: [None, v] for k, v in _column_snapshot(obj).items() if v is not None}
                )
                entries.append(entry)
        for obj in session.dirty:
            if not _audited(obj) or not session.is_modified(obj):
                continue
            changes = _changes(obj)
            if not changes:
                continue
            entry = _base_entry("update", obj.__table__.name, _object_id(obj), _department_of(obj))
            entry["changes"] = _dump(changes)
            entries.append(entry)
        for obj in session.deleted:
            if _audited(obj):
                entry = _base_entry(
                    "delete", obj.__table__.name, _object_id(obj), _department_of(obj)
                )
                entry["changes"] = _dump(
                    {k: [v, None] for k, v in _column_snapshot(obj).items() if v is not None}
                )
                entries.append(entry)
    if entries:
        chain.append(session.connection(), entries)


def log_event(
    action: str,
    object_type: str | None = None,
    object_id=None,
    *,
    detail: str | dict | None = None,
    department_id: int | None = None,
    user=None,
    ip: str | None = None,
    session=None,
) -> None:
    """Record an explicit event (login, login_failed, export, view_confidential, draw ...) in
    the current transaction. The caller commits, together with whatever the event belongs to."""
    from app.extensions import db

    session = session or db.session
    entry = _base_entry(action, object_type, object_id, department_id, user=user, ip=ip)
    if isinstance(detail, dict):
        detail = _dump(detail)
    entry["detail"] = detail
    chain.append(session.connection(), [entry])
