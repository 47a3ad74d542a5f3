"""A REST body names related rows by id: an id that names no row, and one of a row outside the
user's scope, get the same 400 (FAB made a new, empty related row for a missing id, and the
insert failed with a 500; a row of another department was linked)."""

import pytest
from sqlalchemy import func, select

from app.directory.models import Conflict, Inspector, Target, target_item
from app.extensions import db
from tests.directory.conftest import directory  # noqa: F401  (fixture)


def _bearer(api_token, user):
    return {"Authorization": f"Bearer {api_token(user)}"}


def _count(app, table):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(table))


@pytest.mark.parametrize("which", ["missing", "other department"])
def test_a_conflict_names_an_inspector_the_operator_may_see(app, client, api_token, directory, which):  # noqa: F811
    inspector = 10**6 if which == "missing" else directory.inspector_b
    before = _count(app, Conflict.__table__)
    response = client.post(
        "/api/v1/conflict/",
        json={
            "inspector": inspector,
            "target": directory.target_a,
            "reason": "亲属关系",
            "valid_from": "2026-01-01",
        },
        headers=_bearer(api_token, "operator_a"),
    )
    assert response.status_code == 400, response.get_json()
    assert f"编号为 {inspector} 的记录不存在" in response.get_json()["message"]
    assert _count(app, Conflict.__table__) == before


@pytest.mark.parametrize("which", ["missing", "other department"])
def test_a_target_links_items_the_operator_may_see(app, client, api_token, directory, which):  # noqa: F811
    item = 10**6 if which == "missing" else directory.item_b
    before = _count(app, target_item)
    response = client.put(
        f"/api/v1/target/{directory.target_a}",
        json={"items": [directory.item_a, item]},
        headers=_bearer(api_token, "operator_a"),
    )
    assert response.status_code == 400, response.get_json()
    assert _count(app, target_item) == before
    with app.app_context():
        assert db.session.get(Target, directory.target_a).items == []
        assert db.session.scalar(select(func.count()).select_from(Inspector)) == 2


def test_the_own_rows_still_link(app, client, api_token, directory):  # noqa: F811
    response = client.put(
        f"/api/v1/target/{directory.target_a}",
        json={"items": [directory.item_a]},
        headers=_bearer(api_token, "operator_a"),
    )
    assert response.status_code == 200, response.get_json()
