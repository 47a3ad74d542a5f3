"""Reading uploaded tables: CSV in the encodings Excel writes on a Chinese desktop (UTF-8, UTF-8
with BOM, GB18030/GBK, detected, never asked) and XLSX workbooks.

Everything streams: a CSV file is decoded through a text wrapper and a workbook is parsed row by
row (openpyxl read-only), so a file of a hundred thousand rows never sits in memory as a whole.
`TableFile.rows()` can be called more than once on the same seekable stream (an importer that
validates in one pass and writes in a second).

Cell values come out as stripped strings, `datetime.date`/`datetime.datetime` (XLSX date cells),
or one of two markers: `FORMULA_WITHOUT_VALUE` (a formula cell the workbook holds no computed
value for) and `ExcelError` (a cell showing an Excel error such as #DIV/0!).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

from flask_babel import gettext as _

# Tried in this order: "utf-8-sig" reads UTF-8 with and without BOM; GB18030 is a superset of
# GBK and GB2312. A file that is valid UTF-8 is read as UTF-8 (GB18030 would accept almost any
# byte sequence, UTF-8 does not).
ENCODINGS = ("utf-8-sig", "gb18030")
CHUNK = 1 << 16

XLSX_MAGIC = b"PK\x03\x04"  # a zip archive
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls (or an encrypted workbook)

# Floats at least this large lost digits in Excel (15 significant digits): a citizen ID typed
# into a number cell.
IMPRECISE_FROM = 1e15


class UploadError(ValueError):
    """The file cannot be read at all (encoding, format). The message is for the user."""


class _FormulaWithoutValue:
    __slots__ = ()

    def __repr__(self):
        return "FORMULA_WITHOUT_VALUE"


FORMULA_WITHOUT_VALUE = _FormulaWithoutValue()


class ExcelError(str):
    """The text of an Excel error value (#DIV/0!, #N/A, #REF! ...)."""


class ImpreciseNumber(str):
    """A number Excel stored with fewer digits than it was typed with (>= 15 digits)."""


# --- encodings ------------------------------------------------------------------------------


def _encoding_error() -> UploadError:
    return UploadError(
        _("The file's encoding is not recognised: save the CSV file as UTF-8 or GB18030 (GBK).")
    )


def detect_encoding(stream: BinaryIO) -> str:
    """The encoding of a binary stream (whole file checked, chunk by chunk); the stream is left
    at its start."""
    for encoding in ENCODINGS:
        stream.seek(0)
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            while chunk := stream.read(CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        stream.seek(0)
        return encoding
    stream.seek(0)
    raise _encoding_error()


def decode_bytes(raw: bytes) -> str:
    """A small upload held in memory, decoded with the same rule as `detect_encoding`."""
    for encoding in ENCODINGS:
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise _encoding_error()


@contextmanager
def text_stream(stream: BinaryIO, encoding: str | None = None):
    """A text view of a binary stream for the csv module; the binary stream stays open."""
    encoding = encoding or detect_encoding(stream)
    stream.seek(0)
    wrapper = io.TextIOWrapper(stream, encoding=encoding, newline="")
    try:
        yield wrapper
    finally:
        wrapper.detach()


def sha256_of(stream: BinaryIO) -> str:
    stream.seek(0)
    digest = hashlib.sha256()
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
    stream.seek(0)
    return digest.hexdigest()


# --- cell values ----------------------------------------------------------------------------


def number_text(value) -> str:
    """12 -> '12', 12.0 -> '12', 0.5 -> '0.5' (never scientific notation)."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if value != value or value in (float("inf"), float("-inf")):  # NaN, infinities
        return str(value)
    if float(value).is_integer() and abs(value) < IMPRECISE_FROM:
        return str(int(value))
    text = format(round(value, 10), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _clean_text(value: str) -> str:
    return value.replace("\ufeff", "").strip()


# --- tables ---------------------------------------------------------------------------------


class TableFile:
    """A CSV or XLSX upload, recognised by its content (not by its file name)."""

    def __init__(self, stream: BinaryIO):
        self.stream = stream
        stream.seek(0)
        head = stream.read(8)
        stream.seek(0)
        if head.startswith(OLE_MAGIC):
            raise UploadError(
                _(
                    "Old Excel workbooks (.xls) and encrypted workbooks cannot be read: save "
                    "the workbook as .xlsx (Excel workbook) or as CSV."
                )
            )
        if head.startswith(XLSX_MAGIC):
            self.format = "xlsx"
            self.encoding = None
            check_workbook_xml(stream)
        else:
            self.format = "csv"
            self.encoding = detect_encoding(stream)
        self.sha256 = sha256_of(stream)

    def rows(self) -> Iterator[tuple[int, list]]:
        """(row number, cell values) for every row of the file (first sheet of a workbook),
        empty rows included; row 1 is the first line or the first spreadsheet row."""
        if self.format == "csv":
            return self._csv_rows()
        return self._xlsx_rows()

    def _csv_rows(self):
        with text_stream(self.stream, self.encoding) as text:
            number = 0
            reader = csv.reader(text)
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except csv.Error:
                    # A cell over the csv module's limit (131,072 characters).
                    raise UploadError(_unreadable_csv_row(number + 1)) from None
                number += 1
                yield number, [_clean_text(cell) for cell in row]

    def _xlsx_rows(self):
        import zipfile

        from openpyxl import load_workbook

        self.stream.seek(0)
        try:
            workbook = load_workbook(self.stream, read_only=True, data_only=True, keep_links=False)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError):
            raise UploadError(_not_a_workbook()) from None
        try:
            if not workbook.worksheets:
                return
            sheet = workbook.worksheets[0]
            yield from _sheet_rows(workbook, sheet)
        finally:
            workbook.close()


def _unreadable_csv_row(number: int) -> str:
    return _(
        "Row %(row)d of the file cannot be read: a cell is longer than %(n)s characters. "
        "Check the row in Excel or WPS and save the file again.",
        row=number,
        n=f"{csv.field_size_limit():,}",
    )


def _not_a_workbook() -> str:
    """The refusal of a file that is no readable workbook. The library's own reason ("File is
    not a zip file", "There is no item named …") is English program text: not shown."""
    return _(
        "The file could not be read as an Excel workbook (.xlsx): it is damaged or not an "
        "Excel file. Save it again from Excel or WPS as .xlsx, or upload a CSV file."
    )


# A workbook's XML never declares a document type: a DOCTYPE is there to define entities (an
# "XML bomb" expanding a few kilobytes to gigabytes, or an external entity reading a file).
# Refused before openpyxl parses anything, in any encoding an XML parser would accept.
_DECLARATIONS = tuple(
    marker.encode(encoding)
    for marker in ("<!doctype", "<!entity")
    for encoding in ("ascii", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
)
# The parts of a 100,000-row workbook unpack to about 100 MB; a zip bomb declares far more.
MAX_WORKBOOK_UNPACKED = 1 << 30


def check_workbook_xml(stream: BinaryIO) -> None:
    """Raise UploadError if a part of the workbook declares a DTD or entities, or if the parts
    unpack to more than MAX_WORKBOOK_UNPACKED bytes. Streams each part (never whole in memory);
    zipfile stops at each part's declared size, so the declared total bounds the work."""
    import zipfile

    stream.seek(0)
    try:
        archive = zipfile.ZipFile(stream)
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise UploadError(_not_a_workbook()) from None
    if sum(member.file_size for member in members) > MAX_WORKBOOK_UNPACKED:
        raise UploadError(_("The workbook unpacks to more data than any real workbook holds."))
    overlap = max(len(marker) for marker in _DECLARATIONS) - 1
    try:
        for member in members:
            if member.is_dir():
                continue
            tail = b""
            with archive.open(member) as part:
                while chunk := part.read(CHUNK):
                    window = (tail + chunk).lower()
                    if any(marker in window for marker in _DECLARATIONS):
                        raise UploadError(
                            _(
                                "The workbook contains XML declarations (DOCTYPE or ENTITY) that "
                                "Excel never writes; it is refused. Save it again from Excel or "
                                "WPS, or upload a CSV file."
                            )
                        )
                    tail = window[-overlap:]
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as exc:
        if isinstance(exc, UploadError):
            raise
        raise UploadError(_not_a_workbook()) from None
    finally:
        stream.seek(0)


def _percent_styles(workbook) -> set[int]:
    """Style ids of cells shown as percentages (their value 0.05 is typed as 5%)."""
    from openpyxl.styles.numbers import BUILTIN_FORMATS, BUILTIN_FORMATS_MAX_SIZE

    found = set()
    try:
        for idx, style in enumerate(workbook._cell_styles):
            fmt_id = style.numFmtId
            if fmt_id < BUILTIN_FORMATS_MAX_SIZE:
                fmt = BUILTIN_FORMATS.get(fmt_id, "General")
            else:
                fmt = workbook._number_formats[fmt_id - BUILTIN_FORMATS_MAX_SIZE]
            if "%" in fmt:
                found.add(idx)
    except (AttributeError, IndexError, TypeError):
        return set()
    return found


def _sheet_rows(workbook, sheet):
    """The rows of a read-only worksheet, parsed with openpyxl's streaming parser in data-only
    mode, telling a formula cell without a cached value apart from an empty cell."""
    from openpyxl.worksheet._reader import FORMULA_TAG, VALUE_TAG, WorkSheetParser

    class Parser(WorkSheetParser):
        def parse_cell(self, element):
            cell = super().parse_cell(element)
            # No cached value: no <v>, or an empty one (what a program that cannot calculate
            # writes); an empty text result (t="str") is a real, empty value.
            if (
                cell["value"] is None
                and element.find(FORMULA_TAG) is not None
                and element.get("t") != "str"
                and not (element.findtext(VALUE_TAG) or "")
            ):
                cell["value"] = FORMULA_WITHOUT_VALUE
            return cell

    percent = _percent_styles(workbook)
    with sheet._get_source() as source:
        parser = Parser(
            source,
            sheet._shared_strings,
            data_only=True,
            epoch=workbook.epoch,
            date_formats=workbook._date_formats,
            timedelta_formats=workbook._timedelta_formats,
        )
        expected = 1
        for number, cells in parser.parse():
            while expected < number:  # rows missing from the file are empty rows
                yield expected, []
                expected += 1
            values: list = []
            for cell in cells:
                column = cell["column"]
                if column > len(values):
                    values.extend([""] * (column - len(values)))
                values[column - 1] = _xlsx_value(cell, percent)
            yield number, values
            expected = number + 1


def _xlsx_value(cell: dict, percent: set[int]):
    value = cell["value"]
    if value is None:
        return ""
    if value is FORMULA_WITHOUT_VALUE:
        return value
    if cell["data_type"] == "e":
        return ExcelError(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value
    if isinstance(value, dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    if isinstance(value, bool):
        return number_text(value)
    if isinstance(value, (int, float)):
        if cell.get("style_id") in percent:
            return number_text(value * 100) + "%"
        if isinstance(value, float) and abs(value) >= IMPRECISE_FROM:
            return ImpreciseNumber(number_text(value))
        return number_text(value)
    return _clean_text(str(value))
