"""Remembered header mappings (issue 19): what a department's users mapped by hand, kept per
department, kind and normalised source header (app.directory.models.ImportMapping), written in
the transaction of the import that used it, read to pre-fill the department's next preview.
The department is the acting user's own (their first department, as the import jobs take it):
a user never reads or writes another department's mappings."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from app.directory.imports.mapping import IGNORE, HeaderPlan, normalise_header, recognise
from app.directory.models import ImportMapping
from app.extensions import db
from app.security.models import user_department
from app.security.scope import current_actor


def own_department(user=None) -> int | None:
    user = user if user is not None else current_actor()
    if user is None or getattr(user, "id", None) is None:
        return None
    return db.session.scalar(
        select(user_department.c.department_id)
        .where(user_department.c.user_id == user.id)
        .order_by(user_department.c.department_id)
        .limit(1)
    )


def remembered_mapping(kind: str, user=None) -> dict[str, str]:
    """Normalised source header -> field, as the user's department last mapped it."""
    department_id = own_department(user)
    if department_id is None:
        return {}
    return dict(
        db.session.execute(
            select(ImportMapping.source_header, ImportMapping.field).where(
                ImportMapping.department_id == department_id, ImportMapping.kind == kind
            )
        ).all()
    )


def remember_mapping(kind: str, columns, mapping: dict[str, str], plan: HeaderPlan) -> None:
    """Keeps the user's choices that differ from what the header's names alone say (and
    forgets a remembered one the user set back to that)."""
    department_id = own_department()
    if department_id is None:
        return
    stored = {
        row.source_header: row
        for row in db.session.scalars(
            select(ImportMapping).where(
                ImportMapping.department_id == department_id, ImportMapping.kind == kind
            )
        )
    }
    now = dt.datetime.now().replace(microsecond=0)
    for name, attr in mapping.items():
        name = normalise_header(name)[:200]
        if not name:
            continue
        row = stored.get(name)
        if (recognise(columns, name) or IGNORE) == attr:
            if row is not None:
                db.session.delete(row)
            continue
        if row is None:
            db.session.add(
                ImportMapping(
                    department_id=department_id,
                    kind=kind,
                    source_header=name,
                    field=attr,
                    changed_on=now,
                )
            )
        elif row.field != attr:
            row.field = attr
            row.changed_on = now
    db.session.flush()
