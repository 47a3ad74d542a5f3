"""Bulk import of 一单两库 (targets, inspectors, items) from CSV and XLSX: encodings, formula
cells, all-or-nothing with a row-numbered report, upsert by key, the department scope, the upload
page, the templates, the CLI, the audit log, and 100,000 rows in one go."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
import resource
import time
import zipfile
from dataclasses import dataclass
from urllib.parse import unquote

import pytest
from flask import g
from flask_babel import gettext
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from app.core.audit.chain import verify
from app.core.audit.models import AuditLog
from app.core.identifiers import USCC, CitizenID, InvalidIdentifier
from app.directory.imports import (
    INSPECTOR_COLUMNS,
    ITEM_COLUMNS,
    TARGET_COLUMNS,
    import_file,
    parse_date,
)
from app.directory.models import Area, InspectionItem, Inspector, Target
from app.extensions import db
from app.security.system_user import acting_as_system
from tests.conftest import csrf_token_from
from tests.directory.conftest import new_item

URL = "/directory-import/"
TARGET_HEADER = [c.header for c in TARGET_COLUMNS]
INSPECTOR_HEADER = [c.header for c in INSPECTOR_COLUMNS]
ITEM_HEADER = [c.header for c in ITEM_COLUMNS]
FAR = (dt.date.today() + dt.timedelta(days=400)).isoformat()


def uscc(n: int) -> str:
    body = f"91150602{n:09d}"
    return body + USCC.calc_check_digit(body)


def citizen_id(n: int) -> str:
    body = f"15060219800101{n:03d}"
    return body + CitizenID.calc_check_digit(body)


def bad_check_character(code: str) -> str:
    wrong = "0" if code[-1] != "0" else "1"
    return code[:-1] + wrong


# --- fixtures and helpers -------------------------------------------------------------------


@dataclass
class Base:
    area: int
    published_a: int  # SJ-001, published, department A
    draft_a: int  # SJ-002, draft, department A
    published_b: int  # SJ-B01, published, department B


@pytest.fixture
def base(app, world):
    """Two areas and three items (two published) on top of `world`."""
    with app.app_context():
        leader = app.appbuilder.sm.get_user_by_id(world.user("leader"))
        with acting_as_system():
            area = Area(name="交通街道", kind="街道")
            db.session.add_all([area, Area(name="铜川镇", kind="镇", sort_order=1)])

            items = [
                new_item("SJ-001", world.dept_a, leader),
                new_item("SJ-002", world.dept_a),
                new_item("SJ-B01", world.dept_b, leader),
            ]
            db.session.commit()
            return Base(area.id, *(i.id for i in items))


def target_row(n: int, **cells) -> list[str]:
    row = {
        "检查对象类型": "企业",
        "名称": f"东胜水务有限公司{n}",
        "统一社会信用代码": uscc(n),
        "法定代表人": "张三",
        "联系电话": "13800138000",
        "地址": "东胜区铁西路1号",
        "所属区域": "交通街道",
        "行业类别": "取水单位",
        "登记状态": "存续",
        "信用风险等级": "B",
        "最近检查日期": "2024-05-01",
        "主管部门": "A",
    }
    row.update(cells)
    return [row.get(h, "") for h in TARGET_HEADER]


def inspector_row(n: int, **cells) -> list[str]:
    row = {
        "姓名": f"王建国{n}",
        "性别": "男",
        "所属部门": "A",
        "职务": "科员",
        "执法证号": f"NM-{n:05d}",
        "执法证有效期至": FAR,
        "专业领域": "水资源、河湖管理",
        "状态": "在岗",
        "联系电话": "13847701234",
    }
    row.update(cells)
    return [row.get(h, "") for h in INSPECTOR_HEADER]


def item_row(code: str, **cells) -> list[str]:
    row = {
        "事项编码": code,
        "抽查类别": "水资源管理",
        "抽查事项": f"取水许可事项{code}",
        "检查对象": "取水单位",
        "事项类别": "一般",
        "检查方式": "实地检查、书面检查",
        "检查主体": "东胜区水利局",
        "检查依据": "《取水许可和水资源费征收管理条例》",
        "抽查比例": "5%",
        "抽查频次": "每年1次",
        "所属部门": "A",
    }
    row.update(cells)
    return [row.get(h, "") for h in ITEM_HEADER]


def csv_bytes(header, rows, encoding="utf-8") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(header, rows) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def run_import(app, kind, data: bytes, *, user=None, filename="import.csv"):
    """Import as the CLI does: as the system user (or `user`), commit when the file is good."""
    with app.app_context():
        if user is None:
            with acting_as_system():
                return _import_and_finish(kind, data, filename)
        g.user = app.appbuilder.sm.find_user(username=user)
        return _import_and_finish(kind, data, filename)


def _import_and_finish(kind, data, filename):
    result = import_file(kind, io.BytesIO(data), filename)
    if result.ok:
        db.session.commit()
    else:
        db.session.rollback()
    return result


def errors_of(result) -> list[tuple]:
    return [(e.row, e.column) for e in result.errors]


def stored_targets(app) -> list[Target]:
    with app.app_context():
        rows = db.session.scalars(select(Target).order_by(Target.id)).all()
        for target in rows:
            _ = target.items, target.area, target.department
        db.session.expunge_all()
        return rows


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def message(app, msgid, **kwargs) -> str:
    """A message as the importer says it (in the default language, outside a request)."""
    with app.app_context():
        return gettext(msgid, **kwargs)


# --- encodings and formats ------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_in_each_encoding_is_detected_and_imported(app, base, encoding):
    data = csv_bytes(
        TARGET_HEADER,
        [target_row(1), target_row(2, 名称="鄂尔多斯市河湖砂石有限责任公司")],
        encoding,
    )
    assert data.startswith(b"\xef\xbb\xbf") == (encoding == "utf-8-sig")
    result = run_import(app, "targets", data)
    assert result.ok, result.errors
    assert (result.rows, result.created, result.updated) == (2, 2, 0)
    targets = stored_targets(app)
    assert [t.name for t in targets] == ["东胜水务有限公司1", "鄂尔多斯市河湖砂石有限责任公司"]
    assert targets[0].uscc == uscc(1)
    assert targets[0].area.name == "交通街道"
    assert targets[0].department.code == "A"
    assert targets[0].last_inspected_on == dt.date(2024, 5, 1)


def test_a_file_in_no_known_encoding_is_one_clear_error(app, base):
    data = "检查对象类型,名称\n".encode("utf-16")
    result = run_import(app, "targets", data)
    assert not result.ok
    assert errors_of(result) == [(None, "—")]
    assert result.errors[0].reason == message(
        app,
        "The file's encoding is not recognised: save the CSV file as UTF-8 or GB18030 (GBK).",
    )


def test_xlsx_with_excel_date_cells_numbers_and_percent_is_imported(app, base):
    rows = [target_row(1), target_row(2)]
    rows[0][TARGET_HEADER.index("最近检查日期")] = dt.datetime(2024, 3, 15)
    rows[1][TARGET_HEADER.index("联系电话")] = 13912345678  # a number cell
    result = run_import(app, "targets", xlsx_bytes(TARGET_HEADER, rows), filename="t.xlsx")
    assert result.ok, result.errors
    targets = stored_targets(app)
    assert targets[0].last_inspected_on == dt.date(2024, 3, 15)
    assert targets[1].contact_phone == "13912345678"

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(ITEM_HEADER)
    sheet.append(item_row("SJ-101", 抽查比例=""))
    ratio = sheet.cell(row=2, column=ITEM_HEADER.index("抽查比例") + 1)
    ratio.value, ratio.number_format = 0.05, "0%"  # typed as 5% in Excel
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = run_import(app, "items", buffer.getvalue(), filename="items.xlsx")
    assert result.ok, result.errors
    with app.app_context():
        item = db.session.scalar(select(InspectionItem).where(InspectionItem.code == "SJ-101"))
        assert str(item.sampling_ratio) == "5.00"


def test_xlsx_formula_cells_with_a_value_are_read_and_without_one_are_an_error(app, base):
    # openpyxl writes no cached values: a formula "with a value" is written as its value, one
    # "without a value" as the bare formula.
    rows = [target_row(1), target_row(2), target_row(3)]
    rows[0][TARGET_HEADER.index("信用风险等级")] = "C"  # =IF(...) already calculated
    rows[2][TARGET_HEADER.index("联系电话")] = "=1+1"
    data = xlsx_bytes(TARGET_HEADER, rows)
    result = run_import(app, "targets", data, filename="t.xlsx")
    assert errors_of(result) == [(4, "联系电话")]
    assert result.errors[0].reason == message(
        app, "The formula cell has no calculated result: save it as values in Excel."
    )
    assert count(app, Target) == 0
    rows[2][TARGET_HEADER.index("联系电话")] = "13800138000"
    result = run_import(app, "targets", xlsx_bytes(TARGET_HEADER, rows), filename="t.xlsx")
    assert result.ok, result.errors
    assert stored_targets(app)[0].risk_class == "C"


def test_an_xls_file_is_refused_with_a_hint(app, base):
    result = run_import(app, "targets", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    assert errors_of(result) == [(None, "—")]
    assert ".xlsx" in result.errors[0].reason


@pytest.mark.parametrize(
    "data",
    [
        b"PK\x03\x04garbage" + b"\0" * 100,  # not a zip: "File is not a zip file"
        None,
    ],
)
def test_a_damaged_workbook_is_refused_in_chinese_without_the_librarys_words(app, base, data):
    if data is None:  # a zip, but no workbook: "There is no item named '[Content_Types].xml'"
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("hello.txt", "hi")
        data = buffer.getvalue()
    result = run_import(app, "targets", data, filename="t.xlsx")
    assert errors_of(result) == [(None, "—")]
    reason = result.errors[0].reason
    assert "Excel" in reason and ".xlsx" in reason
    assert not re.search(r"\b(?:File|zip|item|named|archive)\b", reason), reason


def test_leading_and_trailing_spaces_are_stripped(app, base):
    row = target_row(
        1,
        名称="  东胜水务有限公司  ",
        统一社会信用代码=f" {uscc(1)} ",
        所属区域=" 交通街道 ",
        主管部门=" A ",
        登记状态=" 存续",
    )
    header = [f" {h} " for h in TARGET_HEADER]
    result = run_import(app, "targets", csv_bytes(header, [row]))
    assert result.ok, result.errors
    target = stored_targets(app)[0]
    assert (target.name, target.uscc, target.registration_status) == (
        "东胜水务有限公司",
        uscc(1),
        "存续",
    )


def test_empty_rows_are_skipped_and_rows_keep_their_spreadsheet_numbers(app, base):
    blank = [""] * len(TARGET_HEADER)
    rows = [target_row(1), blank, blank, target_row(2, 所属区域="不存在街道")]
    result = run_import(app, "targets", csv_bytes(TARGET_HEADER, rows))
    assert errors_of(result) == [(5, "所属区域")]
    assert "不存在街道" in result.errors[0].reason
    result = run_import(app, "targets", csv_bytes(TARGET_HEADER, rows[:3]))
    assert result.ok and result.rows == 1


def test_dates_are_accepted_as_yyyy_mm_dd_and_yyyy_slash_mm_slash_dd():
    assert parse_date("2024-05-01") == dt.date(2024, 5, 1)
    assert parse_date("2024/05/01") == dt.date(2024, 5, 1)
    assert parse_date("2024/5/1") == dt.date(2024, 5, 1)
    assert parse_date(dt.datetime(2024, 5, 1, 0, 0)) == dt.date(2024, 5, 1)


# --- all or nothing, the report ---------------------------------------------------------------


def test_three_bad_rows_among_good_ones_write_nothing_and_are_all_reported(app, base):
    bad_uscc = bad_check_character(uscc(2))
    rows = [
        target_row(1),
        target_row(2, 统一社会信用代码=bad_uscc),  # row 3
        target_row(3),
        target_row(4, 所属区域="火星街道"),  # row 5
        target_row(5),
        target_row(6, 最近检查日期="2024-13-45"),  # row 7
        target_row(7),
    ]
    result = run_import(app, "targets", csv_bytes(TARGET_HEADER, rows))
    assert not result.ok
    assert errors_of(result) == [(3, "统一社会信用代码"), (5, "所属区域"), (7, "最近检查日期")]
    assert result.error_count == 3
    with app.app_context():
        try:
            USCC.validate(bad_uscc)
        except InvalidIdentifier as exc:
            expected = str(exc)
    assert result.errors[0].reason == expected  # the identifiers' own message
    assert result.errors[1].reason == message(app, "Unknown area “%(value)s”.", value="火星街道")
    assert result.errors[2].reason == message(
        app, "“%(value)s” is not a date: write it as YYYY-MM-DD.", value="2024-13-45"
    )
    assert count(app, Target) == 0


def test_service_rules_are_reported_in_their_columns(app, base):
    rows = [
        target_row(1, 检查对象类型="公司"),
        target_row(2, 信用风险等级="E"),
        target_row(3, 联系电话="call me"),
        target_row(4, 检查对象类型="自然人", 统一社会信用代码=""),
        target_row(5, 名称=""),
    ]
    result = run_import(app, "targets", csv_bytes(TARGET_HEADER, rows))
    assert errors_of(result) == [
        (2, "检查对象类型"),
        (3, "信用风险等级"),
        (4, "联系电话"),
        (5, "公民身份号码"),
        (6, "名称"),
    ]


def test_a_key_twice_in_the_file_is_an_error_naming_the_other_row(app, base):
    rows = [target_row(1), target_row(2), target_row(3, 统一社会信用代码=uscc(1))]
    result = run_import(app, "targets", csv_bytes(TARGET_HEADER, rows))
    assert errors_of(result) == [(4, "统一社会信用代码")]
    assert result.errors[0].reason == message(
        app, "Duplicate: row %(row)d has the same %(column)s.", row=2, column="统一社会信用代码"
    )
    assert count(app, Target) == 0


def test_a_header_without_a_required_column_is_one_clear_error(app, base):
    header = [h for h in TARGET_HEADER if h != "名称"]
    rows = [
        [c for h, c in zip(TARGET_HEADER, target_row(n), strict=True) if h != "名称"]
        for n in range(1, 4)
    ]
    result = run_import(app, "targets", csv_bytes(header, rows))
    assert errors_of(result) == [(1, "—")]
    assert "名称" in result.errors[0].reason


def test_an_empty_file_is_refused(app, base):
    result = run_import(app, "targets", csv_bytes(TARGET_HEADER, []))
    assert errors_of(result) == [(None, "—")]
    assert result.errors[0].reason == message(app, "The file contains no data rows.")


# --- upsert ---------------------------------------------------------------------------------


def test_an_existing_target_is_updated_not_duplicated(app, base):
    assert run_import(app, "targets", csv_bytes(TARGET_HEADER, [target_row(1)])).ok
    first_id = stored_targets(app)[0].id
    rows = [target_row(1, 名称="东胜水务集团有限公司", 信用风险等级="D"), target_row(2)]
    result = run_import(app, "targets", csv_bytes(TARGET_HEADER, rows))
    assert result.ok, result.errors
    assert (result.created, result.updated) == (1, 1)
    targets = stored_targets(app)
    assert len(targets) == 2
    assert (targets[0].id, targets[0].name, targets[0].risk_class) == (
        first_id,
        "东胜水务集团有限公司",
        "D",
    )
    with app.app_context():
        update = db.session.scalars(
            select(AuditLog).where(
                AuditLog.action == "update",
                AuditLog.object_type == "target",
                AuditLog.object_id == str(first_id),
            )
        ).one()
        assert "东胜水务集团有限公司" in update.changes


def test_natural_persons_are_keyed_by_citizen_id(app, base):
    row = target_row(
        0, 检查对象类型="自然人", 名称="赵六", 统一社会信用代码="", 公民身份号码=citizen_id(7)
    )
    assert run_import(app, "targets", csv_bytes(TARGET_HEADER, [row])).ok
    row[TARGET_HEADER.index("地址")] = "罕台镇"
    result = run_import(app, "targets", csv_bytes(TARGET_HEADER, [row]))
    assert (result.created, result.updated) == (0, 1)
    assert [t.address for t in stored_targets(app)] == ["罕台镇"]


def test_applicable_items_must_exist_and_be_published(app, base):
    rows = [
        target_row(1, 适用事项="SJ-001、SJ-B01"),
        target_row(2, 适用事项="SJ-001,SJ-404"),
        target_row(3, 适用事项="SJ-002"),
    ]
    result = run_import(app, "targets", csv_bytes(TARGET_HEADER, rows))
    assert errors_of(result) == [(3, "适用事项"), (4, "适用事项")]
    assert "SJ-404" in result.errors[0].reason and "SJ-002" in result.errors[1].reason
    result = run_import(app, "targets", csv_bytes(TARGET_HEADER, rows[:1]))
    assert result.ok
    assert sorted(i.code for i in stored_targets(app)[0].items) == ["SJ-001", "SJ-B01"]


# --- department scope -----------------------------------------------------------------------


def test_operator_a_cannot_import_a_row_for_department_b(app, base):
    rows = [target_row(1), target_row(2, 主管部门="B"), target_row(3, 主管部门="节约用水办公室")]
    result = run_import(app, "targets", csv_bytes(TARGET_HEADER, rows), user="operator_a")
    assert errors_of(result) == [(3, "主管部门")]
    assert result.errors[0].reason == message(
        app, "You can only record data of your own departments."
    )
    assert count(app, Target) == 0
    # Department A and the unit below it (A1, given by name) are in scope.
    del rows[1]
    result = run_import(app, "targets", csv_bytes(TARGET_HEADER, rows), user="operator_a")
    assert result.ok, result.errors
    assert [t.department.code for t in stored_targets(app)] == ["A", "A1"]


def test_operator_a_cannot_take_over_a_target_of_department_b(app, base):
    assert run_import(app, "targets", csv_bytes(TARGET_HEADER, [target_row(1, 主管部门="B")])).ok
    result = run_import(
        app, "targets", csv_bytes(TARGET_HEADER, [target_row(1)]), user="operator_a"
    )
    assert errors_of(result) == [(2, "统一社会信用代码")]
    assert [t.department.code for t in stored_targets(app)] == ["B"]


def test_an_unknown_department_is_reported(app, base):
    result = run_import(app, "targets", csv_bytes(TARGET_HEADER, [target_row(1, 主管部门="Z9")]))
    assert errors_of(result) == [(2, "主管部门")]
    assert "Z9" in result.errors[0].reason


# --- inspectors and items -------------------------------------------------------------------


def test_inspectors_are_imported_with_their_login_and_keyed_by_certificate(app, base):
    rows = [
        inspector_row(
            1, 登录账号="inspector_a", 执法证有效期至="2030/6/30", 公民身份号码=citizen_id(1)
        ),
        inspector_row(2, 所属部门="水资源管理科", 状态=""),
    ]
    result = run_import(app, "inspectors", csv_bytes(INSPECTOR_HEADER, rows))
    assert result.ok, result.errors
    with app.app_context():
        people = db.session.scalars(select(Inspector).order_by(Inspector.certificate_no)).all()
        assert [p.certificate_no for p in people] == ["NM-00001", "NM-00002"]
        assert people[0].user.username == "inspector_a"
        assert people[0].certificate_expiry == dt.date(2030, 6, 30)
        assert people[0].specialties == "水资源、河湖管理"
        assert people[1].status == "在岗"
    rows[1][INSPECTOR_HEADER.index("职务")] = "副科长"
    result = run_import(app, "inspectors", csv_bytes(INSPECTOR_HEADER, rows))
    assert (result.created, result.updated) == (0, 2)
    assert count(app, Inspector) == 2


def test_inspector_rows_with_bad_cells_are_reported(app, base):
    rows = [
        inspector_row(1, 登录账号="nobody"),
        inspector_row(2, 执法证有效期至="明年"),
        inspector_row(3, 专业领域="天文"),
        inspector_row(4, 执法证号="NM-00001"),
        inspector_row(5, 公民身份号码=bad_check_character(citizen_id(5))),
    ]
    result = run_import(app, "inspectors", csv_bytes(INSPECTOR_HEADER, rows))
    assert errors_of(result) == [
        (2, "登录账号"),
        (3, "执法证有效期至"),
        (4, "专业领域"),
        (5, "执法证号"),
        (6, "公民身份号码"),
    ]
    assert count(app, Inspector) == 0


@pytest.mark.parametrize("user", [None, "operator_a"])
def test_an_inspector_is_linked_only_to_an_inspectors_login_of_the_users_departments(
    app, base, user
):
    """As on the form: linking a Leader's, an Operator's or an administrator's login (or, for
    an Operator, another department's) would hand that account an inspector's assignments."""
    rows = [
        inspector_row(1, 登录账号="admin"),
        inspector_row(2, 登录账号="leader"),
        inspector_row(3, 登录账号="operator_a"),
        inspector_row(4, 登录账号="operator_b"),
        inspector_row(5, 登录账号="jointoffice"),
    ]
    result = run_import(app, "inspectors", csv_bytes(INSPECTOR_HEADER, rows), user=user)
    assert errors_of(result) == [(n, "登录账号") for n in range(2, 7)]
    assert {e.reason for e in result.errors} == {
        message(app, "Link the inspector to an Inspector's login of your departments.")
    }
    assert count(app, Inspector) == 0
    good = [inspector_row(1, 登录账号="inspector_a")]
    assert run_import(app, "inspectors", csv_bytes(INSPECTOR_HEADER, good), user=user).ok


def test_items_are_imported_as_drafts_and_published_items_are_not_changed(app, base):
    rows = [item_row("SJ-010"), item_row("SJ-002", 抽查事项="取水计量检查"), item_row("SJ-001")]
    result = run_import(app, "items", csv_bytes(ITEM_HEADER, rows))
    assert errors_of(result) == [(4, "事项编码")]
    assert result.errors[0].reason == message(
        app, "A published item can only be changed through a revision."
    )
    result = run_import(app, "items", csv_bytes(ITEM_HEADER, rows[:2]))
    assert result.ok, result.errors
    assert (result.created, result.updated) == (1, 1)
    with app.app_context():
        items = {i.code: i for i in db.session.scalars(select(InspectionItem))}
        assert items["SJ-010"].status == "draft"
        assert items["SJ-010"].method == "实地检查、书面检查"
        assert str(items["SJ-010"].sampling_ratio) == "5.00"
        assert items["SJ-002"].name == "取水计量检查"
        assert items["SJ-001"].name == "取水许可检查SJ-001"


def test_item_rule_errors_are_placed_in_their_columns(app, base):
    rows = [
        item_row("SJ-011", 抽查比例="120"),
        item_row("SJ-012", 检查方式="飞行检查"),
        item_row("SJ-013", 事项类别="特殊"),
        item_row("SJ-014", 所属部门="B"),
    ]
    result = run_import(app, "items", csv_bytes(ITEM_HEADER, rows), user="operator_a")
    assert errors_of(result) == [(2, "抽查比例"), (3, "检查方式"), (4, "事项类别"), (5, "所属部门")]


# --- the upload page ------------------------------------------------------------------------


def _upload(client, kind, data, filename, token, **kwargs):
    form = {"kind": kind, "file": (io.BytesIO(data), filename)}
    if token is not None:
        form["csrf_token"] = token
    return client.post(URL, data=form, content_type="multipart/form-data", **kwargs)


def test_operator_uploads_a_file_and_sees_the_counts(app, base, login_as):
    client = login_as("operator_a")
    page = client.get(URL)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'name="file"' in html and "js/import_upload.js" in html
    script = client.get("/static/js/import_upload.js")
    assert script.status_code == 200 and b"XMLHttpRequest" in script.data
    assert "统一社会信用代码" in html
    assert run_import(app, "targets", csv_bytes(TARGET_HEADER, [target_row(1)])).ok
    data = csv_bytes(TARGET_HEADER, [target_row(1), target_row(2), target_row(3)], "gb18030")
    token = csrf_token_from(client, URL)
    response = _upload(client, "targets", data, "目录.csv", token, follow_redirects=True)
    assert response.status_code == 200
    with app.test_request_context():
        expected = gettext(
            "%(file)s imported: %(rows)d rows, %(created)d created, %(updated)d updated.",
            file="目录.csv",
            rows=3,
            created=2,
            updated=1,
        )
    assert expected in response.get_data(as_text=True)
    assert count(app, Target) == 3


def test_an_upload_with_errors_shows_the_error_table_and_writes_nothing(app, base, login_as):
    client = login_as("operator_a")
    rows = [target_row(1), target_row(2, 主管部门="B"), target_row(3, 最近检查日期="昨天")]
    data = xlsx_bytes(TARGET_HEADER, rows)
    response = _upload(
        client, "targets", data, "t.xlsx", csrf_token_from(client, URL), follow_redirects=True
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "失败" in html and 'id="import-error-table"' in html
    assert re.search(r"<td[^>]*>3</td><td[^>]*>主管部门</td>", html)
    assert re.search(r"<td[^>]*>4</td><td[^>]*>最近检查日期</td>", html)
    assert count(app, Target) == 0


def test_a_large_upload_is_streamed_from_a_temporary_file(app, base, login_as):
    # Werkzeug spools uploads above 500 KB to a temporary file: the importer reads it twice.
    rows = [target_row(n, 备注="年度重点监管对象") for n in range(1, 5001)]
    data = csv_bytes(TARGET_HEADER, rows, "gb18030")
    assert len(data) > 600_000
    client = login_as("operator_a")
    response = _upload(client, "targets", data, "big.csv", csrf_token_from(client, URL))
    assert response.status_code == 302
    assert count(app, Target) == 5000


def test_an_upload_without_csrf_token_is_refused(app, base, login_as):
    data = csv_bytes(TARGET_HEADER, [target_row(1)])
    response = _upload(login_as("operator_a"), "targets", data, "t.csv", None)
    assert response.status_code == 400
    assert count(app, Target) == 0


@pytest.mark.parametrize("username", ["leader", "inspector_a", "admin"])
def test_leaders_inspectors_and_admins_may_not_import(app, base, login_as, username):
    client = login_as(username)
    assert client.get(URL).status_code == 403
    assert client.get(URL + "template/targets.csv").status_code == 403
    token = csrf_token_from(client, "/resetmypassword/form")
    data = csv_bytes(TARGET_HEADER, [target_row(1)])
    assert _upload(client, "targets", data, "t.csv", token).status_code == 403
    assert count(app, Target) == 0


@pytest.mark.parametrize(
    "kind, header",
    [("targets", TARGET_HEADER), ("inspectors", INSPECTOR_HEADER), ("items", ITEM_HEADER)],
)
def test_templates_have_the_chinese_headers(app, base, login_as, kind, header):
    client = login_as("operator_a")
    response = client.get(f"{URL}template/{kind}.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"  # the charset once
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.data.startswith(b"\xef\xbb\xbf")
    assert next(csv.reader(io.StringIO(response.data.decode("utf-8-sig")))) == header

    response = client.get(f"{URL}template/{kind}.xlsx")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert response.headers["Content-Disposition"].startswith("attachment")
    sheet = load_workbook(io.BytesIO(response.data)).worksheets[0]
    assert [c.value for c in sheet[1]] == header
    # Named in Chinese (with an ASCII fallback), a bold frozen header, columns fitted.
    disposition = response.headers["Content-Disposition"]
    title = {
        "targets": "检查对象名录",
        "inspectors": "执法检查人员名录",
        "items": "随机抽查事项清单",
    }
    assert f'filename="import-{kind}.xlsx"' in disposition
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == f"{title[kind]}导入模板.xlsx"
    assert sheet.title == title[kind] and sheet.freeze_panes == "A2"
    assert all(c.font.bold for c in sheet[1])


def test_the_filled_in_xlsx_template_imports(app, base, login_as):
    client = login_as("operator_a")
    workbook = load_workbook(io.BytesIO(client.get(f"{URL}template/targets.xlsx").data))
    sheet = workbook.worksheets[0]
    sheet.append(target_row(1))
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = _upload(client, "targets", buffer.getvalue(), "t.xlsx", csrf_token_from(client, URL))
    assert response.status_code == 302
    assert [t.uscc for t in stored_targets(app)] == [uscc(1)]


# --- the CLI --------------------------------------------------------------------------------


def test_cli_imports_a_good_file_and_refuses_a_bad_one(app, base, tmp_path):
    runner = app.test_cli_runner()
    good = tmp_path / "good.csv"
    good.write_bytes(csv_bytes(TARGET_HEADER, [target_row(1), target_row(2)], "gb18030"))
    result = runner.invoke(args=["import", "targets", str(good)])
    assert result.exit_code == 0, result.output
    assert "2" in result.output and "good.csv" in result.output
    assert count(app, Target) == 2

    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(xlsx_bytes(TARGET_HEADER, [target_row(3), target_row(4, 所属区域="月球")]))
    result = runner.invoke(args=["import", "targets", str(bad)])
    assert result.exit_code == 1
    assert "3" in result.stderr and "所属区域" in result.stderr and "月球" in result.stderr
    assert count(app, Target) == 2


def test_cli_acts_in_the_scope_of_the_given_user(app, base, tmp_path):
    path = tmp_path / "b.csv"
    path.write_bytes(csv_bytes(TARGET_HEADER, [target_row(1, 主管部门="B")]))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["import", "targets", str(path), "--user", "operator_a"])
    assert result.exit_code == 1
    assert "主管部门" in result.stderr
    assert count(app, Target) == 0
    result = runner.invoke(args=["import", "targets", str(path), "--user", "operator_b"])
    assert result.exit_code == 0, result.output
    assert runner.invoke(args=["import", "targets", str(path), "--user", "ghost"]).exit_code == 1


# --- audit ----------------------------------------------------------------------------------


def test_an_import_is_audited_and_the_chain_still_verifies(app, base):
    data = csv_bytes(TARGET_HEADER, [target_row(1), target_row(2)])
    result = run_import(app, "targets", data, user="operator_a", filename="a.csv")
    assert result.ok
    with app.app_context():
        event = db.session.scalars(select(AuditLog).where(AuditLog.action == "import")).one()
        assert event.object_type == "targets"
        assert event.username == "operator_a"
        assert result.sha256 in event.detail and '"created":2' in event.detail
        creates = db.session.scalar(
            select(func.count())
            .select_from(AuditLog)
            .where(AuditLog.action == "create", AuditLog.object_type == "target")
        )
        assert creates == 2
        with db.engine.connect() as connection:
            assert verify(connection).ok


def test_a_bad_last_row_of_a_long_file_writes_nothing(app, base):
    """Rows are spooled and written in batches; a bad row anywhere, the last included,
    writes none of them and no audit row."""
    with app.app_context():
        audit_rows = db.session.scalar(select(func.count()).select_from(AuditLog))
    rows = [target_row(n) for n in range(1, 2501)]
    rows.append(target_row(2501, 统一社会信用代码=bad_check_character(uscc(2501))))
    result = run_import(app, "targets", csv_bytes(TARGET_HEADER, rows))
    assert errors_of(result) == [(2502, "统一社会信用代码")]
    assert result.rows == 2501
    assert count(app, Target) == 0
    assert count(app, AuditLog) == audit_rows


def test_a_code_of_a_live_target_late_in_a_long_file_is_named_and_writes_nothing(app, base):
    """On PostgreSQL the first thousand rows are written while the rest is checked; the
    check that names the live target holding a code reads the database after that, and the
    rows written before it are taken back."""
    person = target_row(
        0,
        检查对象类型="自然人",
        名称="赵六",
        统一社会信用代码=uscc(5000),
        公民身份号码=citizen_id(7),
    )
    assert run_import(app, "targets", csv_bytes(TARGET_HEADER, [person])).ok
    with app.app_context():
        audit_rows = db.session.scalar(select(func.count()).select_from(AuditLog))
    rows = [target_row(n) for n in range(1, 1500)] + [target_row(5000)]
    result = run_import(app, "targets", csv_bytes(TARGET_HEADER, rows))
    assert errors_of(result) == [(1501, "统一社会信用代码")]
    assert "赵六" in result.errors[0].reason
    assert [t.name for t in stored_targets(app)] == ["赵六"]
    assert count(app, AuditLog) == audit_rows
    with app.app_context(), db.engine.connect() as connection:
        assert verify(connection).ok
    # The same file without that row imports.
    assert run_import(app, "targets", csv_bytes(TARGET_HEADER, rows[:-1])).ok
    assert count(app, Target) == 1500


def test_every_imported_target_has_its_audit_row_and_the_chain_verifies(app, base):
    """Per-record rows are written in bulk (COPY on PostgreSQL): one per target created or
    changed, chained after the rows before them, read like the rows of a form's save."""
    assert run_import(app, "targets", csv_bytes(TARGET_HEADER, [target_row(1)])).ok
    with app.app_context():
        with acting_as_system():
            by_form = Target(
                target_type="企业",
                name="表单录入的企业",
                uscc=uscc(9999),
                area_id=base.area,
                industry="取水单位",
                legal_representative="张三",
                contact_phone="13800138000",
                address="东胜区铁西路1号",
                last_inspected_on=dt.date(2024, 5, 1),
                department_id=db.session.scalar(select(Target.department_id)),
            )
            db.session.add(by_form)
            db.session.commit()
            form_id = by_form.id
    rows = [target_row(n, 适用事项="SJ-001") for n in range(2, 1502)]
    rows.append(target_row(1, 名称="东胜水务集团有限公司", 适用事项="SJ-001、SJ-B01"))
    result = run_import(app, "targets", csv_bytes(TARGET_HEADER, rows))
    assert result.ok, result.errors[:3]
    assert (result.created, result.updated) == (1500, 1)
    with app.app_context():
        creates = db.session.scalars(
            select(AuditLog).where(AuditLog.action == "create", AuditLog.object_type == "target")
        ).all()
        assert len(creates) == 1 + 1 + 1500
        assert {row.object_id for row in creates} == {
            str(i) for i in db.session.scalars(select(Target.id))
        }
        imported = next(row for row in creates if row.object_id != str(form_id))
        by_form_row = next(row for row in creates if row.object_id == str(form_id))
        assert set(json.loads(imported.changes)) - {"items"} == set(json.loads(by_form_row.changes))
        last = db.session.scalars(
            select(AuditLog).where(AuditLog.action == "create").order_by(AuditLog.seq.desc())
        ).first()
        changes = json.loads(last.changes)
        target = db.session.get(Target, int(last.object_id))
        assert changes["name"] == [None, target.name]
        assert changes["uscc"] == [None, target.uscc]
        assert changes["items"][1] == ["SJ-001 取水许可检查SJ-001"]
        update = db.session.scalars(
            select(AuditLog).where(AuditLog.action == "update", AuditLog.object_type == "target")
        ).one()
        changed = json.loads(update.changes)
        assert changed["name"] == ["东胜水务有限公司1", "东胜水务集团有限公司"]
        assert changed["items"] == [
            [],
            ["SJ-001 取水许可检查SJ-001", "SJ-B01 取水许可检查SJ-B01"],
        ]
        with db.engine.connect() as connection:
            assert verify(connection).ok
    verified = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert verified.exit_code == 0, verified.output
    first = next(t for t in stored_targets(app) if t.uscc == uscc(1))
    assert first.name == "东胜水务集团有限公司"
    assert sorted(i.code for i in first.items) == ["SJ-001", "SJ-B01"]


def test_an_xlsx_file_is_parsed_once(app, base, monkeypatch):
    import openpyxl

    calls = []
    original = openpyxl.load_workbook

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(openpyxl, "load_workbook", counting)
    data = xlsx_bytes(TARGET_HEADER, [target_row(n) for n in range(1, 1201)])
    result = run_import(app, "targets", data, filename="a.xlsx")
    assert result.ok, result.errors[:3]
    assert result.created == 1200
    assert len(calls) == 1


def test_progress_is_reported_in_each_pass(app, base):
    calls = []
    data = csv_bytes(TARGET_HEADER, [target_row(n) for n in range(1, 2501)])
    with app.app_context(), acting_as_system():
        result = import_file(
            "targets", io.BytesIO(data), "a.csv", progress=lambda *c: calls.append(c)
        )
        assert result.ok
        db.session.rollback()
    checking = [checked for checked, written in calls if written == 0]
    writing = [written for checked, written in calls if written]
    assert checking[0] <= 1000 and checking[-1] == 2500
    assert all(b - a <= 1000 for a, b in zip(checking, checking[1:], strict=False))
    assert writing[0] <= 1000 and all(
        b - a <= 1000 for a, b in zip(writing, writing[1:], strict=False)
    )
    assert calls[-1] == (2500, 2500)


def test_a_bad_file_reports_progress_of_the_check_only(app, base):
    calls = []
    rows = [target_row(n) for n in range(1, 1500)] + [target_row(1)]
    with app.app_context(), acting_as_system():
        result = import_file(
            "targets",
            io.BytesIO(csv_bytes(TARGET_HEADER, rows)),
            "a.csv",
            progress=lambda *c: calls.append(c),
        )
        db.session.rollback()
    assert errors_of(result) == [(1501, "统一社会信用代码")]
    assert calls[-1] == (1500, 0)
    assert count(app, Target) == 0


def test_an_operator_cannot_link_an_item_of_another_department(app, base):
    # An item outside the scope is unknown to an import, as it is on every page.
    rows = [target_row(1, 适用事项="SJ-B01")]
    result = run_import(app, "targets", csv_bytes(TARGET_HEADER, rows), user="operator_a")
    assert errors_of(result) == [(2, "适用事项")]
    assert "SJ-B01" in result.errors[0].reason
    assert count(app, Target) == 0


# --- 100,000 rows ---------------------------------------------------------------------------

BIG = 100_000


@pytest.mark.slow
def test_100000_targets_import_in_one_go(app, base, tmp_path):
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(TARGET_HEADER)
        for n in range(1, BIG + 1):
            writer.writerow(target_row(n, 所属区域="交通街道" if n % 2 else "铜川镇"))
    trace = bool(os.environ.get("IMPORT_TRACEMALLOC"))
    if trace:
        import tracemalloc

        tracemalloc.start()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    with app.app_context(), acting_as_system(), path.open("rb") as stream:
        result = import_file("targets", stream, path.name)
        assert result.ok, result.errors[:5]
        db.session.commit()
        dialect = db.engine.dialect.name
    elapsed = time.perf_counter() - started
    rss_growth_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    report = f"100k targets: {elapsed:.1f} s, peak RSS growth {rss_growth_mb:.0f} MB"
    if trace:
        report += f", tracemalloc peak {tracemalloc.get_traced_memory()[1] / 2**20:.0f} MB"
        tracemalloc.stop()
    print(f"\n{report} ({path.stat().st_size / 2**20:.1f} MB file, {dialect})")
    assert (result.rows, result.created) == (BIG, BIG)
    assert count(app, Target) == BIG
    assert rss_growth_mb < 500


def test_an_unknown_template_is_not_found(app, base, login_as):
    client = login_as("operator_a")
    assert client.get(f"{URL}template/people.csv").status_code == 404
    assert client.get(f"{URL}template/targets.pdf").status_code == 404


def test_control_characters_in_a_cell_are_an_error_of_that_cell(app, base):
    # A NUL cannot even be stored on PostgreSQL (the import failed as a whole with a 500).
    rows = [target_row(1), target_row(2, 名称="东胜\x00水务"), target_row(3, 法定代表人="张\x07三")]
    result = run_import(app, "targets", csv_bytes(TARGET_HEADER, rows))
    assert not result.ok
    assert errors_of(result) == [(3, "名称"), (4, "法定代表人")]
    assert "控制字符" in result.errors[0].reason
    assert count(app, Target) == 0
