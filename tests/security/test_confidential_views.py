"""R13.1 for every route (issue 15, finding 4): an answer that names a drawn target of an
unpublished task, together with that task, leaves a `view_confidential` row in the audit log.

Generated from the URL map: every GET route that names a row (filled with a row of department A
from a drawn, inspected and followed-up task, as tests/security/test_row_matrix.py does) and
every GET route without arguments (lists, my-assignments, the dashboard), requested by each role
of department A that may read it. A new route that shows the drawn list and forgets to log fails
here."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from app.core.audit.models import AuditLog
from app.draws.models import DrawnTarget
from app.extensions import db
from app.inspections import services
from app.inspections.models import InspectionRecord
from app.planning.models import SpotCheckTask
from tests.credit.conftest import refused  # noqa: F401  (fixture)
from tests.directory.conftest import acting, conflict, directory  # noqa: F401  (fixtures)
from tests.inspections.conftest import finish, inspected  # noqa: F401  (fixtures)
from tests.planning.conftest import plan  # noqa: F401  (fixture)
from tests.security.access_matrix import guarded_routes
from tests.security.test_row_matrix import (  # noqa: F401  (fixture)
    _fill,
    _own_row,
    _routes_with_rows,
    files_and_conflict,
)

ROLES = ("operator_a", "leader_a", "inspector_a")


def _confidential_rows(app) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count()).select_from(AuditLog).where(AuditLog.action == "view_confidential")
        )


def _text(response) -> str:
    body = response.get_data()
    if response.mimetype == "application/json":
        try:  # FAB's JSON escapes Chinese as \\uXXXX
            return json.dumps(json.loads(body), ensure_ascii=False)
        except ValueError:
            pass
    if response.mimetype.startswith("text/"):
        return body.decode("utf-8", "replace")
    if "wordprocessingml" in response.mimetype:
        import io

        import docx

        document = docx.Document(io.BytesIO(body))
        cells = [c.text for t in document.tables for r in t.rows for c in r.cells]
        return "\n".join([p.text for p in document.paragraphs] + cells)
    return body.decode("utf-8", "replace")


def _get_urls(app):
    """[(url, rule)] for every GET route naming a row, filled, plus every argument-less one."""
    rows, urls = {}, []
    for rule, url, models, _resource, _permission in _routes_with_rows(app):
        if "GET" not in rule.methods or "/action/" in rule.rule or "/delete/" in rule.rule:
            continue
        values = {}
        for arg, model in models.items():
            if model not in rows:
                rows[model] = _own_row(app, model) if model is not None else None
            values[arg] = rows[model]
        if None in values.values():
            continue
        urls.append((_fill(url, values), rule.rule))
    for rule, _method, resource, _permission in guarded_routes(app):
        if "GET" in rule.methods and "<" not in rule.rule and resource is not None:
            urls.append((rule.rule, rule.rule))
    return urls


def _unpublished_drawn(app, task_id):
    with app.app_context():
        task = db.session.get(SpotCheckTask, task_id)
        drawn = db.session.scalars(select(DrawnTarget).where(DrawnTarget.task_id == task_id))
        names = [d.target.name for d in drawn]
        return task.number, names


def test_every_answer_naming_an_unpublished_drawn_target_is_logged(
    app, world, files_and_conflict, refused, inspected, login_as, api_token  # noqa: F811
):
    with acting(app, "inspector_a"):
        services.open_summary(db.session.get(InspectionRecord, refused.record).task)
        db.session.commit()
    number, names = _unpublished_drawn(app, inspected.task)
    urls = _get_urls(app)
    clients = {name: login_as(name) for name in ROLES}
    tokens = {name: api_token(name) for name in ROLES}
    unlogged, shown = [], set()
    for role in ROLES:
        for url, rule in urls:
            before = _confidential_rows(app)
            if url.startswith("/api/"):
                response = app.test_client().get(
                    url, headers={"Authorization": f"Bearer {tokens[role]}"}
                )
            else:
                response = clients[role].get(url)
            if response.status_code != 200:
                continue
            text = _text(response)
            if number not in text or not any(name in text for name in names):
                continue
            if rule.endswith("/_info"):
                continue  # choices of a form (every target, every task), not the drawn list
            shown.add(rule)
            if _confidential_rows(app) <= before:
                unlogged.append(f"{role} GET {url}")
    assert not unlogged, "\n".join(unlogged)
    # The drawn list is on the task, record, summary and assignment pages at least.
    for rule in ("/tasks/show/<pk>", "/records/list/", "/my-assignments/", "/api/v1/record/"):
        assert rule in shown, (rule, sorted(shown))


def test_published_drawn_lists_are_not_logged(app, world, inspected, login_as):  # noqa: F811
    finish(app, inspected)
    client = login_as("operator_a")
    before = _confidential_rows(app)
    for url in (f"/tasks/show/{inspected.task}", "/records/list/", "/api/v1/record/"):
        assert client.get(url).status_code == 200
    assert _confidential_rows(app) == before
