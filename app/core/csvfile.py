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


# --- The COPY path (PostgreSQL) -----------------------------------------------------------------
#
# The second writer, for the large exports on PostgreSQL: the database writes the rows itself
# (`COPY (SELECT …) TO STDOUT WITH (FORMAT csv)`) and this module only frames them, so a
# million rows cost what psql's `\copy` costs, not a Python loop over cells. Everything that
# makes the file ours is done in the SELECT, and the bytes are those `csv_chunks` writes for
# the same rows (tests/disclosure/test_export_copy.py compares them):
#
# - every cell is text built by the layout (`sql_cell` below neutralises it exactly as
#   `neutralise` does; natural persons are masked by app/core/masking.pg_mask_person_name);
# - an empty cell is NULL, which COPY writes as nothing (an empty string it would write `""`);
# - COPY quotes a cell holding a comma, a quote, CR or LF, and doubles quotes, as the csv
#   module does (its other case, a lone `\.`, only happens with one column);
# - COPY ends a row with LF, the csv module with CRLF: each CopyData message is one row (the
#   protocol says so), so its last byte is the row's end and becomes CRLF here;
# - the header row is written by `csv_chunks` (the BOM with it); GB18030 is the same codec as
#   the Python path's, applied to COPY's UTF-8 blocks of whole rows.

_COPY_BLOCK_ROWS = 2000
# A cell neutralise() prefixes: = + - @ or a control character (category Cc: U+0001-U+001F,
# U+007F-U+009F; PostgreSQL text cannot hold U+0000). ascii() is the first character's code
# point (0 for an empty text): integer comparisons, cheaper than a regular expression per cell.
_SQL_FORMULA_STARTS = tuple(ord(c) for c in _FORMULA_START)


def sql_cell(expr):
    """The SQL text of a cell as `neutralise` writes it, NULL for an empty cell. `expr` is a
    text expression (NULL allowed)."""
    from sqlalchemy import Text, case, cast, func, literal

    text = cast(expr, Text)
    first = func.ascii(text)
    dangerous = first.in_(_SQL_FORMULA_STARTS) | first.between(1, 0x1F) | first.between(0x7F, 0x9F)
    return func.nullif(
        case((dangerous, literal("'", Text).concat(text)), else_=text), literal("", Text)
    )


def copy_sql(connection, statement) -> str:
    """`COPY (statement) TO STDOUT …` with its parameters bound by psycopg (COPY takes none)."""
    import psycopg

    compiled = statement.compile(
        dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
    )
    raw = connection.connection.driver_connection
    select_sql = psycopg.ClientCursor(raw).mogrify(str(compiled), compiled.params)
    return f"COPY ({select_sql}) TO STDOUT WITH (FORMAT csv, ENCODING 'UTF8')"


def copy_chunks(engine, statement, headers: Iterable, encoding: str = UTF8_BOM):
    """The file `csv_chunks` would write, the rows written by PostgreSQL's COPY from
    `statement` (a SELECT of the cells, each made by `sql_cell` or a number), in encoded blocks
    of a couple of thousand rows. The connection is the generator's own; a download cut short
    closes it (the server stops the COPY)."""
    import select

    import psycopg
    from psycopg import pq

    yield b"".join(csv_chunks(headers, [], encoding))
    connection = engine.connect()
    done = False
    try:
        sql = copy_sql(connection, statement)
        raw = connection.connection.driver_connection
        raw.rollback()  # no transaction of psycopg's own around the COPY: it is one statement
        pgconn = raw.pgconn
        pgconn.send_query(sql.encode())
        _wait_result(pgconn, pq.ExecStatus.COPY_OUT)
        get = pgconn.get_copy_data
        rows: list[bytes] = []
        while True:
            nbytes, data = get(1)  # without waiting: what has arrived
            if nbytes > 0:
                rows.append(data)
                if len(rows) >= _COPY_BLOCK_ROWS:
                    yield _copy_block(rows, encoding)
                    rows = []
            elif nbytes == 0:
                select.select([pgconn.socket], [], [])
                pgconn.consume_input()
            elif nbytes == -1:
                break
            else:
                raise psycopg.OperationalError(pgconn.get_error_message())
        while (result := pgconn.get_result()) is not None:
            if result.status != pq.ExecStatus.COMMAND_OK:
                raise psycopg.DatabaseError(result.get_error_message())
        done = True
        if rows:
            yield _copy_block(rows, encoding)
    finally:
        if not done:
            connection.invalidate()  # mid-COPY: the connection is not reusable
        connection.close()


def _wait_result(pgconn, expected):
    import select

    import psycopg

    while pgconn.is_busy():
        select.select([pgconn.socket], [], [])
        pgconn.consume_input()
    result = pgconn.get_result()
    if result is None or result.status != expected:
        message = result.get_error_message() if result is not None else "no result"
        raise psycopg.DatabaseError(message)


def _copy_block(rows: list[bytes], encoding: str) -> bytes:
    """COPY's rows (each ending with its one LF) as the csv module's, encoded."""
    block = b"".join(rows)
    if block.count(b"\n") == len(rows):
        block = block.replace(b"\n", b"\r\n")
    else:  # a cell with a line break: only each row's last byte is its end
        block = b"\r\n".join([memoryview(row)[:-1] for row in rows]) + b"\r\n"
    if encoding == UTF8_BOM:
        return block
    return block.decode("utf-8").encode(encoding)
