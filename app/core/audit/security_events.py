"""Which audit rows are security events (安全事件), flagged on the audit administrator's review
page (GB/T 22239-2019 level 3, 安全审计: the review looks at these first). One list, read by
the page's badge (Python, row by row) and by its 仅安全事件 filter (SQL): tests/core/
test_audit_review.py checks that both pick the same rows.

- sign-in failures and lockouts: `login_failed`, `login_locked`, `login_unlocked`, a wrong
  second-factor code `two_factor_failed`, a second factor switched off or reset
  (`two_factor_disable`, `two_factor_reset`);
- role changes: the command line's `create_admin` and `set_admin_role`, every change of a role
  row (`ab_role`: its permissions), and every create, update or delete of an account whose
  stored change names its roles (`ab_user` with a `roles` entry);
- exports: every `export` the log records. Only exports of what is not public are logged (the
  progress report before filing, summary documents, archive bundles with evidence and
  personal data, the audit log itself); the public lists (the published blacklist, results)
  are downloaded by anyone and leave no row;
- refused imports (`import_refused`): a file of codes uploaded to learn which ones other
  departments hold is refused, and its row counts the keys it met outside the user's scope.
"""

from __future__ import annotations

import json

from sqlalchemy import and_, or_

SECURITY_ACTIONS = frozenset(
    {
        "login_failed",
        "login_locked",
        "login_unlocked",
        "two_factor_failed",
        "two_factor_disable",
        "two_factor_reset",
        "create_admin",
        "set_admin_role",
        "export",
        "import_refused",
    }
)
ROLE_TABLE = "ab_role"
USER_TABLE = "ab_user"
# How the recorder writes a change of a user's roles: keys sorted, no spaces (recorder._dump).
# A quote inside a value is written \", so this text only ever starts the `roles` key.
_ROLES_KEY = '"roles":['


def is_security_event(action: str | None, object_type: str | None, changes: str | None) -> bool:
    if action in SECURITY_ACTIONS or object_type == ROLE_TABLE:
        return True
    if object_type != USER_TABLE or not changes:
        return False
    try:
        return "roles" in json.loads(changes)
    except (ValueError, TypeError):
        return False


def security_event_clause(model):
    """The SQL condition of `is_security_event` on the audit log's model."""
    return or_(
        model.action.in_(sorted(SECURITY_ACTIONS)),
        model.object_type == ROLE_TABLE,
        and_(model.object_type == USER_TABLE, model.changes.contains(_ROLES_KEY, autoescape=True)),
    )
