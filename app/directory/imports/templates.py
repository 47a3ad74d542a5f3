"""The downloadable templates: our header row as CSV and as XLSX."""

from __future__ import annotations

import io

from app.directory.imports.importers import COLUMNS, SHEET_TITLES
from app.directory.imports.validation import _IDENTIFIER_ATTRS


def template_csv(kind: str) -> bytes:
    """The header row, UTF-8 with BOM (Excel on a Chinese desktop opens it correctly), written
    by the one CSV writer."""
    from app.core.csvfile import csv_bytes

    return csv_bytes([c.header for c in COLUMNS[kind]], [])


def template_xlsx(kind: str) -> bytes:
    """The header row in a workbook; identifier columns formatted as text (so that Excel keeps
    all 18 digits) and drop-down lists for the single-choice columns."""
    from app.core.xlsxfile import write_xlsx

    columns = COLUMNS[kind]
    buffer = io.BytesIO()
    write_xlsx(
        buffer,
        SHEET_TITLES[kind],
        [c.header for c in columns],
        [],
        text_columns=[i for i, c in enumerate(columns) if c.attr in _IDENTIFIER_ATTRS],
        date_columns=[i for i, c in enumerate(columns) if c.type == "date"],
        choices={i: list(c.choices) for i, c in enumerate(columns) if c.choices and not c.multi},
    )
    return buffer.getvalue()
