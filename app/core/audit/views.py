from flask_babel import lazy_gettext as _l

from app.core.audit.models import AuditLog
from app.security.base_views import AppModelView
from app.security.scope import ScopedInterface


class AuditLogView(AppModelView):
    """Read-only: no add, edit, delete or action is exposed, for anybody."""

    route_base = "/audit"
    datamodel = ScopedInterface(AuditLog)
    class_permission_name = "AuditLog"
    base_permissions = ["can_read"]
    list_title = _l("Audit log")
    show_title = _l("Audit log entry")
    label_columns = {
        "seq": _l("No."),
        "created_at": _l("Time"),
        "username": _l("User"),
        "username_label": _l("User"),
        "ip_label": _l("IP address"),
        "roles": _l("Roles"),
        "roles_shown": _l("Roles"),
        "ip": _l("IP address"),
        "action": _l("Action"),
        "action_label": _l("Action"),
        "object_type": _l("Object type"),
        "object_type_label": _l("Object type"),
        "object_id": _l("Object id"),
        "department_id": _l("Department"),
        "changes_html": _l("Changes"),
        "detail": _l("Details"),
        "detail_shown": _l("Details"),
        "prev_hash": _l("Hash of the previous entry"),
        "row_hash": _l("Hash of this entry"),
    }
    list_columns = [
        "seq",
        "created_at",
        "username_label",
        "ip_label",
        "action_label",
        "object_type_label",
        "object_id",
    ]
    show_columns = [
        "seq",
        "created_at",
        "username_label",
        "roles_shown",
        "ip_label",
        "action_label",
        "object_type_label",
        "object_id",
        "changes_html",
        "detail_shown",
        "prev_hash",
        "row_hash",
    ]
    search_columns = ["created_at", "username", "ip", "action", "object_type", "object_id"]
    order_columns = ["seq", "created_at"]
    base_order = ("seq", "desc")
