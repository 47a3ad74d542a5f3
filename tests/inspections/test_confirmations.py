"""Issue 17, finding 4: an irreversible step asks first, and a Leader's decision keeps an 意见.

Pages: a step that cannot be undone, posted without the dialog's confirm=1 (no JavaScript, or
a stray request), answers a confirmation page with the step's message and does nothing; a row
out of scope is still a 404. Decisions: the opinion is stored, shown on the row's page (to the
Operator whose plan was returned too), in the audit log, required to return or refuse, and the
REST endpoints take it as `opinion` without any confirm field.
"""

import json

from sqlalchemy import select

from app.core.audit.models import AuditLog
from app.core.decisions import Decision
from app.draws.models import Draw
from app.extensions import db
from app.inspections import services
from app.inspections.models import InspectionSummary
from app.planning import services as planning
from app.planning.models import AnnualPlan, SpotCheckTask
from tests.conftest import csrf_token_from
from tests.directory.conftest import acting
from tests.inspections.conftest import summary_submitted
from tests.planning.test_tasks import _out_of_plan

PUBLISH_MESSAGE = "公示后检查结果将在公开网站发布，不能撤回"


def _ready_to_publish(app, inspected):
    """Every record reviewed and the summary submitted: the Leader's approval comes next."""
    return summary_submitted(app, inspected)


def _task_status(app, task_id):
    with app.app_context():
        return db.session.get(SpotCheckTask, task_id).status


def test_publishing_the_results_asks_first_and_does_nothing_unconfirmed(app, inspected, login_as):
    summary_id = _ready_to_publish(app, inspected)
    with acting(app, "leader_a"):
        services.decide_summary(db.session.get(InspectionSummary, summary_id), True, "")
        db.session.commit()
    operator = login_as("operator_a")
    page = operator.get(f"/tasks/show/{inspected.task}").get_data(as_text=True)
    # The button's form carries the dialog's message.
    assert 'id="publish-results"' in page and PUBLISH_MESSAGE in page
    token = csrf_token_from(operator, f"/tasks/show/{inspected.task}")
    url = f"/task-results/{inspected.task}/publish"
    # Another department's Operator: a 404, as for a missing task, not the confirmation page.
    other = login_as("operator_b")
    other_token = csrf_token_from(other, "/plans/add")
    assert other.post(url, data={"csrf_token": other_token}).status_code == 404
    asked = operator.post(url, data={"csrf_token": token})
    text = asked.get_data(as_text=True)
    assert asked.status_code == 200 and PUBLISH_MESSAGE in text and "请确认" in text
    assert 'name="confirm" value="1"' in text and f'action="{url}"' in text
    assert _task_status(app, inspected.task) == "results_entered"
    done = operator.post(url, data={"csrf_token": token, "confirm": "1"})
    assert done.status_code == 302
    assert _task_status(app, inspected.task) == "published"


def test_draws_plan_publication_and_filing_ask_first(app, world, directory, plan, login_as):
    operator = login_as("operator_a")
    token = csrf_token_from(operator, f"/plans/show/{plan}")
    with acting(app, "operator_a"):
        p = db.session.get(AnnualPlan, plan)
        planning.submit_plan(p)
        db.session.commit()
    with acting(app, "leader_a"):
        planning.approve_plan(db.session.get(AnnualPlan, plan))
        db.session.commit()
    page = operator.get(f"/plans/show/{plan}").get_data(as_text=True)
    assert "公开网站发布该计划，发布后不能撤回" in page  # the publish button's dialog
    for step, status in (("publish", "published"), ("filing", "filed")):
        asked = operator.post(f"/plan-workflow/{plan}/{step}", data={"csrf_token": token})
        assert asked.status_code == 200 and "不能" in asked.get_data(as_text=True)
        with app.app_context():
            assert db.session.get(AnnualPlan, plan).status != status
        operator.post(f"/plan-workflow/{plan}/{step}", data={"csrf_token": token, "confirm": "1"})
        with app.app_context():
            assert db.session.get(AnnualPlan, plan).status == status
    # The witnessed draw's first step publishes a commitment: asked first, nothing frozen.
    with acting(app, "operator_a"):
        task = planning.create_task_from_line(db.session.get(AnnualPlan, plan).lines[0])
        db.session.add(task)
        db.session.commit()
        task_id = task.id
    url = f"/task-draw/{task_id}/witnessed"
    asked = operator.post(url, data={"csrf_token": token, "witnesses": "张监督、李监督"})
    assert asked.status_code == 200 and "摇号公示台账中发布，不能撤回" in asked.get_data(
        as_text=True
    )
    # The fields typed are carried on to the confirmation.
    assert 'name="witnesses" value="张监督、李监督"' in asked.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Draw.id).where(Draw.task_id == task_id)) is None
    asked = operator.post(f"/task-draw/{task_id}/targets", data={"csrf_token": token})
    assert asked.status_code == 200 and "不能重做" in asked.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Draw.id).where(Draw.task_id == task_id)) is None


def test_a_plan_decision_keeps_its_opinion_and_a_return_needs_one(
    app, world, plan, login_as, api_token
):
    with acting(app, "operator_a"):
        planning.submit_plan(db.session.get(AnnualPlan, plan))
        db.session.commit()
    headers = {"Authorization": f"Bearer {api_token('leader_a')}"}
    refused = app.test_client().post(f"/api/v1/plan/{plan}/return", json={}, headers=headers)
    assert refused.status_code == 422 and "说明" in refused.get_json()["message"]
    returned = app.test_client().post(
        f"/api/v1/plan/{plan}/return", json={"opinion": "补充重点监管对象比例"}, headers=headers
    )
    assert returned.status_code == 200, returned.get_json()
    # The Operator whose plan was returned reads why on the plan's page.
    page = login_as("operator_a").get(f"/plans/show/{plan}").get_data(as_text=True)
    assert "领导审批决定及意见" in page and "补充重点监管对象比例" in page and "已退回" in page
    with acting(app, "operator_a"):
        planning.submit_plan(db.session.get(AnnualPlan, plan))
        db.session.commit()
    # The page's approve form takes an optional opinion.
    leader = login_as("leader_a")
    token = csrf_token_from(leader, f"/plans/show/{plan}")
    leader.post(
        f"/plan-workflow/{plan}/approve", data={"csrf_token": token, "opinion": "同意，按期发布"}
    )
    with app.app_context():
        assert db.session.get(AnnualPlan, plan).status == "approved"
        rows = db.session.scalars(
            select(Decision)
            .where(Decision.object_type == "annual_plan", Decision.object_id == plan)
            .order_by(Decision.id)
        ).all()
        assert [(d.decision, d.opinion) for d in rows] == [
            ("returned", "补充重点监管对象比例"),
            ("approved", "同意，按期发布"),
        ]
        logged = db.session.scalars(
            select(AuditLog)
            .where(AuditLog.object_type == "decision", AuditLog.action == "create")
            .order_by(AuditLog.seq)
        ).all()
        opinions = [json.loads(a.changes)["opinion"][1] for a in logged]
        assert opinions == ["补充重点监管对象比例", "同意，按期发布"]
    page = login_as("operator_a").get(f"/plans/show/{plan}").get_data(as_text=True)
    assert "同意，按期发布" in page and "已批准" in page


def test_a_check_outside_the_plan_is_decided_with_an_opinion(
    app, world, directory, login_as, api_token
):
    from app.directory.models import InspectionItem

    with acting(app, "operator_a"):
        item = db.session.get(InspectionItem, directory.item_a)
        task = planning.create_out_of_plan_task(_out_of_plan(world, directory, items=[item]))
        db.session.add(task)
        db.session.commit()
        task_id = task.id
    headers = {"Authorization": f"Bearer {api_token('leader_a')}"}
    refused = app.test_client().post(f"/api/v1/task/{task_id}/reject", json={}, headers=headers)
    assert refused.status_code == 422 and "说明" in refused.get_json()["message"]
    leader = login_as("leader_a")
    page = leader.get(f"/tasks/show/{task_id}").get_data(as_text=True)
    assert 'id="task-decision"' in page and "意见（不予批准时必填）" in page
    token = csrf_token_from(leader, f"/tasks/show/{task_id}")
    url = f"/task-approval/{task_id}/decide"
    # A refusal without its opinion is refused at once, in Chinese; nothing changes.
    response = leader.post(
        url, data={"csrf_token": token, "decision": "reject", "confirm": "1"}, follow_redirects=True
    )
    assert "说明" in response.get_data(as_text=True)
    # Unconfirmed: the confirmation page, nothing decided.
    asked = leader.post(url, data={"csrf_token": token, "decision": "approve", "opinion": "同意"})
    assert asked.status_code == 200 and "决定不能更改" in asked.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(SpotCheckTask, task_id).approval == "pending"
    leader.post(
        url,
        data={
            "csrf_token": token,
            "decision": "approve",
            "opinion": "同意，尽快实施",
            "confirm": "1",
        },
    )
    with app.app_context():
        assert db.session.get(SpotCheckTask, task_id).approval == "approved"
    page = login_as("operator_a").get(f"/tasks/show/{task_id}").get_data(as_text=True)
    assert "同意，尽快实施" in page and "已批准" in page
    # An Operator has no right to decide.
    operator = login_as("operator_a")
    operator_token = csrf_token_from(operator, f"/tasks/show/{task_id}")
    response = operator.post(url, data={"csrf_token": operator_token, "decision": "approve"})
    assert response.status_code == 403


def test_summary_approval_asks_first_and_keeps_the_opinion(app, inspected, login_as, api_token):
    summary_id = _ready_to_publish(app, inspected)
    leader = login_as("leader_a")
    page = leader.get(f"/summaries/show/{summary_id}").get_data(as_text=True)
    assert "批准后的小结不能退回或修改" in page and "意见（选填）" in page
    token = csrf_token_from(leader, f"/summaries/show/{summary_id}")
    url = f"/summary-workflow/{summary_id}/approve"
    assert leader.post(url, data={"csrf_token": token, "opinion": "同意"}).status_code == 200
    with app.app_context():
        assert db.session.get(InspectionSummary, summary_id).status == "submitted"
    # REST: a return needs its opinion (no confirm field there).
    headers = {"Authorization": f"Bearer {api_token('leader_a')}"}
    refused = app.test_client().post(
        f"/api/v1/summary/{summary_id}/return", json={"opinion": " "}, headers=headers
    )
    assert refused.status_code == 422
    leader.post(url, data={"csrf_token": token, "opinion": "同意公示", "confirm": "1"})
    with app.app_context():
        summary = db.session.get(InspectionSummary, summary_id)
        assert summary.status == "approved" and summary.versions[-1].comment == "同意公示"
    page = login_as("inspector_a").get(f"/summaries/show/{summary_id}").get_data(as_text=True)
    assert "同意公示" in page
