"""Every search filter of every list page, typed into the URL with values no form would send
(words for numbers, numbers past any column, impossible dates, quotes, wildcards): the list
answers, never a 500. The filters come from the views themselves, so a new filter is covered
without a line here."""

from __future__ import annotations

from tests.directory.conftest import directory  # noqa: F401  (fixture)
from tests.planning.conftest import plan  # noqa: F401  (fixture)

VALUES = [
    "abc",
    "-99999999999999",
    "99999999999",
    "2026-02-30",
    "9999-99-99",
    "'; --",
    "%_\\",
    "",
]
USERS = ("operator_a", "leader", "admin")


def _lists(app):
    for view in app.appbuilder.baseviews:
        filters = getattr(view, "_filters", None)
        if filters is None or type(view).__module__.startswith("tests."):
            continue
        route = getattr(view, "route_base", None)
        if route and any(r.rule == f"{route}/list/" for r in app.url_map.iter_rules()):
            yield type(view).__name__, f"{route}/list/", filters.get_search_filters()


def test_every_list_filter_with_values_no_form_sends(app, world, directory, plan, login_as):  # noqa: F811
    clients = {name: login_as(name) for name in USERS}
    checked, problems = 0, []
    for name, url, search_filters in _lists(app):
        client = next(
            (c for c in clients.values() if c.get(url).status_code == 200), None
        )
        if client is None:
            continue  # a FAB list nobody is given (user groups): the access matrix says so
        deepest = max((len(f) for f in search_filters.values()), default=0)
        for index in range(deepest):
            for value in VALUES:
                args = {
                    f"_flt_{index}_{column}": value
                    for column, filters in search_filters.items()
                    if index < len(filters)
                }
                response = client.get(url, query_string=args)
                checked += 1
                if response.status_code >= 500:
                    problems.append(f"{name} {url} index {index} value {value!r}")
    assert not problems, "\n".join(problems)
    assert checked > 100
