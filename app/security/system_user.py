"""The account that CLI commands act as, so that AuditMixin columns and audit rows name who
changed what. It is inactive and has no password: nobody can sign in as it."""

from contextlib import contextmanager

from flask import current_app, g

from app.security import roles

SYSTEM_USERNAME = "system"


def get_or_create_system_user():
    sm = current_app.appbuilder.sm
    user = sm.find_user(username=SYSTEM_USERNAME)
    if user is None:
        admin = sm.find_role(roles.ADMIN) or sm.add_role(roles.ADMIN)
        user = sm.user_model(
            first_name="系统",
            last_name="",
            username=SYSTEM_USERNAME,
            email="system@localhost.invalid",
            active=False,
            roles=[admin],
        )
        sm.session.add(user)
        sm.session.flush()
    return user


@contextmanager
def acting_as_system():
    previous = g.get("user")
    g.user = get_or_create_system_user()
    try:
        yield g.user
    finally:
        g.user = previous
