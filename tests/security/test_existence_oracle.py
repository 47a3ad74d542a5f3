"""Out of scope looks exactly like missing (issue 15, finding 13): for every registered route
that names a row, a user of another department gets the same answer for department A's row as
for an id no row has: the same status, the same redirect, the same message. A redirect to the
row's page, a flashed "not yours" or a 403 where a missing row is a 404 would tell them the row
exists (and, for a summary, its id)."""

from __future__ import annotations

import re

import pytest

from app.extensions import db
from app.inspections import services
from app.inspections.models import InspectionRecord
from app.security import roles
from tests.conftest import PASSWORD
from tests.credit.conftest import refused  # noqa: F401  (fixture)
from tests.directory.conftest import acting, conflict, directory  # noqa: F401  (fixtures)
from tests.inspections.conftest import inspected  # noqa: F401  (fixture)
from tests.planning.conftest import plan  # noqa: F401  (fixture)
from tests.security.access_matrix import MISSING
from tests.security.test_row_matrix import (  # noqa: F401  (fixture)
    _fill,
    _methods,
    _own_row,
    _routes_with_rows,
    files_and_conflict,
)

_FLASHES = re.compile(r'class="alert[^"]*"[^>]*>(.*?)</div>', re.S)


@pytest.fixture
def inspector_b(app, world):
    """An Inspector of department B, in no group of department A's task."""
    from app.security.models import Department

    with app.app_context():
        sm = app.appbuilder.sm
        user = sm.add_user(
            username="inspector_b",
            first_name="inspector_b",
            last_name="测试",
            email="inspector_b@test.invalid",
            role=sm.find_role(roles.INSPECTOR),
            password=PASSWORD,
        )
        user.departments = [db.session.get(Department, world.dept_b)]
        db.session.commit()
        return user.id


def _answer(client, url, method):
    kwargs = {"json": {}} if url.startswith("/api/") else {"data": {}}
    response = client.open(url, method=method, **kwargs)
    location = response.headers.get("Location", "")
    flashed = ""
    if response.status_code in (301, 302) and not url.startswith("/api/"):
        page = client.get(location)
        flashed = " ".join(m.strip() for m in _FLASHES.findall(page.get_data(as_text=True)))
    return response.status_code, location, flashed


def test_rows_of_another_department_answer_like_missing_ones(
    app, world, files_and_conflict, refused, inspector_b, login_as, monkeypatch  # noqa: F811
):
    with acting(app, "inspector_a"):
        services.open_summary(db.session.get(InspectionRecord, refused.record).task)
        db.session.commit()
    monkeypatch.setitem(app.config, "WTF_CSRF_CHECK_DEFAULT", False)
    clients = {name: login_as(name) for name in ("operator_b", "inspector_b")}
    rows, differ, compared = {}, [], 0
    for rule, url, models, _resource, _permission in _routes_with_rows(app):
        values = {}
        for arg, model in models.items():
            if model not in rows:
                rows[model] = _own_row(app, model) if model is not None else None
            values[arg] = rows[model]
        if None in values.values():
            continue
        existing = _fill(url, values)
        missing = _fill(url, dict.fromkeys(values, MISSING))
        for method in _methods(rule):
            for name, client in clients.items():
                got, expected = _answer(client, existing, method), _answer(client, missing, method)
                compared += 1
                if got != expected:
                    differ.append(f"{name} {method} {existing}: {got} / missing: {expected}")
    assert not differ, "\n".join(differ)
    assert compared > 300, compared


def test_a_plan_names_no_item_of_another_department(app, world, directory, plan, login_as):  # noqa: F811
    """The exemption form of one's own plan with another department's draft item: missing."""
    from tests.directory.conftest import new_item

    with acting(app, "operator_b"):
        draft_b = new_item("B-009", world.dept_b)
        db.session.commit()
        draft_id = draft_b.id
    client = login_as("leader_a")
    existing = client.get(f"/plan-workflow/{plan}/exempt/{draft_id}")
    missing = client.get(f"/plan-workflow/{plan}/exempt/{MISSING}")
    assert missing.status_code == 404
    assert existing.status_code == 404
    assert "B-009" not in existing.get_data(as_text=True)
