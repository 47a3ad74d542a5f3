"""What a stored copy of a row's values shows to the user reading it: one rule for the audit
log (its changes and details) and every change history read from it (app/core/audit/history.py).

A value is shown with the masking and confidentiality the row's own page has for that user:
- a user who may not open the row at all (no read permission on the row's views, or the row
  outside their scope) sees which fields changed, never a value;
- a model declares, in one place, what its pages never print in full:
  `__masked_columns__ = {"id_number": mask_id_number, "phone": mask_phone}` (masked for
  everybody, as the pages mask them), `__secret_columns__` (never shown), and an instance method
  `audit_hidden_columns()` for columns hidden while the row is in some state (a draw's pool and
  result until its task is published, the witnesses' entropy until the draw is done); a row
  that no longer exists hides its `__confidential_columns__`;
- passwords, tokens and secrets (recorder.REDACTED_COLUMNS) are never shown, whatever the model.
A row the user may read that has no view of its own (a drawn target, a summary version) names
the permission of the page that shows it: `__read_permission__ = "Draw"`.
"""

from __future__ import annotations

import json

from flask import current_app, has_request_context
from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l

from app.core.audit.recorder import REDACTED_COLUMNS
from app.extensions import db

HIDDEN = _l("(not shown)")


def model_of_table(name):
    """The mapped class of a table name (None for explicit events' own object types)."""
    for mapper in Model.registry.mappers:
        table = getattr(mapper.class_, "__table__", None)
        if table is not None and table.name == name:
            return mapper.class_
    return None


def _read_permissions(model):
    """[(permission, view name)] any of which opens a row of `model` on a page."""
    declared = getattr(model, "__read_permission__", None)
    if declared:
        return [("can_read", declared)]
    found = []
    for view in current_app.appbuilder.baseviews:
        datamodel = getattr(view, "datamodel", None)
        if getattr(datamodel, "obj", None) is not model:
            continue
        mapping = getattr(view, "method_permission_name", None) or {}
        method = "show" if hasattr(view, "show") else "get"
        found.append(("can_" + mapping.get(method, method), view.class_permission_name))
    return found


def _load(model, object_id):
    if object_id is None:
        return None
    text = str(object_id)
    key = getattr(model, "__audit_key__", None)
    if text.isdigit() and len(text) <= 10:
        row = db.session.get(model, int(text))
        if row is not None:
            return row
    if key is not None:
        return db.session.query(model).filter(getattr(model, key) == text).one_or_none()
    return None


# The administration's own tables: the audit administrator reviews what the other two
# administrators did to them (三员分立), so their rows' values read in full there. Business rows
# keep their rules (personal data masked, confidential draws hidden): the audit administrator
# holds no business right.
ADMINISTRATION_TABLES = frozenset(
    {"ab_user", "ab_role", "ab_group", "department", "area", "holiday", "calendar_year"}
)


class Disclosure:
    """What one audited object (table name and id) shows to the current user."""

    def __init__(self, object_type, object_id, department_id=None, user=None):
        from app.security.scope import (
            ALL,
            current_actor,
            departments_in_scope,
            in_scope,
            is_scoped_model,
        )

        self.user = user if user is not None else current_actor()
        self.model = model_of_table(object_type) if object_type else None
        self.row = None
        self.may_open = True
        self.hidden = set(REDACTED_COLUMNS)
        self.masks = {}
        if self.model is None:
            return  # an explicit event about no table row (an export, a report): its detail
        model = self.model
        self.hidden |= set(getattr(model, "__secret_columns__", ()))
        self.masks = dict(getattr(model, "__masked_columns__", {}))
        sm = current_app.appbuilder.sm if has_request_context() else None
        permitted = sm is not None and any(
            sm.has_access(permission, name) for permission, name in _read_permissions(model)
        )
        if not permitted and sm is not None and object_type in ADMINISTRATION_TABLES:
            from app.security.roles import AUDIT_ADMIN
            from app.security.scope import role_names

            permitted = AUDIT_ADMIN in role_names(self.user)
        self.row = _load(model, object_id)
        if not permitted or self.user is None:
            self.may_open = False
        elif self.row is not None:
            scoped = (
                is_scoped_model(model)
                or hasattr(model, "role_clause")
                or hasattr(self.row, "department_ids_for_scope")
            )
            # Shared reference data (areas, the calendar) is read by everybody who may open it.
            self.may_open = in_scope(self.row, self.user) if scoped else True
        else:
            scope = departments_in_scope(self.user)
            self.may_open = scope is ALL or department_id in scope
        if self.row is not None and hasattr(self.row, "audit_hidden_columns"):
            self.hidden |= set(self.row.audit_hidden_columns())
        elif self.row is None:
            self.hidden |= set(getattr(model, "__confidential_columns__", ()))

    def value(self, field, value):
        if value is None:
            return None
        if not self.may_open or field in self.hidden:
            return str(HIDDEN)
        mask = self.masks.get(field)
        if mask is not None:
            if isinstance(value, list):
                return [mask(v) for v in value]
            return mask(value)
        return value

    def changes(self, changes: dict) -> dict:
        """{"field": [before, after]} as this user may read it."""
        return {k: [self.value(k, b), self.value(k, a)] for k, (b, a) in changes.items()}

    def detail(self, detail):
        """An explicit event's detail (JSON text or plain text) as this user may read it."""
        if not detail:
            return detail
        if not self.may_open:
            return str(HIDDEN)
        try:
            data = json.loads(detail)
        except ValueError:
            return detail
        if not isinstance(data, dict):
            return detail
        shown = {k: self.value(k, v) for k, v in data.items()}
        return json.dumps(shown, ensure_ascii=False, sort_keys=True)
