"""`flask import targets|inspectors|items FILE [--user USERNAME] [--map 原列名=字段]...
[--set 字段=值]... [--preview]`: the bulk import of 一单两库 from the command line, with the same
rules as the upload page. The header is read by meaning (app/directory/imports/mapping.py):
`--map` reads a column of the file as one of our fields (字段: our header, an alias or the
attribute; 忽略 leaves the column out), `--set` fills a field the file lacks with one value for
all rows; `--preview` prints how the header is read and the first rows, and writes nothing.
Exit code 0 when the file was imported (or previewed), 1 when it was refused (nothing written;
the errors are printed)."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path

import click
from flask import current_app, g
from flask.cli import AppGroup
from flask_babel import gettext as _

from app.directory.imports import IMPORTERS, KINDS, import_file, record_refusal
from app.directory.imports.mapping import MappingError, all_columns, parse_pairs
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


def _options(kind: str, pairs_map, pairs_set) -> tuple[dict, dict]:
    columns = all_columns(IMPORTERS[kind].columns, kind)
    try:
        return (
            parse_pairs(columns, pairs_map, what="map"),
            parse_pairs(columns, pairs_set, what="set"),
        )
    except MappingError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)


def _preview(kind: str, file: Path, mapping: dict, fixed: dict) -> None:
    with file.open("rb") as stream:
        plan, rows, result = IMPORTERS[kind](mapping, fixed).preview(stream, file.name)
    if plan is not None:
        headers = {c.attr: c.header for c in all_columns(IMPORTERS[kind].columns, kind)}
        for attr, source in plan.sources.items():
            click.echo(f"{source} → {headers[attr]}")
        for attr, value in plan.fixed.items():
            click.echo(_("%(field)s = %(value)s (all rows)", field=headers[attr], value=value))
        for number, values, errors in rows:
            shown = "；".join(
                f"{headers[attr]}：{values.get(attr)}"
                for attr in headers
                if values.get(attr) not in (None, "")
            )
            click.echo(_("Row %(row)s: %(values)s", row=number, values=shown))
            for column, reason in errors:
                click.echo(f"  {column}：{reason}", err=True)
    for notice in result.notices:
        click.echo(notice, err=True)
    for error in result.errors:
        click.echo(f"{error.column}：{error.reason}", err=True)
    db.session.rollback()
    sys.exit(0 if result.ok else 1)


def _run(
    kind: str,
    file: Path,
    username: str | None,
    pairs_map=(),
    pairs_set=(),
    preview: bool = False,
) -> None:
    mapping, fixed = _options(kind, pairs_map, pairs_set)
    with _acting_as(username), file.open("rb") as stream:
        if preview:
            _preview(kind, file, mapping, fixed)
        result = import_file(kind, stream, file.name, mapping=mapping, fixed=fixed)
        for notice in result.notices:
            click.echo(notice, err=True)
        if not result.ok:
            db.session.rollback()
            record_refusal(kind, file.name, result)
            db.session.commit()
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
    @click.option(
        "--map",
        "pairs_map",
        multiple=True,
        metavar="原列名=字段",
        help="Read the file's column as this field (our header, e.g. 抽查事项); 字段 忽略 leaves "
        "the column out. Repeatable.",
    )
    @click.option(
        "--set",
        "pairs_set",
        multiple=True,
        metavar="字段=值",
        help="Fill a field the file lacks with one value for all rows (e.g. 检查主体=区水利局). "
        "Repeatable.",
    )
    @click.option(
        "--preview",
        is_flag=True,
        help="Print how the header is read and the first rows; write nothing.",
    )
    def command(file: Path, username: str | None, pairs_map, pairs_set, preview: bool):
        _run(kind, file, username, pairs_map, pairs_set, preview)

    return command


_HELP = {
    "targets": "Import targets (检查对象名录); key: USCC, or the citizen ID of a 自然人.",
    "inspectors": "Import inspectors (执法检查人员名录); key: certificate number.",
    "items": "Import items (随机抽查事项清单) as drafts; key: item code.",
}
for _kind in KINDS:
    _command(_kind, _HELP[_kind])
