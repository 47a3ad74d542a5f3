import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from app.core.calendar.service import CalendarImportError, import_calendar_csv, seed_from_package
from app.extensions import db
from app.security.system_user import acting_as_system

calendar_cli = AppGroup("calendar", help="The working-day calendar.")


@calendar_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(file: Path):
    """Import holidays and adjusted workdays from a CSV file: date,is_workday,name."""
    with acting_as_system():
        try:
            written = import_calendar_csv(file.read_bytes())
        except CalendarImportError as exc:
            db.session.rollback()
            for message in exc.errors:
                click.echo(message, err=True)
            click.echo("未导入任何数据：请修正文件后重新导入。", err=True)
            sys.exit(1)
        db.session.commit()
    click.echo(f"日历导入完成：写入 {written} 天，涉及年份已标记为已确认。")


@calendar_cli.command("seed")
def seed_command():
    """Load the years that the chinese-calendar package covers and the table does not have yet."""
    with acting_as_system():
        written = seed_from_package()
        db.session.commit()
    click.echo(f"已从 chinese-calendar 写入 {written} 天。")
