"""Issue 15, finding 5: the REST API accepts the browser's session cookie, so a write through it
must carry the page's CSRF token; a program with its JWT needs none."""

from app.extensions import db
from app.planning.models import AnnualPlan
from tests.conftest import csrf_token_from, login
from tests.directory.conftest import directory  # noqa: F401  (fixture)
from tests.planning.conftest import plan  # noqa: F401  (fixture)


def _signed_in(app, username):
    """A browser signed in as `username`, without our pages' scripts: what another site can
    make that browser send."""
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client


def _status(app, pk):
    with app.app_context():
        return db.session.get(AnnualPlan, pk).status


def test_cross_site_form_post_with_the_session_cookie_is_refused(app, world, plan):  # noqa: F811
    operator = _signed_in(app, "operator_a")
    response = operator.post(
        f"/api/v1/plan/{plan}/submit",
        data={"x": "1"},
        headers={"Origin": "http://evil.example"},
    )
    assert response.status_code == 400
    assert "CSRF" in response.get_json()["message"]
    assert "令牌" in response.get_json()["message"]
    assert _status(app, plan) == "draft"
    # JSON without the token is refused as well (a page of another site can send that too,
    # as text/plain, and the check must not depend on the content type).
    response = operator.post(f"/api/v1/plan/{plan}/submit", json={})
    assert response.status_code == 400
    assert _status(app, plan) == "draft"
    # PUT and DELETE too.
    assert operator.put(f"/api/v1/plan/{plan}", json={"title": "改"}).status_code == 400
    assert operator.delete(f"/api/v1/plan/{plan}").status_code == 400
    with app.app_context():
        assert db.session.get(AnnualPlan, plan).title != "改"


def test_the_page_token_lets_the_session_write(app, world, plan):  # noqa: F811
    operator = _signed_in(app, "operator_a")
    token = csrf_token_from(operator, "/resetmypassword/form")
    response = operator.post(f"/api/v1/plan/{plan}/submit", json={}, headers={"X-CSRFToken": token})
    assert response.status_code == 200, response.get_json()
    assert _status(app, plan) == "submitted"


def test_jwt_clients_need_no_csrf_token(app, api_token, plan):  # noqa: F811
    headers = {"Authorization": f"Bearer {api_token('operator_a')}"}
    response = app.test_client().post(f"/api/v1/plan/{plan}/submit", headers=headers)
    assert response.status_code == 200
    assert _status(app, plan) == "submitted"


def test_reading_with_the_session_needs_no_token(login_as, plan):  # noqa: F811
    assert login_as("operator_a").get(f"/api/v1/plan/{plan}").status_code == 200
