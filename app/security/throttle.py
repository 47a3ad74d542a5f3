"""Sign-in throttling that every app process shares, without Redis.

- `DatabaseStorage` is a storage of the `limits` package (scheme `database://`, the default of
  RATELIMIT_STORAGE_URI): Flask-Limiter's per-IP limit on the login form and the API login counts
  in the application's own database, so ten gunicorn workers (or hosts) share one budget.
- The per-account lockout: LOGIN_LOCKOUT_FAILURES failed sign-ins to one username within
  LOGIN_LOCKOUT_WINDOW_MINUTES lock it for LOGIN_LOCKOUT_MINUTES, whatever the IP. The username is
  counted whether or not such an account exists, so the lockout (and its message) says nothing
  about which accounts exist. The lock refuses the right password too, and is audited
  (`login_locked`).

Counters are rows of `rate_limit_counter` written in their own short transactions (never the
request's: a refused request must still count).
"""

from __future__ import annotations

import hashlib
import time

from flask import current_app, request
from flask_babel import gettext as _
from limits.storage import Storage
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from werkzeug.exceptions import TooManyRequests

LOGIN_PATHS = frozenset({"/login/", "/api/v1/security/login"})


def _table():
    from app.security.models import RateLimitCounter

    return RateLimitCounter.__table__


def _engine():
    from app.extensions import db

    return db.engine


def _now() -> int:
    return int(time.time())


def add_hits(key: str, expiry: int, amount: int = 1) -> int:
    """Add `amount` to the counter `key` (a new window of `expiry` seconds if it has none or
    its window is over) and return the count. Safe between processes: two that create the same
    counter at once collide on the primary key, and the loser adds to the winner's row."""
    table = _table()
    for attempt in range(5):
        now = _now()
        try:
            with _engine().begin() as conn:
                found = conn.execute(
                    update(table)
                    .where(table.c.key == key, table.c.expires_at > now)
                    .values(hits=table.c.hits + amount)
                ).rowcount
                if not found:
                    # A new window: drop every counter whose window is over (this one's too).
                    conn.execute(delete(table).where(table.c.expires_at <= now))
                    conn.execute(insert(table).values(key=key, hits=amount, expires_at=now + expiry))
                return conn.execute(select(table.c.hits).where(table.c.key == key)).scalar_one()
        except (IntegrityError, OperationalError):
            # A concurrent insert of the same key (or a deadlock between the two on MariaDB).
            if attempt == 4:
                raise
    raise AssertionError("unreachable")


def hits(key: str) -> int:
    table = _table()
    with _engine().connect() as conn:
        value = conn.execute(
            select(table.c.hits).where(table.c.key == key, table.c.expires_at > _now())
        ).scalar()
    return value or 0


def expiry_of(key: str) -> float:
    table = _table()
    with _engine().connect() as conn:
        value = conn.execute(
            select(table.c.expires_at).where(table.c.key == key, table.c.expires_at > _now())
        ).scalar()
    return float(value) if value is not None else time.time()


def clear(key: str) -> None:
    with _engine().begin() as conn:
        conn.execute(delete(_table()).where(_table().c.key == key))


class DatabaseStorage(Storage):
    """`database://`: the fixed-window storage of the limits package on the application's
    database (Flask-Limiter's default strategy). Called inside requests (an app context)."""

    STORAGE_SCHEME = ["database"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self):
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        return add_hits(key, int(expiry), amount)

    def get(self, key: str) -> int:
        return hits(key)

    def get_expiry(self, key: str) -> float:
        return expiry_of(key)

    def check(self) -> bool:
        try:
            with _engine().connect() as conn:
                conn.execute(select(func.count()).select_from(_table()))
            return True
        except SQLAlchemyError:
            return False

    def reset(self) -> int | None:
        with _engine().begin() as conn:
            return conn.execute(delete(_table())).rowcount

    def clear(self, key: str) -> None:
        clear(key)


# --- per-account lockout ---------------------------------------------------------------------


class AccountLocked(TooManyRequests):
    """Answered as 429 with `user_message` by app/core/errors.py (page or JSON)."""

    def __init__(self, minutes: int):
        super().__init__()
        self.user_message = _(
            "Too many failed sign-ins to this account: it is locked for %(minutes)d minutes. "
            "Try again later, or ask the system administrator.",
            minutes=minutes,
        )


def _account(username: str) -> str:
    # Hashed: any length and any characters give a key that fits.
    return hashlib.sha256((username or "").strip().casefold().encode()).hexdigest()


def _failures_key(username: str) -> str:
    return f"login-failures/{_account(username)}"


def _lock_key(username: str) -> str:
    return f"login-locked/{_account(username)}"


def lockout_enabled() -> bool:
    return bool(current_app.config.get("LOGIN_LOCKOUT_ENABLED", True))


def lock_minutes() -> int:
    return int(current_app.config.get("LOGIN_LOCKOUT_MINUTES", 15))


def is_locked(username: str) -> bool:
    return lockout_enabled() and hits(_lock_key(username)) > 0


def record_failure(username: str) -> bool:
    """Count a failed sign-in; True when this failure locks the account."""
    if not lockout_enabled():
        return False
    window = int(current_app.config.get("LOGIN_LOCKOUT_WINDOW_MINUTES", 15)) * 60
    failures = add_hits(_failures_key(username), window)
    if failures >= int(current_app.config.get("LOGIN_LOCKOUT_FAILURES", 5)):
        add_hits(_lock_key(username), lock_minutes() * 60)
        clear(_failures_key(username))
        return True
    return False


def record_success(username: str) -> None:
    if lockout_enabled():
        clear(_failures_key(username))


def unlock(username: str) -> None:
    clear(_failures_key(username))
    clear(_lock_key(username))


def login_username() -> str | None:
    """The username a sign-in request names (form or JSON), or None for other requests."""
    if request.method != "POST" or request.path not in LOGIN_PATHS:
        return None
    if request.path.startswith("/api/"):
        body = request.get_json(silent=True)
        value = body.get("username") if isinstance(body, dict) else None
    else:
        value = request.form.get("username")
    return value if isinstance(value, str) and value.strip() else None


def refuse_locked_accounts():
    """before_request: a sign-in to a locked account is refused before the password is checked
    (FAB's API login answers any exception from inside with a 500)."""
    username = login_username()
    if username is None or not is_locked(username):
        return
    from app.core.audit import log_event
    from app.extensions import db
    from app.security.manager import channel

    known = current_app.appbuilder.sm.find_user(username=username)
    log_event(
        "login_locked",
        "ab_user",
        known.id if known else None,
        detail={"username": username[:128], "via": channel(), "refused": True},
    )
    db.session.commit()
    raise AccountLocked(lock_minutes())
