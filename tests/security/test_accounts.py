"""Accounts: the password rule on every form that sets a password (user add, reset my own
password, an Admin resetting someone else's), usernames as plain sign-in names, and the system
account kept out of the user admin. Refused input gets the rule in Chinese and changes nothing;
the old password keeps working."""

import pytest

from tests.conftest import PASSWORD, change_own_password, csrf_token_from, login

TOO_SHORT = "Ab1-short"
NO_DIGIT = "NoDigitsAtAll-here"
GOOD = "Zhang-2027-river"


def _signs_in(app, username, password):
    response = login(app.test_client(), username, password)
    return response.status_code == 302 and "/login" not in response.headers["Location"]


def _role_id(app, name):
    with app.app_context():
        return app.appbuilder.sm.find_role(name).id


def _user_count(app):
    from app.extensions import db
    from app.security.models import User

    with app.app_context():
        return db.session.query(User).count()


def _add_user(client, app, world, username, password):
    from app.security import roles

    token = csrf_token_from(client, "/users/add")
    return client.post(
        "/users/add",
        data={
            "last_name": "王",
            "first_name": "建国",
            "username": username,
            "active": "y",
            "email": f"{username}@test.invalid",
            "departments": world.dept_a,
            "roles": _role_id(app, roles.INSPECTOR),
            "password": password,
            "conf_password": password,
            "csrf_token": token,
        },
        follow_redirects=True,
    )


@pytest.mark.parametrize(
    "password, message",
    [
        (TOO_SHORT, "密码至少 10 位"),
        (NO_DIGIT, "密码至少 10 位"),
        ("wangjianguo2027", "不得包含用户名"),
        ("2027-WANGJIANGUO", "不得包含用户名"),
    ],
)
def test_a_new_user_needs_a_password_that_keeps_the_rule(app, world, login_as, password, message):
    _add_is_refused(app, world, login_as, "wangjianguo", password, message)


def _add_is_refused(app, world, login_as, username, password, message):
    client = login_as("secadmin")
    before = _user_count(app)
    html = _add_user(client, app, world, username, password).get_data(as_text=True)
    assert message in html
    assert _user_count(app) == before


def test_a_good_password_creates_the_user_who_can_sign_in(app, world, login_as):
    client = login_as("secadmin")
    before = _user_count(app)
    _add_user(client, app, world, "wangjianguo", GOOD)
    assert _user_count(app) == before + 1
    assert _signs_in(app, "wangjianguo", GOOD)


def _reset_mine(client, password):
    return change_own_password(client, PASSWORD, password, follow_redirects=True)


@pytest.mark.parametrize(
    "password, message",
    [
        (TOO_SHORT, "密码至少 10 位"),
        ("Operator_A-2027", "不得包含用户名"),
    ],
)
def test_my_new_password_keeps_the_rule(app, world, login_as, password, message):
    client = login_as("operator_a")
    html = _reset_mine(client, password).get_data(as_text=True)
    assert message in html
    assert not _signs_in(app, "operator_a", password)
    assert _signs_in(app, "operator_a", PASSWORD)


def test_changing_my_password_to_a_good_one(app, world, login_as):
    client = login_as("operator_a")
    _reset_mine(client, GOOD)
    assert _signs_in(app, "operator_a", GOOD)
    assert not _signs_in(app, "operator_a", PASSWORD)


def test_an_admin_reset_checks_the_username_of_the_user_reset(app, world, login_as):
    client = login_as("secadmin")
    pk = world.user("inspector_a")
    url = f"/resetpassword/form?pk={pk}"
    token = csrf_token_from(client, url)
    bad = "inspector_a-2027"
    html = client.post(
        url,
        data={"password": bad, "conf_password": bad, "csrf_token": token},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "不得包含用户名" in html
    assert _signs_in(app, "inspector_a", PASSWORD)
    # The admin's own name is no part of that rule.
    good = "admin-river-2027"
    client.post(
        url,
        data={"password": good, "conf_password": good, "csrf_token": csrf_token_from(client, url)},
        follow_redirects=True,
    )
    assert _signs_in(app, "inspector_a", good)


def test_the_system_account_is_not_in_the_user_admin(app, world, login_as):
    from app.security.models import User
    from app.security.system_user import SYSTEM_USERNAME, acting_as_system

    with app.app_context():
        with acting_as_system() as system:
            system_id = system.id
        from app.extensions import db

        db.session.commit()
    client = login_as("secadmin")
    assert f'/users/edit/{system_id}"' not in client.get("/users/list/").get_data(as_text=True)
    for url in (f"/users/show/{system_id}", f"/users/edit/{system_id}"):
        assert client.get(url).status_code == 404, url
    assert client.get(f"/resetpassword/form?pk={system_id}").status_code == 404
    token = csrf_token_from(client, "/resetmypassword/form")
    for pk in ("999999", "9" * 30, "x"):  # no such user, beyond 64 bits, not a number
        assert client.get(f"/resetpassword/form?pk={pk}").status_code == 404
        response = client.post(
            f"/resetpassword/form?pk={pk}",
            data={"password": GOOD, "conf_password": GOOD, "csrf_token": token},
        )
        assert response.status_code == 404, pk
    response = client.post(
        f"/resetpassword/form?pk={system_id}",
        data={"password": GOOD, "conf_password": GOOD, "csrf_token": token},
    )
    assert response.status_code == 404
    client.post(f"/users/delete/{system_id}", data={"csrf_token": token})
    with app.app_context():
        from app.extensions import db

        assert db.session.query(User).filter_by(username=SYSTEM_USERNAME).one().password in (
            None,
            "",
        )


@pytest.mark.parametrize("username", ["<b>x</b>", "wang jianguo", "a", "x" * 65])
def test_a_username_is_a_plain_sign_in_name(app, world, login_as, username):
    _add_is_refused(app, world, login_as, username, GOOD, "不含空格")


def test_chinese_usernames_are_allowed(app, world, login_as):
    client = login_as("secadmin")
    before = _user_count(app)
    _add_user(client, app, world, "王建国", GOOD)
    assert _user_count(app) == before + 1
