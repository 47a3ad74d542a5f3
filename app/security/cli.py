import click
from flask import current_app
from flask.cli import AppGroup

from app.core.calendar.service import seed_from_package
from app.extensions import db
from app.security import roles
from app.security.system_user import acting_as_system

security_cli = AppGroup("security", help="Roles and permissions.")


def sync_security() -> dict:
    """Write the roles of FAB_ROLES and the permission catalogue of every registered view.

    FAB does this at start-up only when FAB_UPDATE_PERMS is on, which would race between
    gunicorn workers and fail on a database not migrated yet; we run it once after `db upgrade`.
    """
    appbuilder = current_app.appbuilder
    sm = appbuilder.sm
    with acting_as_system():
        created = []
        for name in (*roles.ALL_ROLES, current_app.config["AUTH_ROLE_PUBLIC"]):
            if sm.find_role(name) is None:
                sm.add_role(name)
                created.append(name)
        appbuilder.add_permissions(update_perms=True)
        days = seed_from_package()
        db.session.commit()
    return {"roles_created": created, "calendar_days": days}


@security_cli.command("sync")
def sync_command():
    """Create the roles, refresh the permission catalogue, seed the holiday calendar."""
    result = sync_security()
    created = "、".join(result["roles_created"]) or "无"
    click.echo(
        f"角色与权限已同步（新建角色：{created}）；节假日日历写入 {result['calendar_days']} 天。"
    )


@security_cli.command("unlock")
@click.argument("username")
def unlock_command(username):
    """Lift the sign-in lockout of an account now (it also ends by itself after
    LOGIN_LOCKOUT_MINUTES)."""
    from app.core.audit import log_event
    from app.security.throttle import is_locked, unlock

    user = current_app.appbuilder.sm.find_user(username=username)
    if user is None:
        raise click.ClickException(f"没有名为 {username} 的账号。")
    was_locked = is_locked(username)
    unlock(username)
    with acting_as_system():
        log_event("login_unlocked", "ab_user", user.id, detail={"was_locked": was_locked})
        db.session.commit()
    click.echo(
        f"账号 {username} 的登录锁定已解除。" if was_locked else f"账号 {username} 未被锁定。"
    )
