"""Home page, user administration with departments, the department tree."""

from flask import abort, flash, redirect, url_for
from flask_appbuilder import IndexView, expose, has_access
from flask_appbuilder.actions import action
from flask_appbuilder.fieldwidgets import Select2Widget
from flask_appbuilder.models.sqla.filters import FilterInFunction, FilterNotEqual
from flask_appbuilder.security import views as fab_views
from flask_appbuilder.security.views import UserDBModelView
from flask_appbuilder.widgets import ListWidget
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import SelectField
from wtforms.validators import Regexp

from app.core.audit import log_event
from app.core.audit.wording import person_name
from app.core.calendar.service import unconfirmed_calendar_years
from app.core.i18n import relation_text, yes_no
from app.dashboard.workbench import workbench
from app.extensions import db
from app.security import passwords, permission_labels, role_rules, roles, throttle, two_factor
from app.security.base_views import (
    AppModelRestApi,
    AppModelView,
    GuardedActions,
    KeepsFormOnRefusal,
    LandsOnSavedRow,
)
from app.security.models import DEPARTMENT_KINDS, Department
from app.security.scope import ScopedInterface, current_actor, departments_in_scope
from app.security.services import check_department, check_department_deletable
from app.security.system_user import SYSTEM_USERNAME


class HomeView(IndexView):
    index_template = "home.html"

    @expose("/")
    def index(self):
        user = current_actor()
        departments = []
        if user is not None:
            departments = sorted(user.departments, key=lambda d: (d.sort_order, d.id))
        return self.render_template(
            self.index_template,
            appbuilder=self.appbuilder,
            user=user,
            departments=departments,
            sees_all=user is not None and departments_in_scope(user) is None,
            role_labels=roles.ROLE_LABELS,
            unconfirmed_years=unconfirmed_calendar_years(),
            sections=workbench(user),
        )


class RoleModelView(GuardedActions, LandsOnSavedRow, fab_views.RoleModelView):
    """Roles stored here carry system-administration permissions only (role_rules.py)."""

    formatters_columns = {"permissions": permission_labels.role_permissions_text}
    search_columns = ["name", "permissions"]
    order_columns = ["name"]

    def pre_add(self, item):
        role_rules.refusing(role_rules.check_role)(item)
        super().pre_add(item)

    def pre_update(self, item):
        role_rules.refusing(role_rules.check_role)(item)
        super().pre_update(item)


class UserGroupModelView(GuardedActions, fab_views.UserGroupModelView):
    search_columns = ["name", "label", "description", "users", "roles"]
    order_columns = ["name", "label", "description"]

    def pre_add(self, item):
        role_rules.refusing(role_rules.check_group)(item)
        super().pre_add(item)

    def pre_update(self, item):
        role_rules.refusing(role_rules.check_group)(item)
        super().pre_update(item)


class PermissionModelView(GuardedActions, fab_views.PermissionModelView):
    search_columns = order_columns = ["name"]
    formatters_columns = {"name": permission_labels.permission_label}


class ViewMenuModelView(GuardedActions, fab_views.ViewMenuModelView):
    search_columns = order_columns = ["name"]
    formatters_columns = {"name": permission_labels.view_label}


class PermissionViewModelView(GuardedActions, fab_views.PermissionViewModelView):
    formatters_columns = {
        "permission": lambda p: permission_labels.permission_label(p.name),
        "view_menu": lambda v: permission_labels.view_label(v.name),
    }
    search_columns = ["permission", "view_menu", "role"]
    order_columns = []


class ResetMyPasswordView(fab_views.ResetMyPasswordView):
    form = passwords.ResetMyPasswordForm


class ResetPasswordView(fab_views.ResetPasswordView):
    """An Admin sets a user's password; the system account (?pk= of it) has none, ever."""

    form = passwords.ResetUserPasswordForm

    def form_get(self, form):
        return _refuse_if_not_resettable() or super().form_get(form)

    def form_post(self, form):
        refused = _refuse_if_not_resettable()
        if refused is not None:
            return refused
        super().form_post(form)
        # A password the security administrator chose is the user's to replace at the next
        # sign-in (app/security/session_controls.py).
        user = passwords.user_named_in_request()
        user.password_changed_at = None
        db.session.commit()
        return None


def _refuse_if_not_resettable():
    """404 for the system account; an administrator's password is reset on the server only
    (role_rules.py, rule 4): back to the account's page with the reason."""
    user = passwords.user_named_in_request()
    if user is None or user.username == SYSTEM_USERNAME:
        abort(404)
    if _flash_if_administrator(user):
        return redirect(url_for("StaffUserView.show", pk=user.id))
    return None


def _flash_if_administrator(user) -> bool:
    """True, after flashing why, for an administrator's account: it is managed on the server
    only (role_rules.py, rule 4)."""
    if user is not None and role_rules.admin_shares(user.roles):
        flash(str(role_rules.on_server_only()), "danger")
        return True
    return False


# Usernames are sign-in names: letters (Chinese too), digits and . _ @ -, 2 to 64 of them.
USERNAME_RULE = Regexp(
    r"^[\w.@-]{2,64}$",
    message=_l("2 to 64 letters, digits or . _ @ - (no spaces)."),
)


class StaffUserListWidget(ListWidget):
    """FAB's list with the rows of administrators' accounts read-only: their changes are made on
    the server (role_rules.py, rule 4), so those rows offer 查看 only, and no action checkbox."""

    template = "security/user_list.html"


class StaffUserView(GuardedActions, LandsOnSavedRow, KeepsFormOnRefusal, UserDBModelView):
    """FAB's user admin plus the departments a user belongs to (their data scope)."""

    add_form_extra_fields = dict(
        UserDBModelView.add_form_extra_fields, password=passwords.NEW_USER_PASSWORD
    )

    class_permission_name = "UserDBModelView"  # FAB's name, as in FAB_ROLES

    label_columns = dict(
        UserDBModelView.label_columns,
        departments=_l("Departments"),
        two_factor_on=_l("Two-factor sign-in"),
        sign_in_locked=_l("Sign-in lockout"),
        first_name=_l("Given name"),
        last_name=_l("Family name"),
    )
    description_columns = dict(
        UserDBModelView.description_columns,
        departments=_l(
            "The user sees the data of these departments and of every department below them."
        ),
        first_name=_l("Given name, e.g. 建国"),
        last_name=_l("Family name, e.g. 王"),
        username=_l("The name used to sign in."),
        email=_l("Work e-mail address; each user needs a different one."),
    )
    list_columns = ["last_name", "first_name", "username", "departments", "roles", "active"]
    list_widget = StaffUserListWidget
    add_columns = [
        "last_name",
        "first_name",
        "username",
        "active",
        "email",
        "departments",
        "roles",
        "password",
        "conf_password",
    ]
    edit_columns = [
        "last_name",
        "first_name",
        "username",
        "active",
        "email",
        "departments",
        "roles",
    ]
    show_fieldsets = [
        (
            _l("User info"),
            {
                "fields": [
                    "username",
                    "active",
                    "departments",
                    "roles",
                    "two_factor_on",
                    "sign_in_locked",
                    "login_count",
                ]
            },
        ),
        (_l("Personal Info"), {"fields": ["last_name", "first_name", "email"], "expanded": True}),
        (
            _l("Audit Info"),
            {
                "fields": [
                    "last_login",
                    "fail_login_count",
                    "created_on",
                    "created_by",
                    "changed_on",
                    "changed_by",
                ],
                "expanded": False,
            },
        ),
    ]
    user_show_fieldsets = [
        (_l("User info"), {"fields": ["username", "departments", "roles", "login_count"]}),
        (_l("Personal Info"), {"fields": ["last_name", "first_name", "email"], "expanded": True}),
    ]
    search_columns = [
        "last_name",
        "first_name",
        "username",
        "email",
        "active",
        "roles",
        "departments",
    ]
    order_columns = ["last_name", "first_name", "username", "active"]
    formatters_columns = {
        "active": yes_no,
        "two_factor_on": yes_no,
        "sign_in_locked": lambda value: _("Locked") if value else _("Not locked"),
        "departments": relation_text,
        "roles": lambda value: relation_text(
            [roles.ROLE_LABELS.get(r.name, r.name) for r in value]
        ),
        # Never the word None: an account that has not signed in yet, or made by the system.
        "last_login": lambda value: value or "—",
        "login_count": lambda value: value or 0,
        "fail_login_count": lambda value: value or 0,
        "created_on": lambda value: value or "—",
        "changed_on": lambda value: value or "—",
        "created_by": lambda value: person_name(value) or "—",
        "changed_by": lambda value: person_name(value) or "—",
    }
    # Roles are required below (FAB's groups are not used here).
    validators_columns = {"username": [USERNAME_RULE]}
    # The system account that CLI commands act as is nobody's to see, edit or delete here.
    base_filters = [["username", FilterNotEqual, SYSTEM_USERNAME]]
    # The three administrator roles are given on the server only (role_rules.py, rule 4),
    # like any stored role carrying an administrator's share; Public is no account's.
    add_form_query_rel_fields = {"roles": [["id", FilterInFunction, role_rules.assignable_role_ids]]}
    edit_form_query_rel_fields = add_form_query_rel_fields
    # Lifting a lockout asks nothing first (it is what the user is waiting for).
    reversible_actions = frozenset({"unlock"})

    def _init_forms(self):
        super()._init_forms()
        # The role picker names each role as the list does (FAB's select shows the name).
        for form in (self.add_form, self.edit_form):
            form.roles.kwargs["get_label"] = _role_label

    def pre_add(self, item):
        _require_role_and_department(item)
        super().pre_add(item)

    def pre_update(self, item):
        _require_role_and_department(item)
        role_rules.refusing(role_rules.check_user)(item)
        super().pre_update(item)

    def _get_list_widget(self, filters, **kwargs):
        return super()._get_list_widget(
            filters, administrators=role_rules.administrator_ids(), **kwargs
        )

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        """FAB's user page, with the security administrator's actions on one user beside
        重置密码: 解除锁定 and 重置两步验证 (each still checks its permission)."""
        actions = {
            name: self.actions[name]
            for name in ("resetpasswords", "unlock", "reset_two_factor")
            if name in self.actions
        }
        item = self.datamodel.get(pk, self._base_filters)
        if not item:
            abort(404)
        widgets = self._get_show_widget(pk, item, actions=actions)
        self.update_redirect()
        return self.render_template(
            self.show_template,
            pk=pk,
            title=self.show_title,
            widgets=widgets,
            appbuilder=self.appbuilder,
            related_views=self._related_views,
        )

    def _administrator(self, pk) -> bool:
        return _flash_if_administrator(self.datamodel.get(pk, self._base_filters))

    def _edit(self, pk):
        if self._administrator(pk):
            return None  # edit() lands on the account's page with the message
        return super()._edit(pk)

    def _delete(self, pk):
        if self._administrator(pk):
            return None
        return super()._delete(pk)

    @action("unlock", _l("Unlock sign-in"), "", "fa-unlock", multiple=False)
    def unlock(self, item):
        """The security administrator lifts the lockout of failed sign-ins now (it also ends
        by itself after LOGIN_LOCKOUT_MINUTES); audited `login_unlocked` as on the server.
        Refused for an administrator account (rule 4: `flask security unlock` there)."""
        if _flash_if_administrator(item):
            return redirect(url_for(".show", pk=item.id))
        was_locked = throttle.is_locked(item.username)
        throttle.unlock(item.username)
        log_event("login_unlocked", "ab_user", item.id, detail={"was_locked": was_locked})
        db.session.commit()
        if was_locked:
            flash(
                _("The sign-in lockout of %(name)s is lifted.", name=item.get_full_name()),
                "success",
            )
        else:
            flash(_("%(name)s is not locked.", name=item.get_full_name()), "info")
        return redirect(url_for(".show", pk=item.id))

    @action(
        "reset_two_factor",
        _l("Reset two-factor sign-in"),
        _l(
            "Remove this user's authenticator and recovery codes (a lost or new phone)? They "
            "sign in with the password alone until they set up two-factor sign-in again."
        ),
        "fa-mobile",
        multiple=False,
    )
    def reset_two_factor(self, item):
        """The security administrator removes a user's second factor (lost phone); audited.
        Refused for an administrator account (role_rules rule 4: on the server only). The row
        comes through GuardedActions, inside the view's filters (never the system user)."""
        if _flash_if_administrator(item):
            return redirect(url_for(".show", pk=item.id))
        if two_factor.remove(item, "two_factor_reset", username=item.username):
            db.session.commit()
            flash(
                _("Two-factor sign-in of %(name)s has been reset.", name=item.get_full_name()),
                "success",
            )
        else:
            db.session.rollback()
            flash(_("%(name)s has no two-factor sign-in.", name=item.get_full_name()), "info")
        return redirect(url_for(".show", pk=item.id))


def _role_label(role) -> str:
    return str(roles.ROLE_LABELS.get(role.name, role.name))


def _require_role_and_department(user):
    from app.core.errors import DomainError

    if not user.roles:
        raise DomainError(_l("Choose at least one role."))
    if not user.departments and not any(r.name in roles.GLOBAL_SCOPE_ROLES for r in user.roles):
        raise DomainError(
            _l("Choose at least one department: it decides which data the user sees.")
        )


def _kind_field():
    return SelectField(
        _l("Kind"),
        choices=[(k, v) for k, v in DEPARTMENT_KINDS.items()],
        widget=Select2Widget(),
    )


class DepartmentView(AppModelView):
    route_base = "/departments"
    datamodel = ScopedInterface(Department)
    class_permission_name = "Department"

    list_title = _l("Departments")
    show_title = _l("Department")
    add_title = _l("Add department")
    edit_title = _l("Edit department")

    label_columns = {
        "name": _l("Name"),
        "code": _l("Code"),
        "kind": _l("Kind"),
        "kind_label": _l("Kind"),
        "uscc": _l("Unified social credit code"),
        "parent": _l("Parent department"),
        "path": _l("Position in the organisation"),
        "sort_order": _l("Sort order"),
        "active": _l("Active"),
        "users": _l("Users"),
        "created_on": _l("Created on"),
        "changed_on": _l("Changed on"),
        "created_by": _l("Created by"),
        "changed_by": _l("Changed by"),
    }
    list_columns = ["name", "code", "kind_label", "parent", "sort_order", "active"]
    show_columns = [
        "name",
        "code",
        "kind_label",
        "uscc",
        "path",
        "sort_order",
        "active",
        "users",
        "created_on",
        "created_by",
        "changed_on",
        "changed_by",
    ]
    add_columns = ["name", "code", "kind", "uscc", "parent", "sort_order", "active"]
    edit_columns = add_columns
    description_columns = {
        "uscc": _l(
            "Of a department that is a legal person (the bureau, an affiliated unit): the "
            "处罚机关 and 数据来源单位 code of its penalties. Empty for a section."
        )
    }
    search_columns = ["name", "code", "kind", "parent", "active"]
    order_columns = ["name", "code", "sort_order"]
    base_order = ("sort_order", "asc")
    add_form_extra_fields = {"kind": _kind_field()}
    edit_form_extra_fields = {"kind": _kind_field()}
    item_rule = check_department
    delete_rule = check_department_deletable


class DepartmentApi(AppModelRestApi):
    resource_name = "department"
    datamodel = ScopedInterface(Department)
    class_permission_name = "Department"
    label_columns = DepartmentView.label_columns
    list_columns = [
        "id",
        "name",
        "code",
        "kind",
        "parent.id",
        "parent.name",
        "sort_order",
        "active",
    ]
    show_columns = [*list_columns, "uscc"]
    add_columns = ["name", "code", "kind", "uscc", "parent", "sort_order", "active"]
    edit_columns = add_columns
    order_columns = ["name", "code", "sort_order"]
    search_columns = ["name", "code", "kind", "parent"]
    item_rule = check_department
    delete_rule = check_department_deletable
