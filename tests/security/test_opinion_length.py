"""An opinion (意见) typed into a decision is a few sentences: longer than 2000 characters is
refused in Chinese and nothing is decided; the Operator's home page shows the start of it, under
a label that does not name the wrong leader (second probe of issue 17)."""

from app.core.decisions import MAX_OPINION
from app.extensions import db
from app.planning.models import SpotCheckTask
from tests.directory.conftest import directory  # noqa: F401  (fixture)
from tests.security.test_action_confirmation import _pending_task


def _refuse(app, api_token, task_id, opinion):
    headers = {"Authorization": f"Bearer {api_token('leader_a')}"}
    return app.test_client().post(
        f"/api/v1/task/{task_id}/reject", json={"opinion": opinion}, headers=headers
    )


def test_an_overlong_opinion_is_refused_and_decides_nothing(app, world, directory, api_token):  # noqa: F811
    task_id = _pending_task(app, world, directory)
    response = _refuse(app, api_token, task_id, "长" * 200_000)
    assert response.status_code == 422
    assert (
        "意见过长" in response.get_json()["message"]
        and str(MAX_OPINION) in response.get_json()["message"]
    )
    with app.app_context():
        assert db.session.get(SpotCheckTask, task_id).approval == "pending"


def test_the_home_page_shows_the_start_of_a_long_opinion(
    app,
    world,
    directory,  # noqa: F811
    api_token,
    login_as,
):
    task_id = _pending_task(app, world, directory)
    opinion = "不予批准的理由" + "很长" * 900
    assert len(opinion) <= MAX_OPINION
    assert _refuse(app, api_token, task_id, opinion).status_code == 200
    page = login_as("operator_a").get("/").get_data(as_text=True)
    assert "被领导否决的计划外检查" in page and "分管领导否决" not in page
    assert "意见：不予批准的理由很长" in page and "…" in page
    assert "很长" * 100 not in page
