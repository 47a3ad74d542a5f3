"""What the role editor, the group editor and the user admin may grant (issue 15, finding 6).

DESIGN.md: Admin keeps users, departments and the calendar, and cannot alter draws, results or
the audit log. FAB's role editor would let him put any permission into a role (`can draw on
SpotCheckTask`) and hold it himself. Two rules close it:

1. A role stored in the database carries only permissions that the built-in Admin role has
   (FAB_ROLES["Admin"]: the security views, Department, Holiday, CalendarYear, Area, reading the
   audit log, menus and self-service). Business and workflow rights exist only in the built-in
   roles, which no editor can change (FAB checks them by pattern at request time).
2. Nobody widens their own rights: a user cannot add roles or groups to their own account, join
   a group, or add roles to a group they belong to. Another administrator must do it, and the
   audit log records who did.

`check_*` run in the views' pre_add / pre_update (a flashed message) and again in a before_flush
listener on every session (any other path: actions, a future REST resource).
"""

from __future__ import annotations

import re

from flask import current_app, g, has_request_context
from flask_appbuilder.security.sqla.models import Group, Role, User
from flask_babel import gettext as _
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from app.core.errors import DomainError
from app.security import roles


def _patterns():
    return current_app.config.get("FAB_ROLES", roles.FAB_ROLES).get(roles.ADMIN, [])


def may_be_granted(permission_view) -> bool:
    """True for a permission the built-in Admin role has (rule 1)."""
    view = getattr(permission_view.view_menu, "name", "") or ""
    permission = getattr(permission_view.permission, "name", "") or ""
    return any(
        re.match(view_re, view) and re.match(permission_re, permission)
        for view_re, permission_re in _patterns()
    )


def _added(obj, attribute: str) -> list:
    return list(inspect(obj).attrs[attribute].history.added or ())


def _actor_id():
    if not has_request_context():
        return None  # the CLI and the seeds act as the system
    user = g.get("user")
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return getattr(user, "id", None)


def check_role(role) -> None:
    refused = [pv for pv in (role.permissions or ()) if not may_be_granted(pv)]
    if refused:
        names = "、".join(sorted({f"{pv.permission.name} {pv.view_menu.name}" for pv in refused}))
        raise DomainError(
            _(
                "A role may only hold permissions of system administration (users and roles, "
                "departments, calendar, areas, reading the audit log, one's own profile); "
                "business and workflow rights belong to the built-in roles. Not allowed: "
                "%(names)s",
                names=names,
            )
        )


def _no_self_service_widening() -> DomainError:
    return DomainError(
        _(
            "You cannot give your own account roles or groups: another administrator must do "
            "it (it is recorded in the audit log)."
        )
    )


def check_user(user) -> None:
    actor = _actor_id()
    if actor is not None and user.id == actor and (_added(user, "roles") or _added(user, "groups")):
        raise _no_self_service_widening()


def check_group(group) -> None:
    actor = _actor_id()
    if actor is None:
        return
    joins = any(u.id == actor for u in _added(group, "users"))
    widens = _added(group, "roles") and any(u.id == actor for u in group.users or ())
    if joins or widens:
        raise _no_self_service_widening()
    for role in group.roles or ():
        check_role(role)


def refusing(check):
    """For a view's pre_add / pre_update: the form has already written into the row, so a
    refusal also rolls the session back (the form page then loads nothing half-changed)."""

    def run(item):
        try:
            check(item)
        except DomainError:
            from app.extensions import db

            db.session.rollback()
            raise

    return run


def _check_flush(session, _context, _instances):
    for obj in list(session.new) + list(session.dirty):
        if isinstance(obj, Role):
            if obj in session.new or _added(obj, "permissions"):
                check_role(obj)
        elif isinstance(obj, User) and obj not in session.new:
            check_user(obj)
        elif isinstance(obj, Group):
            check_group(obj)


def init_role_rules() -> None:
    if not event.contains(Session, "before_flush", _check_flush):
        event.listen(Session, "before_flush", _check_flush)
