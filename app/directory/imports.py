"""Bulk import of 一单两库 from the bureau's spreadsheets: targets (检查对象名录), inspectors
(执法检查人员名录) and items (随机抽查事项清单), from CSV (UTF-8, UTF-8 with BOM, GB18030/GBK) or
XLSX, through the upload page and `flask import targets|inspectors|items FILE`.

Rules:
- All or nothing per file. Pass 1 reads every row, converts and checks it with the same service
  rules as the forms (`services.check_*` with `check_unique=False`) and keeps only the keys needed
  for duplicate detection; if any row is bad nothing is written and every bad row is reported
  with its spreadsheet row number (the header is row 1), its column (the Chinese header) and a
  reason. While the file is clean, pass 1 spools the normalised rows to a temporary file: the
  file is parsed once. Pass 2 writes from the spool in the caller's transaction, with Core
  statements (one COPY of the new records on PostgreSQL, batched inserts elsewhere) and the
  per-record audit rows in bulk (docs/performance.md, "Bulk import").
- Upsert: a row whose key (USCC, or the citizen ID number of a 自然人; certificate number; item
  code) matches an existing record updates it; two rows of one file with the same key are an
  error. Existing keys are loaded in one query per import, not one per row.
- The row is the whole record: a column missing from the header is left unchanged on update, an
  empty cell empties the field (or sets the column's default: 存续, B, 在岗, 一般).
- Published items change only through a revision, never through an import.

The importer never commits: the caller commits when `result.ok`, and rolls back otherwise.
"""

from __future__ import annotations

import datetime as dt
import io
import pickle
import re
import tempfile
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import BinaryIO

from flask_appbuilder.security.sqla.models import User
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import String, bindparam, delete, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from app.core.audit import chain
from app.core.audit.recorder import (
    NOISE_COLUMNS,
    CreatedChanges,
    base_entry,
    dump,
    log_event,
    logged_value,
)
from app.core.errors import DomainError
from app.core.identifiers import USCC, CitizenID
from app.core.text import CONTROL_CHARACTERS, has_control_characters
from app.core.uploads import (
    FORMULA_WITHOUT_VALUE,
    ExcelError,
    ImpreciseNumber,
    TableFile,
    UploadError,
)
from app.directory import services
from app.directory.models import (
    GENDERS,
    INDUSTRIES,
    INSPECTION_METHODS,
    INSPECTOR_STATUSES,
    ITEM_CLASSES,
    LIVE_STATUS,
    NATURAL_PERSON,
    REGISTRATION_STATUSES,
    RISK_CLASSES,
    SPECIAL_FLAGS,
    SPECIALTIES,
    TARGET_TYPES,
    Area,
    InspectionItem,
    Inspector,
    Target,
    split_multi,
    target_item,
)
from app.extensions import db
from app.security.models import Department
from app.security.scope import departments_in_scope

MAX_ERRORS = 1000  # errors kept and shown; the total is always counted
BATCH_SIZE = 1000  # rows spooled and written per batch
PROGRESS_EVERY = 1000  # rows between two progress calls of pass 1
DASH = "—"  # the column of an error that belongs to no single column

KINDS = ("targets", "inspectors", "items")
KIND_LABELS = {
    "targets": _l("Target directory"),
    "inspectors": _l("Inspector roster"),
    "items": _l("Inspection item list"),
}
# Sheet names of the XLSX templates: the registers' official names.
SHEET_TITLES = {
    "targets": "检查对象名录",
    "inspectors": "执法检查人员名录",
    "items": "随机抽查事项清单",
}

# Columns where Excel turns a long number into 1.50602E+17.
_IDENTIFIER_ATTRS = frozenset(
    {"uscc", "id_number", "certificate_no", "phone", "contact_phone", "code"}
)
_SCIENTIFIC_RE = re.compile(r"^\d(?:\.\d+)?[eE]\+?\d+$")
_DATE_RE = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)


try:
    from psycopg import IntegrityError as _CopyIntegrityError
except ImportError:  # pragma: no cover - psycopg is a requirement
    _INTEGRITY_ERRORS: tuple = (IntegrityError,)
else:
    _INTEGRITY_ERRORS = (IntegrityError, _CopyIntegrityError)

# The AuditMixin columns, stamped by pass 2.
_STAMP_COLUMNS = frozenset({"id", "created_on", "changed_on", "created_by_fk", "changed_by_fk"})
_CHANGED_MEANWHILE = _l("The directory changed while the file was imported: upload it again.")


def _no_progress(checked: int, written: int) -> None:
    pass


class _Probe:
    """A row as the service checks see a model object (attributes only): building real ORM
    objects for 100,000 rows cost most of an import's time."""

    def __init__(self, defaults: dict, values: dict):
        self.__dict__.update(defaults)
        self.__dict__.update(values)


# --- results --------------------------------------------------------------------------------


@dataclass
class RowError:
    row: int | None  # spreadsheet row number; None for the file as a whole
    column: str  # the Chinese header, or "—"
    reason: str


@dataclass
class ImportResult:
    kind: str
    filename: str
    sha256: str | None = None
    rows: int = 0  # data rows (empty rows not counted)
    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)  # the first MAX_ERRORS
    error_count: int = 0

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    @property
    def errors_truncated(self) -> bool:
        return self.error_count > len(self.errors)

    def add_error(self, row: int | None, column: str, reason) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(RowError(row, column, str(reason)))


# --- columns --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    header: str
    attr: str  # model attribute (or "items" for the targets' item codes)
    type: str = "text"  # text | date | department | area | items | user
    required: bool = False  # the header must have it
    default: str | None = None  # value of an empty cell
    choices: tuple[str, ...] = ()
    multi: bool = False  # several choices separated by 、
    aliases: tuple[str, ...] = ()


def _department_column(header: str) -> Column:
    alias = "所属部门" if header == "主管部门" else "主管部门"
    return Column(header, "department_id", "department", required=True, aliases=(alias,))


TARGET_COLUMNS = (
    Column("检查对象类型", "target_type", required=True, choices=TARGET_TYPES),
    Column("名称", "name", required=True),
    Column("统一社会信用代码", "uscc"),
    Column("公民身份号码", "id_number"),
    Column("法定代表人", "legal_representative"),
    Column("联系人", "contact_person"),
    Column("联系电话", "contact_phone"),
    Column("地址", "address"),
    Column("所属区域", "area_id", "area"),
    Column("行业类别", "industry", choices=INDUSTRIES),
    Column("登记状态", "registration_status", default=LIVE_STATUS, choices=REGISTRATION_STATUSES),
    Column("信用风险等级", "risk_class", default="B", choices=RISK_CLASSES),
    Column("特殊监管标记", "flags", choices=SPECIAL_FLAGS, multi=True),
    Column("适用事项", "items", "items"),
    Column("最近检查日期", "last_inspected_on", "date"),
    _department_column("主管部门"),
    Column("备注", "remarks"),
)

INSPECTOR_COLUMNS = (
    Column("姓名", "name", required=True),
    Column("性别", "gender", choices=GENDERS),
    _department_column("所属部门"),
    Column("职务", "post"),
    Column("执法证号", "certificate_no", required=True),
    Column("执法证有效期至", "certificate_expiry", "date", required=True),
    Column("专业领域", "specialties", choices=SPECIALTIES, multi=True),
    Column("状态", "status", default=INSPECTOR_STATUSES[0], choices=INSPECTOR_STATUSES),
    Column("联系电话", "phone"),
    Column("公民身份号码", "id_number"),
    Column("登录账号", "user_id", "user"),
)

ITEM_COLUMNS = (
    Column("事项编码", "code", required=True),
    Column("抽查类别", "category", required=True),
    Column("抽查事项", "name", required=True),
    Column("检查对象", "target_type", required=True),
    Column("事项类别", "item_class", default="一般", choices=ITEM_CLASSES),
    Column("检查方式", "method", required=True, choices=INSPECTION_METHODS, multi=True),
    Column("检查主体", "inspecting_body", required=True),
    Column("检查依据", "legal_basis"),
    Column("抽查比例", "sampling_ratio"),
    Column("抽查频次", "frequency"),
    Column("备注", "remarks"),
    _department_column("所属部门"),
)


def column_note(column: Column) -> str:
    """What a cell of the column may hold, for the upload page."""
    notes = []
    if column.type == "date":
        notes.append(_("A date: YYYY-MM-DD (YYYY/MM/DD and Excel date cells are accepted too)."))
    elif column.type == "department":
        notes.append(_("The code or the name of a department within your scope."))
    elif column.type == "area":
        notes.append(_("The name of an area (街道/镇)."))
    elif column.type == "items":
        notes.append(_("Codes of published items, separated by 、 or a comma."))
    elif column.type == "user":
        notes.append(_("The username of an existing login account (optional)."))
    elif column.choices and column.multi:
        notes.append(
            _("One or more of: %(values)s, separated by 、.", values="、".join(column.choices))
        )
    elif column.choices:
        notes.append(_("One of: %(values)s.", values="、".join(column.choices)))
    if column.default:
        notes.append(_("Empty means %(value)s.", value=column.default))
    if column.attr == "uscc":
        notes.append(
            _("The key of organisations: a row with a USCC already in the directory updates it.")
        )
    elif column.attr == "id_number" and any(column is c for c in TARGET_COLUMNS):
        notes.append(_("Required for natural persons (自然人), and their key."))
    elif column.attr == "certificate_no":
        notes.append(_("The key: a row with a known certificate number updates that inspector."))
    elif column.attr == "code":
        notes.append(
            _(
                "The key: a row with the code of a draft item updates it; published items cannot "
                "be changed by an import."
            )
        )
    return " ".join(notes)


# --- cells ----------------------------------------------------------------------------------


class _CellError(ValueError):
    pass


def _text(value) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def parse_date(value) -> dt.date:
    """YYYY-MM-DD, YYYY/MM/DD (also without leading zeros, as Chinese Excel writes them),
    YYYY年M月D日, or an Excel date cell."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    match = _DATE_RE.match(text)
    if match:
        try:
            return dt.date(*(int(part) for part in match.groups()))
        except ValueError:
            pass
    raise _CellError(_("“%(value)s” is not a date: write it as YYYY-MM-DD.", value=text))


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# Messages of the service checks (their msgids, translated at run time) and the column each one
# belongs to; identifier messages are placed by looking at the identifiers (see _fallback_column).
_SCOPE_MESSAGES = (
    ("Choose the department in charge.", ()),
    ("You can only record data of your own departments.", ()),
)


class _Importer:
    kind: str
    model: type
    columns: tuple[Column, ...]
    check: Callable
    messages: tuple[tuple[str, str, tuple[str, ...]], ...] = ()
    required_any: tuple[tuple[str, ...], ...] = ()
    # PostgreSQL: new records go in while pass 1 still checks the file (_EarlyCopy). Only for
    # a kind whose checks read nothing from the database (the COPY holds the connection).
    copy_while_checking = False

    def __init__(self):
        self.scope = departments_in_scope()
        self.headers = {column.attr: column.header for column in self.columns}
        self.department_header = self.headers["department_id"]
        self.patterns = self._compile_messages()
        self._departments_by_code: dict[str, int] = {}
        self._departments_by_code_ci: dict[str, list[int]] = {}
        self._departments_by_name: dict[str, list[int]] = {}
        for dept_id, code, name in db.session.execute(
            select(Department.id, Department.code, Department.name)
        ):
            self._departments_by_code[code] = dept_id
            self._departments_by_code_ci.setdefault(code.upper(), []).append(dept_id)
            self._departments_by_name.setdefault(name, []).append(dept_id)
        self.present: list[tuple[int, Column]] = []
        self.assigned: list[str] = []
        self._limits: list[tuple[str, str, int]] = []
        self._new_count = 0  # rows of pass 1 that create a record
        self._lengths: dict[str, int | None] = {}
        table = self.model.__table__
        # What a new record's probe starts from: the columns' scalar defaults (ScalarDefaults),
        # None for the others and for the relationships the service checks look at.
        self._defaults = {
            column.key: column.default.arg
            if column.default is not None and getattr(column.default, "is_scalar", False)
            else None
            for column in table.columns
        } | {"department": None, "user": None}
        # The values a pass-1 record carries; the stamps and the id are set by pass 2.
        self.data_columns = tuple(
            column.key for column in table.columns if column.key not in _STAMP_COLUMNS
        )
        self._snapshot_keys = tuple(
            column.key for column in table.columns if column.key not in NOISE_COLUMNS
        )
        copied = ("id", *self.data_columns, *self._stamps_names)
        self._snapshot_positions = tuple(copied.index(key) for key in self._snapshot_keys)
        self._changes: CreatedChanges | None = None
        self._early: _EarlyCopy | None = None

    # --- the two passes ---

    def run(self, stream: BinaryIO, filename: str, progress=None) -> ImportResult:
        result = ImportResult(kind=self.kind, filename=filename)
        self.progress = progress or _no_progress
        self._now = dt.datetime.now()
        self._user_id = self.model.get_user_id()
        try:
            table = TableFile(stream)
            result.sha256 = table.sha256
            with tempfile.TemporaryFile(prefix="dsr-import-") as spool:
                try:
                    self._check_pass(table, result, spool)
                    if result.ok and result.rows == 0:
                        result.add_error(None, DASH, _("The file contains no data rows."))
                    if self._early is not None and result.ok:
                        early, self._early = self._early, None
                        early.finish()
                    self._stop_early_writes()
                finally:
                    if self._early is not None:  # an exception: nothing may stay written
                        early, self._early = self._early, None
                        early.cancel(quiet=True)
                if not result.ok:
                    return result
                self.load_for_writing()
                spool.seek(0)
                self._write_pass(spool, result)
        except UploadError as exc:
            result.add_error(None, DASH, str(exc))
            return result
        except _INTEGRITY_ERRORS:
            # Another user wrote the same key between the check and the write (a COPY raises
            # the driver's own error).
            db.session.rollback()
            result.add_error(None, DASH, _CHANGED_MEANWHILE)
            return result
        if result.ok:
            log_event(
                "import",
                self.kind,
                detail={
                    "file": filename,
                    "sha256": result.sha256,
                    "rows": result.rows,
                    "created": result.created,
                    "updated": result.updated,
                },
            )
        return result

    def _check_pass(self, table: TableFile, result: ImportResult, spool) -> None:
        """Pass 1: every row read (the only time the file is parsed), converted and checked;
        while the file has no error, the normalised rows go to the spool in batches."""
        header_seen = False
        rows = table.rows()
        batch: list = []
        connection = db.session.connection()
        if self.copy_while_checking and connection.dialect.name == "postgresql":
            self._early = _EarlyCopy(connection, self.model.__table__.name, self._copy_columns())
        try:
            for number, values in rows:
                if all(_blank(v) for v in values):
                    continue
                if not header_seen:
                    header_seen = True
                    if not self._read_header(number, values, result):
                        return
                    continue
                raw = {
                    column.attr: values[index] if index < len(values) else ""
                    for index, column in self.present
                }
                result.rows += 1
                record = self._validate_row(number, raw, result)
                if not result.ok:
                    self._stop_early_writes()
                elif record is not None:
                    batch.append(record)
                    if len(batch) >= BATCH_SIZE:
                        self._spool_batch(batch, spool)
                        batch = []
                if result.rows % PROGRESS_EVERY == 0:
                    self.progress(result.rows, 0)
        finally:
            rows.close()
        if batch and result.ok:
            self._spool_batch(batch, spool)
        self.progress(result.rows, 0)

    def _spool_batch(self, batch: list, spool) -> None:
        """A batch of checked records to the spool, with the ids of its new records when they
        were written already (PostgreSQL, while checking), else None."""
        ids = None
        new = [record for record in batch if record[1] is None]
        if self._early is not None:
            ids = self._early.write([self._copy_values(record) for record in new])
        else:
            self._new_count += len(new)
        pickle.dump((batch, ids), spool, pickle.HIGHEST_PROTOCOL)

    def _stop_early_writes(self) -> None:
        """The file has a bad row (or pass 1 needs the connection): the records written while
        checking are taken back, and the rest of the file is only checked."""
        if self._early is not None:
            self._early.cancel()
            self._early = None

    def _write_pass(self, spool, result: ImportResult) -> None:
        """Pass 2, in the caller's transaction: the new records that pass 1 did not write (one
        COPY on PostgreSQL, batched inserts elsewhere) and the audit rows of all new records,
        then the updated ones, then the links of the new ones. The audit rows are chained as
        they are built (app/core/audit/chain.Appender): streamed into their own COPY when the
        records were written in pass 1, else written last."""
        connection = db.session.connection()
        # Records written in pass 1 leave the connection free: their audit rows stream in.
        audit = chain.Appender(connection, direct=not self._new_count)
        try:
            self._write_all(connection, audit, spool, result)
        except BaseException:
            audit.abort()
            raise

    def _write_all(self, connection, audit, spool, result: ImportResult) -> None:
        base = base_entry("create", self.model.__table__.name)
        written = 0
        with tempfile.TemporaryFile(prefix="dsr-import-links-") as link_spool:
            with self._record_sink(connection) as sink:
                for batch, ids in _spooled(spool):
                    new = [record for record in batch if record[1] is None]
                    if new:
                        if ids is None:
                            ids = sink([self._copy_values(record) for record in new])
                        audit.add_alike(base, self._created(new, ids, link_spool))
                        result.created += len(new)
                        written += len(new)
                    self.progress(result.rows, written)
            for batch, _ids in _spooled(spool, rewind=True):
                old = [record for record in batch if record[1] is not None]
                if old:
                    audit.pause()  # the updates read and write through the connection
                    entries: list[dict] = []
                    if not self._update_old(connection, old, entries, result):
                        return
                    audit.add(entries)
                    result.updated += len(old)
                    written += len(old)
                    self.progress(result.rows, written)
            audit.pause()
            for links in _spooled(link_spool, rewind=True):
                self.insert_links(connection, links)
        audit.close()
        self.progress(result.rows, written)

    def _read_header(self, number: int, values: list, result: ImportResult) -> bool:
        by_name = {}
        for column in self.columns:
            for name in (column.header, *column.aliases):
                by_name[name] = column
        seen: dict[str, int] = {}
        self.present = []
        for index, value in enumerate(values):
            name = value.strip().strip("*＊").strip() if isinstance(value, str) else ""
            column = by_name.get(name)
            if column is None:
                continue
            if column.attr in seen:
                result.add_error(
                    number,
                    column.header,
                    _("The column %(column)s appears twice in the header.", column=name),
                )
                continue
            seen[column.attr] = index
            self.present.append((index, column))
        missing = [c.header for c in self.columns if c.required and c.attr not in seen]
        for group in self.required_any:
            if not any(attr in seen for attr in group):
                missing.append("/".join(self.headers[attr] for attr in group))
        if missing:
            result.add_error(
                number,
                DASH,
                _(
                    "The header row lacks the required column(s) %(columns)s: start from the "
                    "downloadable template.",
                    columns="、".join(missing),
                ),
            )
        self.assigned = [c.attr for _i, c in self.present if c.type != "items"]
        self._limits = [
            (attr, self.headers[attr], self._max_length(attr))
            for attr in self.assigned
            if self._max_length(attr)
        ]
        return result.ok

    def _validate_row(self, number: int, raw: dict, result: ImportResult):
        """The row's errors go to the result; a good row comes back as its spool record
        (row number, id of the record it updates or None, values of data_columns, extras)."""
        probe, extras, errors = self._build(raw)
        bad_columns = {column for column, _reason in errors}
        errors.extend(self.check_keys(number, probe, extras, bad_columns))
        if errors:
            for column, reason in errors:
                result.add_error(number, column, reason)
            return None
        values = probe.__dict__
        return (
            number,
            self.matched_id(probe),
            tuple([values[key] for key in self.data_columns]),
            extras.get("items"),
        )

    # --- writing ---

    # The AuditMixin stamps of a new record, in the order of _copy_values.
    _stamps_names = ("created_on", "changed_on", "created_by_fk", "changed_by_fk")

    def _copy_columns(self) -> str:
        """The columns of the records' COPY: the id, then those of `_copy_values`."""
        return ", ".join(("id", *self.data_columns, *self._stamps_names))

    def _copy_values(self, record) -> tuple:
        """A new record's values in the order of `_copy_columns` after the id."""
        return (*record[2], self._now, self._now, self._user_id, self._user_id)

    @contextmanager
    def _record_sink(self, connection):
        """A function writing new records (tuples of `_copy_values`) and returning their ids,
        for the records pass 1 did not write. On PostgreSQL the ids are taken from the
        table's sequence at once and the rows streamed into one COPY, which the database works
        through while the next batch is prepared."""
        table = self.model.__table__
        if connection.dialect.name != "postgresql" or not self._new_count:
            returning = insert(table).returning(table.c.id, sort_by_parameter_order=True)
            names = (*self.data_columns, *self._stamps_names)

            def insert_rows(rows: list[tuple]) -> list[int]:
                params = [dict(zip(names, row, strict=True)) for row in rows]
                return connection.execute(returning, params).scalars().all()

            yield insert_rows
            return
        ids = iter(_take_ids(connection, table.name, self._new_count))
        cursor = connection.connection.driver_connection.cursor()
        with cursor.copy(f"COPY {table.name} ({self._copy_columns()}) FROM STDIN") as copy:

            def copy_rows(rows: list[tuple]) -> list[int]:
                taken = [next(ids) for _row in rows]
                for row_id, row in zip(taken, rows, strict=True):
                    copy.write_row((row_id, *row))
                return taken

            yield copy_rows
        cursor.close()

    def _created(self, records: list, ids: list[int], link_spool) -> list[tuple]:
        """The audit entries of written new records, as (object_id, department_id, changes);
        their links go to the link spool."""
        links = [
            (row_id, record[3])
            for row_id, record in zip(ids, records, strict=True)
            if record[3] is not None
        ]
        if links:
            pickle.dump(links, link_spool, pickle.HIGHEST_PROTOCOL)
        if self._changes is None:
            self._changes = CreatedChanges(self.model, (*self._snapshot_keys, "items"))
        # The snapshot in _snapshot_keys order: the id, the record's values and the stamps.
        positions = self._snapshot_positions
        department = self.data_columns.index("department_id")
        changes = self._changes
        entries = []
        for row_id, record in zip(ids, records, strict=True):
            full = (row_id, *self._copy_values(record))
            snapshot = [full[index] for index in positions]
            snapshot.append(self.link_labels(record[3]) if record[3] else None)
            entries.append((str(row_id), record[2][department], changes(snapshot)))
        return entries

    def _update_old(self, connection, records: list, entries: list, result) -> bool:
        """Updates the records that changed, with an audit row each (the fields as [before,
        after], as the ORM's rows have them). False when a record vanished meanwhile."""
        table = self.model.__table__
        assigned = self.assigned
        ids = [record[1] for record in records]
        before = {
            row.id: row._mapping
            for row in connection.execute(
                select(table.c.id, table.c.department_id, *(table.c[a] for a in assigned)).where(
                    table.c.id.in_(ids)
                )
            )
        }
        links = self.load_links(connection, ids)
        position = {key: index for index, key in enumerate(self.data_columns)}
        base = base_entry("update", table.name)
        model = self.model
        changed = []
        for number, row_id, values, extras in records:
            stored = before.get(row_id)
            if stored is None:
                result.add_error(number, DASH, _CHANGED_MEANWHILE)
                return False
            after = {attr: values[position[attr]] for attr in assigned}
            changes = {
                attr: [logged_value(model, attr, stored[attr]), logged_value(model, attr, value)]
                for attr, value in after.items()
                if stored[attr] != value
            }
            links_changed = self.link_changes(row_id, extras, links, changes)
            if not changes:
                continue
            if any(attr in changes for attr in assigned):
                changed.append(
                    {f"v_{attr}": value for attr, value in after.items()} | {"v_id": row_id}
                )
            department_id = after.get("department_id", stored["department_id"])
            entries.append(
                dict(
                    base, object_id=str(row_id), department_id=department_id, changes=dump(changes)
                )
            )
            if links_changed:
                self.replace_links(connection, row_id, extras, links)
        if changed:
            connection.execute(
                update(table)
                .where(table.c.id == bindparam("v_id"))
                .values(
                    {attr: bindparam(f"v_{attr}") for attr in assigned}
                    | {"changed_on": self._now, "changed_by_fk": self._user_id}
                ),
                changed,
            )
        return True

    # --- one row ---

    def _build(self, raw: dict):
        """The row as a probe (the model's attributes, defaults applied as ScalarDefaults does)
        checked by the service rules, its extra values (item ids of a target) and its errors
        [(column header, reason)]."""
        values, extras, errors = {}, {}, []
        for _index, column in self.present:
            try:
                value = self._convert(column, raw[column.attr])
            except _CellError as exc:
                errors.append((column.header, str(exc)))
                value = None
            if column.type == "items":
                extras["items"] = value or []
            else:
                values[column.attr] = value
        probe = _Probe(self._defaults, values)
        try:
            type(self).check(probe, check_unique=False)
        except DomainError as exc:
            message = str(exc)
            column = self._column_of(message, raw)
            if column == DASH or column not in {c for c, _r in errors}:
                errors.append((column, message))
        bad = {c for c, _r in errors}
        for attr, header, length in self._limits:
            value = getattr(probe, attr)
            if isinstance(value, str) and len(value) > length and header not in bad:
                errors.append((header, _("Too long: at most %(n)d characters.", n=length)))
        return probe, extras, errors

    def _convert(self, column: Column, value):
        if value.__class__ is str and column.type == "text":
            # The common cell, taken first: plain text (a CSV cell, an XLSX text cell).
            if not value or value.isspace():
                return column.default
            if has_control_characters(value):
                raise _CellError(str(CONTROL_CHARACTERS))
            if column.attr not in _IDENTIFIER_ATTRS or not _SCIENTIFIC_RE.match(value):
                return value.strip()
        if value is FORMULA_WITHOUT_VALUE:
            raise _CellError(
                _("The formula cell has no calculated result: save it as values in Excel.")
            )
        if isinstance(value, ExcelError):
            raise _CellError(_("The cell shows the Excel error %(error)s.", error=value))
        if isinstance(value, ImpreciseNumber) or (
            column.attr in _IDENTIFIER_ATTRS
            and isinstance(value, str)
            and _SCIENTIFIC_RE.match(value)
        ):
            raise _CellError(
                _(
                    "Excel stored this long number imprecisely (%(value)s): format the column "
                    "as text and type the number again.",
                    value=value,
                )
            )
        if _blank(value):
            return column.default
        if has_control_characters(value):
            raise _CellError(str(CONTROL_CHARACTERS))
        if column.type == "date":
            return parse_date(value)
        text = _text(value)
        if column.type == "department":
            return self._department(text)
        if column.type == "area":
            return self._area(text)
        if column.type == "items":
            return self._items(text)
        if column.type == "user":
            return self._user(text)
        return text

    def _department(self, text: str) -> int:
        if text in self._departments_by_code:
            return self._departments_by_code[text]
        ids = self._departments_by_code_ci.get(text.upper()) or self._departments_by_name.get(text)
        if not ids:
            raise _CellError(
                _("Unknown department “%(value)s”: give its code or its name.", value=text)
            )
        if len(ids) > 1:
            raise _CellError(
                _(
                    "Several departments are called “%(value)s”: give the department's code.",
                    value=text,
                )
            )
        return ids[0]

    def _area(self, text: str) -> int:
        raise NotImplementedError

    def _items(self, text: str) -> list[int]:
        raise NotImplementedError

    def _user(self, text: str) -> int:
        raise NotImplementedError

    def _max_length(self, attr: str) -> int | None:
        if attr not in self._lengths:
            column = self.model.__table__.columns.get(attr)
            is_string = column is not None and isinstance(column.type, String)
            self._lengths[attr] = column.type.length if is_string else None
        return self._lengths[attr]

    def _compile_messages(self):
        patterns = []
        for header, msgid, params in (
            *self.messages,
            *((self.department_header, m, p) for m, p in _SCOPE_MESSAGES),
        ):
            text = _(msgid, **{p: "\x00" for p in params}) if params else _(msgid)
            regex = "^" + ".*?".join(re.escape(part) for part in text.split("\x00"))
            patterns.append((re.compile(regex, re.S), header))
        return patterns

    def _column_of(self, message: str, raw: dict) -> str:
        for pattern, header in self.patterns:
            if pattern.match(message):
                return header
        return self.fallback_column(raw)

    def fallback_column(self, raw: dict) -> str:
        return DASH

    def _in_scope(self, department_id: int | None) -> bool:
        return self.scope is None or department_id in self.scope

    @staticmethod
    def _duplicate(row: int, header: str) -> str:
        return _("Duplicate: row %(row)d has the same %(column)s.", row=row, column=header)

    @staticmethod
    def _outside_scope(value: str) -> str:
        return _(
            "%(value)s is already registered for a department outside your scope: only that "
            "department can change it.",
            value=value,
        )

    # --- hooks of each kind ---

    def check_keys(self, number, probe, extras, bad_columns) -> list[tuple[str, str]]:
        raise NotImplementedError

    def matched_id(self, probe) -> int | None:
        raise NotImplementedError

    def load_for_writing(self) -> None:
        pass

    # Links of a record to other rows written with it (a target's applicable items).

    def insert_links(self, connection, links: list[tuple[int, list[int]]]) -> None:
        """Writes the links of new records."""

    def link_labels(self, linked) -> list[str]:
        """The links as the record's audit row names them."""
        return []

    def load_links(self, connection, ids: list[int]) -> dict:
        return {}

    def link_changes(self, row_id: int, extras, links: dict, changes: dict) -> bool:
        """Adds the record's link change to `changes`; True when the links change."""
        return False

    def replace_links(self, connection, row_id: int, extras, links: dict) -> None:
        pass


def _take_ids(connection, table_name: str, n: int) -> list[int]:
    """n ids from the table's sequence, in one query."""
    return (
        connection.execute(
            text(
                "SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"
            ),
            {"table": table_name, "n": n},
        )
        .scalars()
        .all()
    )


class _CancelledImport(Exception):
    """Why the early COPY was cancelled (the file has a bad row)."""


class _EarlyCopy:
    """PostgreSQL: the new records of a file that is clean so far go into their table by one
    COPY while pass 1 is still checking the rest, so that the database stores and indexes
    them meanwhile. Inside a savepoint: the first bad row cancels the COPY and rolls the
    savepoint back (nothing written), and pass 1 goes on checking only. The ids are taken from
    the table's sequence a batch at a time on a second connection (nextval is outside any
    transaction; the import's own connection is busy with the COPY)."""

    SAVEPOINT = "dsr_import_records"

    def __init__(self, connection, table_name: str, columns: str):
        self.connection = connection
        self.table_name = table_name
        connection.exec_driver_sql(f"SAVEPOINT {self.SAVEPOINT}")
        self.sequence = db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        self.cursor = connection.connection.driver_connection.cursor()
        self.block = self.cursor.copy(f"COPY {table_name} ({columns}) FROM STDIN")
        self.copy = self.block.__enter__()

    def write(self, rows: list[tuple]) -> list[int]:
        if not rows:
            return []
        ids = _take_ids(self.sequence, self.table_name, len(rows))
        write_row = self.copy.write_row
        for row_id, row in zip(ids, rows, strict=True):
            write_row((row_id, *row))
        return ids

    def finish(self) -> None:
        """Ends the COPY (the foreign keys are checked now); the records stay written."""
        self.block.__exit__(None, None, None)
        self._close()
        self.connection.exec_driver_sql(f"RELEASE SAVEPOINT {self.SAVEPOINT}")

    def cancel(self, quiet: bool = False) -> None:
        """Takes back what was written. `quiet`: on the way out of an exception, which
        matters more than a failure here (the caller rolls the transaction back anyway)."""
        try:
            if self.copy is not None:
                self.block.__exit__(_CancelledImport, _CancelledImport("bad row"), None)
            self._close()
            self.connection.exec_driver_sql(f"ROLLBACK TO SAVEPOINT {self.SAVEPOINT}")
            self.connection.exec_driver_sql(f"RELEASE SAVEPOINT {self.SAVEPOINT}")
        except Exception:
            if not quiet:
                raise

    def _close(self) -> None:
        self.copy = None
        self.cursor.close()
        self.sequence.close()


def _spooled(spool, rewind: bool = False):
    """The batches pickled to a spool file, in order."""
    if rewind:
        spool.seek(0)
    while True:
        try:
            yield pickle.load(spool)
        except EOFError:
            return


def _item_keys():
    """(id, code, status, department id) of every item, in one query."""
    return db.session.execute(
        select(
            InspectionItem.id,
            InspectionItem.code,
            InspectionItem.status,
            InspectionItem.department_id,
        )
    )


def _valid_identifier(kind, value) -> bool:
    return _blank(value) or kind.is_valid(_text(value))


class TargetImporter(_Importer):
    kind = "targets"
    model = Target
    columns = TARGET_COLUMNS
    check = services.check_target
    copy_while_checking = True
    required_any = (("uscc", "id_number"),)
    messages = (
        ("检查对象类型", "Unknown target type.", ()),
        ("名称", "The name is required.", ()),
        ("公民身份号码", "A natural person needs a citizen ID number.", ()),
        ("统一社会信用代码", "A unified social credit code is required.", ()),
        ("登记状态", "Unknown registration status.", ()),
        ("信用风险等级", "The credit-risk class must be A, B, C or D.", ()),
        ("行业类别", "Unknown industry category.", ()),
        ("特殊监管标记", "Unknown supervision flag: %(values)s.", ("values",)),
        ("联系电话", "The phone number %(phone)s is not valid.", ("phone",)),
        ("最近检查日期", "The date of the last inspection lies in the future.", ()),
    )

    def __init__(self):
        super().__init__()
        self._areas = dict(db.session.execute(select(Area.name, Area.id)).all())
        # Items of departments outside the scope are unknown here, as on every page (the
        # write-scope rule refuses links to them: app/security/write_scope.py).
        self._item_status = {
            code: (item_id, status)
            for item_id, code, status, dept_id in _item_keys()
            if self._in_scope(dept_id)
        }
        self._used_items: set[int] = set()
        self._item_labels: dict[int, str] = {}
        # Existing targets, loaded once: key -> (id, department id, live); live codes -> id.
        self._existing: dict[str, tuple[int, int, bool]] = {}
        self._live = {"uscc": {}, "id_number": {}}
        rows = db.session.execute(
            select(
                Target.id,
                Target.target_type,
                Target.uscc,
                Target.id_number,
                Target.department_id,
                Target.registration_status,
            )
            .where((Target.uscc.is_not(None)) | (Target.id_number.is_not(None)))
            .order_by(Target.id)
            .execution_options(yield_per=5000)
        )
        for target_id, target_type, uscc, id_number, department_id, status in rows:
            live = status == LIVE_STATUS
            key = self._key_of(target_type, uscc, id_number)
            if key is not None:
                previous = self._existing.get(key)
                if previous is None or live or not previous[2]:
                    self._existing[key] = (target_id, department_id, live)
            if live:
                if uscc:
                    self._live["uscc"][uscc] = target_id
                if id_number:
                    self._live["id_number"][id_number] = target_id
        self._seen: dict[str, int] = {}
        self._seen_live = {"uscc": {}, "id_number": {}}

    @staticmethod
    def _key_of(target_type, uscc, id_number) -> str | None:
        if target_type == NATURAL_PERSON:
            return f"P{id_number}" if id_number else None
        return f"U{uscc}" if uscc else None

    def _key_attr(self, probe) -> str:
        return "id_number" if probe.target_type == NATURAL_PERSON else "uscc"

    def _area(self, text: str) -> int:
        area_id = self._areas.get(text)
        if area_id is None:
            raise _CellError(_("Unknown area “%(value)s”.", value=text))
        return area_id

    def _items(self, text: str) -> list[int]:
        codes = list(dict.fromkeys(split_multi(text)))
        unknown = [code for code in codes if code not in self._item_status]
        if unknown:
            raise _CellError(_("Unknown item code(s): %(codes)s.", codes="、".join(unknown)))
        unpublished = [code for code in codes if self._item_status[code][1] != "published"]
        if unpublished:
            raise _CellError(
                _("Item(s) %(codes)s are not published.", codes="、".join(unpublished))
            )
        ids = [self._item_status[code][0] for code in codes]
        self._used_items.update(ids)
        return ids

    def fallback_column(self, raw: dict) -> str:
        # An identifier's own message (bad check character, length ...): whichever is invalid.
        if "uscc" in raw and not _valid_identifier(USCC, raw["uscc"]):
            return self.headers["uscc"]
        if "id_number" in raw and not _valid_identifier(CitizenID, raw["id_number"]):
            return self.headers["id_number"]
        return DASH

    def check_keys(self, number, probe, extras, bad_columns):
        errors, reported = [], set()
        key_attr = self._key_attr(probe)
        key_header = self.headers[key_attr]
        key = self._key_of(probe.target_type, probe.uscc, probe.id_number)
        matched = None
        if (
            key is not None
            and key_header not in bad_columns
            and self.headers["target_type"] not in bad_columns
        ):
            other = self._seen.get(key)
            if other is not None:
                errors.append((key_header, self._duplicate(other, key_header)))
                reported.add(key_attr)
            else:
                self._seen[key] = number
            found = self._existing.get(key)
            if found is not None:
                matched = found[0]
                if not self._in_scope(found[1]):
                    errors.append((key_header, self._outside_scope(getattr(probe, key_attr))))
                    reported.add(key_attr)
        if probe.registration_status == LIVE_STATUS:
            # One live target per code (services._check_unique_live), file and database.
            for attr in ("uscc", "id_number"):
                value, header = getattr(probe, attr), self.headers[attr]
                if not value or header in bad_columns or attr in reported:
                    continue
                other_row = self._seen_live[attr].get(value)
                if other_row is not None:
                    errors.append((header, self._duplicate(other_row, header)))
                    continue
                self._seen_live[attr][value] = number
                other_id = self._live[attr].get(value)
                if other_id is not None and other_id != matched:
                    self._stop_early_writes()  # the file is bad; the query needs the connection
                    name = db.session.scalar(select(Target.name).where(Target.id == other_id))
                    errors.append(
                        (
                            header,
                            _(
                                "%(code)s already belongs to the live target %(name)s.",
                                code=value,
                                name=name,
                            ),
                        )
                    )
        return errors

    def matched_id(self, probe):
        key = self._key_of(probe.target_type, probe.uscc, probe.id_number)
        found = self._existing.get(key) if key is not None else None
        return found[0] if found else None

    def load_for_writing(self):
        self._load_labels(self._used_items)
        # Pass 2 reads the spool: the keys of pass 1 are no longer needed.
        self._existing.clear()
        self._seen.clear()
        self._seen_live = {"uscc": {}, "id_number": {}}
        self._live = {"uscc": {}, "id_number": {}}

    def _load_labels(self, ids) -> None:
        """An item as the audit log names it (str(InspectionItem): code and name)."""
        wanted = sorted(set(ids) - set(self._item_labels))
        for start in range(0, len(wanted), BATCH_SIZE):
            for item_id, code, name in db.session.execute(
                select(InspectionItem.id, InspectionItem.code, InspectionItem.name).where(
                    InspectionItem.id.in_(wanted[start : start + BATCH_SIZE])
                )
            ):
                self._item_labels[item_id] = f"{code} {name}"

    def _labels(self, item_ids) -> list[str]:
        return sorted(self._item_labels[item_id] for item_id in item_ids)

    def insert_links(self, connection, links):
        rows = [
            {"target_id": target_id, "item_id": item_id}
            for target_id, item_ids in links
            for item_id in item_ids
        ]
        if rows:
            connection.execute(insert(target_item), rows)

    def link_labels(self, linked):
        return self._labels(linked)

    def load_links(self, connection, ids):
        if not any(column.type == "items" for _i, column in self.present):
            return {}
        links: dict[int, set[int]] = {target_id: set() for target_id in ids}
        for target_id, item_id in connection.execute(
            select(target_item.c.target_id, target_item.c.item_id).where(
                target_item.c.target_id.in_(ids)
            )
        ):
            links[target_id].add(item_id)
        self._load_labels({item_id for linked in links.values() for item_id in linked})
        return links

    def link_changes(self, row_id, extras, links, changes):
        if extras is None:
            return False
        before, after = links[row_id], set(extras)
        if before == after:
            return False
        changes["items"] = [self._labels(before), self._labels(after)]
        return True

    def replace_links(self, connection, row_id, extras, links):
        before, after = links[row_id], set(extras)
        if before - after:
            connection.execute(
                delete(target_item).where(
                    target_item.c.target_id == row_id,
                    target_item.c.item_id.in_(sorted(before - after)),
                )
            )
        if after - before:
            connection.execute(
                insert(target_item),
                [{"target_id": row_id, "item_id": item_id} for item_id in sorted(after - before)],
            )


class InspectorImporter(_Importer):
    kind = "inspectors"
    model = Inspector
    columns = INSPECTOR_COLUMNS
    check = services.check_inspector
    messages = (
        ("姓名", "The name is required.", ()),
        ("执法证号", "The law-enforcement certificate number is required.", ()),
        ("执法证有效期至", "The certificate's expiry date is required.", ()),
        ("性别", "Unknown gender.", ()),
        ("状态", "Unknown status.", ()),
        ("专业领域", "Unknown specialty: %(values)s.", ("values",)),
        ("联系电话", "The phone number %(phone)s is not valid.", ("phone",)),
    )

    def __init__(self):
        super().__init__()
        self._users: dict[str, tuple[int | None, bool]] = {}
        self._existing: dict[str, tuple[int, int]] = {}
        # (inspector id, name, department id): the name is shown only within the user's scope.
        self._by_id_number: dict[str, tuple[int, str, int]] = {}
        self._by_user: dict[int, tuple[int, str, int]] = {}
        for inspector_id, name, cert, dept_id, id_number, user_id in db.session.execute(
            select(
                Inspector.id,
                Inspector.name,
                Inspector.certificate_no,
                Inspector.department_id,
                Inspector.id_number,
                Inspector.user_id,
            )
        ):
            self._existing[cert] = (inspector_id, dept_id)
            if id_number:
                self._by_id_number[id_number] = (inspector_id, name, dept_id)
            if user_id is not None:
                self._by_user[user_id] = (inspector_id, name, dept_id)
        self._seen: dict[str, dict] = {"certificate_no": {}, "id_number": {}, "user_id": {}}

    def _user(self, text: str) -> int:
        """The login's id, if the acting user may link an inspector to it (as on the form: an
        Inspector's account of their departments; a Leader's, an Operator's or another
        department's account would be given an inspector's assignments)."""
        if text not in self._users:
            user = db.session.scalar(select(User).where(User.username == text))
            allowed = user is not None and services.inspector_login_allowed(user)
            self._users[text] = (user.id if user is not None else None, allowed)
        user_id, allowed = self._users[text]
        if user_id is None:
            raise _CellError(_("There is no login account “%(value)s”.", value=text))
        if not allowed:
            raise _CellError(_("Link the inspector to an Inspector's login of your departments."))
        return user_id

    def fallback_column(self, raw: dict) -> str:
        if "id_number" in raw and not _valid_identifier(CitizenID, raw["id_number"]):
            return self.headers["id_number"]
        return DASH

    def check_keys(self, number, probe, extras, bad_columns):
        errors = []
        matched = None
        for attr in ("certificate_no", "id_number", "user_id"):
            value, header = getattr(probe, attr), self.headers[attr]
            if value is None or header in bad_columns:
                continue
            other_row = self._seen[attr].get(value)
            if other_row is not None:
                errors.append((header, self._duplicate(other_row, header)))
                continue
            self._seen[attr][value] = number
            if attr == "certificate_no":
                found = self._existing.get(value)
                if found is not None:
                    matched = found[0]
                    if not self._in_scope(found[1]):
                        errors.append((header, self._outside_scope(value)))
            elif attr == "id_number":
                other = self._by_id_number.get(value)
                if other is not None and other[0] != matched:
                    errors.append(
                        (
                            header,
                            _(
                                "The citizen ID number is already registered for %(name)s.",
                                name=self._holder_name(other),
                            ),
                        )
                    )
            else:
                other = self._by_user.get(value)
                if other is not None and other[0] != matched:
                    errors.append(
                        (
                            header,
                            _(
                                "That login is already linked to %(name)s.",
                                name=self._holder_name(other),
                            ),
                        )
                    )
        return errors

    def _holder_name(self, holder: tuple) -> str:
        """Another inspector by name within the user's scope, else only as another department's
        (an import must not be a way to read another department's roster)."""
        if self._in_scope(holder[2]):
            return holder[1]
        return str(_("a record of another department"))

    def matched_id(self, probe):
        found = self._existing.get(probe.certificate_no)
        return found[0] if found else None


class ItemImporter(_Importer):
    kind = "items"
    model = InspectionItem
    columns = ITEM_COLUMNS
    check = services.check_item_values
    messages = (
        ("事项编码", "The item code is required.", ()),
        ("抽查类别", "The category (抽查类别) is required.", ()),
        ("抽查事项", "The item name (抽查事项) is required.", ()),
        ("检查对象", "The target (检查对象) is required.", ()),
        ("检查方式", "The method (检查方式) is required.", ()),
        ("检查主体", "The inspecting body (检查主体) is required.", ()),
        ("事项类别", "The item class must be 重点 or 一般.", ()),
        ("检查方式", "Unknown method: %(values)s.", ("values",)),
        ("抽查比例", "The sampling ratio must be a percentage such as 5 or 5%.", ()),
        ("抽查比例", "The sampling ratio must be above 0% and at most 100%.", ()),
    )

    def __init__(self):
        super().__init__()
        self._existing = {
            code: (item_id, status, dept_id) for item_id, code, status, dept_id in _item_keys()
        }
        self._seen: dict[str, int] = {}

    def check_keys(self, number, probe, extras, bad_columns):
        header = self.headers["code"]
        if not probe.code or header in bad_columns:
            return []
        other_row = self._seen.get(probe.code)
        if other_row is not None:
            return [(header, self._duplicate(other_row, header))]
        self._seen[probe.code] = number
        found = self._existing.get(probe.code)
        if found is None:
            return []
        _item_id, status, dept_id = found
        if not self._in_scope(dept_id):
            return [(header, self._outside_scope(probe.code))]
        if status == "published":
            return [(header, _("A published item can only be changed through a revision."))]
        if status != "draft":
            return [(header, _("A retired item cannot be changed."))]
        return []

    def matched_id(self, probe):
        found = self._existing.get(probe.code)
        return found[0] if found else None

    def load_for_writing(self):
        self._seen.clear()


IMPORTERS: dict[str, type[_Importer]] = {
    "targets": TargetImporter,
    "inspectors": InspectorImporter,
    "items": ItemImporter,
}
COLUMNS = {kind: importer.columns for kind, importer in IMPORTERS.items()}


def import_file(
    kind: str,
    stream: BinaryIO,
    filename: str,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Import one file for the acting user (their department scope applies). Validates the
    whole file, then writes it in the current transaction when it has no error. The caller
    commits when `result.ok` and rolls back otherwise.

    `progress(checked, written)` is called at least every 1,000 rows of each pass (rows
    checked in pass 1 with written 0, then rows written in pass 2) and once at the end of
    each pass."""
    if kind not in IMPORTERS:
        raise ValueError(f"unknown import kind {kind!r}")
    return IMPORTERS[kind]().run(stream, filename, progress)


# --- templates ------------------------------------------------------------------------------


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
