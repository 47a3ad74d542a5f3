"""三员分立 (issue 20, part 1; GB/T 22239-2019 level 3): the system administrator (Admin:
departments, areas, calendar), the security administrator (accounts, roles, password resets)
and the audit administrator (everyone's audit log) are three accounts; none holds two of the
roles or a business role, none widens its own rights, and the administrator accounts are made
and changed on the server's command line only. Refusals write nothing."""

import re

import pytest
from flask import g
from sqlalchemy import select

from app.core.audit.models import AuditLog
from app.core.errors import DomainError
from app.extensions import db
from app.security import roles
from app.security.models import User
from app.security.system_user import acting_as_system
from tests.conftest import PASSWORD, csrf_token_from, login
from tests.support.accounts import user_form

NEW_PASSWORD = "river-2027-spring"


def _signs_in(app, username, password) -> bool:
    client = app.test_client()
    login(client, username, password)
    return client.get("/users/userinfo/").status_code == 200


def _role_names(app, username):
    with app.app_context():
        user = app.appbuilder.sm.find_user(username=username)
        return sorted(r.name for r in user.roles)


def _role_id(app, name):
    with app.app_context():
        return app.appbuilder.sm.find_role(name).id


def test_each_administrator_does_only_its_share(login_as, world):
    admin, secadmin, auditor = login_as("admin"), login_as("secadmin"), login_as("auditor")
    assert admin.get("/departments/list/").status_code == 200
    for page in ("/users/list/", "/roles/list/", "/audit/list/"):
        assert admin.get(page).status_code == 403, page
    assert secadmin.get("/users/list/").status_code == 200
    for page in ("/departments/list/", "/holidays/list/", "/audit/list/", "/tasks/list/"):
        assert secadmin.get(page).status_code == 403, page
    assert auditor.get("/audit/list/").status_code == 200
    for page in ("/users/list/", "/departments/list/", "/departments/add", "/targets/list/"):
        assert auditor.get(page).status_code == 403, page


def test_the_audit_administrator_reads_the_other_administrators_entries(app, login_as, world):
    secadmin = login_as("secadmin")
    token = csrf_token_from(secadmin, "/users/add")
    data = user_form(app, "inspector_a", [roles.INSPECTOR], first_name="国强", csrf_token=token)
    assert secadmin.post(f"/users/edit/{world.user('inspector_a')}", data=data).status_code == 302
    with app.app_context():
        entry = db.session.scalars(
            select(AuditLog).where(
                AuditLog.username == "secadmin",
                AuditLog.object_type == "ab_user",
                AuditLog.action == "update",
            )
        ).first()
    page = login_as("auditor").get(f"/audit/show/{entry.id}").get_data(as_text=True)
    assert "国强" in page and "不予显示" not in page
    listing = login_as("auditor").get("/audit/list/").get_data(as_text=True)
    assert "secadmin" in listing or "测试" in listing


def test_an_administrator_role_is_not_given_through_the_pages(app, login_as, world):
    secadmin = login_as("secadmin")
    form = secadmin.get("/users/add").get_data(as_text=True)
    assert "安全管理员" not in form and "审计管理员" not in form and "系统管理员" not in form
    token = csrf_token_from(secadmin, "/users/add")
    for role in (roles.ADMIN, roles.AUDIT_ADMIN, roles.SECURITY_ADMIN):
        data = user_form(app, "inspector_a", [roles.INSPECTOR, role], csrf_token=token)
        secadmin.post(f"/users/edit/{world.user('inspector_a')}", data=data)
        assert _role_names(app, "inspector_a") == [roles.INSPECTOR], role


_OPTION = re.compile(r'<option[^>]*value="(\d+)"[^>]*>([^<]*)</option>')


def _role_options(page: str) -> list[str]:
    picker = re.search(r'<select[^>]*id="roles".*?</select>', page, re.S)
    assert picker, "no role picker"
    return [label.strip() for _pk, label in _OPTION.findall(picker.group(0))]


def test_the_role_picker_names_the_roles_in_chinese_and_offers_no_public(app, login_as, world):
    """Probe finding: the picker showed Leader, Operator, Inspector, JointOffice and Public
    while the list shows 局领导 …; Public (the anonymous visitors' role) is nobody's."""
    secadmin = login_as("secadmin")
    expected = ["局领导/分管领导", "业务管理员", "执法检查人员", "联席会议办公室"]
    for url in ("/users/add", f"/users/edit/{world.user('operator_a')}"):
        page = secadmin.get(url).get_data(as_text=True)
        options = _role_options(page)
        # Roles made in the role editor keep their own names (another test may leave one).
        assert set(expected) <= set(options), (url, options)
        assert not {*roles.BUSINESS_ROLES, roles.PUBLIC} & set(options), (url, options)
    with app.app_context():
        public = app.appbuilder.sm.find_role(roles.PUBLIC) or app.appbuilder.sm.add_role(
            roles.PUBLIC
        )
        public_id = public.id
    token = csrf_token_from(secadmin, "/users/add")
    data = user_form(app, "inspector_a", [roles.INSPECTOR], csrf_token=token)
    data["roles"].append(public_id)
    page = secadmin.post(f"/users/edit/{world.user('inspector_a')}", data=data)
    assert _role_names(app, "inspector_a") == [roles.INSPECTOR]
    assert "Not a valid choice" not in page.get_data(as_text=True)


def test_the_security_administrator_cannot_take_over_another_administrator(app, login_as, world):
    secadmin = login_as("secadmin")
    auditor_id = world.user("auditor")
    # No password reset: he could then sign in as the auditor.
    response = secadmin.get(f"/resetpassword/form?pk={auditor_id}", follow_redirects=True)
    assert "在服务器上设置和修改" in response.get_data(as_text=True)
    token = csrf_token_from(secadmin, "/users/add")
    secadmin.post(
        f"/resetpassword/form?pk={auditor_id}",
        data={"password": NEW_PASSWORD, "conf_password": NEW_PASSWORD, "csrf_token": token},
    )
    assert not _signs_in(app, "auditor", NEW_PASSWORD)
    # No edit (deactivating, renaming, another e-mail) and no delete.
    page = secadmin.get(f"/users/edit/{auditor_id}", follow_redirects=True)
    assert "在服务器上设置和修改" in page.get_data(as_text=True)
    data = user_form(app, "auditor", [], active="", email="x@y.invalid", csrf_token=token)
    secadmin.post(f"/users/edit/{auditor_id}", data=data)
    secadmin.post(f"/users/delete/{auditor_id}", data={"csrf_token": token})
    with app.app_context():
        auditor = db.session.get(User, auditor_id)
        assert auditor is not None and auditor.active and auditor.email != "x@y.invalid"
    assert _signs_in(app, "auditor", PASSWORD)
    # An ordinary account is still his to manage.
    response = secadmin.post(
        f"/resetpassword/form?pk={world.user('operator_a')}",
        data={"password": NEW_PASSWORD, "conf_password": NEW_PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302
    # The password he set signs in, to 修改密码 first (session_controls.py).
    held = app.test_client()
    assert "/login" not in login(held, "operator_a", NEW_PASSWORD).headers["Location"]
    assert held.get("/users/userinfo/").headers["Location"].endswith("/resetmypassword/form")


def test_the_user_list_offers_administrators_accounts_read_only(login_as, world):
    """The rows of the three administrators show 查看 only and no action checkbox; a staff
    row keeps 编辑 and 删除."""
    html = login_as("secadmin").get("/users/list/?psize_UserDBModelView=100").get_data(
        as_text=True
    )
    for name in ("admin", "secadmin", "auditor"):
        pk = world.user(name)
        assert f"/users/show/{pk}" in html
        assert f"/users/edit/{pk}" not in html and f"/users/delete/{pk}" not in html
        assert f'value="{pk}" type="checkbox"' not in html
    staff = world.user("operator_a")
    assert f"/users/edit/{staff}" in html and f"/users/delete/{staff}" in html
    assert "管理员账号只能在服务器上修改。" in html


def test_the_rules_hold_on_every_path(app, world):
    """At every flush: in a request (any view, action or API) and on the command line."""
    with app.test_request_context():
        sm = app.appbuilder.sm
        g.user = db.session.get(User, world.user("secadmin"))
        inspector = db.session.get(User, world.user("inspector_a"))
        me = db.session.get(User, world.user("secadmin"))
        attempts = [
            lambda: inspector.roles.append(sm.find_role(roles.AUDIT_ADMIN)),
            lambda: me.roles.append(sm.find_role(roles.ADMIN)),
            lambda: setattr(db.session.get(User, world.user("admin")), "active", False),
            lambda: db.session.delete(db.session.get(User, world.user("auditor"))),
        ]
        for attempt in attempts:
            attempt()
            with pytest.raises(DomainError):
                db.session.flush()
            db.session.rollback()
    with app.app_context(), acting_as_system():
        sm = app.appbuilder.sm
        for extra in (roles.SECURITY_ADMIN, roles.OPERATOR):
            admin = sm.find_user(username="admin")
            admin.roles.append(sm.find_role(extra))
            with pytest.raises(DomainError):
                db.session.flush()
            db.session.rollback()
    assert _role_names(app, "admin") == [roles.ADMIN]
    assert _role_names(app, "inspector_a") == [roles.INSPECTOR]


def test_a_stored_role_carries_one_administrators_share(app, login_as, world):
    secadmin = login_as("secadmin")
    with app.app_context():
        sm = app.appbuilder.sm
        departments = sm.find_permission_view_menu("can_write", "Department").id
        users = sm.find_permission_view_menu("can_list", "UserDBModelView").id
        audit = sm.find_permission_view_menu("can_read", "AuditLog").id
    token = csrf_token_from(secadmin, "/roles/add")
    response = secadmin.post(
        "/roles/add",
        data={"name": "全能管理员", "permissions": [departments, users], "csrf_token": token},
        follow_redirects=True,
    )
    assert "三员分立" in response.get_data(as_text=True)
    secadmin.post(
        "/roles/add", data={"name": "审账号", "permissions": [users, audit], "csrf_token": token}
    )
    with app.app_context():
        assert app.appbuilder.sm.find_role("全能管理员") is None
        assert app.appbuilder.sm.find_role("审账号") is None


def test_the_command_line_creates_and_sets_the_administrators(app, world):
    runner = app.test_cli_runner()
    made = runner.invoke(
        args=[
            "security",
            "create-admin",
            "--role",
            "审计管理员",
            "auditor2",
            "--family-name",
            "冯",
            "--given-name",
            "审",
            "--password",
            NEW_PASSWORD,
        ]
    )
    assert made.exit_code == 0 and "已创建审计管理员账号 auditor2" in made.output
    assert _role_names(app, "auditor2") == [roles.AUDIT_ADMIN]
    assert _signs_in(app, "auditor2", NEW_PASSWORD)

    weak = runner.invoke(
        args=["security", "create-admin", "--role", "SecurityAdmin", "sec2", "--password", "abc"]
    )
    assert weak.exit_code == 1 and "至少" in weak.output
    unknown = runner.invoke(
        args=["security", "create-admin", "--role", "超级管理员", "x2", "--password", NEW_PASSWORD]
    )
    assert unknown.exit_code == 2 and "不是管理员角色" in unknown.output
    taken = runner.invoke(
        args=["security", "create-admin", "--role", "Admin", "auditor2", "--password", "x"]
    )
    assert taken.exit_code == 1 and "已存在" in taken.output

    switched = runner.invoke(args=["security", "set-admin-role", "auditor2", "--role", "Admin"])
    assert switched.exit_code == 0 and _role_names(app, "auditor2") == [roles.ADMIN]
    business = runner.invoke(
        args=["security", "set-admin-role", "operator_a", "--role", "AuditAdmin"]
    )
    assert business.exit_code == 1 and "业务角色" in business.output
    assert _role_names(app, "operator_a") == [roles.OPERATOR]
    with app.app_context():
        actions = db.session.scalars(
            select(AuditLog.action).where(AuditLog.action.in_(("create_admin", "set_admin_role")))
        ).all()
    assert sorted(actions) == ["create_admin", "set_admin_role"]


def test_sync_names_what_the_separation_still_lacks(app, world):
    from app.security.cli import separation_report

    with app.app_context():
        assert separation_report() == []
        sm = app.appbuilder.sm
        sm.find_user(username="auditor").active = False
        db.session.commit()
        report = separation_report()
    assert len(report) == 1 and "审计管理员" in report[0] and "create-admin" in report[0]
