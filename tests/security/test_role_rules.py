"""Issue 15, finding 6: the security administrator (who keeps accounts and roles) cannot make or
fill a role with business or workflow rights, and cannot widen his own rights (roles or groups
on his own account). 三员分立 itself: tests/security/test_separation.py."""

from sqlalchemy import select

from app.extensions import db
from app.security import roles
from app.security.models import User
from tests.conftest import csrf_token_from
from tests.support.accounts import user_form


def _permission_view(app, permission, view):
    with app.app_context():
        sm = app.appbuilder.sm
        pv = sm.find_permission_view_menu(permission, view)
        assert pv is not None, (permission, view)
        return pv.id


def _role(app, name):
    with app.app_context():
        return app.appbuilder.sm.find_role(name)


def _role_permissions(app, name):
    with app.app_context():
        role = app.appbuilder.sm.find_role(name)
        return sorted((pv.permission.name, pv.view_menu.name) for pv in role.permissions)


def test_a_role_with_a_business_right_is_refused(app, world, login_as):
    admin = login_as("secadmin")
    draw = _permission_view(app, "can_draw", "SpotCheckTask")
    read_departments = _permission_view(app, "can_read", "Department")
    token = csrf_token_from(admin, "/roles/add")
    response = admin.post(
        "/roles/add",
        data={"name": "抽签员", "permissions": [draw, read_departments], "csrf_token": token},
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "业务" in html and "can_draw SpotCheckTask" in html
    assert _role(app, "抽签员") is None
    # A role within system administration is fine.
    response = admin.post(
        "/roles/add",
        data={"name": "部门维护", "permissions": [read_departments], "csrf_token": token},
    )
    assert response.status_code == 302
    assert _role_permissions(app, "部门维护") == [("can_read", "Department")]
    # ... and cannot be widened afterwards.
    with app.app_context():
        pk = app.appbuilder.sm.find_role("部门维护").id
    response = admin.post(
        f"/roles/edit/{pk}",
        data={"name": "部门维护", "permissions": [read_departments, draw], "csrf_token": token},
        follow_redirects=True,
    )
    assert "can_draw SpotCheckTask" in response.get_data(as_text=True)
    assert _role_permissions(app, "部门维护") == [("can_read", "Department")]


def test_every_business_permission_is_refused_for_stored_roles(app, world):
    """Whatever the catalogue holds: only permissions of the built-in administrator roles may
    be stored."""
    from app.security.role_rules import may_be_granted

    with app.app_context():
        from flask_appbuilder.security.sqla.models import PermissionView

        allowed = {
            (pv.permission.name, pv.view_menu.name)
            for pv in db.session.scalars(select(PermissionView))
            if may_be_granted(pv)
        }
    assert ("can_read", "Department") in allowed
    assert ("can_read", "AuditLog") in allowed
    for business in (
        ("can_draw", "SpotCheckTask"),
        ("can_approve", "AnnualPlan"),
        ("can_write", "InspectionRecord"),
        ("can_write", "AuditLog"),
        ("can_cancel", "Draw"),
    ):
        assert business not in allowed, business


def _edit_user_form(app, admin, user_id, role_names):
    with app.app_context():
        username = db.session.get(User, user_id).username
    data = user_form(app, username, role_names, csrf_token=csrf_token_from(admin, "/users/add"))
    return admin.post(f"/users/edit/{user_id}", data=data, follow_redirects=True)


def _role_names(app, user_id):
    with app.app_context():
        return sorted(r.name for r in db.session.get(User, user_id).roles)


def test_admin_cannot_give_himself_a_business_role(app, world, login_as):
    admin = login_as("secadmin")
    me = world.user("secadmin")
    response = _edit_user_form(app, admin, me, [roles.SECURITY_ADMIN, roles.OPERATOR])
    assert "在服务器上设置和修改" in response.get_data(as_text=True)  # an administrator's account
    assert _role_names(app, me) == [roles.SECURITY_ADMIN]
    # The draw stays closed to him.
    assert admin.get("/tasks/list/").status_code == 403
    # Giving the role to somebody else is ordinary user administration.
    other = world.user("inspector_a")
    _edit_user_form(app, admin, other, [roles.INSPECTOR, roles.OPERATOR])
    assert _role_names(app, other) == [roles.INSPECTOR, roles.OPERATOR]


def test_no_path_around_the_views_either(app, world):
    """The same rules hold at every flush of a request: a group the acting user joins with a
    business role, a role filled in by code, a role given to oneself."""
    import pytest
    from flask import g
    from flask_appbuilder.security.sqla.models import Group, Role

    from app.core.errors import DomainError

    with app.test_request_context():
        sm = app.appbuilder.sm
        me = db.session.get(User, world.user("secadmin"))
        g.user = me
        attempts = [
            lambda: db.session.add(
                Group(name="ops", label="ops", users=[me], roles=[sm.find_role(roles.OPERATOR)])
            ),
            lambda: db.session.add(
                Role(
                    name="抽签员",
                    permissions=[sm.find_permission_view_menu("can_draw", "SpotCheckTask")],
                )
            ),
            lambda: me.roles.append(sm.find_role(roles.LEADER)),
        ]
        for attempt in attempts:
            attempt()
            with pytest.raises(DomainError):
                db.session.flush()
            db.session.rollback()
        assert sorted(r.name for r in db.session.get(User, world.user("secadmin")).roles) == [
            roles.SECURITY_ADMIN
        ]


def test_the_built_in_roles_rights_cannot_be_changed_through_the_pages(app, world, login_as):
    """Outside probe: the role editor saved the audit log's rights into the built-in
    SecurityAdmin and Leader roles. Their rights are fixed in code: refused, unchanged; and
    they cannot be deleted or renamed either."""
    secadmin = login_as("secadmin")
    token = csrf_token_from(secadmin, "/roles/add")
    audit = _permission_view(app, "can_read", "AuditLog")
    for name in (roles.SECURITY_ADMIN, roles.LEADER):
        before = _role_permissions(app, name)
        pk = _role(app, name).id
        response = secadmin.post(
            f"/roles/edit/{pk}",
            data={"name": name, "permissions": [audit], "csrf_token": token},
            follow_redirects=True,
        )
        assert "内置角色的权限由系统固定" in response.get_data(as_text=True)
        assert _role_permissions(app, name) == before
        secadmin.post(f"/roles/delete/{pk}", data={"csrf_token": token})
        assert _role(app, name) is not None
    pk = _role(app, roles.LEADER).id
    leader_permissions = [
        _permission_view(app, p, v) for p, v in _role_permissions(app, roles.LEADER)
    ]
    secadmin.post(
        f"/roles/edit/{pk}",
        data={"name": "改名", "permissions": leader_permissions, "csrf_token": token},
    )
    assert _role(app, roles.LEADER) is not None and _role(app, "改名") is None


def test_the_user_form_offers_no_role_carrying_an_administrators_share(app, world, login_as):
    """A stored role with the audit log's rights may exist (one share), but is given on the
    server like the built-in administrators: the user form does not offer it, nor Public."""
    secadmin = login_as("secadmin")
    token = csrf_token_from(secadmin, "/roles/add")
    audit = _permission_view(app, "can_read", "AuditLog")
    response = secadmin.post(
        "/roles/add", data={"name": "审计助理", "permissions": [audit], "csrf_token": token}
    )
    assert response.status_code == 302
    form = secadmin.get("/users/add").get_data(as_text=True)
    for name in ("审计助理", *roles.ADMIN_ROLES, "Public"):
        pk = _role(app, name).id
        assert f'value="{pk}"' not in form.split('id="roles"', 1)[1].split("</select>", 1)[0]
    assert f'value="{_role(app, roles.OPERATOR).id}"' in form
