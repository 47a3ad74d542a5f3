"""Who is signed in, and for how long: the browser session and the REST API's tokens.

- A REST write (POST/PUT/PATCH/DELETE under /api/) that is authenticated by the browser's session
  cookie must carry the page's CSRF token (X-CSRFToken header): another site can make a
  browser send the cookie with a form, never that header. JWT clients send `Authorization:
  Bearer ...`, which no other site can make a browser add, and need no token.
"""

from __future__ import annotations

from flask import current_app, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import BadRequest

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Sign-in endpoints act as nobody yet: the password (or the refresh token) is the credential.
API_SIGN_IN_PATHS = frozenset({"/api/v1/security/login", "/api/v1/security/refresh"})

CSRF_MESSAGE = _l(
    "Refused: a change through the API with the browser's sign-in needs the page's CSRF token "
    "(X-CSRFToken header). Programs sign in to the API and send their token instead."
)


class ApiCsrfRefused(BadRequest):
    user_message = CSRF_MESSAGE


def sends_bearer_token() -> bool:
    return request.headers.get("Authorization", "").lower().startswith("bearer ")


def require_csrf_on_session_api_writes():
    """before_request: FAB exempts its REST blueprints from CSRFProtect (they were meant for
    JWT clients), but AppModelRestApi also accepts the session cookie (allow_browser_login)."""
    from flask_login import current_user
    from flask_wtf.csrf import CSRFError

    if (
        request.method not in WRITE_METHODS
        or not request.path.startswith("/api/")
        or request.path in API_SIGN_IN_PATHS
        or not current_app.config.get("WTF_CSRF_ENABLED", True)
        or sends_bearer_token()
        or not current_user.is_authenticated
    ):
        return
    from app.extensions import csrf

    try:
        csrf.protect()
    except CSRFError:
        raise ApiCsrfRefused() from None


# --- one version per user: sign-out and a new password end every session and token ---------

SESSION_VERSION_KEY = "_session_version"
JWT_VERSION_CLAIM = "sv"


def version_of(user) -> int:
    return user.session_version or 0


def remember_version_at_sign_in(_app, user, **_kwargs):
    """flask_login's user_logged_in signal (FAB's login form): the cookie carries the version."""
    from flask import session

    session[SESSION_VERSION_KEY] = version_of(user)


def session_is_current(user) -> bool:
    from flask import session

    return session.get(SESSION_VERSION_KEY) == version_of(user)


def token_claims(identity) -> dict:
    """JWTManager.additional_claims_loader: access and refresh tokens carry the version."""
    from app.extensions import db
    from app.security.models import User

    user = db.session.get(User, int(identity)) if str(identity).isdigit() else None
    return {JWT_VERSION_CLAIM: version_of(user)} if user is not None else {}


def token_is_current(user, jwt_data: dict) -> bool:
    return jwt_data.get(JWT_VERSION_CLAIM) == version_of(user)


def end_every_session(user) -> None:
    """Raise the user's version: every cookie and token issued before stops working. The
    caller commits. The request's own session follows when it is this user's (a user who
    changes their own password stays signed in here, and only here)."""
    from flask import has_request_context, session

    user.session_version = version_of(user) + 1
    if has_request_context() and str(session.get("_user_id")) == str(user.id):
        session[SESSION_VERSION_KEY] = user.session_version


def _bump_on_password_or_deactivation(db_session, _flush_context, _instances):
    """before_flush on every session: a new password hash, or an account switched off, ends
    that user's sessions and tokens, whichever path wrote it (reset forms, user admin, CLI)."""
    from sqlalchemy import inspect

    from app.security.models import User

    for obj in db_session.dirty:
        if not isinstance(obj, User):
            continue
        state = inspect(obj)
        password = state.attrs.password.history
        active = state.attrs.active.history
        deactivated = active.has_changes() and not obj.active and any(active.deleted)
        if password.has_changes() and password.deleted:
            # Password age (session_controls.py); a reset by the security administrator sets
            # it to NULL after this, in its own view.
            from app.security.session_controls import now

            obj.password_changed_at = now()
        if (password.has_changes() and password.deleted) or deactivated:
            end_every_session(obj)


NOT_SIGNED_IN = _l("Not signed in, or the sign-in has expired.")
TOKEN_INVALID = _l("The access token is not valid: sign in again.")
TOKEN_EXPIRED = _l("The access token has expired: sign in again.")
TOKEN_REVOKED = _l("The access token has been revoked: sign in again.")
FRESH_TOKEN_NEEDED = _l("Sign in again to do this.")


def refuse_tokens_in_our_language(jwt_manager) -> None:
    """flask_jwt_extended refuses a missing, damaged or expired token in English: the same
    answers (key and status) in the interface language."""
    from http import HTTPStatus

    from flask import jsonify

    def answer(message, status):
        key = current_app.config["JWT_ERROR_MESSAGE_KEY"]
        return jsonify({key: str(message)}), status

    unauthorized, unprocessable = HTTPStatus.UNAUTHORIZED, HTTPStatus.UNPROCESSABLE_ENTITY
    jwt_manager.unauthorized_loader(lambda _error: answer(NOT_SIGNED_IN, unauthorized))
    jwt_manager.invalid_token_loader(lambda _error: answer(TOKEN_INVALID, unprocessable))
    jwt_manager.expired_token_loader(lambda _h, _d: answer(TOKEN_EXPIRED, unauthorized))
    jwt_manager.revoked_token_loader(lambda _h, _d: answer(TOKEN_REVOKED, unauthorized))
    jwt_manager.needs_fresh_token_loader(lambda _h, _d: answer(FRESH_TOKEN_NEEDED, unauthorized))
    jwt_manager.user_lookup_error_loader(lambda _h, _d: answer(NOT_SIGNED_IN, unauthorized))
    jwt_manager.token_verification_failed_loader(
        lambda _h, _d: answer(TOKEN_INVALID, HTTPStatus.BAD_REQUEST)
    )


def init_session_versions(app) -> None:
    from flask_login import user_logged_in
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    user_logged_in.connect(remember_version_at_sign_in, app)
    app.appbuilder.sm.jwt_manager.additional_claims_loader(token_claims)
    refuse_tokens_in_our_language(app.appbuilder.sm.jwt_manager)
    if not event.contains(Session, "before_flush", _bump_on_password_or_deactivation):
        event.listen(Session, "before_flush", _bump_on_password_or_deactivation)
