"""Our FAB security manager: department-aware user admin and audited sign-ins."""

from flask import request
from flask_appbuilder.security.api import SecurityApi
from flask_appbuilder.security.sqla.manager import SecurityManager as FabSecurityManager

from app.core.audit import log_event
from app.security import views


class SecurityManager(FabSecurityManager):
    userdbmodelview = views.StaffUserView
    rolemodelview = views.RoleModelView
    groupmodelview = views.UserGroupModelView
    permissionmodelview = views.PermissionModelView
    viewmenumodelview = views.ViewMenuModelView
    permissionviewmodelview = views.PermissionViewModelView
    # The password forms also refuse a password that contains the username.
    resetmypasswordview = views.ResetMyPasswordView
    resetpasswordview = views.ResetPasswordView
    # FAB's user statistics draw with Google Charts from the internet (and answer 500 to a bad
    # group-by): not on an intranet.
    userstatschartview = None

    def __init__(self, appbuilder):
        super().__init__(appbuilder)
        # The security views read through our interface too: a filter value that no id can be
        # is "not found", not a database error (app/security/scope.py).
        from app.security.scope import AppInterface

        for view, model in (
            (self.userdbmodelview, self.user_model),
            (self.rolemodelview, self.role_model),
            (self.groupmodelview, self.group_model),
            (self.permissionmodelview, self.permission_model),
            (self.viewmenumodelview, self.viewmenu_model),
            (self.permissionviewmodelview, self.permissionview_model),
        ):
            view.datamodel = AppInterface(model)

    def auth_user_db(self, username, password):
        user = super().auth_user_db(username, password)
        if user is not None:
            log_event("login", "ab_user", user.id, user=user, detail={"via": _channel()})
        else:
            known = self.find_user(username=username) if username else None
            log_event(
                "login_failed",
                "ab_user",
                known.id if known else None,
                detail={"username": (username or "")[:128], "via": _channel()},
            )
        self.session.commit()
        return user

    def register_views(self):
        super().register_views()
        # FAB rate-limits only the login form; the JWT login is just as good a password oracle.
        if self.is_auth_limited:
            for view in self.appbuilder.baseviews:
                if isinstance(view, SecurityApi):
                    self.limiter.limit(self.auth_rate_limit, methods=["POST"])(view.blueprint)


def check_api_login_body():
    """FAB's JWT login reads its JSON without checking it (a missing "provider" is a 500):
    refuse a malformed body with a 400 before it gets there."""
    from flask import request
    from flask_babel import gettext as _

    if request.method != "POST" or request.path != "/api/v1/security/login":
        return None
    body = request.get_json(silent=True)
    if (
        not isinstance(body, dict)
        or not isinstance(body.get("username"), str)
        or not isinstance(body.get("password"), str)
        or body.get("provider") != "db"
        or not isinstance(body.get("refresh", False), bool)
    ):
        return {
            "message": _('Send {"username", "password", "provider": "db"} as JSON to sign in.')
        }, 400
    return None


def _channel() -> str:
    return "api" if request.path.startswith("/api/") else "web"
