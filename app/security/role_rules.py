"""What the role editor, the group editor and the user admin may grant (issue 15, finding 6), and
三员分立 (issue 20, part 1).

DESIGN.md: the administrators keep users, departments and the calendar, and cannot alter draws,
results or the audit log. FAB's role editor would let one put any permission into a role
(`can draw on SpotCheckTask`) and hold it. The rules:

1. A role stored in the database carries only permissions of ONE of the three built-in
   administrator roles (FAB_ROLES: Admin 系统管理员, SecurityAdmin 安全管理员, AuditAdmin 审计管理员),
   besides the self-service every role has. Business and workflow rights exist only in the
   built-in roles, which no editor can change (FAB checks them by pattern at request time); a
   role mixing two administrators' shares would undo their separation.
2. Nobody widens their own rights: a user cannot add roles or groups to their own account, join
   a group, or add roles to a group they belong to. Another administrator must do it, and the
   audit log records who did.
3. 三员分立: an account holds at most one administrator role (a stored role counts as the one
   whose share it carries), and an administrator holds no business role.
4. The administrator accounts are managed on the server only (`flask security create-admin`,
   `set-admin-role`, FAB's `flask fab reset-password`): through the pages nobody gives or takes
   an administrator role, or changes another administrator account's sign-in name, e-mail,
   password or active flag, or deletes one. Otherwise the security administrator could make or
   take over an account of the other two and hold their rights.

`check_*` run in the views' pre_add / pre_update (a flashed message) and again in a before_flush
listener on every session (any other path: actions, a future REST resource).
"""

from __future__ import annotations

import re

from flask import current_app, g, has_request_context
from flask_appbuilder.security.sqla.models import Group, Role, User, assoc_user_role
from flask_babel import gettext as _
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from app.core.errors import DomainError
from app.extensions import db
from app.security import roles
from app.security.scope import role_names

# Attributes of an administrator account that only the server's command line changes (rule 4).
_SIGN_IN_ATTRIBUTES = ("username", "email", "password", "active")


def _patterns(role_name: str) -> list:
    return current_app.config.get("FAB_ROLES", roles.FAB_ROLES).get(role_name, [])


def _matches(permission_view, patterns) -> bool:
    view = getattr(permission_view.view_menu, "name", "") or ""
    permission = getattr(permission_view.permission, "name", "") or ""
    return any(
        re.match(view_re, view) and re.match(permission_re, permission)
        for view_re, permission_re in patterns
    )


def _self_service(permission_view) -> bool:
    return _matches(permission_view, roles.SELF_SERVICE)


def may_be_granted(permission_view) -> bool:
    """True for a permission one of the built-in administrator roles has."""
    return any(_matches(permission_view, _patterns(name)) for name in roles.ADMIN_ROLES)


def admin_share(role) -> str | None:
    """The administrator role whose share a role carries: its own name for a built-in one, the
    one covering every permission of a stored role (None for self-service only, or a business
    role). A stored role that mixes two shares is refused by check_role before it is saved."""
    name = getattr(role, "name", None)
    if name in roles.ADMIN_ROLES:
        return name
    if name in roles.BUSINESS_ROLES:
        return None
    granted = [pv for pv in (role.permissions or ()) if not _self_service(pv)]
    if not granted:
        return None
    for admin in roles.ADMIN_ROLES:
        patterns = _patterns(admin)
        if all(_matches(pv, patterns) for pv in granted):
            return admin
    return "mixed"


def admin_shares(role_list) -> set[str]:
    return {share for share in map(admin_share, role_list or ()) if share}


def _roles_and_shares() -> list[tuple]:
    """Every stored role with the administrator's share it carries (None for none). Roles are
    few, so their shares are worked out here rather than in SQL."""
    return [(role, admin_share(role)) for role in db.session.scalars(select(Role))]


def assignable_role_ids() -> list[int]:
    """The roles the user form offers: no administrator's share (those are given on the
    server), not the public role (nobody signs in as it)."""
    public = current_app.config.get("AUTH_ROLE_PUBLIC", "Public")
    return [role.id for role, share in _roles_and_shares() if not share and role.name != public]


def administrator_ids() -> set[int]:
    """Ids of the accounts that hold an administrator's share (a built-in administrator role
    or a stored role carrying one): the user list shows them read-only."""
    role_ids = [role.id for role, share in _roles_and_shares() if share]
    if not role_ids:
        return set()
    return set(
        db.session.scalars(
            select(assoc_user_role.c.user_id).where(assoc_user_role.c.role_id.in_(role_ids))
        )
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


def _built_in_names() -> set[str]:
    return {*roles.ALL_ROLES, current_app.config.get("AUTH_ROLE_PUBLIC", "Public")}


def _permissions_changed(role) -> bool:
    state = inspect(role)
    if state.transient or state.pending:
        return bool(role.permissions)
    history = state.attrs["permissions"].history
    return bool(history.added or history.deleted)


def check_built_in_role(role) -> None:
    """The built-in roles' rights are fixed in code (roles.py, FAB_ROLES) and written by
    `flask security sync`: no page or API may change them. Before, the role editor saved
    another administrator's share into SecurityAdmin, or the audit log's into Leader; the
    pages refused the use of it, but the stored role said otherwise."""
    if _actor_id() is None:
        return  # the command line (security sync) writes them
    names = _built_in_names()
    renamed_from = inspect(role).attrs["name"].history.deleted or ()
    if (role.name in names and _permissions_changed(role)) or any(
        name in names for name in renamed_from
    ):
        raise built_in_fixed()


def built_in_fixed() -> DomainError:
    return DomainError(
        _(
            "The rights of the built-in roles are fixed by the system and cannot be changed "
            "here. Make a new role for other rights (an administrator's share only)."
        )
    )


def check_role(role) -> None:
    check_built_in_role(role)
    refused = [pv for pv in (role.permissions or ()) if not may_be_granted(pv)]
    if not refused and admin_share(role) == "mixed":
        raise DomainError(
            _(
                "A role may carry the rights of one administrator only (系统管理员, 安全管理员 or "
                "审计管理员): their separation (三员分立) is the point of having three."
            )
        )
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


def check_separation(user) -> None:
    """Rule 3, on every path (the command line too)."""
    shares = admin_shares(user.roles)
    if len(shares) > 1:
        raise DomainError(
            _(
                "One account holds one administrator role at most: 系统管理员, 安全管理员 and "
                "审计管理员 are separate people (三员分立)."
            )
        )
    if shares and role_names(user) & set(roles.BUSINESS_ROLES):
        raise DomainError(
            _(
                "An administrator account holds no business role (Leader, Operator, Inspector, "
                "joint-meeting office): 三员分立."
            )
        )


def on_server_only() -> DomainError:
    return DomainError(
        _(
            "Administrator accounts (系统管理员, 安全管理员, 审计管理员) are set up and changed on "
            "the server only, by the system's operators: no administrator can make or take over "
            "another one here."
        )
    )


def _previous_roles(user) -> list:
    history = inspect(user).attrs["roles"].history
    return list(history.unchanged or ()) + list(history.deleted or ())


def check_admin_accounts(user) -> None:
    """Rule 4, for changes made through a page or the API (a signed-in actor)."""
    actor = _actor_id()
    if actor is None:
        return
    state = inspect(user)
    now = admin_shares(user.roles)
    if state.pending or state.transient:
        if now:
            raise on_server_only()
        return
    roles_changed = bool(_added(user, "roles")) or bool(state.attrs["roles"].history.deleted)
    before = admin_shares(_previous_roles(user)) if roles_changed else now
    if roles_changed and (before or now):
        raise on_server_only()
    if before and user.id != actor:
        changed = [a for a in _SIGN_IN_ATTRIBUTES if state.attrs[a].history.has_changes()]
        if changed:
            raise on_server_only()


def check_user(user) -> None:
    actor = _actor_id()
    if actor is not None and user.id == actor and (_added(user, "roles") or _added(user, "groups")):
        raise _no_self_service_widening()
    check_admin_accounts(user)
    check_separation(user)


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
            else:
                check_built_in_role(obj)
        elif isinstance(obj, User):
            check_user(obj)
        elif isinstance(obj, Group):
            check_group(obj)
    for obj in session.deleted:
        if isinstance(obj, User) and _actor_id() is not None and admin_shares(obj.roles):
            raise on_server_only()
        if isinstance(obj, Role) and _actor_id() is not None and obj.name in _built_in_names():
            raise built_in_fixed()


def init_role_rules() -> None:
    if not event.contains(Session, "before_flush", _check_flush):
        event.listen(Session, "before_flush", _check_flush)
