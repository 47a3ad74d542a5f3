"""A uniqueness check tells who holds the value only where the user may see the holder: the
roster and the directory of another department are not readable through refusals (second
probe of issue 15). An inspector's login is an Inspector's account of the user's departments."""

import datetime as dt

from app.directory.models import Inspector, Target
from app.extensions import db
from tests.directory.conftest import acting, directory, uscc  # noqa: F401  (fixture)


def _bearer(api_token, user):
    return {"Authorization": f"Bearer {api_token(user)}"}


def _inspector(**kw):
    values = dict(
        name="新来的检查员",
        department=None,
        certificate_no="C-NEW-1",
        certificate_expiry=(dt.date.today() + dt.timedelta(days=300)).isoformat(),
        status="在岗",
    )
    values.update(kw)
    return values


def test_a_certificate_of_another_department_names_no_one(app, client, world, api_token, directory):  # noqa: F811
    headers = _bearer(api_token, "operator_a")
    body = _inspector(department=world.dept_a, certificate_no="C-B-1")  # 李海涛's, department B
    response = client.post("/api/v1/inspector/", json=body, headers=headers)
    assert response.status_code == 422
    message = response.get_json()["message"]
    assert "李海涛" not in message and "其他部门" in message
    # In its own department the holder is named: the Operator can go and look.
    body = _inspector(department=world.dept_a, certificate_no="C-A-1")
    message = client.post("/api/v1/inspector/", json=body, headers=headers).get_json()["message"]
    assert "王建国" in message


def test_a_code_of_another_departments_target_names_no_target(app, client, world, api_token, directory):  # noqa: F811
    with app.app_context():
        code = db.session.get(Target, directory.target_b).uscc
    response = client.post(
        "/api/v1/target/",
        json={
            "target_type": "企业",
            "name": "新公司",
            "uscc": code,
            "registration_status": "存续",
            "risk_class": "B",
            "department": world.dept_a,
        },
        headers=_bearer(api_token, "operator_a"),
    )
    assert response.status_code == 422
    assert "河湖砂石" not in response.get_json()["message"]


def test_an_inspector_is_linked_to_an_inspectors_login_of_the_department(app, login_as, world, directory):  # noqa: F811
    operator = login_as("operator_a")
    page = operator.get("/inspectors/add").get_data(as_text=True)
    # The choices: department A's Inspector account, not the Leaders' or the office's.
    assert ">测试inspector_a<" in page
    for name in ("leader_a", "leader", "jointoffice", "operator_b", "admin"):
        assert f">测试{name}<" not in page, name
    with acting(app, "operator_a"):
        from app.core.errors import DomainError
        from app.directory import services

        leader = app.appbuilder.sm.find_user(username="leader_a")
        candidate = Inspector(
            name="借用账号",
            department_id=world.dept_a,
            certificate_no="C-A-9",
            certificate_expiry=dt.date.today() + dt.timedelta(days=300),
            status="在岗",
            user=leader,
        )
        try:
            services.check_inspector(candidate)
        except DomainError as exc:
            assert "执法检查人员" in str(exc) or "Inspector" in str(exc)
        else:
            raise AssertionError("a Leader's login was linked to an inspector")
        db.session.rollback()
