import click
from flask.cli import with_appcontext

from app.demo.seed import DEMO_PASSWORD, seed_demo
from app.security.cli import sync_security


@click.command("seed-demo")
@with_appcontext
def seed_demo_command():
    """Load the Dongsheng demo data set (idempotent) and print the demo logins."""
    sync_security()
    logins = seed_demo()
    click.echo(f"演示数据已就绪。演示账号（密码均为 {DEMO_PASSWORD}，仅供演示）：")
    for username, role, purpose in logins:
        click.echo(f"  {username:<16} {role:<12} {purpose}")
