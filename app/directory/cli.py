"""`flask import targets|inspectors|items FILE [--user USERNAME]`: the bulk import of 一单两库
from the command line, with the same rules as the upload page. Exit code 0 when the file was
imported, 1 when it was refused (nothing written; the errors are printed)."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path

import click
from flask import current_app, g
from flask.cli import AppGroup
from flask_babel import gettext as _

from app.directory.imports import KINDS, import_file
from app.extensions import db
from app.security.system_user import acting_as_system

import_cli = AppGroup(
    "import", help="Bulk import of targets, inspectors or items from a CSV or XLSX file."
)


@contextmanager
def _acting_as(username: str | None):
    """As the named user (their department scope applies), or as the system user who sees
    every department."""
    if not username:
        with acting_as_system() as user:
            yield user
        return
    user = current_app.appbuilder.sm.find_user(username=username)
    if user is None:
        click.echo(_("There is no login account “%(value)s”.", value=username), err=True)
        sys.exit(1)
    previous = g.get("user")
    g.user = user
    g.pop("_department_scope", None)
    try:
        yield user
    finally:
        g.user = previous


def _run(kind: str, file: Path, username: str | None) -> None:
    with _acting_as(username), file.open("rb") as stream:
        result = import_file(kind, stream, file.name)
        if not result.ok:
            db.session.rollback()
            for error in result.errors:
                row = "—" if error.row is None else str(error.row)
                click.echo(
                    _(
                        "Row %(row)s, column %(column)s: %(reason)s",
                        row=row,
                        column=error.column,
                        reason=error.reason,
                    ),
                    err=True,
                )
            if result.errors_truncated:
                click.echo(
                    _(
                        "Only the first %(shown)d of %(total)d errors are listed.",
                        shown=len(result.errors),
                        total=result.error_count,
                    ),
                    err=True,
                )
            click.echo(
                _(
                    "Nothing was imported from %(file)s: %(n)d error(s).",
                    file=file.name,
                    n=result.error_count,
                ),
                err=True,
            )
            sys.exit(1)
        db.session.commit()
    click.echo(
        _(
            "%(file)s imported: %(rows)d rows, %(created)d created, %(updated)d updated.",
            file=file.name,
            rows=result.rows,
            created=result.created,
            updated=result.updated,
        )
    )


def _command(kind: str, help_text: str):
    @import_cli.command(kind, help=help_text)
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option(
        "--user",
        "username",
        default=None,
        help="Act as this user (their department scope applies); default: the system user.",
    )
    def command(file: Path, username: str | None):
        _run(kind, file, username)

    return command


_HELP = {
    "targets": "Import targets (检查对象名录); key: USCC, or the citizen ID of a 自然人.",
    "inspectors": "Import inspectors (执法检查人员名录); key: certificate number.",
    "items": "Import items (随机抽查事项清单) as drafts; key: item code.",
}
for _kind in KINDS:
    _command(_kind, _HELP[_kind])
