import sys

import click
from flask.cli import AppGroup

from app.draws.models import Draw
from app.extensions import db
from app.security.system_user import acting_as_system

draw_cli = AppGroup("draw", help="Draws (摇号).")


@draw_cli.command("verify")
@click.argument("draw_id")
def verify_command(draw_id):
    """Recompute every hash and the selection of a draw (by number or protocol id), and check
    it against the public draw ledger."""
    from sqlalchemy import select

    from app.draws.services import verify_against_ledger, verify_draw

    with acting_as_system():
        draw = (
            db.session.get(Draw, int(draw_id))
            if draw_id.isdigit()
            else db.session.scalar(select(Draw).where(Draw.uid == draw_id))
        )
        if draw is None:
            click.echo(f"摇号记录 {draw_id} 不存在。", err=True)
            sys.exit(1)
        if draw.status != "done":
            click.echo(f"摇号记录 {draw_id} 尚未完成（状态：{draw.status}）。", err=True)
            sys.exit(1)
        problems = verify_draw(draw) + verify_against_ledger(draw)
    if not problems:
        click.echo("VALID")
        click.echo("（记录自身一致，且与摇号公示台账一致）")
        return
    click.echo("INVALID")
    for problem in problems:
        click.echo(f"- {problem}")
    sys.exit(1)
