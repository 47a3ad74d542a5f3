"""Every staff page asks the database each thing once (issue 18).

Signed in as each demo account on the demo data set, every page of the menu the account may
open, the home page and the dashboard are requested once while a `before_cursor_execute`
listener records the statements sent: none may be sent twice with the same parameters in one
request, and the target list stays within its statement budget."""

from __future__ import annotations

from collections import Counter
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from app import menu_urls
from app.demo.seed import DEMO_PASSWORD, USERS
from app.extensions import db
from tests.conftest import PASSWORD, login

TARGET_LIST_BUDGET = 8


@pytest.fixture
def demo(app, world):
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output


@contextmanager
def recorded_statements(app):
    """[(sql, parameters)] of every statement sent while the block runs."""
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, repr(parameters)))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def menu_pages(app) -> list[str]:
    """The URL of every page the menu links to, with the home page and the dashboard."""
    with app.test_request_context():
        links = menu_urls(app.appbuilder)
    return ["/", "/dashboard/", *(url for url in links if url not in ("/", "/dashboard/"))]


def signed_in(app, world, username):
    """A client signed in as the demo account (those of the test world keep its password)."""
    client = app.test_client()
    password = PASSWORD if username in world.users else DEMO_PASSWORD
    response = login(client, username, password)
    assert response.status_code == 302, username
    assert "/login" not in response.headers["Location"], username
    return client


def repeated(statements) -> list[str]:
    counts = Counter(statements)
    return [f"{n}× {sql} {params}" for (sql, params), n in counts.items() if n > 1]


def test_the_menu_reaches_the_main_lists(app):
    pages = menu_pages(app)
    for url in ("/targets/list/", "/dashboard/", "/"):
        assert url in pages
    assert len(pages) > 15


def test_no_page_sends_the_same_statement_twice(app, world, demo):
    pages = menu_pages(app)
    problems = []
    opened = 0
    for username, *_rest in USERS:
        client = signed_in(app, world, username)
        for url in pages:
            client.get(url)  # a first request may fill caches of the process (the menu)
            with recorded_statements(app) as statements:
                response = client.get(url)
            if response.status_code != 200:
                continue
            opened += 1
            problems.extend(f"{username} {url}: {line}" for line in repeated(statements))
    assert opened > 50
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("username", ["operator_szy", "leader_szy", "leader"])
def test_the_target_list_is_within_its_statement_budget(app, world, demo, username):
    client = signed_in(app, world, username)
    client.get("/targets/list/")
    with recorded_statements(app) as statements:
        response = client.get("/targets/list/")
    assert response.status_code == 200
    assert "有限公司" in response.get_data(as_text=True)
    assert len(statements) <= TARGET_LIST_BUDGET, "\n".join(s for s, _ in statements)


def test_the_dashboard_previews_only_the_pools_of_tasks_it_shows(app, world, demo, monkeypatch):
    """An Operator's dashboard counts the planned checks of their own departments' undrawn
    tasks; previewing another department's pool is work for a number nobody sees there."""
    from app.draws import pool
    from app.security.scope import departments_in_scope

    previewed = []
    real = pool.pool_counts

    def counts(tasks, *args, **kwargs):
        tasks = list(tasks)
        previewed.extend(task.department_id for task in tasks)
        return real(tasks, *args, **kwargs)

    monkeypatch.setattr(pool, "pool_counts", counts)
    seen = 0
    for username in ("operator_szy", "operator_hh", "operator_stbc"):
        client = signed_in(app, world, username)
        previewed.clear()
        with app.test_request_context():
            from flask import g

            g.user = app.appbuilder.sm.find_user(username=username)
            scope = departments_in_scope(g.user)
        assert client.get("/dashboard/").status_code == 200
        assert set(previewed) <= scope, username
        seen += len(previewed)
    assert seen >= 1  # the demo's task waiting to be drawn was counted by its department
