"""Our FAB security manager: department-aware user admin and audited sign-ins."""

from flask import request
from flask_appbuilder.api import safe
from flask_appbuilder.const import API_SECURITY_ACCESS_TOKEN_KEY, API_SECURITY_REFRESH_TOKEN_KEY
from flask_appbuilder.security.api import SecurityApi as FabSecurityApi
from flask_appbuilder.security.schemas import LoginPost
from flask_appbuilder.security.sqla.manager import SecurityManager as FabSecurityManager
from flask_appbuilder.views import expose
from marshmallow import ValidationError, fields
from sqlalchemy.orm import joinedload

from app.core.audit import log_event
from app.extensions import db
from app.security import (
    session_controls,
    sessions,
    throttle,
    two_factor,
    two_factor_views,
    views,
)
from app.security.base_views import translated_response


class LoginWithCode(LoginPost):
    totp = fields.String(required=False, allow_none=True)


login_with_code = LoginWithCode()


class SecurityApi(FabSecurityApi):
    """FAB's sign-in API (same name: same endpoints and permission), answering in the
    interface language, with the second factor of an account that has one (`totp`)."""

    response = staticmethod(translated_response)

    @expose("/login", methods=["POST"])
    @safe
    def login(self):
        """Sign in: a JWT access token (and a refresh token on request)
        ---
        post:
          description: >-
            Sign in with username and password. An account with two-factor sign-in (两步验证)
            also sends `totp`: the 6-digit code its authenticator app shows now, or one of its
            one-time recovery codes; without it, or with a wrong or already used code, the
            answer is 401 and no token (a wrong code counts as a failed sign-in).
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  required: [username, password, provider]
                  properties:
                    username:
                      description: The username
                      example: operator_szy
                      type: string
                    password:
                      description: The password
                      example: Dongsheng2026
                      type: string
                    provider:
                      description: Always db
                      example: db
                      type: string
                      enum:
                      - db
                    refresh:
                      description: If true a refresh token is returned too
                      example: true
                      type: boolean
                    totp:
                      description: >-
                        The second factor of an account that has one: the current 6-digit
                        code of the authenticator app, or a recovery code
                      example: "123456"
                      type: string
          responses:
            200:
              description: Signed in
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      access_token:
                        type: string
                      refresh_token:
                        type: string
            400:
              $ref: '#/components/responses/400'
            401:
              $ref: '#/components/responses/401'
            500:
              $ref: '#/components/responses/500'
        """
        from flask_babel import gettext as _
        from flask_jwt_extended import create_access_token, create_refresh_token

        if not request.is_json:
            return self.response_400(
                message=_('Send {"username", "password", "provider": "db"} as JSON to sign in.')
            )
        try:
            payload = login_with_code.load(request.json)
        except ValidationError as error:
            return self.response_400(message=error.messages)
        sm = self.appbuilder.sm
        user = sm.password_user(payload["username"], payload["password"])
        if user is None:
            return self.response_401()
        if two_factor.needs_enrolment(user):
            return self.response(401, message=str(two_factor.ENROL_FIRST))
        if two_factor.is_enrolled(user):
            code = payload.get("totp")
            if not code:
                return self.response(401, message=str(two_factor.CODE_NEEDED))
            if two_factor.verify_second_factor(user, code) is None:
                db.session.rollback()
                two_factor.count_failure(user)
                return self.response(401, message=str(two_factor.WRONG_CODE))
        if session_controls.password_expired(user):
            db.session.commit()  # the code is used up
            return self.response(403, message=str(session_controls.PASSWORD_EXPIRED_API))
        sm.complete_sign_in(user)
        body = {API_SECURITY_ACCESS_TOKEN_KEY: create_access_token(str(user.id), fresh=True)}
        if payload.get("refresh"):
            body[API_SECURITY_REFRESH_TOKEN_KEY] = create_refresh_token(str(user.id))
        return self.response(200, **body)

    def response_401(self):
        # Only the sign-in answers 401 here (a refresh's token is refused by the JWT loaders).
        from flask_babel import gettext as _

        return self.response(401, message=_("The username or the password is wrong."))


class SecurityManager(FabSecurityManager):
    security_api = SecurityApi
    authdbview = two_factor_views.AuthDBView
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

    def password_user(self, username, password):
        """The user if the password is right (audited and counted when it is not). Not yet a
        sign-in: an account with a second factor still needs its code (two_factor.py), and
        complete_sign_in() follows."""
        # A locked account never gets here (throttle.refuse_locked_accounts runs first).
        user = super().auth_user_db(username, password)
        if user is not None:
            return user
        known = self.find_user(username=username) if username else None
        detail = {"username": (username or "")[:128], "via": channel()}
        log_event("login_failed", "ab_user", known.id if known else None, detail=detail)
        self.session.commit()
        if username and throttle.record_failure(username):
            log_event("login_locked", "ab_user", known.id if known else None, detail=detail)
            self.session.commit()
        return None

    def complete_sign_in(self, user, **detail) -> None:
        log_event("login", "ab_user", user.id, user=user, detail={"via": channel(), **detail})
        self.session.commit()
        throttle.record_success(user.username)

    def auth_user_db(self, username, password):
        """Password-only sign-in, for whatever calls FAB's method: refused for an account that
        needs a second factor (our form login and REST login ask for it)."""
        user = self.password_user(username, password)
        if user is None or two_factor.is_enrolled(user) or two_factor.needs_enrolment(user):
            return None
        self.complete_sign_in(user)
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
            session_controls.forget_place(fresh)
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
        or not isinstance(body.get("totp", ""), (str, type(None)))
    ):
        return {
            "message": _('Send {"username", "password", "provider": "db"} as JSON to sign in.')
        }, 400
    return None


def channel() -> str:
    return "api" if request.path.startswith("/api/") else "web"
