"""Bulk import of 一单两库 from the bureau's spreadsheets: targets (检查对象名录), inspectors
(执法检查人员名录) and items (随机抽查事项清单), from CSV (UTF-8, UTF-8 with BOM, GB18030/GBK) or
XLSX, through the upload page and `flask import targets|inspectors|items FILE`.

Rules:
- All or nothing per file. Pass 1 reads every row, converts and checks it with the same service
  rules as the forms (`services.check_*` with `check_unique=False`) and keeps only the keys needed
  for duplicate detection; if any row is bad nothing is written and every bad row is reported
  with its spreadsheet row number (the header is row 1), its column (the Chinese header) and a
  reason. Pass 2 reads the file again and writes in batches, in the caller's transaction.
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
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

from flask_appbuilder.security.sqla.models import User
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.core.audit.recorder import log_event
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
)
from app.extensions import db
from app.security.models import Department
from app.security.scope import departments_in_scope

MAX_ERRORS = 1000  # errors kept and shown; the total is always counted
BATCH_SIZE = 1000  # rows written per flush
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
        self.batch: list = []
        self._lengths: dict[str, int | None] = {}

    # --- the two passes ---

    def run(self, stream: BinaryIO, filename: str, progress=None) -> ImportResult:
        self.progress = progress or (lambda checked, written: None)
        result = ImportResult(kind=self.kind, filename=filename)
        try:
            table = TableFile(stream)
            result.sha256 = table.sha256
            self._pass(table, result, write=False)
            if result.ok and result.rows == 0:
                result.add_error(None, DASH, _("The file contains no data rows."))
            if not result.ok:
                return result
            self.load_for_writing()
            self._pass(table, result, write=True)
        except UploadError as exc:
            result.add_error(None, DASH, str(exc))
            return result
        except IntegrityError:
            # Another user wrote the same key between the check and the write.
            db.session.rollback()
            result.add_error(
                None,
                DASH,
                _("The directory changed while the file was imported: upload it again."),
            )
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

    def _pass(self, table: TableFile, result: ImportResult, write: bool) -> None:
        header_seen = False
        rows = table.rows()
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
                if write:
                    self._write_row(number, raw, result)
                else:
                    result.rows += 1
                    self._validate_row(number, raw, result)
                    if result.rows % BATCH_SIZE == 0:
                        self.progress(result.rows, 0)
        finally:
            rows.close()
        if write:
            self._flush_batch(result)
        else:
            self.progress(result.rows, 0)

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
        return result.ok

    def _validate_row(self, number: int, raw: dict, result: ImportResult) -> None:
        probe, extras, errors = self._build(raw)
        bad_columns = {column for column, _reason in errors}
        errors.extend(self.check_keys(number, probe, extras, bad_columns))
        for column, reason in errors:
            result.add_error(number, column, reason)

    def _write_row(self, number: int, raw: dict, result: ImportResult) -> None:
        probe, extras, errors = self._build(raw)
        if errors:  # the data changed between the passes (another user's change)
            for column, reason in errors:
                result.add_error(number, column, reason)
            return
        self.batch.append((number, probe, extras, self.matched_id(probe)))
        if len(self.batch) >= BATCH_SIZE:
            self._flush_batch(result)

    def _flush_batch(self, result: ImportResult) -> None:
        if not self.batch or not result.ok:
            self.batch.clear()
            return
        ids = [matched for _n, _p, _e, matched in self.batch if matched is not None]
        existing = {obj.id: obj for obj in self.load_existing_objects(ids)} if ids else {}
        touched = []
        for number, probe, extras, matched in self.batch:
            if matched is None:
                obj = probe
                db.session.add(obj)
                result.created += 1
            else:
                obj = existing.get(matched)
                if obj is None:
                    result.add_error(
                        number,
                        DASH,
                        _("The directory changed while the file was imported: upload it again."),
                    )
                    continue
                for attr in self.assigned:
                    setattr(obj, attr, getattr(probe, attr))
                result.updated += 1
            self.apply_extras(obj, extras)
            touched.append(obj)
        self.batch.clear()
        db.session.flush()
        for obj in touched:
            db.session.expunge(obj)
        self.progress(result.rows, result.created + result.updated)

    # --- one row ---

    def _build(self, raw: dict):
        """The row as a transient model object checked by the service rules, its extra values
        (item ids of a target) and its errors [(column header, reason)]."""
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
        probe = self.model(**values)
        try:
            type(self).check(probe, check_unique=False)
        except DomainError as exc:
            message = str(exc)
            column = self._column_of(message, raw)
            if column == DASH or column not in {c for c, _r in errors}:
                errors.append((column, message))
        bad = {c for c, _r in errors}
        for attr in self.assigned:
            header = self.headers[attr]
            value = getattr(probe, attr)
            length = self._max_length(attr)
            if length and isinstance(value, str) and len(value) > length and header not in bad:
                errors.append((header, _("Too long: at most %(n)d characters.", n=length)))
        return probe, extras, errors

    def _convert(self, column: Column, value):
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

    def load_existing_objects(self, ids):
        return db.session.scalars(select(self.model).where(self.model.id.in_(ids)))

    def apply_extras(self, obj, extras) -> None:
        pass


def _valid_identifier(kind, value) -> bool:
    return _blank(value) or kind.is_valid(_text(value))


class TargetImporter(_Importer):
    kind = "targets"
    model = Target
    columns = TARGET_COLUMNS
    check = services.check_target
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
        self._item_status = {
            code: (item_id, status)
            for item_id, code, status in db.session.execute(
                select(InspectionItem.id, InspectionItem.code, InspectionItem.status)
            )
        }
        self._used_items: set[int] = set()
        self._items_by_id: dict[int, InspectionItem] = {}
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
        if self._used_items:
            self._items_by_id = {
                item.id: item
                for item in db.session.scalars(
                    select(InspectionItem).where(InspectionItem.id.in_(self._used_items))
                )
            }
        # Pass 2 needs only the keys of the existing targets.
        self._seen.clear()
        self._seen_live = {"uscc": {}, "id_number": {}}
        self._live = {"uscc": {}, "id_number": {}}

    def load_existing_objects(self, ids):
        query = select(Target).where(Target.id.in_(ids))
        if any(column.type == "items" for _i, column in self.present):
            query = query.options(selectinload(Target.items))
        return db.session.scalars(query)

    def apply_extras(self, obj, extras):
        if "items" in extras:
            obj.items = [self._items_by_id[item_id] for item_id in extras["items"]]


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
        self._users: dict[str, int | None] = {}
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
        if text not in self._users:
            self._users[text] = db.session.scalar(select(User.id).where(User.username == text))
        user_id = self._users[text]
        if user_id is None:
            raise _CellError(_("There is no login account “%(value)s”.", value=text))
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
            code: (item_id, status, dept_id)
            for item_id, code, status, dept_id in db.session.execute(
                select(
                    InspectionItem.id,
                    InspectionItem.code,
                    InspectionItem.status,
                    InspectionItem.department_id,
                )
            )
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


def import_file(kind: str, stream: BinaryIO, filename: str, *, progress=None) -> ImportResult:
    """Import one file for the acting user (their department scope applies). Validates the
    whole file, then writes it in the current transaction when it has no error. The caller
    commits when `result.ok` and rolls back otherwise. `progress(checked, written)`, if given,
    is called every BATCH_SIZE rows of each pass and at the end of each."""
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
        choices={
            i: list(c.choices) for i, c in enumerate(columns) if c.choices and not c.multi
        },
    )
    return buffer.getvalue()
