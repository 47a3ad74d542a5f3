"""The one XLSX writer of the system: every workbook the system writes (the public exports, the
import templates) is written here, the way Excel users expect it:

- typed cells: numbers stay numbers (序号, 年度, counts), dates are dates formatted yyyy-mm-dd
  (a `date`, or a text that is exactly an ISO date, as the portal layouts write dates), times
  yyyy-mm-dd hh:mm; every other cell is text. A text CSV would neutralise (app/core/csvfile.py:
  `= + - @` or a control character first) is a string cell with Excel's quote prefix, shown
  without a visible `'` and kept as text when edited; characters XML
  cannot hold (U+FFFE, U+FFFF, lone surrogates, C0 controls) are dropped from every text;
- the header row bold, on a grey fill, frozen (it stays in view when scrolling);
- column widths fitted to the header and the first rows (a CJK character counts double);
- a Chinese sheet name (cut to Excel's 31 characters, without the characters Excel refuses).

openpyxl's write-only mode: rows are streamed to the file, never held in memory, except the
first `_SAMPLE_ROWS` that fit the widths (the widths come before the rows in the file)."""

from __future__ import annotations

import datetime as dt
import decimal
import itertools
import re
import unicodedata
from collections.abc import Iterable

from app.core.csvfile import neutralise
from app.core.text import xml_safe

DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
TEXT_FORMAT = "@"
HEADER_FILL = "D9D9D9"
MIN_WIDTH = 6
MAX_WIDTH = 60
_SAMPLE_ROWS = 200
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")

__all__ = ["display_width", "sheet_title", "typed", "write_xlsx"]


def display_width(value) -> int:
    """Width in Excel's character units: a CJK (wide or full-width) character counts two; the
    longest line of a multi-line cell."""
    text = "" if value is None else str(value)
    return max(
        (
            sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in line)
            for line in text.splitlines() or [""]
        ),
        default=0,
    )


def sheet_title(name: str) -> str:
    """A sheet name Excel takes: no `[]:*?/\\`, at most 31 characters, never empty."""
    return (_BAD_SHEET_CHARS.sub("", xml_safe(name or "")).strip("' ")[:31]) or "Sheet1"


def typed(value):
    """(cell value, number format or None) as the cell is written."""
    if value is None:
        return None, None
    if isinstance(value, bool):
        return ("是" if value else "否"), None
    if isinstance(value, int | float | decimal.Decimal):
        return value, None
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None), DATETIME_FORMAT
    if isinstance(value, dt.date):
        return value, DATE_FORMAT
    text = xml_safe(str(value))
    if _ISO_DATE.match(text):
        try:
            return dt.date.fromisoformat(text), DATE_FORMAT
        except ValueError:
            pass
    return text, None


def _cell(ws, value, number_format=None):
    """A written cell. A text a spreadsheet would take for a formula (`= + - @`, a control
    character first) is stored as a string and marked with Excel's quote prefix: shown as
    typed, without the `'` that neutralises it in CSV, and still text when someone edits the
    cell (Excel's own way of storing a text typed as `'=…`)."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, str) and neutralise(value) != value:
        cell.data_type = "s"
        cell.quotePrefix = True
    if number_format:
        cell.number_format = number_format
    return cell


def write_xlsx(
    target,
    sheet: str,
    headers: list[str],
    rows: Iterable[Iterable] = (),
    *,
    text_columns: Iterable[int] = (),
    date_columns: Iterable[int] = (),
    choices: dict[int, list[str]] | None = None,
    empty_rows: int = 10000,
) -> None:
    """Write one sheet to `target` (a path or a binary file).

    `text_columns` (0-based) are formatted as text, whatever is typed into them later (an
    identifier keeps all its 18 digits); `date_columns` as dates. `choices` puts a drop-down
    list on a column, for the `empty_rows` rows under the header (an import template)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook(write_only=True)
    ws = book.create_sheet(sheet_title(sheet))
    rows = iter(rows)
    sample = [list(row) for row in itertools.islice(rows, _SAMPLE_ROWS)]
    text_columns, date_columns = set(text_columns), set(date_columns)

    for index, header in enumerate(headers):
        cells = [typed(row[index])[0] for row in sample if index < len(row)]
        width = max([display_width(header) + 2, *(display_width(_shown(c)) + 1 for c in cells)])
        if index in date_columns or any(isinstance(c, dt.date) for c in cells):
            width = max(width, 12)
        dimension = ws.column_dimensions[get_column_letter(index + 1)]
        dimension.width = min(MAX_WIDTH, max(MIN_WIDTH, width))
        if index in text_columns:
            # Text columns hold identifiers: room for the 18 characters of a USCC.
            dimension.width = max(dimension.width, 22)
            dimension.number_format = TEXT_FORMAT
        elif index in date_columns:
            dimension.number_format = DATE_FORMAT
    ws.freeze_panes = "A2"
    for index, options in (choices or {}).items():
        validation = DataValidation(
            type="list", formula1='"' + ",".join(options) + '"', allow_blank=True
        )
        letter = get_column_letter(index + 1)
        validation.add(f"{letter}2:{letter}{empty_rows}")
        ws.data_validations.append(validation)

    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor=HEADER_FILL)
    centred = Alignment(horizontal="center", vertical="center", wrap_text=True)
    header_cells = []
    for header in headers:
        cell = _cell(ws, xml_safe(header))
        cell.font, cell.fill, cell.alignment = bold, fill, centred
        header_cells.append(cell)
    ws.append(header_cells)

    for row in itertools.chain(sample, rows):
        out = []
        for index, value in enumerate(row):
            if index in text_columns:
                value, number_format = (None if value is None else xml_safe(value)), TEXT_FORMAT
            else:
                value, number_format = typed(value)
            out.append(_cell(ws, value, number_format))
        ws.append(out)
    book.save(target)


def _shown(value) -> str:
    if isinstance(value, dt.datetime):
        return "2026-01-01 00:00"
    if isinstance(value, dt.date):
        return "2026-01-01"
    return "" if value is None else str(value)
