"""Department scope on what will be written.

Reads are scoped by `ScopedInterface` (scope.py). Writes are checked here, once, on the state
SQLAlchemy is about to flush, whatever path made it (REST POST/PUT, page forms, actions, workflow
endpoints; the bulk import writes with Core statements and checks the same pointers itself,
app/directory/imports/): a `before_flush` hook that, when a signed-in actor's scope is not ALL,

1. resolves every relationship that changed on a new or changed row to the row it will point to
   (the related object's id when the relationship was assigned, the foreign-key column's value
   when the column was; FAB's REST API assigns the relationship and leaves the stale column), and
   refuses the flush if that row is a department, or a row of a scoped model, outside the
   actor's departments. A row added to a collection (`department.targets.append(t)`) points at
   the collection's owner, which is checked the same way;
2. refuses changes to rows of a scoped model that are, as stored, outside the actor's scope.

The answer is a DomainError that reads like "not found" (a row out of scope is one the actor
may not know of); nothing is written. Cost: one query per scoped model per flush (ids compared in
sets), none for departments, none at all for Leaders, Admin, JointOffice and the CLI's system
user, whose scope is ALL.

Pointers that legitimately cross departments are declared on the model, `__cross_department__ =
{"relationship": "new" | "any"}` ("new": only when the row is created, e.g. a rectification case
names the responsible department 谁管辖谁负责; "any": also on later changes, e.g. the
participating departments of a joint check). Columns that services keep up to date on rows of any
department are `__derived_columns__` (a target's last inspection and listing dates). A service
that moves a row to another department on purpose (the rectification handover) runs that flush
inside `crossing_departments()`.
"""

from __future__ import annotations

from contextlib import contextmanager
from functools import cache

from flask import has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.interfaces import MANYTOONE, ONETOMANY

from app.core.errors import DomainError
from app.security.scope import (
    ALL,
    current_actor,
    departments_in_scope,
    is_scoped_model,
    scope_clause,
)

NOT_FOUND = _l("A record you chose does not exist, or you may not see it.")
_CROSSING = "_crossing_departments"


class OutOfScopeWrite(DomainError):
    """A write that would point at (or change) a row outside the actor's departments."""


@contextmanager
def crossing_departments(session):
    """Flushes inside this block skip the check: for a service that hands a row over to
    another department on purpose, and records that it did."""
    session.info[_CROSSING] = session.info.get(_CROSSING, 0) + 1
    try:
        yield
    finally:
        session.info[_CROSSING] -= 1


def cross_department(cls) -> dict[str, str]:
    return getattr(cls, "__cross_department__", None) or {}


@cache
def scoped_relationships(cls) -> tuple:
    """(key, related class, direction, FK attribute key or None, reverse keys) for every
    relationship of `cls` to a scoped model (departments included)."""
    mapper = inspect(cls)
    found = []
    for rel in mapper.relationships:
        target = rel.mapper.class_
        if rel.viewonly or not is_scoped_model(target):
            continue
        fk_key = None
        if rel.direction is MANYTOONE and len(rel.local_remote_pairs) == 1:
            local = rel.local_remote_pairs[0][0]
            try:
                fk_key = mapper.get_property_by_column(local).key
            except Exception:  # noqa: BLE001 - a column not mapped as an attribute
                fk_key = None
        reverse = tuple((p.parent.class_, p.key) for p in rel._reverse_property)
        found.append((rel.key, target, rel.direction, fk_key, reverse))
    return tuple(found)


def _pointers(session, obj, new: bool):
    """(related class, id) of every scoped row `obj` is about to point at anew."""
    state = inspect(obj)
    crossing = cross_department(type(obj))
    for key, target, direction, fk_key, reverse in scoped_relationships(type(obj)):
        mode = crossing.get(key)
        if mode == "any" or (mode == "new" and new):
            continue
        history = state.attrs[key].history
        if direction is ONETOMANY:
            # Rows added to obj's collection will point at obj: obj must be in scope, unless
            # the pointer is one the other side may cross.
            for child in history.added or ():
                if child is None or _reverse_allowed(session, child, reverse):
                    continue
                yield from _identity(session, obj)
            continue
        if history.added:
            for other in history.added:
                if other is not None:
                    yield from _identity(session, other)
            continue
        if direction is MANYTOONE and fk_key is not None:
            column = state.attrs[fk_key].history
            values = column.added if not new else [getattr(obj, fk_key)]
            for value in values or ():
                if isinstance(value, str) and value.isdigit():
                    value = int(value)
                if value is not None:
                    yield target, value


def _reverse_allowed(session, child, reverse) -> bool:
    for cls, key in reverse:
        if isinstance(child, cls):
            mode = cross_department(cls).get(key)
            if mode == "any" or (mode == "new" and child in session.new):
                return True
    return False


def _identity(session, obj):
    """(class, id) of a row that exists; nothing for one being created (it is checked itself)."""
    state = inspect(obj)
    if state.key is None or obj in session.new:
        return
    yield type(obj), state.key[1][0] if len(state.key[1]) == 1 else state.key[1]


@event.listens_for(Session, "before_flush")
def refuse_out_of_scope_writes(session, flush_context, instances):
    if session.info.get(_CROSSING) or not has_app_context():
        return
    new, dirty = list(session.new), list(session.dirty)
    if not (new or dirty):
        return
    actor = current_actor()
    if actor is None:
        return  # system jobs without an actor, anonymous pages (they write no scoped rows)
    with session.no_autoflush:
        scope = departments_in_scope(actor)
        if scope is ALL:
            return
        wanted: dict[type, set] = {}
        for obj, is_new in [(o, True) for o in new] + [(o, False) for o in dirty]:
            if not is_new and not session.is_modified(obj):
                continue
            for cls, value in _pointers(session, obj, is_new):
                wanted.setdefault(_base(cls), set()).add(value)
            if not is_new and is_scoped_model(type(obj)) and not _only_derived(obj):
                # A stored row outside the scope is not changed either, whatever loaded it.
                for cls, value in _identity(session, obj):
                    wanted.setdefault(_base(cls), set()).add(value)
        for cls, ids in wanted.items():
            if not ids <= _in_scope(session, cls, ids, scope):
                raise OutOfScopeWrite(str(NOT_FOUND))


def _only_derived(obj) -> bool:
    """True when every changed attribute is one the services keep up to date for any
    department (`__derived_columns__`: a target's last inspection date, set by a joint check's
    record of another department; its listing date, set by the listing department)."""
    derived = getattr(type(obj), "__derived_columns__", None)
    if not derived:
        return False
    changed = {a.key for a in inspect(obj).attrs if a.history.has_changes()}
    return bool(changed) and changed <= set(derived) | {"changed_on", "changed_by_fk"}


def _base(cls):
    return inspect(cls).base_mapper.class_


def _in_scope(session, cls, ids: set, scope: set[int]) -> set:
    pk = inspect(cls).primary_key[0]
    if (
        getattr(cls, "__scope_column__", None) == pk.key
        and getattr(cls, "scope_clause", None) is None
    ):
        return {i for i in ids if i in scope}  # departments: compared, not queried
    if not scope:
        return set()
    found = set()
    ordered = sorted(ids)
    for start in range(0, len(ordered), 1000):
        chunk = ordered[start : start + 1000]
        found.update(session.scalars(select(pk).where(pk.in_(chunk), scope_clause(cls, scope))))
    return found
