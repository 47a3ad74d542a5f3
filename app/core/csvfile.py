"""The one CSV writer of the system (DESIGN.md "Formats"). Every CSV file the system writes, for
download, filing, archive bundle or the command line, is written here; tests/core/test_csvfile.py
walks app/ and fails on a `csv.writer` anywhere else.

- Cells a spreadsheet would run as a formula or treat specially are neutralised (CSV injection):
  a cell starting with `=`, `+`, `-`, `@`, a tab, a carriage return or any other control
  character gets a leading `'`, so Excel and WPS show it as text.
- UTF-8 with BOM by default (Excel on a Chinese desktop opens it correctly), GB18030 on request;
  a character the encoding lacks raises, it never silently vanishes.
- Streamed: `csv_chunks` yields encoded chunks of a few hundred rows, so memory stays flat
  whatever the number of rows; `csv_bytes` joins them for the small files (a filing, an archive
  bundle's records, an import template) that are hashed or stored whole."""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable

UTF8_BOM = "utf-8-sig"
_FORMULA_START = ("=", "+", "-", "@")
_CHUNK_ROWS = 500


def neutralise(value) -> str:
    """The cell as text, with a leading `'` when a spreadsheet would not take it as plain text."""
    text = "" if value is None else str(value)
    if text and (text.startswith(_FORMULA_START) or unicodedata.category(text[0]) == "Cc"):
        return "'" + text
    return text


def csv_chunks(headers: Iterable, rows: Iterable[Iterable], encoding: str = UTF8_BOM):
    """The file as encoded chunks of a few hundred rows, the header row first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([neutralise(h) for h in headers])
    first = True
    count = 0
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
        count += 1
        if count % _CHUNK_ROWS == 0:
            yield _encode(buffer, encoding, first)
            first = False
    yield _encode(buffer, encoding, first)


def csv_bytes(headers: Iterable, rows: Iterable[Iterable], encoding: str = UTF8_BOM) -> bytes:
    """A small file whole (it is hashed, stored or zipped as one piece)."""
    return b"".join(csv_chunks(headers, rows, encoding))


def _encode(buffer: io.StringIO, encoding: str, first: bool) -> bytes:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    if encoding == UTF8_BOM:
        # The BOM once, at the start of the file.
        return text.encode(UTF8_BOM if first else "utf-8")
    return text.encode(encoding)
