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
