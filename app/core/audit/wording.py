"""How the audit log and every change history read to a person: Chinese names of actions, of
the kinds of rows and of their fields, related rows by their names and people by their full
names. Stored codes (action codes, table and column names, logins) stay as they are in the log
(the hash chain covers them); only what is shown is worded here."""

from __future__ import annotations

import re

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import inspect as sa_inspect

from app.extensions import db

SYSTEM_NAME = _l("System")

ACTION_LABELS = {
    "create": _l("Created"),
    "update": _l("Changed"),
    "delete": _l("Deleted"),
    "login": _l("Signed in"),
    "login_failed": _l("Failed sign-in"),
    "login_locked": _l("Account locked after failed sign-ins"),
    "login_unlocked": _l("Account unlocked"),
    "create_admin": _l("Administrator account created"),
    "set_admin_role": _l("Administrator role set"),
    "logout": _l("Signed out"),
    "session_idle": _l("Signed out after inactivity"),
    "session_replaced": _l("Signed in, ending the session elsewhere"),
    "two_factor_enrol": _l("Two-factor sign-in set up"),
    "two_factor_recovery_codes": _l("New recovery codes made"),
    "two_factor_disable": _l("Two-factor sign-in switched off"),
    "two_factor_reset": _l("Two-factor sign-in reset by an administrator"),
    "two_factor_recovery_used": _l("Signed in with a recovery code"),
    "two_factor_failed": _l("Wrong two-factor code"),
    "export": _l("Export"),
    "import": _l("Import"),
    "import_refused": _l("Import refused"),
    "view_confidential": _l("Viewed confidential data"),
    "draw": _l("Draw"),
    "archive": _l("Archived"),
    "audit_archive": _l("Audit rows archived"),
    "audit_review": _l("Audit entries marked as reviewed"),
    "rotate_data_key": _l("Personal data re-encrypted under the current key"),
    "publish_results": _l("Results published"),
    "case_close": _l("Rectification case closed"),
    "case_transfer": _l("Rectification case transferred"),
    "record_open": _l("Inspection record opened"),
    "record_submit": _l("Inspection record submitted"),
    "record_return": _l("Inspection record returned"),
    "record_review": _l("Inspection record reviewed"),
    "summary_submit": _l("Summary submitted"),
    "summary_approve": _l("Summary approved"),
    "summary_approved": _l("Summary approved"),
    "summary_return": _l("Summary returned"),
    "summary_returned": _l("Summary returned"),
    "blacklist_create": _l("Blacklist entry started"),
    "blacklist_suggest": _l("Blacklist listing suggested"),
    "blacklist_propose": _l("Blacklist listing proposed"),
    "blacklist_dismiss": _l("Blacklist suggestion set aside"),
    "blacklist_review": _l("Blacklist proposal reviewed"),
    "blacklist_return": _l("Blacklist proposal returned"),
    "blacklist_approve": _l("Blacklist listing approved"),
    "blacklist_reject": _l("Blacklist listing rejected"),
    "blacklist_publish": _l("Blacklist listing published"),
    "blacklist_propose_removal": _l("Blacklist removal proposed"),
    "blacklist_approve_removal": _l("Blacklist removal approved"),
    "blacklist_reject_removal": _l("Blacklist removal rejected"),
}
OTHER_ACTION = _l("Other action")

# Table names as people call the rows; explicit events' own object kinds too.
OBJECT_TYPE_LABELS = {
    # An import's rows name the list it wrote to (app/directory/imports: KIND_LABELS).
    "targets": _l("Target directory"),
    "inspectors": _l("Inspector roster"),
    "items": _l("Inspection item list"),
    "ab_user": _l("User"),
    "ab_role": _l("Role"),
    "audit_archive": _l("Audit archive"),
    "audit_log": _l("Audit log"),
    "audit_review": _l("Audit review mark"),
    "department": _l("Department"),
    "holiday": _l("Holiday"),
    "calendar_year": _l("Calendar year"),
    "area": _l("Area"),
    "inspection_item": _l("Inspection item"),
    "item_revision": _l("Item revision"),
    "inspector": _l("Inspector"),
    "target": _l("Target"),
    "conflict": _l("Conflict of interest"),
    "draw": _l("Draw"),
    "drawn_target": _l("Drawn target"),
    "assignment": _l("Inspector assignment"),
    "inspection_record": _l("Inspection record"),
    "evidence": _l("Evidence"),
    "inspection_summary": _l("Inspection summary"),
    "summary_version": _l("Summary version"),
    "rectification_case": _l("Rectification case"),
    "case_transfer": _l("Case transfer"),
    "reinspection": _l("Re-inspection"),
    "penalty": _l("Administrative penalty"),
    "judicial_transfer": _l("Transfer to judicial authorities"),
    "annual_plan": _l("Annual plan"),
    "plan_line": _l("Plan line"),
    "plan_revision": _l("Plan adjustment"),
    "coverage_exemption": _l("Coverage exemption"),
    "spot_check_task": _l("Spot-check task"),
    "task_attachment": _l("Training material"),
    "blacklist_entry": _l("Blacklist entry"),
    "blacklist_event": _l("Blacklist workflow step"),
    "progress_report": _l("Progress report"),
}
OTHER_OBJECT = _l("Other record")

# Columns every audited table has (AuditMixin) and a few common ones.
COMMON_FIELD_LABELS = {
    "id": _l("Number"),
    "created_on": _l("Created on"),
    "changed_on": _l("Changed on"),
    "created_by_fk": _l("Created by"),
    "changed_by_fk": _l("Changed by"),
    "created_by": _l("Created by"),
    "changed_by": _l("Changed by"),
    "department_id": _l("Department"),
    "parent_id": _l("Parent department"),
    "sort_order": _l("Sort order"),
    "user_id": _l("Login account"),
    "task_id": _l("Task"),
    "target_id": _l("Target"),
    "record_id": _l("Inspection record"),
    "inspector_id": _l("Inspector"),
    "area_id": _l("Area"),
    "plan_id": _l("Annual plan"),
    "item_id": _l("Inspection item"),
    "draw_id": _l("Draw"),
    "case_id": _l("Rectification case"),
    "penalty_id": _l("Administrative penalty"),
    "line_id": _l("Plan line"),
    "summary_id": _l("Inspection summary"),
    "entry_id": _l("Blacklist entry"),
    "active": _l("Active"),
    "status": _l("Status"),
    "name": _l("Name"),
    "code": _l("Code"),
    "kind": _l("Kind"),
    "note": _l("Note"),
    "version": _l("Version"),
    "username": _l("Login account"),
    "first_name": _l("Given name"),
    "last_name": _l("Family name"),
    "email": _l("E-mail"),
    "password": _l("Password"),
    "last_login": _l("Last sign-in"),
    "login_count": _l("Sign-in count"),
    "fail_login_count": _l("Failed sign-ins"),
    "source": _l("Source"),
    "day": _l("Date"),
    "is_workday": _l("Working day"),
    "year": _l("Year"),
    "confirmed": _l("Confirmed"),
}
OTHER_FIELD = _l("Other field")


def action_label(code: str | None):
    return ACTION_LABELS.get(code or "", OTHER_ACTION)


def object_type_label(table: str | None):
    if not table:
        return ""
    return OBJECT_TYPE_LABELS.get(table, OTHER_OBJECT)


def person_name(user) -> str:
    """A person as colleagues call them: family name then given name; the system user as 系统."""
    from app.security.system_user import SYSTEM_USERNAME

    if user is None:
        return ""
    if getattr(user, "username", None) == SYSTEM_USERNAME:
        return str(SYSTEM_NAME)
    name = f"{user.last_name or ''}{user.first_name or ''}".strip()
    return name or str(SYSTEM_NAME)


def actor_name(user_id, username) -> str:
    """The person of an audit row, by full name (the row keeps the login it was written with)."""
    from app.security.system_user import SYSTEM_USERNAME

    if username == SYSTEM_USERNAME:
        return str(SYSTEM_NAME)
    if user_id is None or not has_app_context():
        return str(SYSTEM_NAME) if not username else "—"
    from app.core.request_cache import per_request

    def lookup() -> str:
        user = db.session.get(current_app.appbuilder.sm.user_model, int(user_id))
        return person_name(user) if user is not None else "—"

    # A list of audit rows names the same few people on every row.
    return per_request("actor_name", int(user_id), lookup)


def row_name(row) -> str:
    """A row by its name; a kind of row without one by its kind and number (never a repr)."""
    if type(row).__str__ is not object.__str__:
        return str(row)
    return f"{object_type_label(getattr(row, '__tablename__', None))} {row.id}"


def _view_labels(model) -> dict:
    labels = {}
    if model is None or not has_app_context():
        return labels
    for view in current_app.appbuilder.baseviews:
        if getattr(getattr(view, "datamodel", None), "obj", None) is model:
            for key, value in _given(getattr(view, "label_columns", None)).items():
                labels.setdefault(key, value)
    return labels


def _given(labels: dict | None) -> dict:
    """The labels a view was given: FAB adds one for every other column, in place, made from
    the column's name ("Created By Fk"), which is no label for a person."""
    return {
        key: value
        for key, value in (labels or {}).items()
        if str(value) != re.sub("[._]", " ", key).title()
    }


def _relations(model) -> dict:
    """{"department_id": Department, "created_by_fk": User, …}: columns naming another row."""
    found = {}
    if model is None:
        return found
    for rel in sa_inspect(model).relationships:
        if rel.uselist or rel.secondary is not None:
            continue
        columns = list(rel.local_columns)
        if len(columns) == 1:
            found.setdefault(columns[0].key, rel.mapper.class_)
    return found


class Wording:
    """Field labels and values of one model's stored changes, as a person reads them."""

    def __init__(self, model, labels: dict | None = None):
        self.model = model
        self.labels = {**_view_labels(model), **_given(labels)}
        self.relations = _relations(model)

    def field(self, key: str):
        if key in self.labels:
            return self.labels[key]
        if key in COMMON_FIELD_LABELS:
            return COMMON_FIELD_LABELS[key]
        for suffix in ("_id", "_fk"):
            if key.endswith(suffix) and key[: -len(suffix)] in self.labels:
                return self.labels[key[: -len(suffix)]]
        return OTHER_FIELD

    def value(self, key: str, value):
        """A related row's id as that row's name; everything else unchanged."""
        related = self.relations.get(key)
        if related is None or isinstance(value, bool) or not isinstance(value, int):
            return value
        row = db.session.get(related, value)
        if row is None:
            return value
        if related is current_app.appbuilder.sm.user_model:
            return person_name(row)
        return row_name(row)

    def changes(self, changes: dict) -> dict:
        """{"label": [before, after]} for {"column": [before, after]} (already disclosed)."""
        shown = {}
        for key, (before, after) in changes.items():
            label = str(self.field(key))
            if label == str(OTHER_FIELD):
                label = f"{label}（{len(shown) + 1}）"
            shown[label] = [self.value(key, before), self.value(key, after)]
        return shown

    def detail(self, data: dict) -> str:
        """An explicit event's detail ({"task": …, "via": "web"}) as "标签：值；…"."""
        parts = []
        for key, value in sorted(data.items()):
            label = DETAIL_LABELS.get(key) or self.field(key)
            parts.append(f"{label}：{_detail_value(value)}")
        return "；".join(parts)


DETAIL_LABELS = {
    "task": _l("Task number"),
    "via": _l("Channel"),
    "path": _l("Page"),
    "what": _l("Content"),
    "step": _l("Step"),
    "from": _l("From department"),
    "to": _l("To department"),
    "year": _l("Year"),
    "was_locked": _l("Was locked"),
    "minutes": _l("Minutes"),
    "signed_in_at": _l("Earlier sign-in"),
    "address": _l("Address"),
    "refused": _l("Refused"),
    "count": _l("Count"),
    "rows": _l("Rows"),
    "kind": _l("Kind"),
    "format": _l("Format"),
    "file": _l("File"),
    "role": _l("Role"),
    "before": _l("Before"),
    "first_seq": _l("First entry"),
    "last_seq": _l("Last entry"),
    "sha256": _l("SHA-256"),
    "errors": _l("Errors"),
    "created": _l("Records created"),
    "updated": _l("Records updated"),
    "outside_scope": _l("Keys held outside the scope"),
    "reviews": _l("Review marks"),
    # The audit review page's marks and exports (app/core/audit/review.py).
    "seq": _l("Audit entry No."),
    "seqs": _l("Audit entries No."),
    "filter": _l("Filter"),
    "encoding": _l("Encoding"),
    "action": _l("Action"),
    "object_type": _l("Object type"),
    "object_id": _l("Object id"),
    "date_from": _l("Time from"),
    "date_to": _l("Time until"),
    "reviewed": _l("Review state"),
    "security": _l("Security events only"),
}
CHANNELS = {"web": _l("Web page"), "api": _l("REST API"), "cli": _l("Command line")}


def ip_label(ip: str | None) -> str:
    """The address of an audit row; the command line's marker in words."""
    return str(CHANNELS["cli"]) if ip == "cli" else (ip or "")


def _key_label(key) -> str:
    return str(DETAIL_LABELS.get(key) or COMMON_FIELD_LABELS.get(key) or key)


def _detail_value(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(_l("Yes") if value else _l("No"))
    if isinstance(value, str) and value in CHANNELS:
        return str(CHANNELS[value])
    if isinstance(value, (list, tuple)):
        return "、".join(_detail_value(v) for v in value) or "—"
    if isinstance(value, dict):
        return "；".join(f"{_key_label(k)}：{_detail_value(v)}" for k, v in value.items()) or "—"
    return str(value)
