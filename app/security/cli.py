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


def separation_report() -> list[str]:
    """What 三员分立 still lacks (Chinese lines): administrator roles nobody active holds, and
    accounts that break it (e.g. an account from before the split that holds a business role
    beside Admin). Printed by `flask security sync`."""
    from app.security.role_rules import admin_shares
    from app.security.system_user import SYSTEM_USERNAME

    sm = current_app.appbuilder.sm
    users = [
        u for u in db.session.scalars(db.select(sm.user_model)) if u.username != SYSTEM_USERNAME
    ]
    lines = []
    held = set()
    for user in users:
        shares = admin_shares(user.roles)
        if user.active:
            held |= shares
        names = {r.name for r in user.roles}
        if len(shares) > 1 or (shares and names & set(roles.BUSINESS_ROLES)):
            labels = "、".join(str(roles.ROLE_LABELS.get(n, n)) for n in sorted(names))
            lines.append(
                f"账号 {user.username} 同时担任 {labels}，违反三员分立：用 flask security "
                f"set-admin-role {user.username} 角色 只保留一个管理员角色"
            )
    for name in roles.ADMIN_ROLES:
        if name not in held:
            lines.append(
                f"尚无启用的账号担任{roles.ROLE_LABELS[name]}：用 flask security create-admin "
                f"--role {name} 账号 设置"
            )
    return lines


@security_cli.command("sync")
def sync_command():
    """Create the roles, refresh the permission catalogue, seed the holiday calendar."""
    result = sync_security()
    created = "、".join(result["roles_created"]) or "无"
    click.echo(
        f"角色与权限已同步（新建角色：{created}）；节假日日历写入 {result['calendar_days']} 天。"
    )
    for line in separation_report():
        click.echo(f"注意：{line}")


_ROLE_OPTION = click.option(
    "--role",
    "role",
    required=True,
    help="Admin (系统管理员), SecurityAdmin (安全管理员) or AuditAdmin (审计管理员).",
)


def _admin_role(value: str) -> str:
    """An administrator role by its name or its Chinese label."""
    wanted = value.strip()
    for name in roles.ADMIN_ROLES:
        if wanted in (name, str(roles.ROLE_LABELS[name])):
            return name
    choices = "、".join(f"{n}（{roles.ROLE_LABELS[n]}）" for n in roles.ADMIN_ROLES)
    raise click.BadParameter(f"“{value}”不是管理员角色；可选：{choices}", param_hint="--role")


def _set_admin_role(user, role_name: str) -> None:
    """The account's roles become exactly `role_name`; one with a business role is refused
    rather than stripped of it."""
    sm = current_app.appbuilder.sm
    business = [r.name for r in user.roles if r.name in roles.BUSINESS_ROLES]
    if business:
        labels = "、".join(str(roles.ROLE_LABELS[n]) for n in business)
        raise click.ClickException(
            f"账号 {user.username} 担任业务角色（{labels}）：管理员账号不能同时担任业务角色"
            "（三员分立），请另建一个管理员账号。"
        )
    user.roles = [sm.find_role(role_name) or sm.add_role(role_name)]


@security_cli.command("create-admin")
@_ROLE_OPTION
@click.argument("username")
@click.option("--family-name", default="", help="e.g. 王")
@click.option("--given-name", default="", help="e.g. 建国")
@click.option("--email", default=None)
@click.password_option(help="Asked for (twice) when not given.")
def create_admin_command(role, username, family_name, given_name, email, password):
    """Create one of the three administrator accounts (三员分立): the only way to make one."""
    from flask_appbuilder.exceptions import PasswordComplexityValidationError

    from app.core.audit import log_event
    from app.security.passwords import validate_password

    role_name = _admin_role(role)
    sm = current_app.appbuilder.sm
    if sm.find_user(username=username) is not None:
        raise click.ClickException(
            f"账号 {username} 已存在：用 flask security set-admin-role {username} --role … 改其角色。"
        )
    try:
        validate_password(password)
    except PasswordComplexityValidationError as exc:
        raise click.ClickException(str(exc)) from exc
    with acting_as_system():
        user = sm.add_user(
            username=username,
            first_name=given_name or username,
            last_name=family_name,
            email=email or f"{username}@localhost.invalid",
            role=sm.find_role(role_name) or sm.add_role(role_name),
            password=password,
        )
        if not user:
            db.session.rollback()
            raise click.ClickException(f"未能创建账号 {username}（电子邮箱可能已被占用）。")
        log_event("create_admin", "ab_user", user.id, detail={"role": role_name})
        db.session.commit()
    click.echo(f"已创建{roles.ROLE_LABELS[role_name]}账号 {username}。")


@security_cli.command("set-admin-role")
@click.argument("username")
@_ROLE_OPTION
def set_admin_role_command(username, role):
    """Give an account exactly one administrator role (it then holds no other role)."""
    from app.core.audit import log_event

    role_name = _admin_role(role)
    sm = current_app.appbuilder.sm
    user = sm.find_user(username=username)
    if user is None:
        raise click.ClickException(f"没有名为 {username} 的账号。")
    with acting_as_system():
        before = sorted(r.name for r in user.roles)
        _set_admin_role(user, role_name)
        log_event(
            "set_admin_role", "ab_user", user.id, detail={"role": role_name, "before": before}
        )
        db.session.commit()
    click.echo(f"账号 {username} 现为{roles.ROLE_LABELS[role_name]}。")


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


@security_cli.command("reset-two-factor")
@click.argument("username")
def reset_two_factor_command(username):
    """Remove an account's authenticator and recovery codes (a lost phone). The only way for
    an administrator's account, whose changes are refused on the pages (三员分立, rule 4);
    the security administrator's user-list action does it for staff."""
    from app.security import two_factor

    user = current_app.appbuilder.sm.find_user(username=username)
    if user is None:
        raise click.ClickException(f"没有名为 {username} 的账号。")
    with acting_as_system():
        removed = two_factor.remove(user, "two_factor_reset", username=user.username)
        db.session.commit()
    click.echo(
        f"账号 {username} 的两步验证已重置，下次仅凭密码登录后可重新启用。"
        if removed
        else f"账号 {username} 未启用两步验证。"
    )


@security_cli.command("new-data-keys")
@click.option("--kid", default=None, help="The new data key's id (default: k<date>).")
def new_data_keys_command(kid):
    """Print fresh keys for the personal data encrypted at rest: a DSR_DATA_KEYS entry and a
    DSR_BLIND_INDEX_KEY (docs/operations.md). Nothing is stored. Where the application does
    not start yet for want of keys: `python -m app.core.personal_data [KID]`."""
    from app.core.personal_data import print_new_keys

    print_new_keys(kid, click.echo)


@security_cli.command("rotate-data-key")
@click.option("--batch-size", default=1000, show_default=True, type=click.IntRange(1, 100_000))
def rotate_data_key_command(batch_size):
    """Re-encrypt every citizen ID and phone number under the current data key (the first of
    DSR_DATA_KEYS) and recompute every blind index under DSR_BLIND_INDEX_KEY. One transaction
    per batch; rows already current are left alone, so it can be run again (or resumed after an
    interruption). Audited as one rotate_data_key event."""
    from app.core.audit import log_event
    from app.core.personal_data import ENCRYPTED_TABLES, keyring, rewrite_batch

    ring = keyring()
    written = {}
    for table, columns in ENCRYPTED_TABLES.items():
        last, total = 0, 0
        while True:
            with db.engine.begin() as connection:
                last, count = rewrite_batch(connection, table, columns, last, size=batch_size)
            if last is None:
                break
            total += count
        written[table] = total
    with acting_as_system():
        log_event(
            "rotate_data_key",
            detail={"key": ring.current_kid, "keys": list(ring.kids), "rewritten": written},
        )
        db.session.commit()
    click.echo(
        f"当前数据密钥 {ring.current_kid}：重新加密或重建索引 "
        + "，".join(f"{table} {n} 行" for table, n in written.items())
        + "。"
    )
