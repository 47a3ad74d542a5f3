"""`flask export KIND`: the portal-layout files of docs/exports.md from the command line
(published data only), and the progress report filed with the joint-meeting office."""

from __future__ import annotations

import datetime as dt
import sys

import click
from flask.cli import with_appcontext

from app.core.audit import log_event
from app.disclosure import portal
from app.disclosure.exports import ENCODINGS, export_chunks
from app.disclosure.filings import PROGRESS_HEADERS, progress_rows
from app.extensions import db
from app.security.system_user import acting_as_system

KINDS = ("items", "plans", "results", "blacklist", "progress")


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
@click.option("-o", "--output", type=click.File("wb"), default="-", help="file (default: stdout)")
@with_appcontext
def export_command(kind, year, encoding, layout, output):
    """Write KIND as CSV (UTF-8 with BOM, or GB18030): items, plans, results, blacklist (the
    public data in the portal layouts) or progress (the filing, every department)."""
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
