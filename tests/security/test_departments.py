"""The department tree: one bureau at the root, no cycles, nothing deleted that still has
members; the same rules on the form and the REST API, refused with a Chinese message."""

from sqlalchemy import func, select

from app.extensions import db
from app.security.models import Department
from tests.conftest import csrf_token_from


def _count(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Department))


def test_api_refuses_a_second_root_with_422_and_a_chinese_message(app, api_token, world):
    client = app.test_client()
    headers = {"Authorization": f"Bearer {api_token('admin')}"}
    before = _count(app)
    response = client.post(
        "/api/v1/department/",
        json={"name": "另一个局", "code": "X", "kind": "bureau"},
        headers=headers,
    )
    assert response.status_code == 422
    assert "只有局机关没有上级部门" in response.get_json()["message"]
    assert _count(app) == before


def test_api_creates_a_department_below_the_bureau(app, api_token, world):
    client = app.test_client()
    headers = {"Authorization": f"Bearer {api_token('admin')}"}
    response = client.post(
        "/api/v1/department/",
        json={"name": "水土保持站", "code": "STBC", "kind": "unit", "parent": world.bureau},
        headers=headers,
    )
    assert response.status_code == 201, response.get_json()
    shown = client.get(f"/api/v1/department/{response.get_json()['id']}", headers=headers)
    assert shown.get_json()["result"]["parent"]["name"] == "东胜区水利局"


def test_api_refuses_a_cycle(app, api_token, world):
    client = app.test_client()
    headers = {"Authorization": f"Bearer {api_token('admin')}"}
    response = client.put(
        f"/api/v1/department/{world.dept_a}", json={"parent": world.dept_a1}, headers=headers
    )
    assert response.status_code == 422
    assert "下级" in response.get_json()["message"]
    with app.app_context():
        assert db.session.get(Department, world.dept_a).parent_id == world.bureau


def test_form_refuses_deleting_a_department_with_users_and_says_why(app, login_as, world):
    client = login_as("admin")
    token = csrf_token_from(client, "/departments/add")
    response = client.post(
        f"/departments/delete/{world.dept_b}", data={"csrf_token": token}, follow_redirects=True
    )
    assert "该部门仍有用户" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Department, world.dept_b) is not None


def test_operator_cannot_write_departments_through_the_api(app, api_token, world):
    client = app.test_client()
    headers = {"Authorization": f"Bearer {api_token('operator_a')}"}
    before = _count(app)
    response = client.post(
        "/api/v1/department/",
        json={"name": "x", "code": "X", "kind": "section", "parent": world.dept_a},
        headers=headers,
    )
    assert response.status_code == 403
    assert _count(app) == before


def test_rest_never_returns_password_hashes(app, api_token, world):
    client = app.test_client()
    headers = {"Authorization": f"Bearer {api_token('admin')}"}
    text = client.get(f"/api/v1/department/{world.bureau}", headers=headers).get_data(as_text=True)
    assert "password" not in text and "pbkdf2" not in text
