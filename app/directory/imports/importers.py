"""The importer of each kind: the two passes put together (reading, mapping, validation,
writing), the keys of each kind, `import_file`."""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from collections import Counter
from collections.abc import Callable
from typing import BinaryIO

from flask_appbuilder.security.sqla.models import User
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, insert, select

from app.core.audit.recorder import NOISE_COLUMNS, CreatedChanges, log_event
from app.core.identifiers import USCC, CitizenID
from app.core.uploads import TableFile, UploadError
from app.directory import services
from app.directory.imports.mapping import HeaderMapping, HeaderPlan, all_columns
from app.directory.imports.reading import BATCH_SIZE, Reading, _no_progress
from app.directory.imports.validation import (
    DASH,
    INSPECTOR_COLUMNS,
    ITEM_COLUMNS,
    TARGET_COLUMNS,
    Column,
    ImportResult,
    Validation,
    _blank,
    _CellError,
    _valid_identifier,
)
from app.directory.imports.writing import (
    _CHANGED_MEANWHILE,
    _INTEGRITY_ERRORS,
    _STAMP_COLUMNS,
    Writing,
    _EarlyCopy,
)
from app.directory.models import (
    LIVE_STATUS,
    NATURAL_PERSON,
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


_CODE_RE = re.compile(r"^(.*?)(\d+)$")


class _Importer(Reading, HeaderMapping, Validation, Writing):
    kind: str
    model: type
    columns: tuple[Column, ...]
    check: Callable
    messages: tuple[tuple[str, str, tuple[str, ...]], ...] = ()
    required_any: tuple[tuple[str, ...], ...] = ()
    # PostgreSQL: new records go in while pass 1 still checks the file (_EarlyCopy). Only for
    # a kind whose checks read nothing from the database (the COPY holds the connection).
    copy_while_checking = False
    generated: tuple[str, ...] = ()  # fields made up when the file lacks them (事项编码)

    def __init__(self, mapping: dict[str, str] | None = None, fixed: dict[str, str] | None = None):
        """`mapping`: normalised source header -> attr (or IGNORE); `fixed`: attr -> the value
        of every row for a field the file lacks (mapping.py)."""
        self.mapping = dict(mapping or {})
        self.fixed_values = dict(fixed or {})
        self.all_columns = all_columns(self.columns, self.kind)
        self.scope = departments_in_scope()
        self.headers = {column.attr: column.header for column in self.all_columns}
        self.department_header = self.headers["department_id"]
        self.patterns = self._compile_messages()
        self.outside_scope_hits = 0  # Validation._outside_scope counts them
        self._departments_by_code: dict[str, int] = {}
        self._departments_by_code_ci: dict[str, list[int]] = {}
        self._departments_by_name: dict[str, list[int]] = {}
        for dept_id, code, name in db.session.execute(
            select(Department.id, Department.code, Department.name)
        ):
            self._departments_by_code[code] = dept_id
            self._departments_by_code_ci.setdefault(code.upper(), []).append(dept_id)
            self._departments_by_name.setdefault(name, []).append(dept_id)
        self.present: list[tuple[int | None, Column]] = []  # read from the file, or fixed
        self.read: list[tuple[int, Column]] = []  # the file's columns that are read
        self.fixed_raw: dict[str, str] = {}
        self.sources: dict[str, str] = {}  # our header -> the file's, where they differ
        self.plan: HeaderPlan | None = None
        self.complete_row: Callable[[dict], None] | None = None
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
        result = self._run(stream, filename, progress)
        if self.sources:
            # An error names the file's own column (抽查对象), not ours (检查对象).
            for error in result.errors:
                error.column = self.sources.get(error.column, error.column)
        return result

    def preview(self, stream: BinaryIO, filename: str, rows: int = 10):
        """The header resolved and the first `rows` rows as they will be read and checked
        (converted values by field, errors), without writing anything: (plan, [(row number,
        {attr: value}, [(column, reason)])], result with the header's errors and notices)."""
        result = ImportResult(kind=self.kind, filename=filename)
        shown: list[tuple[int, dict, list]] = []
        try:
            table = TableFile(stream)
            lines = table.rows()
            try:
                header_seen = False
                for number, values in lines:
                    if all(_blank(v) for v in values):
                        continue
                    if not header_seen:
                        header_seen = True
                        self._read_header(number, values, result)
                        if self.plan is None or self.plan.errors:
                            break
                        continue
                    if len(shown) >= rows:
                        break
                    raw = {
                        column.attr: values[index] if index < len(values) else ""
                        for index, column in self.read
                    }
                    raw.update(self.fixed_raw)
                    probe, extras, errors = self._build(raw)
                    errors = [(self.sources.get(c, c), reason) for c, reason in errors]
                    shown.append((number, dict(probe.__dict__), errors))
            finally:
                lines.close()
        except UploadError as exc:
            result.add_error(None, DASH, str(exc))
        return self.plan, shown, result

    def _run(self, stream: BinaryIO, filename: str, progress=None) -> ImportResult:
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
                result.outside_scope = self.outside_scope_hits
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
            self.remember(result)
        return result

    def remember(self, result: ImportResult) -> None:
        """The user's own mapping kept for their department's next preview (same transaction)."""
        if self.mapping and self.plan is not None:
            from app.directory.imports.remembered import remember_mapping

            remember_mapping(self.kind, self.all_columns, self.mapping, self.plan)

    # --- hooks of each kind ---

    def check_keys(self, number, probe, extras, bad_columns) -> list[tuple[str, str]]:
        raise NotImplementedError

    def matched_id(self, probe) -> int | None:
        raise NotImplementedError

    def load_for_writing(self) -> None:
        pass

    def prepare_generated(self, result: ImportResult) -> None:
        """After the header: make up the fields the file lacks (items: 事项编码)."""

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

    def __init__(self, mapping=None, fixed=None):
        super().__init__(mapping, fixed)
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
                Target.id_number_bidx,
                Target.department_id,
                Target.registration_status,
            )
            .where((Target.uscc.is_not(None)) | (Target.id_number_bidx.is_not(None)))
            .order_by(Target.id)
            .execution_options(yield_per=5000)
        )
        # ID numbers are encrypted: they are keyed by their blind index (id_number_bidx).
        for target_id, target_type, uscc, id_index, department_id, status in rows:
            live = status == LIVE_STATUS
            key = self._key_of(target_type, uscc, id_index)
            if key is not None:
                previous = self._existing.get(key)
                if previous is None or live or not previous[2]:
                    self._existing[key] = (target_id, department_id, live)
            if live:
                if uscc:
                    self._live["uscc"][uscc] = target_id
                if id_index:
                    self._live["id_number"][id_index] = target_id
        self._seen: dict[str, int] = {}
        self._seen_live = {"uscc": {}, "id_number": {}}

    @staticmethod
    def _key_of(target_type, uscc, id_index) -> str | None:
        if target_type == NATURAL_PERSON:
            return f"P{id_index}" if id_index else None
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
        key = self._key_of(probe.target_type, probe.uscc, probe.id_number_bidx)
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
                known = probe.id_number_bidx if attr == "id_number" else value
                other_id = self._live[attr].get(known)
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
        key = self._key_of(probe.target_type, probe.uscc, probe.id_number_bidx)
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

    def __init__(self, mapping=None, fixed=None):
        super().__init__(mapping, fixed)
        self._users: dict[str, tuple[int | None, bool]] = {}
        self._existing: dict[str, tuple[int, int]] = {}
        # (inspector id, name, department id): the name is shown only within the user's scope.
        self._by_id_number: dict[str, tuple[int, str, int]] = {}
        self._by_user: dict[int, tuple[int, str, int]] = {}
        # By the blind index of the (encrypted) ID number.
        for inspector_id, name, cert, dept_id, id_index, user_id in db.session.execute(
            select(
                Inspector.id,
                Inspector.name,
                Inspector.certificate_no,
                Inspector.department_id,
                Inspector.id_number_bidx,
                Inspector.user_id,
            )
        ):
            self._existing[cert] = (inspector_id, dept_id)
            if id_index:
                self._by_id_number[id_index] = (inspector_id, name, dept_id)
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
                other = self._by_id_number.get(probe.id_number_bidx)
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

    generated = ("code",)

    def __init__(self, mapping=None, fixed=None):
        super().__init__(mapping, fixed)
        self._existing = {
            code: (item_id, status, dept_id) for item_id, code, status, dept_id in _item_keys()
        }
        self._seen: dict[str, int] = {}
        self._patterns: dict[int, list] = {}  # department id -> [prefix, width, next number]

    def prepare_generated(self, result):
        plan = self.plan
        if "code" not in plan.sources and "code" not in plan.fixed:
            self.complete_row = self._generate_code

    def _generate_code(self, values: dict) -> None:
        """事项编码 made up by the department's pattern (its existing codes' most common prefix
        and running number; else <department code>-<year>-NNN), never one that exists or that
        this file used already. The codes of a department outside the user's scope are not
        looked at (the row is refused for its department anyway)."""
        department_id = values.get("department_id")
        if department_id is None:
            return
        pattern = self._patterns.get(department_id)
        if pattern is None:
            pattern = self._patterns[department_id] = self._code_pattern(
                department_id, own=self._in_scope(department_id)
            )
        prefix, width, number = pattern
        while True:
            code = f"{prefix}{number:0{width}d}"
            number += 1
            if code not in self._existing and code not in self._seen:
                break
        pattern[2] = number
        values["code"] = code

    def _code_pattern(self, department_id: int, own: bool = True) -> list:
        counts: Counter[str] = Counter()
        widths: dict[str, int] = {}
        highest: dict[str, int] = {}
        for code, (_id, _status, dept_id) in self._existing.items():
            match = _CODE_RE.match(code) if own and dept_id == department_id else None
            if match is None:
                continue
            prefix, digits = match.groups()
            counts[prefix] += 1
            widths[prefix] = max(widths.get(prefix, 0), len(digits))
            highest[prefix] = max(highest.get(prefix, 0), int(digits))
        if counts:
            prefix = max(counts, key=lambda p: (counts[p], highest[p]))
            return [prefix, widths[prefix], highest[prefix] + 1]
        code = db.session.scalar(select(Department.code).where(Department.id == department_id))
        return [f"{code}-{dt.date.today().year}-", 3, 1]

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


def record_refusal(kind: str, filename: str, result: ImportResult) -> None:
    """A refused import leaves one audit row (`import_refused`): the file's SHA-256, its rows,
    the errors and how many keys it met that departments outside the user's scope hold. The
    caller has rolled the import back and commits this row alone. Without it, a file of codes
    could be uploaded again and again to learn which ones other departments hold, unseen."""
    log_event(
        "import_refused",
        kind,
        detail={
            "file": filename,
            "sha256": result.sha256,
            "rows": result.rows,
            "errors": result.error_count,
            "outside_scope": result.outside_scope,
        },
    )


def import_file(
    kind: str,
    stream: BinaryIO,
    filename: str,
    *,
    progress: Callable[[int, int], None] | None = None,
    mapping: dict[str, str] | None = None,
    fixed: dict[str, str] | None = None,
) -> ImportResult:
    """Import one file for the acting user (their department scope applies). Validates the
    whole file, then writes it in the current transaction when it has no error. The caller
    commits when `result.ok` and rolls back otherwise.

    `progress(checked, written)` is called at least every 1,000 rows of each pass (rows
    checked in pass 1 with written 0, then rows written in pass 2) and once at the end of
    each pass.

    `mapping` (normalised source header -> attr, or IGNORE) and `fixed` (attr -> the value
    of all rows) are the user's own reading of the header (app/directory/imports/mapping.py);
    a mapping of a successful import is remembered for the department's next preview."""
    if kind not in IMPORTERS:
        raise ValueError(f"unknown import kind {kind!r}")
    return IMPORTERS[kind](mapping, fixed).run(stream, filename, progress)
