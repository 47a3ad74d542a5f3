"""The columns of each kind, the results, and the checks of one row: a cell converted by its
column's type, the row checked with the same service rules as the forms (`services.check_*` with
`check_unique=False`), each error placed in its column."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import String

from app.core.errors import DomainError
from app.core.personal_data import fill_blind_indexes
from app.core.text import CONTROL_CHARACTERS, has_control_characters
from app.core.uploads import FORMULA_WITHOUT_VALUE, ExcelError, ImpreciseNumber
from app.directory.models import (
    GENDERS,
    INDUSTRIES,
    INSPECTION_METHODS,
    INSPECTOR_STATUSES,
    ITEM_CLASSES,
    LIVE_STATUS,
    REGISTRATION_STATUSES,
    RISK_CLASSES,
    SPECIAL_FLAGS,
    SPECIALTIES,
    TARGET_TYPES,
    split_multi,
)

MAX_ERRORS = 1000  # errors kept and shown; the total is always counted
DASH = "—"  # the column of an error that belongs to no single column

# Columns where Excel turns a long number into 1.50602E+17.
_IDENTIFIER_ATTRS = frozenset(
    {"uscc", "id_number", "certificate_no", "phone", "contact_phone", "code"}
)
_SCIENTIFIC_RE = re.compile(r"^\d(?:\.\d+)?[eE]\+?\d+$")
_DATE_RE = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)


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
    notices: list[str] = field(default_factory=list)  # columns left out and the like
    outside_scope: int = 0  # keys met that a department outside the user's scope holds

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
    # text | choice (text with value synonyms) | date | department | area | items | user |
    # ratio_frequency (抽查比例和频次: split into sampling_ratio and frequency)
    type: str = "text"
    required: bool = False  # the header must have it
    default: str | None = None  # value of an empty cell
    choices: tuple[str, ...] = ()
    multi: bool = False  # several choices separated by 、
    # Other names of the column in the offices' own lists (app/directory/imports/mapping.py
    # compares them without spaces, asterisks and a parenthesised hint).
    aliases: tuple[str, ...] = ()
    # Names taken only when no other column of the file gives the field (抽查内容 → 备注).
    weak_aliases: tuple[str, ...] = ()
    # Values as the offices write them -> ours (一般检查事项 -> 一般); type "choice" only.
    synonyms: tuple[tuple[str, str], ...] = ()


_DEPARTMENT_ALIASES = ("所属部门", "主管部门", "实施部门", "责任部门", "所属单位", "部门")


def _department_column(header: str) -> Column:
    aliases = tuple(name for name in _DEPARTMENT_ALIASES if name != header)
    return Column(header, "department_id", "department", required=True, aliases=aliases)


TARGET_COLUMNS = (
    Column(
        "检查对象类型",
        "target_type",
        required=True,
        choices=TARGET_TYPES,
        aliases=("对象类型", "主体类型", "检查对象类别"),
    ),
    Column(
        "名称",
        "name",
        required=True,
        aliases=(
            "企业名称",
            "单位名称",
            "主体名称",
            "对象名称",
            "检查对象名称",
            "检查对象",
            "企业（单位）名称",
            "市场主体名称",
        ),
    ),
    Column(
        "统一社会信用代码",
        "uscc",
        aliases=("信用代码", "社会信用代码", "统一代码", "统一信用代码", "社会统一信用代码"),
    ),
    Column("公民身份号码", "id_number", aliases=("身份证号", "身份证号码", "公民身份证号码")),
    Column("法定代表人", "legal_representative", aliases=("负责人", "法人代表", "法定代表人姓名")),
    Column("联系人", "contact_person"),
    Column("联系电话", "contact_phone", aliases=("电话", "联系方式", "手机号码")),
    Column("地址", "address", aliases=("住所", "注册地址", "经营地址", "单位地址", "详细地址")),
    Column("所属区域", "area_id", "area", aliases=("区域", "所在区域", "街道（镇）", "所属街道")),
    Column("行业类别", "industry", choices=INDUSTRIES, aliases=("行业", "所属行业")),
    Column("登记状态", "registration_status", default=LIVE_STATUS, choices=REGISTRATION_STATUSES),
    Column(
        "信用风险等级",
        "risk_class",
        default="B",
        choices=RISK_CLASSES,
        aliases=("风险等级", "信用等级"),
    ),
    Column("特殊监管标记", "flags", choices=SPECIAL_FLAGS, multi=True),
    Column("适用事项", "items", "items", aliases=("适用事项编码", "抽查事项编码")),
    Column("最近检查日期", "last_inspected_on", "date", aliases=("上次检查日期",)),
    _department_column("主管部门"),
    Column("备注", "remarks"),
)

INSPECTOR_COLUMNS = (
    Column("姓名", "name", required=True, aliases=("执法人员姓名", "检查人员姓名")),
    Column("性别", "gender", choices=GENDERS),
    _department_column("所属部门"),
    Column("职务", "post", aliases=("职务职级", "职级", "岗位")),
    Column(
        "执法证号",
        "certificate_no",
        required=True,
        aliases=("执法证件号", "执法证件号码", "执法证编号", "执法证号码", "证件号码"),
    ),
    Column(
        "执法证有效期至",
        "certificate_expiry",
        "date",
        required=True,
        aliases=("有效期至", "有效期", "证件有效期", "执法证有效期"),
    ),
    Column(
        "专业领域",
        "specialties",
        choices=SPECIALTIES,
        multi=True,
        aliases=("专业", "执法领域", "业务领域"),
    ),
    Column("状态", "status", default=INSPECTOR_STATUSES[0], choices=INSPECTOR_STATUSES),
    Column("联系电话", "phone", aliases=("电话", "手机", "手机号码", "联系方式")),
    Column("公民身份号码", "id_number", aliases=("身份证号", "身份证号码", "公民身份证号码")),
    Column("登录账号", "user_id", "user"),
)

ITEM_COLUMNS = (
    Column("事项编码", "code", required=True, aliases=("编码", "事项代码", "抽查事项编码")),
    Column("抽查类别", "category", required=True, aliases=("事项分类", "抽查事项类别", "检查类别")),
    Column(
        "抽查事项",
        "name",
        required=True,
        aliases=("事项名称", "检查事项", "抽查事项名称", "检查事项名称"),
    ),
    Column("检查对象", "target_type", required=True, aliases=("抽查对象", "检查对象范围")),
    Column(
        "事项类别",
        "item_class",
        "choice",
        default="一般",
        choices=ITEM_CLASSES,
        aliases=("类别",),
        synonyms=(
            ("一般检查事项", "一般"),
            ("重点检查事项", "重点"),
            ("一般事项", "一般"),
            ("重点事项", "重点"),
            ("一般检查", "一般"),
            ("重点检查", "重点"),
        ),
    ),
    Column(
        "检查方式",
        "method",
        "choice",
        required=True,
        choices=INSPECTION_METHODS,
        multi=True,
        aliases=("抽查方式",),
        synonyms=(
            ("现场检查", "实地检查"),
            ("实地核查", "实地检查"),
            ("现场核查", "实地检查"),
            ("书面审查", "书面检查"),
            ("书面核查", "书面检查"),
            ("网上监测", "网络监测"),
            ("在线监测", "网络监测"),
            ("检验", "检验检测"),
            ("检测", "检验检测"),
        ),
    ),
    Column("检查主体", "inspecting_body", required=True, aliases=("抽查主体", "实施主体")),
    Column("检查依据", "legal_basis", aliases=("抽查依据", "执法依据", "依据")),
    Column("抽查比例", "sampling_ratio", aliases=("检查比例",)),
    Column("抽查频次", "frequency", aliases=("抽查频率", "检查频次", "检查频率", "频次")),
    Column("备注", "remarks", weak_aliases=("抽查内容", "检查内容")),
    _department_column("所属部门"),
)

# Columns an office's list may have that our template has not: read by meaning, not offered
# in the template.
EXTRA_COLUMNS = {
    "targets": (),
    "inspectors": (),
    "items": (
        Column(
            "抽查比例和频次",
            "ratio_and_frequency",
            "ratio_frequency",
            aliases=("抽查比例及频次", "抽查比例与频次", "抽查比例、频次", "抽查频次和比例"),
        ),
    ),
}
# What a combined 抽查比例和频次 column fills.
SPLIT_ATTRS = {"ratio_and_frequency": ("sampling_ratio", "frequency")}

_PERCENT_RE = re.compile(r"(\d+(?:\.\d+)?)\s*[%％]")
_FREQUENCY_RE = re.compile(r"次|每年|每季|每月|每半年|/年|/季|/月")
_SPLIT_RE = re.compile(r"[，,；;。\s]+")
_RATIO_WORDS_RE = re.compile(r"^(?:抽查|检查)?(?:比例)?(?:为|不低于|不少于|不超过|≥|>=)?$")


def split_ratio_frequency(value: str) -> tuple[str | None, str | None, bool]:
    """抽查比例和频次 as the offices write it -> (sampling ratio, frequency, split): "抽查比例不低于
    5%，每年1次" -> ("5", "每年1次", True), "5%，1次/年" -> ("5", "1次/年", True), "5%" -> ("5",
    None, True). A text with no clear pattern is kept whole as the frequency: (None, text,
    False)."""
    text = value.strip()
    percents = _PERCENT_RE.findall(text)
    parts = [part for part in _SPLIT_RE.split(text) if part]
    if len(percents) > 1:
        return None, text, False
    if not percents:
        return (None, text, True) if _FREQUENCY_RE.search(text) else (None, text, False)
    ratio = percents[0]
    ratio_parts = [part for part in parts if _PERCENT_RE.search(part)]
    others = [part for part in parts if not _PERCENT_RE.search(part)]
    words = _PERCENT_RE.sub("", ratio_parts[0]) if len(ratio_parts) == 1 else "x"
    if not _RATIO_WORDS_RE.match(words):
        return None, text, False
    if not others:
        return ratio, None, True
    frequency = "，".join(others)
    if len(others) == 1 and _FREQUENCY_RE.search(frequency):
        return ratio, frequency, True
    return None, text, False


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


class Validation:
    """The checks of one row (a mixin of the importer)."""

    def _validate_row(self, number: int, raw: dict, result: ImportResult):
        """The row's errors go to the result; a good row comes back as its spool record
        (row number, id of the record it updates or None, values of data_columns, extras)."""
        probe, extras, errors = self._build(raw)
        # The blind indexes of the encrypted columns, which the key checks compare.
        fill_blind_indexes(self.model, probe.__dict__)
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
            elif column.type == "ratio_frequency":
                values["sampling_ratio"], values["frequency"] = value or (None, None)
            else:
                values[column.attr] = value
        if self.complete_row is not None:
            self.complete_row(values)
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
        if column.type == "choice":
            return self._choice(column, text)
        if column.type == "ratio_frequency":
            ratio, frequency, _split = split_ratio_frequency(text)
            return ratio, frequency
        return text

    @staticmethod
    def _choice(column: Column, text: str) -> str:
        """A choice as the offices write it, as ours (一般检查事项 -> 一般)."""
        synonyms = dict(column.synonyms)
        if column.multi:
            parts = [synonyms.get(part, part) for part in split_multi(text)]
            return "、".join(dict.fromkeys(parts))
        return synonyms.get(text, text)

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

    def _outside_scope(self, value: str) -> str:
        """The refusal of a key held outside the user's scope, counted: a refused import
        records how many it met (importers.record_refusal), so that a file used to find out
        which codes other departments hold leaves a trace for the audit administrator."""
        self.outside_scope_hits += 1
        return _(
            "%(value)s is already registered for a department outside your scope: only that "
            "department can change it.",
            value=value,
        )


def _valid_identifier(kind, value) -> bool:
    return _blank(value) or kind.is_valid(_text(value))
