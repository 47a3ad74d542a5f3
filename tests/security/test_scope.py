"""Department scope on every path (X2): a user of department A never reaches a row of
department B — not in a list, a detail page, an edit form, a delete, an action or the REST API —
and gets 404, as if the row did not exist."""

import pytest

from app.extensions import db
from tests.conftest import csrf_token_from
from tests.support.probe import ScopeProbe


@pytest.fixture
def probes(app, world):
    with app.app_context():
        rows = {
            "a": ScopeProbe(name="probe-of-A", department_id=world.dept_a),
            "a1": ScopeProbe(name="probe-of-A1", department_id=world.dept_a1),
            "b": ScopeProbe(name="probe-of-B", department_id=world.dept_b),
        }
        db.session.add_all(rows.values())
        db.session.commit()
        return {key: row.id for key, row in rows.items()}


def _marked(app, pk):
    with app.app_context():
        return db.session.get(ScopeProbe, pk).marked


def test_list_shows_own_department_and_below_only(login_as, probes):
    html = login_as("operator_a").get("/probe/list/").get_data(as_text=True)
    assert "probe-of-A" in html
    assert "probe-of-A1" in html
    assert "probe-of-B" not in html


def test_show_of_other_department_is_404(login_as, probes):
    client = login_as("operator_a")
    assert client.get(f"/probe/show/{probes['a']}").status_code == 200
    assert client.get(f"/probe/show/{probes['b']}").status_code == 404


def test_edit_of_other_department_is_404_and_changes_nothing(app, login_as, probes):
    client = login_as("operator_a")
    assert client.get(f"/probe/edit/{probes['b']}").status_code == 404
    token = csrf_token_from(client, f"/probe/edit/{probes['a']}")
    response = client.post(
        f"/probe/edit/{probes['b']}",
        data={"name": "stolen", "department_id": probes["b"], "csrf_token": token},
    )
    assert response.status_code == 404
    with app.app_context():
        assert db.session.get(ScopeProbe, probes["b"]).name == "probe-of-B"


def test_delete_of_other_department_is_404(app, login_as, probes):
    client = login_as("operator_a")
    token = csrf_token_from(client, f"/probe/edit/{probes['a']}")
    response = client.post(f"/probe/delete/{probes['b']}", data={"csrf_token": token, "confirm": "1"})
    assert response.status_code == 404
    with app.app_context():
        assert db.session.get(ScopeProbe, probes["b"]) is not None


def test_single_action_on_other_department_is_404(app, login_as, probes):
    client = login_as("operator_a")
    token = csrf_token_from(client, f"/probe/edit/{probes['a']}")
    response = client.post(f"/probe/action/mark/{probes['b']}", data={"csrf_token": token, "confirm": "1"})
    assert response.status_code == 404
    assert _marked(app, probes["b"]) == 0
    response = client.post(f"/probe/action/mark/{probes['a']}", data={"csrf_token": token, "confirm": "1"})
    assert response.status_code == 302
    assert _marked(app, probes["a"]) == 1


def test_bulk_action_with_a_row_of_other_department_is_404_and_marks_nothing(app, login_as, probes):
    client = login_as("operator_a")
    token = csrf_token_from(client, f"/probe/edit/{probes['a']}")
    response = client.post(
        "/probe/action_post",
        data={
            "action": "mark",
            "rowid": [probes["a"], probes["b"]],
            "csrf_token": token,
            "confirm": "1",
        },
    )
    assert response.status_code == 404
    assert _marked(app, probes["a"]) == 0
    assert _marked(app, probes["b"]) == 0


def test_unknown_action_is_404_not_500(login_as, probes):
    client = login_as("operator_a")
    token = csrf_token_from(client, f"/probe/edit/{probes['a']}")
    response = client.post(
        "/probe/action_post", data={"action": "nope", "rowid": [probes["a"]], "csrf_token": token}
    )
    assert response.status_code == 404


def test_rest_get_list_put_delete_respect_scope(app, api_token, probes):
    client = app.test_client()
    headers = {"Authorization": f"Bearer {api_token('operator_a')}"}
    listing = client.get("/api/v1/probe/", headers=headers).get_json()
    names = {row["name"] for row in listing["result"]}
    assert names == {"probe-of-A", "probe-of-A1"}
    assert listing["count"] == 2
    assert client.get(f"/api/v1/probe/{probes['a']}", headers=headers).status_code == 200
    assert client.get(f"/api/v1/probe/{probes['b']}", headers=headers).status_code == 404
    put = client.put(f"/api/v1/probe/{probes['b']}", json={"name": "x"}, headers=headers)
    assert put.status_code == 404
    assert client.delete(f"/api/v1/probe/{probes['b']}", headers=headers).status_code == 404
    with app.app_context():
        assert db.session.get(ScopeProbe, probes["b"]).name == "probe-of-B"


def test_other_operator_sees_only_their_department(login_as, probes):
    html = login_as("operator_b").get("/probe/list/").get_data(as_text=True)
    assert "probe-of-B" in html
    assert "probe-of-A" not in html


def test_department_list_is_scoped_too(login_as, world):
    html = login_as("operator_a").get("/departments/list/").get_data(as_text=True)
    assert "水资源管理科" in html and "节约用水办公室" in html
    assert "河湖管理科" not in html
    client = login_as("operator_a")
    assert client.get(f"/departments/show/{world.dept_b}").status_code == 404
    assert client.get(f"/departments/show/{world.dept_a1}").status_code == 200


def test_department_rest_get_is_scoped(app, api_token, world):
    client = app.test_client()
    headers = {"Authorization": f"Bearer {api_token('operator_a')}"}
    assert client.get(f"/api/v1/department/{world.dept_b}", headers=headers).status_code == 404
    ids = {
        row["id"] for row in client.get("/api/v1/department/", headers=headers).get_json()["result"]
    }
    assert ids == {world.dept_a, world.dept_a1}


@pytest.mark.parametrize("username", ["admin", "leader", "jointoffice"])
def test_global_roles_see_every_department(login_as, world, username):
    html = login_as(username).get("/departments/list/").get_data(as_text=True)
    for name in ("东胜区水利局", "水资源管理科", "节约用水办公室", "河湖管理科"):
        assert name in html


def test_department_leader_sees_only_their_branch(login_as, world):
    html = login_as("leader_a").get("/departments/list/").get_data(as_text=True)
    assert "节约用水办公室" in html
    assert "河湖管理科" not in html


def test_anonymous_and_api_without_token_see_nothing(app, world):
    client = app.test_client()
    assert client.get("/api/v1/department/").status_code == 401
    response = client.get("/departments/list/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
