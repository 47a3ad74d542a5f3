"""Permissions as an administrator reads them: 查看年度抽查计划, not `can_read on AnnualPlan`.
The stored names stay ASCII (DESIGN.md: permission names ASCII, labels Chinese); only what the
role, permission and view-menu pages show is worded here."""

from __future__ import annotations

import re

from flask import current_app
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

PERMISSION_LABELS = {
    "can_read": _l("View"),
    "can_write": _l("Edit"),
    "can_approve": _l("Approve"),
    "can_publish": _l("Publish"),
    "can_file": _l("File for the record"),
    "can_draw": _l("Draw"),
    "can_material": _l("Training material of"),
    "can_archive": _l("Archive"),
    "can_propose": _l("Propose"),
    "can_review": _l("Review"),
    "can_remove": _l("Remove"),
    "can_follow_up": _l("Follow up"),
    "can_export": _l("Export"),
    "can_cancel": _l("Cancel"),
    "can_add": _l("Add"),
    "can_edit": _l("Edit"),
    "can_delete": _l("Delete"),
    "can_list": _l("List"),
    "can_show": _l("Show"),
    "can_download": _l("Download"),
    "can_get": _l("Read"),
    "can_put": _l("Edit"),
    "can_post": _l("Add"),
    "can_info": _l("Information of"),
    "can_userinfo": _l("Own account information of"),
    "can_this_form_get": _l("Open the form of"),
    "can_this_form_post": _l("Submit the form of"),
    "menu_access": _l("Menu entry"),
}
# FAB's own views, and permission view names that are neither a view of ours nor a menu entry.
VIEW_LABELS = {
    "UserDBModelView": _l("Users"),
    "RoleModelView": _l("Roles"),
    "GroupModelView": _l("Groups"),
    "PermissionModelView": _l("Base permissions"),
    "ViewMenuModelView": _l("Views and menus"),
    "PermissionViewModelView": _l("Permissions on views and menus"),
    "ResetPasswordView": _l("Reset password"),
    "ResetMyPasswordView": _l("Reset my password"),
    "UserInfoEditView": _l("Edit user information"),
    "RegisterUserModelView": _l("Registrations"),
    "MenuApi": _l("Menu data"),
    "SecurityApi": _l("Sign-in API"),
    "OpenApi": _l("API description"),
    "SwaggerView": _l("API description"),
}
OTHER = _l("Other")


def _translated(value) -> bool:
    return not (isinstance(value, str) and value.isascii())


def permission_label(name: str) -> str:
    return str(PERMISSION_LABELS.get(name, OTHER))


def view_label(name: str) -> str:
    """A permission's object: a view by its title, a menu entry by its label."""
    if name in VIEW_LABELS:
        return str(VIEW_LABELS[name])
    appbuilder = current_app.appbuilder
    for view in appbuilder.baseviews:
        if view.class_permission_name == name or type(view).__name__ == name:
            for attr in ("list_title", "show_title"):
                title = getattr(view, attr, None)
                if title and _translated(title):
                    return str(title)
    item = appbuilder.menu.find(name)
    if item is not None and item.label and _translated(item.label):
        return str(item.label)
    translated = gettext(name)
    return translated if translated != name else str(OTHER)


def permission_view_label(pv) -> str:
    return f"{permission_label(pv.permission.name)}{view_label(pv.view_menu.name)}"


def role_permissions_text(value) -> str:
    """A role's permissions in words: stored permission views, or a built-in role's rules
    (FAB_ROLES: [(view regex, permission regex)]) matched against the catalogue."""
    if isinstance(value, str):
        return value
    if value and all(isinstance(v, (list, tuple)) and len(v) == 2 for v in value):
        sm = current_app.appbuilder.sm
        rules = [(re.compile(v), re.compile(p)) for v, p in value]
        from app.security.scope import AppInterface

        catalogue = AppInterface(sm.permissionview_model).every_row()
        found = [
            pv
            for pv in catalogue
            if any(v.match(pv.view_menu.name) and p.match(pv.permission.name) for v, p in rules)
        ]
    else:
        found = list(value or ())
    labels = sorted({permission_view_label(pv) for pv in found})
    return "、".join(labels) or "—"


def install() -> None:
    """Every permission view reads as 查看年度抽查计划 wherever FAB prints one (the role form's
    options, the permission-view list)."""
    from flask_appbuilder.security.sqla.models import PermissionView

    PermissionView.__str__ = permission_view_label
    current_app.jinja_env.globals.update(
        role_permissions_text=role_permissions_text, role_name_text=role_name_text
    )


def role_name_text(name) -> str:
    """A role by its Chinese label, with its stored (ASCII) name kept in brackets."""
    from app.security.roles import ROLE_LABELS

    label = ROLE_LABELS.get(str(name))
    return f"{label}（{name}）" if label else str(name)
