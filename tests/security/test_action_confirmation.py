"""FAB list actions for irreversible steps ask on the server too (second probe of issue 17): a
POST of `action_post` (or `action/<name>/<pk>`) without confirm=1 answers the confirmation page
and does nothing; 确定 on that page (confirm=1, the same fields) runs the action; FAB's own
dialog sends confirm=1 (static/js/confirm_step.js)."""

import re
from pathlib import Path

from werkzeug.datastructures import MultiDict

from app.extensions import db
from app.planning import services as planning
from app.planning.models import SpotCheckTask
from tests.conftest import csrf_token_from
from tests.directory.conftest import acting, directory  # noqa: F401  (fixture)
from tests.planning.test_tasks import _out_of_plan


def _pending_task(app, world, directory):  # noqa: F811
    from app.directory.models import InspectionItem

    with acting(app, "operator_a"):
        item = db.session.get(InspectionItem, directory.item_a)
        task = planning.create_out_of_plan_task(_out_of_plan(world, directory, items=[item]))
        db.session.add(task)
        db.session.commit()
        return task.id


def _approval(app, task_id):
    with app.app_context():
        return db.session.get(SpotCheckTask, task_id).approval


def test_approve_tasks_without_confirmation_asks_and_does_nothing(
    app,
    world,
    directory,  # noqa: F811
    login_as,
):
    task_id = _pending_task(app, world, directory)
    leader = login_as("leader_a")
    token = csrf_token_from(leader, "/tasks/list/")
    data = {"csrf_token": token, "action": "approve_tasks", "rowid": [str(task_id)]}
    asked = leader.post("/tasks/action_post", data=data)
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200 and 'id="confirm-step"' in page
    assert "不能撤销" in page  # the action's own message, in Chinese
    assert 'name="action" value="approve_tasks"' in page and f'value="{task_id}"' in page
    assert _approval(app, task_id) == "pending"
    # The same by the single-row route, by POST or GET.
    assert 'id="confirm-step"' in leader.post(
        f"/tasks/action/approve_tasks/{task_id}", data={"csrf_token": token}
    ).get_data(as_text=True)
    leader.get(f"/tasks/action/approve_tasks/{task_id}")
    assert _approval(app, task_id) == "pending"
    # 确定 on the page: the form posted again with confirm=1.
    form = re.search(r'<form method="post" action="([^"]+)">(.*?)</form>', page, re.S)
    fields = re.findall(r'name="([^"]+)" value="([^"]*)"', form.group(2))
    answer = leader.post(form.group(1), data=MultiDict(fields))
    assert answer.status_code == 302
    assert _approval(app, task_id) == "approved"


def test_a_row_out_of_scope_is_still_a_404(app, world, directory, login_as):  # noqa: F811
    task_id = _pending_task(app, world, directory)
    other = login_as("operator_b")
    token = csrf_token_from(other, "/plans/add")
    response = other.post(
        "/tasks/action_post",
        data={"csrf_token": token, "action": "approve_tasks", "rowid": [str(task_id)]},
    )
    assert response.status_code == 404


def test_fabs_dialog_sends_confirm():
    script = Path("app/static/js/confirm_step.js").read_text(encoding="utf-8")
    assert "#modal-confirm-ok" in script and "action_form" in script and '"confirm"' in script
