"""What a request asks the database once: a page that needs the same answer in several places
(a user's name on every audit row, the permission catalogue on every role) keeps it in
`flask.g`, which ends with the request. Outside a request (a CLI command, a test's app context)
nothing is kept: a long-running command sees every change."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

from flask import g, has_request_context

T = TypeVar("T")


def per_request(name: str, key: Hashable, compute: Callable[[], T]) -> T:
    """`compute()`, once per request for (`name`, `key`)."""
    if not has_request_context():
        return compute()
    cache = g.setdefault("_per_request", {})
    entry = (name, key)
    if entry not in cache:
        cache[entry] = compute()
    return cache[entry]
