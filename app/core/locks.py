"""Row locks that hold on every supported database, and lock conflicts as a clear refusal.

PostgreSQL and MariaDB lock a row read with SELECT ... FOR UPDATE until the transaction ends.
SQLite ignores FOR UPDATE and, under pysqlite, runs a SELECT outside any transaction, so two
requests read the same state and both write (a substitution chain forked, an audit row's seq
taken twice: a 500). `lock_for_update` therefore takes SQLite's write lock first with a no-op
UPDATE of the row: the others wait (the driver's busy timeout) and then read what the first
wrote. A wait that runs out (or a lock timeout / deadlock elsewhere) is `is_lock_conflict`:
the user is told another operation is under way (app.core.errors), not a 500.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import update
from sqlalchemy.exc import DBAPIError

LOCK_CONFLICT = _l("Another operation is in progress. Please try again in a moment.")

# PostgreSQL: lock_not_available, deadlock_detected, serialization_failure.
_PG_CODES = {"55P03", "40P01", "40001"}
# MySQL/MariaDB: lock wait timeout, deadlock.
_MYSQL_CODES = {1205, 1213}


def lock_for_update(executor, table, row_id) -> None:
    """On SQLite, take the database's write lock before reading the row `row_id` of `table`
    (a Session or a Connection); elsewhere the caller's FOR UPDATE does it."""
    bind = executor.get_bind() if hasattr(executor, "get_bind") else executor
    if bind.dialect.name != "sqlite":
        return
    executor.execute(update(table).where(table.c.id == row_id).values(id=table.c.id))


def is_lock_conflict(error: BaseException) -> bool:
    """Whether a database error is another transaction holding a lock (SQLite's "database
    is locked", a lock timeout, a deadlock), as opposed to a lost connection."""
    if not isinstance(error, DBAPIError) or error.connection_invalidated:
        return False
    orig = error.orig
    if "database is locked" in str(orig) or "database table is locked" in str(orig):
        return True
    if getattr(orig, "sqlstate", None) in _PG_CODES or getattr(orig, "pgcode", None) in _PG_CODES:
        return True
    args = getattr(orig, "args", ())
    return bool(args) and args[0] in _MYSQL_CODES
