"""Writing exports the way DESIGN.md "Formats" says: CSV in UTF-8 with BOM (Excel on a Chinese
desktop opens it correctly) or GB18030 on request, every cell a spreadsheet would run as a
formula neutralised, rows streamed (never the whole file in memory); XLSX by the one XLSX
writer (app/core/xlsxfile.py), streamed from a temporary file. The CSV itself is written by the system's one
CSV writer, app/core/csvfile.py; this module makes HTTP responses of it."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable

from flask import Response, current_app, request
from flask_babel import gettext as _

from app.core.csvfile import UTF8_BOM, copy_chunks, csv_bytes, csv_chunks, neutralise
from app.core.downloads import content_disposition
from app.core.errors import DomainError
from app.core.xlsxfile import write_xlsx

ENCODINGS = {"utf-8": "utf-8-sig", "utf8": "utf-8-sig", "gb18030": "gb18030"}
__all__ = [
    "ENCODINGS",
    "copy_engine",
    "csv_bytes",
    "csv_chunks",
    "csv_response",
    "export_chunks",
    "neutralise",
    "xlsx_response",
]


def requested_encoding() -> str:
    """`?encoding=gb18030`, else UTF-8 with BOM. An unknown name is refused (no guessing)."""
    name = (request.args.get("encoding") or "utf-8").strip().lower()
    if name not in ENCODINGS:
        raise DomainError(_("Unknown encoding: use utf-8 or gb18030."))
    return ENCODINGS[name]


def _disposition(filename: str) -> str:
    return content_disposition(filename)


def copy_engine():
    """The engine to export through COPY, or None: PostgreSQL only (SQLite and MariaDB stream
    from a server-side cursor), unless `CSV_COPY = False` in the configuration."""
    from app.extensions import db

    if db.engine.dialect.name == "postgresql" and current_app.config.get("CSV_COPY", True):
        return db.engine
    return None


def export_chunks(headers: list[str], rows: Iterable[Iterable], copy=None, encoding=UTF8_BOM):
    """The CSV file's chunks: written by PostgreSQL when the layout has a COPY statement
    (`copy()` gives it: portal.results_copy, portal.blacklist_copy) and the database is
    PostgreSQL, else by the Python writer from `rows` (a generator not started then). Both
    give the same bytes."""
    engine = copy_engine() if copy is not None else None
    if engine is not None:
        return copy_chunks(engine, copy(), headers, encoding)
    return csv_chunks(headers, rows, encoding)


def csv_response(
    filename: str, headers: list[str], rows: Iterable[Iterable], copy=None
) -> Response:
    """`rows` is a list, or a generator that needs no request context when it runs (it is read
    after the view has returned: see public._streamed); `copy()` gives the layout's COPY
    statement, if it has one (export_chunks)."""
    encoding = requested_encoding()
    charset = "gb18030" if encoding == "gb18030" else "utf-8"
    # content_type, not mimetype: a mimetype makes werkzeug add its own `charset=utf-8`,
    # which would label the GB18030 bytes as UTF-8.
    return Response(
        export_chunks(headers, rows, copy, encoding),
        content_type=f"text/csv; charset={charset}",
        headers={"Content-Disposition": _disposition(filename)},
    )


def xlsx_response(
    filename: str, sheet: str, headers: list[str], rows: Iterable[Iterable], **options
):
    """An XLSX file written row by row by the one XLSX writer (app/core/xlsxfile.py: typed
    cells, bold frozen header, fitted widths) to a temporary file, then streamed. `options`:
    write_xlsx's (text_columns: codes kept as text)."""
    spool = tempfile.TemporaryFile()
    write_xlsx(spool, sheet, headers, rows, **options)
    spool.seek(0)

    def chunks():
        with spool:
            while block := spool.read(64 * 1024):
                yield block

    return Response(
        chunks(),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": _disposition(filename)},
    )
