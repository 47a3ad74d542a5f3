"""CSRF protection on forms and actions, sign-in, and pages closed to anonymous visitors."""

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.security.models import Department
from tests.conftest import PASSWORD, csrf_token_from, login
from tests.security.access_matrix import OPEN_ENDPOINTS
from tests.support.probe import ScopeProbe


def _department_count(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Department))


def test_form_post_without_csrf_token_is_refused_and_writes_nothing(app, login_as, world):
    client = login_as("admin")
    before = _department_count(app)
    response = client.post(
        "/departments/add",
        data={
            "name": "新科室",
            "code": "NEW",
            "kind": "section",
            "parent": world.bureau,
            "sort_order": 1,
            "active": "y",
        },
    )
    assert response.status_code == 400
    assert _department_count(app) == before
    # The page says what to do about it (a form left open too long), in Chinese.
    page = response.get_data(as_text=True)
    assert "页面已过期" in page and "刷新页面后重新提交" in page


def test_form_post_with_csrf_token_is_accepted(app, login_as, world):
    client = login_as("admin")
    token = csrf_token_from(client, "/departments/add")
    response = client.post(
        "/departments/add",
        data={
            "name": "新科室",
            "code": "NEW",
            "kind": "section",
            "parent": world.bureau,
            "sort_order": 1,
            "active": "y",
            "csrf_token": token,
        },
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Department).where(Department.code == "NEW")) is not None


def test_action_without_csrf_token_is_refused(app, login_as, world):
    with app.app_context():
        probe = ScopeProbe(name="p", department_id=world.dept_a)
        db.session.add(probe)
        db.session.commit()
        pk = probe.id
    client = login_as("operator_a")
    response = client.post("/probe/action_post", data={"action": "mark", "rowid": [pk]})
    assert response.status_code == 400
    response = client.post(f"/probe/action/mark/{pk}")
    assert response.status_code == 400
    with app.app_context():
        assert db.session.get(ScopeProbe, pk).marked == 0


def test_action_by_get_is_refused(app, login_as, world):
    with app.app_context():
        probe = ScopeProbe(name="p", department_id=world.dept_a)
        db.session.add(probe)
        db.session.commit()
        pk = probe.id
    login_as("operator_a").get(f"/probe/action/mark/{pk}")
    with app.app_context():
        assert db.session.get(ScopeProbe, pk).marked == 0


def test_login_without_csrf_token_is_refused(app, world):
    client = app.test_client()
    response = client.post("/login/", data={"username": "admin", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/departments/list/").status_code == 302


def test_wrong_password_does_not_sign_in(app, world):
    client = app.test_client()
    response = login(client, "admin", "wrong-password-1")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    assert client.get("/departments/list/").status_code == 302


def test_api_login_needs_no_csrf_but_a_password(app, world):
    client = app.test_client()
    ok = client.post(
        "/api/v1/security/login", json={"username": "admin", "password": PASSWORD, "provider": "db"}
    )
    assert ok.status_code == 200 and "access_token" in ok.get_json()
    bad = client.post(
        "/api/v1/security/login", json={"username": "admin", "password": "nope", "provider": "db"}
    )
    assert bad.status_code == 401


def _admin_get_urls(app):
    """Every GET page of the application that is not open by design, with ids filled in."""
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in OPEN_ENDPOINTS:
            continue
        if rule.endpoint.startswith("public."):
            continue  # the public disclosure pages are open by design
        if rule.rule.startswith("/api/"):
            continue
        url = rule.rule
        for arg in rule.arguments:
            url = url.replace(f"<{arg}>", "1")
            for converter in ("string", "int", "path"):
                url = url.replace(f"<{converter}:{arg}>", "1")
        urls.append(url)
    return sorted(set(urls))


def test_anonymous_visitor_is_sent_to_login_from_every_admin_page(app, world):
    client = app.test_client()
    urls = _admin_get_urls(app)
    assert len(urls) > 20
    for url in urls:
        response = client.get(url)
        assert response.status_code in (302, 404), (url, response.status_code)
        if response.status_code == 302:
            location = response.headers["Location"]
            # FAB's own security views answer a refused action with a redirect home.
            assert "/login" in location or ("/action/" in url and location == "/"), (url, location)
        else:
            # 404 only where the route refuses every caller whatever their rights: FAB's
            # download endpoint, and actions that the view does not have.
            assert "/download/" in url or "/action/" in url, url


def test_anonymous_gets_401_from_every_api_resource(app, world):
    client = app.test_client()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or "GET" not in rule.methods:
            continue
        if rule.endpoint in OPEN_ENDPOINTS:
            continue
        url = rule.rule.replace("<pk>", "1").replace("<int:pk>", "1")
        if "<" in url:
            continue
        assert client.get(url).status_code == 401, url


@pytest.mark.parametrize(
    "username, visible, hidden",
    [
        (
            "admin",
            ["部门", "节假日与调休", "导入日历", "区域（街道/镇）"],
            ["用户列表", "审计日志", "检查对象名录库", "随机抽查事项清单"],
        ),
        (
            "secadmin",
            ["用户列表", "角色列表"],
            ["区域（街道/镇）", "审计日志", "导入日历", "检查对象名录库"],
        ),
        ("auditor", ["审计日志"], ["用户列表", "区域（街道/镇）", "导入日历", "检查对象名录库"]),
        (
            "leader",
            ["部门", "审计日志", "随机抽查事项清单", "事项修订记录", "检查对象名录库"],
            ["用户列表", "导入日历"],
        ),
        (
            "operator_a",
            [
                "部门",
                "节假日与调休",
                "随机抽查事项清单",
                "执法检查人员名录库",
                "检查对象名录库",
                "回避关系",
                "年度抽查计划",
                "抽查任务",
            ],
            ["用户列表", "审计日志", "导入日历"],
        ),
        (
            "inspector_a",
            ["节假日与调休", "随机抽查事项清单", "回避关系"],
            [
                "用户列表",
                "审计日志",
                "导入日历",
                "组织机构",
                "检查对象名录库",
                "执法检查人员名录库",
                "年度抽查计划",
            ],
        ),
        (
            "jointoffice",
            ["部门", "随机抽查事项清单", "年度抽查计划", "完成情况统计"],
            ["用户列表", "审计日志", "导入日历", "检查对象名录库", "回避关系", "抽查任务"],
        ),
    ],
)
def test_each_role_sees_only_its_menus(login_as, username, visible, hidden):
    html = login_as(username).get("/").get_data(as_text=True)
    for label in visible:
        assert label in html, (username, label)
    for label in hidden:
        assert label not in html, (username, label)


def test_operator_cannot_manage_users_or_departments(app, login_as, world):
    client = login_as("operator_a")
    assert client.get("/users/list/").status_code == 403
    assert client.get("/departments/add").status_code == 403
    token = csrf_token_from(client, "/resetmypassword/form")
    before = _department_count(app)
    response = client.post(
        "/departments/add",
        data={
            "name": "x",
            "code": "X",
            "kind": "section",
            "parent": world.dept_a,
            "csrf_token": token,
        },
    )
    assert response.status_code == 403
    assert _department_count(app) == before
