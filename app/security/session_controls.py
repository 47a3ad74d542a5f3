"""Session controls of 等保 2.0 level 3 (身份鉴别 a/b): the idle timeout, one place at a time,
the last sign-in shown after sign-in, and password expiry with a forced change.

- Idle timeout (SESSION_IDLE_MINUTES, default 30; 0 switches it off): the browser session's
  cookie carries the time of its last request (`_seen`, rewritten at most once a minute, never
  by a static file); a request after a longer pause signs that session out (audited
  `session_idle`) and lands on the sign-in page with a Chinese notice. Every request of a page
  counts as use, its scripts' requests too. REST clients with a JWT are not concerned: their
  access tokens expire by themselves (JWT_ACCESS_TOKEN_EXPIRES).
- One place at a time (SESSION_SINGLE, default on): each form sign-in (after its second factor)
  draws a random session id, kept in the cookie and in ab_user.current_session with the time
  and address of the sign-in; a browser session of the account with another id is signed out
  at its next request with a notice naming that sign-in. The new sign-in is audited
  `session_replaced` when it ends another place. REST tokens are not a place: a form sign-in
  ends no token and a REST login ends no browser session (sign-out and a password change end
  both, app/security/sessions.py).
- After a form sign-in a notice names the previous successful sign-in (time, address) and the
  failed attempts since, from the audit log.
- Password expiry (PASSWORD_MAX_AGE_DAYS, default 90; 0 switches it off): ab_user
  .password_changed_at is set whenever a password is written; NULL (a reset by the security
  administrator) counts as expired at once. A signed-in user with an expired password opens
  nothing but the change-password page (the REST API answers 403, its login refuses a token)
  until the password is changed to a different one.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time

from flask import current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from app.core.audit import log_event
from app.extensions import db

LAST_SEEN_KEY = "_seen"
SESSION_ID_KEY = "_sid"
# The cookie's time of last use is rewritten at most this often: not every request sets a cookie.
TOUCH_SECONDS = 60

STATIC_ENDPOINTS = frozenset({"static", "appbuilder.static", "favicon"})
LOGIN_ENDPOINTS = frozenset({"AuthDBView.login", "AuthDBView.login_code"})
FAILED_SIGN_INS = ("login_failed", "two_factor_failed")

PASSWORD_SET_BY_ADMIN = _l(
    "Your password was set by the security administrator: choose your own to go on."
)
PASSWORD_EXPIRED_API = _l(
    "The password of this account has expired (or was set by the security administrator): "
    "change it on the web page (修改密码) first."
)


def clock() -> float:
    """Seconds since the epoch (one place, so that tests can move it)."""
    return time.time()


def now() -> dt.datetime:
    return dt.datetime.fromtimestamp(clock()).replace(microsecond=0)


def idle_minutes() -> int:
    return max(0, int(current_app.config.get("SESSION_IDLE_MINUTES", 30) or 0))


def single() -> bool:
    return bool(current_app.config.get("SESSION_SINGLE", True))


def max_age_days() -> int:
    return max(0, int(current_app.config.get("PASSWORD_MAX_AGE_DAYS", 90) or 0))


def shown_time(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "—"


def shown_address(ip) -> str:
    return ip or _("unknown address")


def _address() -> str | None:
    return (request.remote_addr or None) if request else None


# --- at a form sign-in (flask_login's user_logged_in) ---------------------------------------


def at_sign_in(_app, user, **_kwargs) -> None:
    """The new browser session: its time of use, its place (ending the account's other one)
    and the notice of the previous sign-in."""
    from app.security.manager import channel
    from app.security.models import User

    session[LAST_SEEN_KEY] = int(clock())
    flash(previous_sign_in_notice(user.id), "info")
    if single() and user.current_session:
        log_event(
            "session_replaced",
            "ab_user",
            user.id,
            user=user,
            detail={
                "signed_in_at": shown_time(user.signed_in_at),
                "address": user.signed_in_ip,
                "via": channel(),
            },
        )
    sid = secrets.token_urlsafe(24)
    session[SESSION_ID_KEY] = sid
    table = User.__table__
    db.session.execute(
        update(table)
        .where(table.c.id == user.id)
        .values(current_session=sid, signed_in_at=now(), signed_in_ip=_address())
    )
    db.session.commit()
    db.session.expire(user, ["current_session", "signed_in_at", "signed_in_ip"])


def previous_sign_in_notice(user_id: int) -> str:
    """上次登录：… from the audit log: the account's sign-in before the one just logged, and the
    failed attempts (wrong password or code) between the two."""
    from app.core.audit.models import AuditLog

    logins = db.session.execute(
        select(AuditLog.seq, AuditLog.created_at, AuditLog.ip)
        .where(
            AuditLog.object_type == "ab_user",
            AuditLog.object_id == str(user_id),
            AuditLog.action == "login",
        )
        .order_by(AuditLog.seq.desc())
        .limit(2)
    ).all()
    if len(logins) < 2:
        return _("This is the first sign-in of this account.")
    current, previous = logins
    failed = db.session.scalar(
        select(func.count(AuditLog.id)).where(
            AuditLog.object_type == "ab_user",
            AuditLog.object_id == str(user_id),
            AuditLog.action.in_(FAILED_SIGN_INS),
            AuditLog.seq > previous.seq,
            AuditLog.seq < current.seq,
        )
    )
    text = _(
        "Last sign-in: %(time)s, from %(address)s",
        time=shown_time(previous.created_at),
        address=shown_address(previous.ip),
    )
    if failed:
        text += _("; since then %(count)d failed sign-in attempts", count=failed)
    return text


def forget_place(user) -> None:
    """The account has no browser session any more (signed out): no later sign-in "ends" one."""
    from app.security.models import User

    table = User.__table__
    db.session.execute(update(table).where(table.c.id == user.id).values(current_session=None))


# --- every request of a browser session ------------------------------------------------------


def check_browser_session():
    """before_request: end a browser session that has been idle too long or that a newer sign-in
    of its account replaced; otherwise note the time of use (at most once a minute)."""
    from flask_login import current_user

    from app.security.sessions import sends_bearer_token

    if request.endpoint in STATIC_ENDPOINTS or "_user_id" not in session:
        return None
    if sends_bearer_token() or not current_user.is_authenticated:
        return None
    user = current_user
    moment = int(clock())
    seen = session.get(LAST_SEEN_KEY)
    minutes = idle_minutes()
    if minutes and isinstance(seen, int) and moment - seen > minutes * 60:
        from app.security.manager import channel

        detail = {"minutes": minutes, "via": channel()}
        log_event("session_idle", "ab_user", user.id, user=user, detail=detail)
        if user.current_session and user.current_session == session.get(SESSION_ID_KEY):
            forget_place(user)
        db.session.commit()
        message = _(
            "You have been inactive for more than %(minutes)d minutes: sign in again.",
            minutes=minutes,
        )
        return _signed_out(message)
    if single() and user.current_session and session.get(SESSION_ID_KEY) != user.current_session:
        message = _(
            "Your account has signed in elsewhere (%(time)s, from %(address)s): you have been "
            "signed out here. If that was not you, change your password at once.",
            time=shown_time(user.signed_in_at),
            address=shown_address(user.signed_in_ip),
        )
        return _signed_out(message)
    if not isinstance(seen, int) or moment - seen >= TOUCH_SECONDS:
        session[LAST_SEEN_KEY] = moment
    return None


def _signed_out(message: str):
    from flask import g
    from flask_login import AnonymousUserMixin, logout_user

    logout_user()
    for key in (LAST_SEEN_KEY, SESSION_ID_KEY, "_session_version"):
        session.pop(key, None)
    g.user = AnonymousUserMixin()
    if request.path.startswith("/api/"):
        return {"message": message}, 401
    flash(message, "warning")
    if request.endpoint in LOGIN_ENDPOINTS:
        return None  # the sign-in page (or its form's post) goes on
    return redirect(current_app.appbuilder.get_url_for_login)


# --- password expiry ------------------------------------------------------------------------


def password_expired(user) -> bool:
    from app.security.system_user import SYSTEM_USERNAME

    if user is None or getattr(user, "username", None) == SYSTEM_USERNAME:
        return False
    changed = getattr(user, "password_changed_at", None)
    if changed is None:
        return True
    days = max_age_days()
    return bool(days) and changed < now() - dt.timedelta(days=days)


_OPEN_WHILE_EXPIRED = frozenset(
    {
        *STATIC_ENDPOINTS,
        *LOGIN_ENDPOINTS,
        "AuthDBView.logout",
        "LocaleView.index",
        "ResetMyPasswordView.this_form_get",
        "ResetMyPasswordView.this_form_post",
    }
)
# With TOTP_REQUIRED an account without a second factor enrols first (hold_until_enrolled).
_ENROLMENT = frozenset({"TwoFactorView.index", "TwoFactorView.enrol"})


def _api_user():
    """The user of this API request: the JWT's, or the browser session's; None if neither."""
    from flask_login import current_user

    from app.security.sessions import sends_bearer_token

    if not sends_bearer_token():
        return current_user if current_user.is_authenticated else None
    from flask_jwt_extended import get_current_user, verify_jwt_in_request

    try:
        verify_jwt_in_request()
        return get_current_user()
    except Exception:  # noqa: BLE001 - a bad token is answered by the endpoint as before
        return None


def hold_until_password_changed():
    """before_request: a signed-in user whose password has expired (or was reset by the
    security administrator) is sent to the change-password page; the API answers 403."""
    from flask_login import current_user

    from app.security import two_factor
    from app.security.sessions import API_SIGN_IN_PATHS

    if request.endpoint in _OPEN_WHILE_EXPIRED or (request.endpoint or "").startswith("public."):
        return None
    if request.path.startswith("/api/"):
        if request.path in API_SIGN_IN_PATHS:
            return None
        user = _api_user()
        if user is not None and password_expired(user):
            return {"message": str(PASSWORD_EXPIRED_API)}, 403
        return None
    if not current_user.is_authenticated or not password_expired(current_user):
        return None
    if request.endpoint in _ENROLMENT and two_factor.needs_enrolment(current_user):
        return None
    flash(held_message(current_user), "warning")
    return redirect(url_for("ResetMyPasswordView.this_form_get"))


def held_message(user) -> str:
    if user.password_changed_at is None:
        return str(PASSWORD_SET_BY_ADMIN)
    return _(
        "Your password is more than %(days)d days old: choose a new one to go on.",
        days=max_age_days(),
    )


def init_session_controls(app) -> None:
    from flask_login import user_logged_in

    user_logged_in.connect(at_sign_in, app)
