"""The header row: which column of the file holds which of our fields, resolved once per file.

The offices keep their lists in their own columns (淄博: 序号 | 抽查事项 | 抽查对象 | 抽查内容 |
抽查依据 | 抽查方式 | 抽查比例和频次 | 备注). A header cell is compared without spaces, asterisks
and a parenthesised hint (事项类别(一般检查事项、重点检查事项) is 事项类别) with our header and the
column's aliases (validation.py); 序号 is left out quietly, any other unknown column is left out
with a notice. The user may map a column by hand (`--map 原列名=字段`, the preview's selects; 字段
is our header, an alias or the attribute; 忽略 leaves the column out) and fill a field the file
lacks with one value for all rows (`--set 字段=值`, 为所有行填写).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from flask_babel import gettext as _

from app.directory.imports.validation import (
    DASH,
    EXTRA_COLUMNS,
    SPLIT_ATTRS,
    Column,
    ImportResult,
)

# Header cells left out without a notice: the running number of the row.
QUIET_HEADERS = frozenset({"序号", "序", "编号序号", "No", "NO", "no"})
# What a mapping to nothing is written as (the page's and the CLI's 忽略).
IGNORE = ""
IGNORE_NAMES = frozenset({"", "忽略", "ignore", "-", "—"})

_HINT_RE = re.compile(r"[（(【\[][^（()）【】\[\]]*[)）】\]]")
_STRIP = "*＊:：."


def normalise_header(value) -> str:
    """A header cell as it is compared: no spaces (full-width ones and line breaks included),
    no asterisks and no parenthesised hint."""
    if value is None:
        return ""
    name = value if isinstance(value, str) else str(value)
    name = "".join(name.split())
    bare = _HINT_RE.sub("", name).strip(_STRIP)
    return bare or name.strip(_STRIP)


def all_columns(kind_columns: tuple[Column, ...], kind: str) -> tuple[Column, ...]:
    return (*kind_columns, *EXTRA_COLUMNS.get(kind, ()))


def field_of(columns: tuple[Column, ...], name: str) -> Column | None:
    """The column a user means by a field name: our header, an alias or the attribute."""
    wanted = normalise_header(name)
    for column in columns:
        if wanted == column.attr or wanted in (
            normalise_header(n) for n in (column.header, *column.aliases)
        ):
            return column
    return None


def recognise(columns: tuple[Column, ...], name: str) -> str | None:
    """The field a header names by itself (our header or an alias; a weak alias too), or
    None: what the file's column is read as without the user's mapping (序号: None)."""
    name = normalise_header(name)
    for column in columns:
        if name in (normalise_header(n) for n in (column.header, *column.aliases)):
            return column.attr
    for column in columns:
        if name in (normalise_header(n) for n in column.weak_aliases):
            return column.attr
    return None


class MappingError(ValueError):
    """A --map or --set the user wrote that names no field; the message is for the user."""


def parse_pairs(columns: tuple[Column, ...], pairs, *, what: str) -> dict[str, str]:
    """`原列名=字段` (what="map": source header -> attr, IGNORE for 忽略) or `字段=值`
    (what="set": attr -> value), as the CLI takes them."""
    parsed: dict[str, str] = {}
    for pair in pairs or ():
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise MappingError(
                _("Write %(pair)s as name=value.", pair=pair)
                if what == "set"
                else _("Write %(pair)s as source column=field.", pair=pair)
            )
        if what == "map":
            if value.strip() in IGNORE_NAMES:
                parsed[normalise_header(name)] = IGNORE
                continue
            column = field_of(columns, value)
            if column is None:
                raise MappingError(_("There is no field “%(name)s”.", name=value.strip()))
            parsed[normalise_header(name)] = column.attr
        else:
            column = field_of(columns, name)
            if column is None or column.type == "ratio_frequency":
                raise MappingError(_("There is no field “%(name)s”.", name=name.strip()))
            parsed[column.attr] = value.strip()
    return parsed


@dataclass
class HeaderPlan:
    """The header row resolved: the file's columns that are read, by whom, and what is left out."""

    read: list[tuple[int, Column]] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)  # attr -> the file's header
    ignored: list[str] = field(default_factory=list)  # headers left out, with a notice
    quiet: list[str] = field(default_factory=list)  # 序号 and the like
    fixed: dict[str, str] = field(default_factory=dict)  # attr -> the value for all rows
    missing: list[str] = field(default_factory=list)  # our headers of absent required fields
    errors: list[tuple[str, str]] = field(default_factory=list)  # (column, reason)


def plan_header(
    columns: tuple[Column, ...],
    values: list,
    *,
    mapping: dict[str, str] | None = None,
    fixed: dict[str, str] | None = None,
    required_any: tuple[tuple[str, ...], ...] = (),
    generated: tuple[str, ...] = (),
) -> HeaderPlan:
    """Which column of the header row gives which field (`columns`: the kind's and its extra
    ones), with the user's mapping (normalised source header -> attr or IGNORE) and fixed
    values (attr -> text) applied. A `generated` field (事项编码) is not missing when absent: the
    importer makes it up."""
    mapping = mapping or {}
    fixed = {attr: value for attr, value in (fixed or {}).items() if value not in (None, "")}
    by_attr = {column.attr: column for column in columns}
    by_name: dict[str, Column] = {}
    weak: dict[str, Column] = {}
    for column in columns:
        for name in (column.header, *column.aliases):
            by_name.setdefault(normalise_header(name), column)
        for name in column.weak_aliases:
            weak.setdefault(normalise_header(name), column)
    plan = HeaderPlan()
    seen: dict[str, str] = {}  # attr -> the header giving it
    deferred: list[tuple[int, str, Column]] = []

    def take(index: int, header: str, column: Column) -> None:
        attrs = SPLIT_ATTRS.get(column.attr, (column.attr,))
        taken = [attr for attr in (column.attr, *attrs) if attr in seen]
        if taken:
            plan.errors.append(
                (
                    header,
                    _(
                        "The columns %(first)s and %(second)s both give %(field)s: map one of "
                        "them to 忽略.",
                        first=seen[taken[0]],
                        second=header,
                        field=by_attr[taken[0]].header,
                    )
                    if seen[taken[0]] != header
                    else _("The column %(column)s appears twice in the header.", column=header),
                )
            )
            return
        for attr in (column.attr, *attrs):
            seen[attr] = header
        plan.read.append((index, column))
        plan.sources[column.attr] = header

    for index, value in enumerate(values):
        header = value.strip() if isinstance(value, str) else ("" if value is None else str(value))
        name = normalise_header(value)
        if not name:
            continue
        if name in mapping:
            attr = mapping[name]
            if attr == IGNORE or attr not in by_attr:
                plan.ignored.append(header)
                continue
            take(index, header, by_attr[attr])
        elif name in by_name:
            take(index, header, by_name[name])
        elif name in weak:
            deferred.append((index, header, weak[name]))
        elif name in QUIET_HEADERS:
            plan.quiet.append(header)
        else:
            plan.ignored.append(header)
    for index, header, column in deferred:
        if column.attr in seen:
            plan.ignored.append(header)
        else:
            take(index, header, column)
    plan.read.sort(key=lambda pair: pair[0])
    for attr, value in fixed.items():
        if attr not in by_attr:
            continue
        if attr in seen:
            plan.errors.append(
                (
                    by_attr[attr].header,
                    _(
                        "%(field)s is given by the file's column %(column)s: it cannot also be "
                        "filled in for all rows.",
                        field=by_attr[attr].header,
                        column=seen[attr],
                    ),
                )
            )
            continue
        plan.fixed[attr] = value
        seen[attr] = DASH
    plan.missing = [
        c.header for c in columns if c.required and c.attr not in seen and c.attr not in generated
    ]
    for group in required_any:
        if not any(attr in seen for attr in group):
            plan.missing.append("/".join(by_attr[attr].header for attr in group))
    return plan


def is_template_header(columns: tuple[Column, ...], values: list) -> bool:
    """The header row is our template's (every cell one of our headers, each once, every
    required column there): such a file is imported in one step."""
    names = [normalise_header(v) for v in values]
    names = [name for name in names if name]
    ours = {normalise_header(c.header) for c in columns}
    required = {normalise_header(c.header) for c in columns if c.required}
    return (
        bool(names)
        and set(names) <= ours
        and len(set(names)) == len(names)
        and (required <= set(names))
    )


class HeaderMapping:
    """The header row read once per file (a mixin of the importer)."""

    def _read_header(self, number: int, values: list, result: ImportResult) -> bool:
        plan = plan_header(
            self.all_columns,
            values,
            mapping=self.mapping,
            fixed=self.fixed_values,
            required_any=self.required_any,
            generated=self.generated,
        )
        self.plan = plan
        for header, reason in plan.errors:
            result.add_error(number, header, reason)
        if plan.missing:
            result.add_error(
                number,
                DASH,
                _(
                    "The header row lacks the required column(s) %(columns)s: map a column of "
                    "the file to it, or fill in one value for all rows (--set 字段=值).",
                    columns="、".join(plan.missing),
                )
                if self.mapping or self.fixed_values or plan.ignored
                else _(
                    "The header row lacks the required column(s) %(columns)s: start from the "
                    "downloadable template.",
                    columns="、".join(plan.missing),
                ),
            )
        if plan.ignored:
            result.notices.append(
                _(
                    "Column(s) left out (not recognised or mapped to 忽略): %(columns)s.",
                    columns="、".join(plan.ignored),
                )
            )
        by_attr = {column.attr: column for column in self.all_columns}
        self.read = plan.read
        self.present = [*plan.read, *((None, by_attr[attr]) for attr in plan.fixed)]
        self.fixed_raw = dict(plan.fixed)
        self.sources = {
            self.headers.get(attr, attr): header
            for attr, header in plan.sources.items()
            if header != self.headers.get(attr)
        }
        self.assigned = [
            attr
            for _i, c in self.present
            if c.type != "items"
            for attr in SPLIT_ATTRS.get(c.attr, (c.attr,))
        ]
        self._limits = [
            (attr, self.headers[attr], self._max_length(attr))
            for attr in self.assigned
            if self._max_length(attr)
        ]
        self.prepare_generated(result)
        return result.ok
