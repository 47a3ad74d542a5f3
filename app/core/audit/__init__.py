"""Append-only, hash-chained audit log (R10.1, R14.1).

`models` holds the tables, `chain` the hashing and verification, `recorder` the SQLAlchemy
events that write a row for every create / update / delete and the `log_event()` helper for
explicit events (login, export, confidential view, draw).
"""

from app.core.audit.recorder import log_event  # noqa: F401
