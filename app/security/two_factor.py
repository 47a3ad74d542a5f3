"""Two-factor sign-in: a TOTP authenticator (RFC 6238, what common authenticator apps speak) as
the second factor after the password, with one-time recovery codes.

- Enrolment: a secret is drawn and shown (a QR code drawn here, segno's SVG, and the secret in
  groups of four); it becomes active only when a first code from the app is right.
- A code is accepted for the current time step and one step either side (valid_window=1), and
  only once: the last accepted step is kept and a code of that step or an earlier one is refused
  (RFC 6238 §5.2), with one conditional UPDATE, so two requests with the same code cannot both
  pass.
- Ten recovery codes, kept as salted hashes, each good for one sign-in instead of a code.
- Sign-in: the form login asks for the code on a second step (app/security/views.py,
  AuthDBView); nobody is signed in until it is right; the half-signed-in state lives in the
  session cookie for PENDING_SECONDS and names its user. The REST login takes it as `totp`.
  A wrong code counts as a failed sign-in of the account (throttle.py's lockout).
- TOTP_REQUIRED: an account without a second factor is held on the enrolment page.

Audited: two_factor_enrol, two_factor_recovery_codes, two_factor_disable, two_factor_reset,
two_factor_recovery_used, two_factor_failed. The rows of the two tables are not logged field by
field (the secret and the hashes have nothing to show).
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
import time

import pyotp
import segno
from flask import current_app, request, session
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, or_, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from app.core.audit import log_event
from app.extensions import db
from app.security.models import UserRecoveryCode, UserTwoFactor
from app.security.system_user import SYSTEM_USERNAME

STEP_SECONDS = 30
VALID_WINDOW = 1
PENDING_SECONDS = 5 * 60
PENDING_KEY = "_two_factor_pending"
RECOVERY_CODE_COUNT = 10
# Recovery codes carry about 49 random bits each: a salted PBKDF2 is plenty, and checking a
# code against ten hashes stays quick.
RECOVERY_HASH_METHOD = "pbkdf2:sha256:50000"
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"

WRONG_CODE = _l("The code is wrong or has been used already. Enter the current code.")
CODE_NEEDED = _l(
    "This account signs in with two-factor authentication: send the 6-digit code of the "
    'authenticator app (or a recovery code) as "totp".'
)
ENROL_FIRST = _l(
    "This account must set up two-factor sign-in first: sign in on the web page and set up "
    "two-factor sign-in (两步验证)."
)


def clock() -> float:
    """Seconds since the epoch: the time codes and the half-signed-in state are measured by
    (one place, so that tests can move it)."""
    return time.time()


def _now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


def record_of(user_id) -> UserTwoFactor | None:
    return db.session.get(UserTwoFactor, user_id) if user_id is not None else None


def is_enrolled(user) -> bool:
    record = record_of(getattr(user, "id", None))
    return record is not None and record.enrolled_at is not None


def required() -> bool:
    return bool(current_app.config.get("TOTP_REQUIRED", False))


def needs_enrolment(user) -> bool:
    """TOTP_REQUIRED and this staff account has no second factor yet."""
    return required() and user.username != SYSTEM_USERNAME and not is_enrolled(user)


# --- codes ------------------------------------------------------------------------------------


def normalized(code) -> str:
    return "".join(ch for ch in str(code or "") if ch not in " -\t").lower()


def is_totp_shaped(code: str) -> bool:
    return len(code) == 6 and code.isascii() and code.isdigit()


def matching_step(secret: str, code: str, at: float | None = None) -> int | None:
    """The time step (at ± VALID_WINDOW) whose code this is, or None."""
    if not is_totp_shaped(code):
        return None
    totp = pyotp.TOTP(secret, interval=STEP_SECONDS)
    now_step = int((clock() if at is None else at) // STEP_SECONDS)
    for step in range(now_step + VALID_WINDOW, now_step - VALID_WINDOW - 1, -1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _use_step(user_id: int, step: int) -> bool:
    """Keep `step` as the last used one unless it (or a later one) was used: False then."""
    table = UserTwoFactor.__table__
    result = db.session.execute(
        update(table)
        .where(
            table.c.user_id == user_id,
            or_(table.c.last_step.is_(None), table.c.last_step < step),
        )
        .values(last_step=step)
    )
    return result.rowcount == 1


def accept_totp(record: UserTwoFactor, code: str) -> bool:
    step = matching_step(record.secret, normalized(code))
    if step is None or not _use_step(record.user_id, step):
        return False
    db.session.expire(record, ["last_step"])
    return True


def _recovery_code() -> str:
    raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def new_recovery_codes(user_id: int) -> list[str]:
    """Ten new codes replace the old ones; the caller commits and shows them once."""
    db.session.execute(delete(UserRecoveryCode).where(UserRecoveryCode.user_id == user_id))
    codes = [_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    db.session.add_all(
        UserRecoveryCode(
            user_id=user_id,
            code_hash=generate_password_hash(normalized(code), method=RECOVERY_HASH_METHOD),
        )
        for code in codes
    )
    db.session.flush()
    return codes


def recovery_codes_left(user_id: int) -> int:
    return len(
        db.session.scalars(
            select(UserRecoveryCode.id).where(
                UserRecoveryCode.user_id == user_id, UserRecoveryCode.used_at.is_(None)
            )
        ).all()
    )


def use_recovery_code(user_id: int, code: str) -> bool:
    code = normalized(code)
    if not code or len(code) > 32:
        return False
    table = UserRecoveryCode.__table__
    unused = db.session.execute(
        select(table.c.id, table.c.code_hash).where(
            table.c.user_id == user_id, table.c.used_at.is_(None)
        )
    ).all()
    for row in unused:
        if check_password_hash(row.code_hash, code):
            used = db.session.execute(
                update(table)
                .where(table.c.id == row.id, table.c.used_at.is_(None))
                .values(used_at=_now())
            ).rowcount
            return used == 1
    return False


def verify_second_factor(user, code) -> str | None:
    """ "totp" or "recovery" when `code` is good (and now used up), else None. The caller
    commits (a recovery code is audited here)."""
    record = record_of(user.id)
    if record is None or record.enrolled_at is None:
        return None
    value = normalized(code)
    if is_totp_shaped(value):
        return "totp" if accept_totp(record, value) else None
    if use_recovery_code(user.id, value):
        left = recovery_codes_left(user.id)
        log_event(
            "two_factor_recovery_used",
            "ab_user",
            user.id,
            user=user,
            detail={"left": left, "via": _channel()},
        )
        return "recovery"
    return None


def count_failure(user) -> bool:
    """A wrong second factor: audited and counted like a wrong password (the account's
    lockout). Commits. True when this failure locked the account."""
    from app.security import throttle

    detail = {"username": user.username, "via": _channel()}
    log_event("two_factor_failed", "ab_user", user.id, user=user, detail=detail)
    db.session.commit()
    if throttle.record_failure(user.username):
        log_event("login_locked", "ab_user", user.id, user=user, detail=detail)
        db.session.commit()
        return True
    return False


def _channel() -> str:
    from app.security.manager import channel

    return channel()


# --- enrolment, recovery codes, disabling, reset --------------------------------------------


def pending_secret(user) -> str:
    """The secret being enrolled (drawn now if there is none). Not for an enrolled user."""
    record = record_of(user.id)
    if record is not None and record.enrolled_at is not None:
        raise ValueError("already enrolled")
    if record is None:
        record = UserTwoFactor(user_id=user.id, secret=pyotp.random_base32())
        db.session.add(record)
        db.session.commit()
    return record.secret


def grouped(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def issuer() -> str:
    return current_app.config.get("TOTP_ISSUER") or current_app.config.get("APP_NAME")


def provisioning_uri(user, secret: str) -> str:
    return pyotp.TOTP(secret, interval=STEP_SECONDS).provisioning_uri(
        name=user.username, issuer_name=issuer()
    )


def qr_svg(uri: str) -> str:
    """The QR code as inline SVG markup, drawn here (no outside service, no script)."""
    return segno.make(uri, error="m").svg_inline(scale=5, border=2, title=None)


def confirm_enrolment(user, code) -> list[str] | None:
    """Activate the pending secret if `code` is right: the recovery codes (shown once), else
    None. Commits."""
    record = record_of(user.id)
    if record is None or record.enrolled_at is not None:
        return None
    step = matching_step(record.secret, normalized(code))
    if step is None:
        return None
    record.enrolled_at = _now()
    record.last_step = step
    codes = new_recovery_codes(user.id)
    log_event("two_factor_enrol", "ab_user", user.id, detail={"recovery_codes": len(codes)})
    db.session.commit()
    return codes


def regenerate_recovery_codes(user, code) -> list[str] | None:
    """New recovery codes against a current authenticator code; None if it is wrong. Commits."""
    record = record_of(user.id)
    if record is None or record.enrolled_at is None or not accept_totp(record, code):
        db.session.rollback()
        return None
    codes = new_recovery_codes(user.id)
    log_event("two_factor_recovery_codes", "ab_user", user.id, detail={"count": len(codes)})
    db.session.commit()
    return codes


def remove(user, action: str, **detail) -> bool:
    """Drop the user's second factor (own disabling, or an administrator's reset), audited as
    `action`. The caller commits. False when there was none."""
    record = record_of(user.id)
    if record is None:
        return False
    had_factor = record.enrolled_at is not None
    db.session.execute(delete(UserRecoveryCode).where(UserRecoveryCode.user_id == user.id))
    db.session.delete(record)
    if had_factor:
        log_event(action, "ab_user", user.id, detail=detail or None)
    return had_factor


# --- the half-signed-in state of the form login ---------------------------------------------


def begin_second_step(user, next_url: str) -> None:
    session[PENDING_KEY] = {
        "uid": user.id,
        "sv": user.session_version or 0,
        "at": int(clock()),
        "next": next_url,
    }


def pending_sign_in():
    """(user, next_url) of a sign-in waiting for its second factor, or (None, None) when there
    is none, it is older than PENDING_SECONDS or its user changed since (signed out everywhere,
    new password, switched off)."""
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict):
        return None, None
    started = pending.get("at")
    if not isinstance(started, int) or not 0 <= clock() - started <= PENDING_SECONDS:
        forget_pending()
        return None, None
    user = current_app.appbuilder.sm.get_user_by_id(pending.get("uid"))
    if user is None or not user.active or (user.session_version or 0) != pending.get("sv"):
        forget_pending()
        return None, None
    return user, pending.get("next") or current_app.appbuilder.get_url_for_index


def forget_pending() -> None:
    session.pop(PENDING_KEY, None)


# --- TOTP_REQUIRED: nothing but enrolment until there is a second factor --------------------

_OPEN_WHILE_ENROLLING = frozenset(
    {
        "static",
        "appbuilder.static",
        "favicon",
        "AuthDBView.login",
        "AuthDBView.login_code",
        "AuthDBView.logout",
        "LocaleView.index",
        "TwoFactorView.index",
        "TwoFactorView.enrol",
    }
)
HELD_MESSAGE = _l("Set up two-factor sign-in first: the system requires it for every account.")


def hold_until_enrolled():
    """before_request: with TOTP_REQUIRED, a signed-in account without a second factor is sent
    to the enrolment page (the API answers 403) until it has one."""
    if not required() or request.endpoint in _OPEN_WHILE_ENROLLING:
        return None
    if (request.endpoint or "").startswith("public."):
        return None
    from flask_login import current_user

    if not current_user.is_authenticated or not needs_enrolment(current_user):
        return None
    if request.path.startswith("/api/"):
        return {"message": str(HELD_MESSAGE)}, 403
    from flask import flash, redirect, url_for

    flash(str(HELD_MESSAGE), "warning")
    return redirect(url_for("TwoFactorView.enrol"))
