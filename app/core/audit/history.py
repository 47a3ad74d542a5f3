"""A row's change history, read from the audit log: the history of inspectors and targets
(R6.2, R8.1) needs no table of its own, since every change already has its before/after row."""

import json

from markupsafe import Markup
from sqlalchemy import select

from app.core.audit.models import AuditLog, changes_table
from app.extensions import db


def history_html(object_type: str, object_id, labels: dict, fields=None, limit: int = 50) -> Markup:
    """Newest first; `fields` limits the history to those columns (None: all)."""
    rows = db.session.scalars(
        select(AuditLog)
        .where(AuditLog.object_type == object_type, AuditLog.object_id == str(object_id))
        .order_by(AuditLog.seq.desc())
        .limit(limit)
    ).all()
    from app.core.audit.shown import Disclosure
    from app.core.audit.wording import Wording, actor_name

    parts, disclosure = [], None
    for row in rows:
        if disclosure is None:  # the same row each time: its rule once
            disclosure = Disclosure(object_type, object_id, row.department_id)
            wording = Wording(disclosure.model, labels)
        changes = disclosure.changes(json.loads(row.changes)) if row.changes else {}
        if fields is not None:
            changes = {k: v for k, v in changes.items() if k in fields}
            if not changes and row.action == "update":
                continue
        shown = wording.changes(changes)
        parts.append(
            Markup("<p><strong>{}</strong> {} {}</p>{}").format(
                row.created_at.strftime("%Y-%m-%d %H:%M"),
                actor_name(row.user_id, row.username),
                row.action_label,
                changes_table(json.dumps(shown, ensure_ascii=False)) if shown else "",
            )
        )
    return Markup("").join(parts) if parts else Markup("—")
