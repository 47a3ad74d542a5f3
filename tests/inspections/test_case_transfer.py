"""Handing a rectification case over to the competent department (移交, 谁管辖谁负责; R11.4):
an explicit recorded step with a reason, which the receiving department sees; no longer a field
edit (issue 15, finding 2: `PUT /api/v1/rectification/<id> {"department": …}` handed a case to
any department)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from app.core.audit.models import AuditLog
from app.extensions import db
from app.inspections.models import CaseTransfer, RectificationCase
from tests.conftest import csrf_token_from
from tests.directory.conftest import directory  # noqa: F401  (fixture)
from tests.inspections.conftest import inspected  # noqa: F401  (fixture)
from tests.inspections.test_followup_archive import _record_with_problems
from tests.planning.conftest import plan  # noqa: F401  (fixture)


def _case(app, world, inspected, operator):  # noqa: F811
    record_id = _record_with_problems(app, inspected, "责令改正、跟踪整改")
    deadline = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    response = operator.post(
        "/api/v1/rectification/",
        json={
            "record": record_id,
            "department": world.dept_a,
            "requirement": "限期安装计量设施",
            "deadline": deadline,
        },
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def _department_of(app, case_id):
    with app.app_context():
        return db.session.get(RectificationCase, case_id).department_id


def test_the_department_is_no_field_of_the_case(app, world, inspected, login_as):  # noqa: F811
    operator = login_as("operator_a")
    case_id = _case(app, world, inspected, operator)
    for department in (world.dept_b, world.dept_a1):
        response = operator.put(f"/api/v1/rectification/{case_id}", json={"department": department})
        assert response.status_code == 422, response.get_json()
        assert response.get_json()["message"] == {"department": ["未知字段。"]}
    assert _department_of(app, case_id) == world.dept_a
    form = operator.get(f"/rectifications/edit/{case_id}").get_data(as_text=True)
    assert 'name="requirement"' in form and 'name="department"' not in form
    token = csrf_token_from(operator, f"/rectifications/edit/{case_id}")
    operator.post(
        f"/rectifications/edit/{case_id}",
        data={
            "csrf_token": token,
            "requirement": "限期安装",
            "deadline": (dt.date.today() + dt.timedelta(days=20)).isoformat(),
            "department": world.dept_b,
        },
    )
    assert _department_of(app, case_id) == world.dept_a


def test_a_handover_is_recorded_with_its_reason_and_seen_by_the_receiver(
    app,
    world,
    inspected,  # noqa: F811
    login_as,
):
    operator = login_as("operator_a")
    case_id = _case(app, world, inspected, operator)
    receiver = login_as("operator_b")
    assert receiver.get(f"/rectifications/show/{case_id}").status_code == 404
    url = f"/api/v1/rectification/{case_id}/transfer"
    for body, message in (
        ({"department_id": world.dept_b, "reason": " "}, "理由"),
        ({"department_id": 999999, "reason": "属河湖管理科管辖"}, "接收"),
        ({"department_id": world.dept_a, "reason": "属本科室管辖"}, "已由该部门"),
    ):
        response = operator.post(url, json=body)
        assert response.status_code == 422 and message in response.get_json()["message"], (
            body,
            response.get_json(),
        )
    with app.app_context():
        assert db.session.scalar(select(CaseTransfer.id)) is None
    assert _department_of(app, case_id) == world.dept_a

    response = operator.post(
        url, json={"department_id": world.dept_b, "reason": "属河湖管理科管辖"}
    )
    assert response.status_code == 200, response.get_json()
    assert _department_of(app, case_id) == world.dept_b
    with app.app_context():
        handover = db.session.scalar(select(CaseTransfer))
        assert (handover.from_department_id, handover.to_department_id, handover.reason) == (
            world.dept_a,
            world.dept_b,
            "属河湖管理科管辖",
        )
        assert db.session.scalar(
            select(AuditLog.id).where(
                AuditLog.action == "case_transfer", AuditLog.object_id == str(case_id)
            )
        )
    # The receiving department sees the case, the sender and the reason.
    page = receiver.get(f"/rectifications/show/{case_id}").get_data(as_text=True)
    assert "属河湖管理科管辖" in page and "水资源管理科" in page

    # It hands it back through the page form: a second recorded step.
    token = csrf_token_from(receiver, f"/rectifications/show/{case_id}")
    response = receiver.post(
        f"/rectification-workflow/{case_id}/transfer",
        data={"csrf_token": token, "department_id": str(world.dept_a), "reason": "系误移交"},
    )
    assert response.status_code == 302
    assert _department_of(app, case_id) == world.dept_a
    with app.app_context():
        assert db.session.scalars(select(CaseTransfer.reason).order_by(CaseTransfer.id)).all() == [
            "属河湖管理科管辖",
            "系误移交",
        ]
    # A word where the department belongs: refused, nothing written.
    token = csrf_token_from(operator, f"/rectifications/show/{case_id}")
    response = operator.post(
        f"/rectification-workflow/{case_id}/transfer",
        data={"csrf_token": token, "department_id": "河湖", "reason": "x"},
        follow_redirects=True,
    )
    assert "接收" in response.get_data(as_text=True)
    assert _department_of(app, case_id) == world.dept_a
