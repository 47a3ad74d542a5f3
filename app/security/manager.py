"""Our FAB security manager: department-aware user admin and audited sign-ins."""

from flask import request
from flask_appbuilder.security.api import SecurityApi as FabSecurityApi
from flask_appbuilder.security.sqla.manager import SecurityManager as FabSecurityManager
from sqlalchemy.orm import joinedload

from app.core.audit import log_event
from app.security import sessions, throttle, views
from app.security.base_views import translated_response


class SecurityApi(FabSecurityApi):
    """FAB's sign-in API (same name: same endpoints and permission), answering in the
    interface language."""

    response = staticmethod(translated_response)

    def response_401(self):
        # Only the sign-in answers 401 here (a refresh's token is refused by the JWT loaders).
        from flask_babel import gettext as _

        return self.response(401, message=_("The username or the password is wrong."))


class SecurityManager(FabSecurityManager):
    security_api = SecurityApi
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
        # A locked account never gets here (throttle.refuse_locked_accounts runs first).
        user = super().auth_user_db(username, password)
        if user is not None:
            log_event("login", "ab_user", user.id, user=user, detail={"via": channel()})
            self.session.commit()
            throttle.record_success(username)
            return user
        known = self.find_user(username=username) if username else None
        detail = {"username": (username or "")[:128], "via": channel()}
        log_event("login_failed", "ab_user", known.id if known else None, detail=detail)
        self.session.commit()
        if username and throttle.record_failure(username):
            log_event("login_locked", "ab_user", known.id if known else None, detail=detail)
            self.session.commit()
        return user

    def get_user_by_id(self, pk):
        """The user with their roles and groups in one statement: every request loads its user
        this way (Flask-Login, JWT), and FAB asks for both collections on every permission
        check (three statements before)."""
        model = self.user_model
        return self.session.get(
            model, pk, options=[joinedload(model.roles), joinedload(model.groups)]
        )

    # --- sessions and tokens end when the user's version moves (app/security/sessions.py) ---

    def load_user(self, pk):
        """Flask-Login's loader for the session cookie: a cookie of an earlier version (signed
        out since, or the password changed) signs nobody in."""
        user = super().load_user(pk)
        if user is not None and sessions.session_is_current(user):
            return user
        return None

    def load_user_jwt(self, _jwt_header, jwt_data):
        """The JWT's user, for access and refresh tokens alike, if the token is of the user's
        current version (FAB's loader would go through the session check above)."""
        from flask import g

        user = FabSecurityManager.load_user(self, jwt_data["sub"])
        if user is None or not sessions.token_is_current(user, jwt_data):
            return None
        g.user = user
        return user

    def on_user_logout(self, user) -> None:
        """Signing out ends every session and token of the user, not just this cookie."""
        super().on_user_logout(user)
        fresh = self.get_user_by_id(user.id)
        if fresh is not None:
            sessions.end_every_session(fresh)
            log_event("logout", "ab_user", fresh.id, user=fresh, detail={"via": channel()})
            self.session.commit()

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


def channel() -> str:
    return "api" if request.path.startswith("/api/") else "web"
