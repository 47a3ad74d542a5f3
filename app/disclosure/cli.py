"""`flask export KIND`: the portal-layout files of docs/exports.md from the command line
(published data only), the progress report filed with the joint-meeting office, and the
penalties in the 双公示 行政处罚 layout for the credit platform (staff data: audited)."""

from __future__ import annotations

import datetime as dt
import io
import sys

import click
from flask.cli import with_appcontext
from flask_babel import gettext as _
from sqlalchemy import select

from app.core.audit import log_event
from app.disclosure import portal
from app.disclosure.exports import ENCODINGS, export_chunks
from app.disclosure.filings import PROGRESS_HEADERS, progress_rows
from app.extensions import db
from app.inspections import penalty_export
from app.security.system_user import acting_as_system

KINDS = ("items", "plans", "results", "blacklist", "progress", "penalties")


def _rows(query, make_row):
    for n, row in enumerate(db.session.execute(query.execution_options(yield_per=500)), 1):
        yield make_row(n, row)


@click.command("export")
@click.argument("kind", type=click.Choice(KINDS))
@click.option("--year", type=int, default=None, help="progress: the year (default: this year)")
@click.option("--encoding", type=click.Choice(sorted(ENCODINGS)), default="utf-8")
@click.option(
    "--layout",
    type=click.Choice(portal.RESULT_LAYOUTS),
    default="portal",
    help="results: portal (default) or national (with 检查结果细类)",
)
@click.option(
    "--format",
    "file_format",
    type=click.Choice(penalty_export.FORMATS),
    default="csv",
    help="penalties: csv (default) or xlsx",
)
@click.option(
    "--department",
    default=None,
    help="penalties: the department's code or id (with the departments below it)",
)
@click.option(
    "--from",
    "date_from",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="penalties: decided on or after YYYY-MM-DD",
)
@click.option(
    "--to",
    "date_to",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="penalties: decided on or before YYYY-MM-DD",
)
@click.option(
    "-o", "--output", "--out", type=click.File("wb"), default="-", help="file (default: stdout)"
)
@with_appcontext
def export_command(
    kind, year, encoding, layout, file_format, department, date_from, date_to, output
):
    """Write KIND as CSV (UTF-8 with BOM, or GB18030): items, plans, results, blacklist (the
    public data in the portal layouts), progress (the filing, every department) or penalties
    (双公示 行政处罚, CSV or XLSX; rows missing required fields are listed on stderr)."""
    if kind == "penalties":
        _export_penalties(file_format, department, date_from, date_to, encoding, output)
        return
    if file_format != "csv" or department or date_from or date_to:
        raise click.UsageError(_("--format, --department, --from and --to are for penalties."))
    copy = None  # the layout's COPY statement (PostgreSQL writes the file: export_chunks)
    if kind == "items":
        headers, rows = portal.ITEM_HEADERS, _rows(portal.items_query(), portal.item_row)
    elif kind == "plans":
        headers, rows = portal.PLAN_HEADERS, portal.all_plan_rows(portal.public_plans())
    elif kind == "results":
        query = portal.results_query()
        headers, make_row, has_copy = portal.result_layout(layout)
        rows = _rows(query, make_row)
        if has_copy:
            copy = lambda: portal.results_copy(query)  # noqa: E731
    elif kind == "blacklist":
        headers = portal.BLACKLIST_HEADERS
        query = portal.blacklist_query()
        rows = _rows(query, portal.blacklist_row)
        copy = lambda: portal.blacklist_copy(query)  # noqa: E731
    else:
        year = year or dt.date.today().year
        headers, rows = PROGRESS_HEADERS, progress_rows(year)
        with acting_as_system():  # unpublished figures leave the system (R13.2)
            log_event("export", "progress_report", year, detail={"year": year, "via": "cli"})
            db.session.commit()
    for chunk in export_chunks(headers, rows, copy, ENCODINGS[encoding]):
        output.write(chunk)
    output.flush()
    if output is not sys.stdout.buffer:
        click.echo(f"{kind}: written", err=True)


def _department_id(value: str) -> int:
    from app.security.models import Department

    text = value.strip()
    found = db.session.scalar(select(Department.id).where(Department.code == text))
    if found is None and text.isdigit():
        found = db.session.scalar(select(Department.id).where(Department.id == int(text)))
    if found is None:
        click.echo(_("There is no department “%(value)s”.", value=text), err=True)
        sys.exit(1)
    return found


def _export_penalties(file_format, department, date_from, date_to, encoding, output):
    """All departments unless --department: the command line is the server's operator."""
    department_id = _department_id(department) if department else None
    day_from = date_from.date() if date_from else None
    day_to = date_to.date() if date_to else None
    if day_from and day_to and day_from > day_to:
        raise click.UsageError(_("--from is after --to."))
    query = penalty_export.penalties_query(
        scoped=False, department_id=department_id, date_from=day_from, date_to=day_to
    )
    export = penalty_export.build(db.session.scalars(query))
    with acting_as_system():  # personal data leaves the system: who, what, which rows
        log_event(
            "export",
            "penalty",
            None,
            department_id=department_id,
            detail={
                "via": "cli",
                "format": file_format,
                "rows": len(export.ids),
                "ids": export.ids,
                "department": department_id,
                "from": day_from.isoformat() if day_from else None,
                "to": day_to.isoformat() if day_to else None,
            },
        )
        db.session.commit()
    if file_format == "xlsx":
        buffer = io.BytesIO()
        penalty_export.write_xlsx_file(buffer, export.rows)
        output.write(buffer.getvalue())
    else:
        for chunk in export_chunks(penalty_export.HEADERS, export.rows, None, ENCODINGS[encoding]):
            output.write(chunk)
    output.flush()
    for line in penalty_export.warning_lines(export):
        click.echo(line, err=True)
    if export.incomplete:
        click.echo(
            _(
                "%(count)d rows miss required fields of the standard: complete them before filing.",
                count=len(export.incomplete),
            ),
            err=True,
        )
    if output is not sys.stdout.buffer:
        click.echo(_("penalties: %(count)d rows written", count=len(export.rows)), err=True)
