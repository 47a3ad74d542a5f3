"""双公示 行政处罚 (issue 19, part 2): a penalty's fields of 信用中国's standard, their rules and
defaults, the department's unified social credit code, and the export in the standard's layout
(`flask export penalties`, the download on the penalty list): headers, a legal person's and a
natural person's row, scope, audit, XLSX, formula neutralising; no public page shows a
natural person's ID number."""

import csv
import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
from sqlalchemy import select

from app.core.audit.models import AuditLog
from app.core.errors import DomainError
from app.core.masking import mask_id_number
from app.disclosure.cli import export_command
from app.extensions import db
from app.inspections import penalty_export, penalty_rules, services
from app.inspections.models import InspectionRecord, Penalty
from app.security.models import Department
from app.security.services import check_department
from tests.conftest import csrf_token_from
from tests.directory.conftest import acting, citizen_id, uscc
from tests.inspections.conftest import enter_all, finish

EXPECTED_HEADERS = [
    "行政相对人名称",
    "行政相对人类别",
    "统一社会信用代码",
    "法定代表人",
    "证件类型",
    "证件号码",
    "行政处罚决定书文号",
    "违法行为类型",
    "违法事实",
    "处罚依据",
    "处罚类别",
    "处罚内容",
    "罚款金额（万元）",
    "没收违法所得、没收非法财物的金额（万元）",
    "暂扣或吊销证照名称及编号",
    "处罚决定日期",
    "处罚有效期",
    "公示截止期",
    "处罚机关",
    "处罚机关统一社会信用代码",
    "数据来源单位",
    "数据来源单位统一社会信用代码",
    "备注",
]
BUREAU_USCC = uscc(900, "11")
PERSON_ID = citizen_id(77)
DAY = dt.date.today() - dt.timedelta(days=3)


def _fields(**overrides):
    values = {
        "violation_type": "未按规定安装取水计量设施",
        "violation_facts": "自备井未安装取水计量设施，取水量无法计量",
        "legal_basis": "《取水许可和水资源费征收管理条例》第五十三条",
        "kinds": ["警告", "罚款"],
        "fine_amount": "2.5",
    }
    values.update(overrides)
    return values


def _entered_for_penalties(app, inspected) -> list[int]:
    """Every record of the task entered with problems and 立案查处."""
    return enter_all(
        app,
        inspected,
        problems="未安装取水计量设施",
        result_code="发现问题待后续处理",
        result_detail="违反水资源管理规定",
        follow_up="立案查处",
    )


@pytest.fixture
def penalised(app, world, inspected):
    """Both records of the task entered with 立案查处; the bureau has its USCC; the second
    record's target is a natural person. Returns (legal person's record, person's record)."""
    ids = _entered_for_penalties(app, inspected)
    with acting(app, "admin"):
        db.session.get(Department, world.bureau).uscc = BUREAU_USCC
        person = db.session.get(InspectionRecord, ids[1]).target
        person.target_type, person.name = "自然人", "欧阳建华"
        person.uscc, person.id_number, person.legal_representative = None, PERSON_ID, None
        company = db.session.get(InspectionRecord, ids[0]).target
        company.legal_representative = "刘强"
        db.session.commit()
    return ids


def _penalise(app, record_id, number, **fields):
    with acting(app, "operator_a"):
        record = db.session.get(InspectionRecord, record_id)
        penalty = services.add_penalty(
            record, number, DAY, "罚款人民币二万五千元", **_fields(**fields)
        )
        db.session.commit()
        return penalty.id


def _rest_body(number, **fields):
    """The JSON of POST /api/v1/record/<id>/penalty."""
    return {
        "decision_number": number,
        "decision_date": DAY.isoformat(),
        "content": "罚款人民币二万五千元",
        **_fields(**fields),
    }


def _csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


# --- rules and defaults ---------------------------------------------------------------------


def test_defaults_from_the_target_and_the_department(app, penalised):
    penalty_id = _penalise(app, penalised[0], "东水罚〔2027〕1号", kinds=["警告"], fine_amount="")
    with app.app_context():
        p = db.session.get(Penalty, penalty_id)
        assert p.party_category == "法人及非法人组织"
        assert p.valid_until == dt.date(2099, 12, 31)
        # 警告 only: public for 3 months.
        assert p.publicity_until.month == (DAY.month + 2) % 12 + 1
        # The section's penalties are the bureau's (the department that acts in law for it).
        assert (p.authority, p.authority_uscc) == ("东胜区水利局", BUREAU_USCC)
        assert (p.source_unit, p.source_uscc) == ("东胜区水利局", BUREAU_USCC)
    penalty_id = _penalise(app, penalised[1], "东水罚〔2027〕2号")
    with app.app_context():
        p = db.session.get(Penalty, penalty_id)
        assert p.party_category == "自然人"
        assert p.kinds == "警告、罚款" and p.fine_amount == Decimal("2.5")
        # A fine: public for a year.
        assert p.publicity_until == DAY.replace(year=DAY.year + 1)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"kinds": ["罚款"], "fine_amount": ""}, "罚款金额"),
        ({"kinds": ["没收违法所得"], "fine_amount": ""}, "没收"),
        ({"kinds": ["吊销许可证件"], "fine_amount": ""}, "证照"),
        ({"kinds": []}, "处罚类别"),
        ({"kinds": ["罚金"]}, "罚金"),
        ({"violation_facts": " "}, "违法事实"),
        ({"legal_basis": ""}, "处罚依据"),
        ({"fine_amount": "abc"}, "万元"),
        ({"fine_amount": "-1"}, "不能为负数"),
        ({"fine_amount": "0.1234567"}, "6 位小数"),
        ({"valid_until": (DAY - dt.timedelta(days=1)).isoformat()}, "处罚有效期"),
        ({"publicity_until": (DAY - dt.timedelta(days=1)).isoformat()}, "公示截止期"),
        ({"authority_uscc": "91150602MA0T00001X"}, "校验码"),
        ({"party_category": "企业"}, "行政相对人类别"),
        # A company is not a natural person (its type gives its category).
        ({"party_category": "自然人"}, "行政相对人类别应为法人及非法人组织"),
        ({"party_category": "个体工商户"}, "行政相对人类别应为法人及非法人组织"),
        # Bounds (probe findings): a fine of 0, long texts, dates past the standard's.
        ({"kinds": ["罚款"], "fine_amount": "0"}, "应大于 0"),
        ({"kinds": ["警告", "罚款"], "fine_amount": "0.000000"}, "应大于 0"),
        ({"violation_facts": "无" * 2001}, "违法事实最多 2000 个字符"),
        ({"legal_basis": "条" * 2001}, "最多 2000 个字符"),
        ({"note": "注" * 2001}, "最多 2000 个字符"),
        ({"violation_type": "类" * 201}, "最多 200 个字符"),
        ({"valid_until": "2100-01-01"}, "不能晚于 2099-12-31"),
        ({"publicity_until": "9999-12-31"}, "不能晚于 2099-12-31"),
    ],
)
def test_refusals_in_chinese_write_nothing(app, penalised, overrides, message):
    with acting(app, "operator_a"):
        record = db.session.get(InspectionRecord, penalised[0])
        with pytest.raises(DomainError) as refused:
            services.add_penalty(record, "东水罚〔2027〕9号", DAY, "罚款", **_fields(**overrides))
        db.session.rollback()
        assert message in str(refused.value)
        assert db.session.scalar(select(Penalty.id)) is None


@pytest.mark.parametrize(
    ("number", "day", "content", "message"),
    [
        ("东水罚〔2027〕9号", dt.date(1, 1, 1), "罚款", "不能早于 2000-01-01"),
        ("东水罚〔2027〕9号", dt.date(1999, 12, 31), "罚款", "不能早于 2000-01-01"),
        ("东水罚〔2027〕9号", dt.date.today() + dt.timedelta(days=1), "罚款", "晚于今天"),
        ("东水罚〔2027〕9号", DAY, "罚" * 100_000, "处罚内容最多 2000 个字符"),
        ("文" * 61, DAY, "罚款", "最多 60 个字符"),
    ],
)
def test_dates_and_lengths_are_bounded(app, penalised, number, day, content, message):
    with acting(app, "operator_a"):
        record = db.session.get(InspectionRecord, penalised[0])
        with pytest.raises(DomainError) as refused:
            services.add_penalty(record, number, day, content, **_fields())
        db.session.rollback()
        assert message in str(refused.value)
        assert db.session.scalar(select(Penalty.id)) is None
    # The bounds themselves are accepted.
    with acting(app, "operator_a"):
        record = db.session.get(InspectionRecord, penalised[0])
        services.add_penalty(
            record,
            "文" * 60,
            dt.date(2000, 1, 1),
            "罚" * 2000,
            **_fields(violation_facts="无" * 2000, valid_until="2099-12-31"),
        )
        db.session.commit()


def test_a_persons_category_follows_the_type(app, penalised, login_as):
    """A natural person is 自然人 only; correcting it by PUT is refused as on recording."""
    penalty_id = _penalise(app, penalised[1], "东水罚〔2027〕3号")
    operator = login_as("operator_a")
    response = operator.put(
        f"/api/v1/penalty/{penalty_id}", json={"party_category": "法人及非法人组织"}
    )
    assert response.status_code == 422
    assert "行政相对人类别应为自然人" in response.get_json()["message"]
    with app.app_context():
        assert db.session.get(Penalty, penalty_id).party_category == "自然人"


def test_a_decision_number_is_used_once_by_an_authority(app, world, penalised, login_as):
    """Probe finding: 东水罚〔2026〕99号 was accepted four times. The service, the REST POST and
    PUT, and the record page's form all refuse a number the same 处罚机关 already used, naming
    the penalty that has it; another authority may use it."""
    first = _penalise(app, penalised[0], "东水罚〔2026〕99号")
    with acting(app, "operator_a"):
        record = db.session.get(InspectionRecord, penalised[1])
        with pytest.raises(DomainError) as refused:
            services.add_penalty(record, " 东水罚〔2026〕99号 ", DAY, "罚款", **_fields())
        db.session.rollback()
        assert f"东胜区水利局的行政处罚决定书文号 东水罚〔2026〕99号 已用于处罚 #{first}" in str(
            refused.value
        )
    operator = login_as("operator_a")
    body = _rest_body("东水罚〔2026〕99号", kinds="警告、罚款")
    for _ in range(3):
        response = operator.post(f"/api/v1/record/{penalised[0]}/penalty", json=body)
        assert response.status_code == 422
        assert f"已用于处罚 #{first}" in response.get_json()["message"]
    # The record page's form.
    token = csrf_token_from(operator, f"/records/show/{penalised[1]}")
    page = operator.post(
        f"/record-workflow/{penalised[1]}/penalty",
        data={
            "csrf_token": token,
            "number": "东水罚〔2026〕99号",
            "date": DAY.isoformat(),
            "content": "罚款",
            "violation_facts": "无证取水",
            "legal_basis": "《水法》第六十九条",
            "kinds": ["警告"],
        },
        follow_redirects=True,
    ).get_data(as_text=True)
    assert f"已用于处罚 #{first}" in page
    with app.app_context():
        numbers = db.session.scalars(select(Penalty.decision_number)).all()
        assert numbers == ["东水罚〔2026〕99号"]
    # PUT of another penalty onto the number; its own number stays its own.
    second = _penalise(app, penalised[1], "东水罚〔2026〕100号")
    response = operator.put(
        f"/api/v1/penalty/{second}", json={"decision_number": "东水罚〔2026〕99号"}
    )
    assert response.status_code == 422 and f"#{first}" in response.get_json()["message"]
    response = operator.put(f"/api/v1/penalty/{first}", json={"note": "已缴纳"})
    assert response.status_code == 200
    # A number recorded twice before this rule: the penalty is still edited without changing it.
    with acting(app, "operator_a"):
        db.session.get(Penalty, second).decision_number = "东水罚〔2026〕99号"
        db.session.commit()
    response = operator.put(f"/api/v1/penalty/{second}", json={"note": "重号待更正"})
    assert response.status_code == 200, response.get_json()
    # Another 处罚机关 has its own numbers.
    other = _penalise(app, penalised[1], "东水罚〔2026〕99号", authority="某市水务局")
    with app.app_context():
        assert db.session.get(Penalty, other).authority == "某市水务局"


def test_rest_post_refuses_unknown_fields_and_bad_json(app, penalised, login_as):
    operator = login_as("operator_a")
    url = f"/api/v1/record/{penalised[0]}/penalty"
    body = _rest_body("东水罚〔2027〕7号", kinds="罚款")
    response = operator.post(url, json={**body, "amount": "2", "fine": 1})
    assert response.status_code == 400
    assert response.get_json()["message"] == {"amount": ["未知字段。"], "fine": ["未知字段。"]}
    response = operator.post(url, data='{"decision_number": ', content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["message"] == "请求体不是 JSON。"
    # As PUT says it.
    put = operator.put("/api/v1/penalty/1", json={"amount": "2"})
    assert put.status_code in (400, 404)
    with app.app_context():
        assert db.session.scalar(select(Penalty.id)) is None
    # No body at all is still an empty one (the required fields are named).
    response = operator.post(url)
    assert response.status_code == 422 and "决定书文号" in response.get_json()["message"]


def test_penalty_info_shows_no_program_text(app, world, login_as):
    info = login_as("operator_a").get("/api/v1/penalty/_info")
    assert info.status_code == 200
    text = info.get_data(as_text=True)
    assert "<Length(" not in text and "error=None" not in text
    fields = {f["name"]: f for f in info.get_json()["edit_columns"]}
    assert fields["decision_number"]["validate"] == ["最多 60 个字符。"]


def test_amounts_are_parsed_strictly():
    label = "罚款金额（万元）"
    assert penalty_rules.parse_amount("0.000001", label) == Decimal("0.000001")
    assert penalty_rules.parse_amount("3.500000000", label) == Decimal("3.5")
    assert penalty_rules.parse_amount(2, label) == Decimal(2)
    assert penalty_rules.parse_amount("", label) is None
    for bad in ("1,5", "1e3", "一万", "--1", True):
        with pytest.raises(DomainError):
            penalty_rules.parse_amount(bad, label)


def test_the_department_uscc_is_checked(app, world, login_as):
    with acting(app, "admin"):
        department = db.session.get(Department, world.dept_a1)
        department.uscc = "12150602MA0T00001" + "0"
        with pytest.raises(DomainError) as refused:
            check_department(department)
        assert "校验码" in str(refused.value)
        department.uscc = " " + uscc(3, "12").lower() + " "
        check_department(department)
        assert department.uscc == uscc(3, "12")
        db.session.rollback()
    admin = login_as("admin")
    response = admin.put(f"/api/v1/department/{world.dept_a1}", json={"uscc": "123"})
    assert response.status_code == 422 and "18" in response.get_json()["message"]
    response = admin.put(f"/api/v1/department/{world.dept_a1}", json={"uscc": uscc(4, "12")})
    assert response.status_code == 200
    assert admin.get(f"/api/v1/department/{world.dept_a1}").get_json()["result"]["uscc"] == uscc(
        4, "12"
    )


# --- the export -----------------------------------------------------------------------------


def test_cli_export_headers_rows_and_warnings(app, world, penalised, tmp_path):
    _penalise(app, penalised[0], "东水罚〔2027〕1号", note='=HYPERLINK("http://x")')
    _penalise(app, penalised[1], "东水罚〔2027〕2号", kinds=["警告"], fine_amount="")
    # A row from before the standard's fields (the migration left them empty).
    old_id = _penalise(app, penalised[0], "东水罚〔2026〕8号")
    with acting(app, "operator_a"):
        old = db.session.get(Penalty, old_id)
        old.violation_facts = old.legal_basis = old.authority_uscc = None
        db.session.commit()
    assert penalty_export.HEADERS == EXPECTED_HEADERS
    runner = app.test_cli_runner()
    out = tmp_path / "penalties.csv"
    result = runner.invoke(export_command, ["penalties", "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = _csv_rows(out.read_bytes())
    assert rows[0] == EXPECTED_HEADERS and len(rows) == 4
    by_number = {row[6]: dict(zip(EXPECTED_HEADERS, row, strict=True)) for row in rows[1:]}
    company = by_number["东水罚〔2027〕1号"]
    assert company["行政相对人类别"] == "法人及非法人组织"
    assert company["统一社会信用代码"] and company["法定代表人"] == "刘强"
    assert company["证件类型"] == company["证件号码"] == ""
    assert company["处罚类别"] == "警告、罚款" and company["罚款金额（万元）"] == "2.5"
    assert company["处罚有效期"] == "2099-12-31"
    assert company["处罚机关统一社会信用代码"] == BUREAU_USCC
    assert company["备注"] == '\'=HYPERLINK("http://x")'  # neutralised
    person = by_number["东水罚〔2027〕2号"]
    assert person["行政相对人名称"] == "欧阳建华" and person["行政相对人类别"] == "自然人"
    # The staff file holds the ID number unmasked (the platform needs it).
    assert (person["证件类型"], person["证件号码"]) == ("身份证", PERSON_ID)
    assert person["统一社会信用代码"] == person["法定代表人"] == ""
    # The old row is written; the warning names its row and missing fields.
    assert "东水罚〔2026〕8号" in by_number
    assert "缺少：违法事实、处罚依据、处罚机关统一社会信用代码" in result.stderr
    assert "东水罚〔2027〕1号" not in result.stderr
    with app.app_context():
        logged = db.session.scalars(
            select(AuditLog).where(AuditLog.action == "export", AuditLog.object_type == "penalty")
        ).all()
        assert len(logged) == 1

    out = tmp_path / "penalties.xlsx"
    result = runner.invoke(
        export_command, ["penalties", "--format", "xlsx", "-o", str(out), "--department", "A"]
    )
    assert result.exit_code == 0, result.output
    sheet = openpyxl.load_workbook(out).active
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == EXPECTED_HEADERS and len(values) == 4
    note = next(row for row in sheet.iter_rows(min_row=2) if row[22].value)[22]
    assert note.value == '=HYPERLINK("http://x")' and note.data_type == "s"
    assert note.quotePrefix
    assert PERSON_ID in {row[5] for row in values}

    # Department B has none; dates filter on the decision date.
    result = runner.invoke(export_command, ["penalties", "--department", "B"])
    assert result.exit_code == 0 and len(_csv_rows(result.stdout_bytes)) == 1
    later = (DAY + dt.timedelta(days=1)).isoformat()
    result = runner.invoke(export_command, ["penalties", "--from", later])
    assert result.exit_code == 0 and len(_csv_rows(result.stdout_bytes)) == 1


def test_cli_exit_codes(app, world):
    runner = app.test_cli_runner()
    assert runner.invoke(export_command, ["penalties"]).exit_code == 0
    result = runner.invoke(export_command, ["penalties", "--department", "无此部门"])
    assert result.exit_code == 1 and "无此部门" in result.stderr
    assert runner.invoke(export_command, ["penalties", "--format", "pdf"]).exit_code == 2
    assert runner.invoke(export_command, ["penalties", "--from", "2027-13-01"]).exit_code == 2
    result = runner.invoke(
        export_command, ["penalties", "--from", "2027-02-01", "--to", "2027-01-01"]
    )
    assert result.exit_code == 2 and "--from 晚于 --to" in result.output
    assert runner.invoke(export_command, ["results", "--format", "xlsx"]).exit_code == 2


def test_page_download_is_scoped_audited_and_refused_to_inspectors(app, world, penalised, login_as):
    _penalise(app, penalised[0], "东水罚〔2027〕1号")
    operator = login_as("operator_a")
    page = operator.get("/penalties/list/").get_data(as_text=True)
    assert "东水罚〔2027〕1号" in page and "/penalties/export" in page
    response = operator.get("/penalties/export?format=csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = _csv_rows(response.get_data())
    assert rows[0] == EXPECTED_HEADERS and rows[1][6] == "东水罚〔2027〕1号"
    response = operator.get("/penalties/export?format=xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data())).active
    assert [c.value for c in next(sheet.iter_rows(max_row=1))] == EXPECTED_HEADERS
    # Another department's operator: the file has the header only, the REST list nothing.
    other = login_as("operator_b")
    assert len(_csv_rows(other.get("/penalties/export?format=csv").get_data())) == 1
    assert other.get("/api/v1/penalty/").get_json()["count"] == 0
    assert operator.get("/api/v1/penalty/").get_json()["count"] == 1
    # A bad format or date is refused in Chinese, nothing downloaded.
    response = operator.get("/penalties/export?format=pdf", follow_redirects=True)
    assert "不支持的格式" in response.get_data(as_text=True)
    # A start after the end is refused, not answered with an empty file.
    response = operator.get("/penalties/export?from=2027-02-01&to=2027-01-01")
    assert response.status_code == 302
    page = operator.get(response.headers["Location"]).get_data(as_text=True)
    assert "起始日期晚于截止日期" in page
    # Inspectors do not export (nor read) penalties.
    assert login_as("inspector_a").get("/penalties/export").status_code in (302, 403)
    with app.app_context():
        logged = db.session.scalars(
            select(AuditLog).where(AuditLog.action == "export", AuditLog.object_type == "penalty")
        ).all()
        assert len(logged) == 3  # csv and xlsx of operator_a, csv of operator_b


def test_rest_records_and_corrects_penalties(app, world, penalised, login_as):
    operator = login_as("operator_a")
    url = f"/api/v1/record/{penalised[0]}/penalty"
    body = {
        "decision_number": "东水罚〔2027〕5号",
        "decision_date": DAY.isoformat(),
        "content": "没收违法所得",
        "violation_facts": "无证取水",
        "legal_basis": "《水法》第六十九条",
        "kinds": "没收违法所得",
    }
    response = operator.post(url, json=body)
    assert response.status_code == 422 and "没收" in response.get_json()["message"]
    response = operator.post(url, json={**body, "confiscation_amount": "0.8"})
    assert response.status_code == 200, response.get_json()
    penalty_id = db_penalty_id(app, "东水罚〔2027〕5号")
    result = operator.get(f"/api/v1/penalty/{penalty_id}").get_json()["result"]
    assert result["confiscation_amount"] in ("0.8", 0.8, "0.800000")
    response = operator.put(f"/api/v1/penalty/{penalty_id}", json={"confiscation_amount": -2})
    assert response.status_code == 422 and "负数" in response.get_json()["message"]
    response = operator.put(f"/api/v1/penalty/{penalty_id}", json={"note": "已缴纳"})
    assert response.status_code == 200
    # The edit page refuses as the service does.
    assert operator.get(f"/penalties/edit/{penalty_id}").status_code == 200
    assert login_as("operator_b").get(f"/api/v1/penalty/{penalty_id}").status_code == 404


def test_the_edit_form_refuses_in_chinese_and_saves_nothing(app, world, penalised, login_as):
    penalty_id = _penalise(app, penalised[0], "东水罚〔2027〕6号")
    operator = login_as("operator_a")
    url = f"/penalties/edit/{penalty_id}"
    form = {
        "csrf_token": csrf_token_from(operator, url),
        "decision_number": "东水罚〔2027〕6号",
        "decision_date": DAY.isoformat(),
        "party_category": "法人及非法人组织",
        "violation_type": "未按规定安装取水计量设施",
        "violation_facts": "未安装取水计量设施",
        "legal_basis": "《取水许可和水资源费征收管理条例》第五十三条",
        "kinds": ["警告", "罚款"],
        "content": "罚款",
        "fine_amount": "abc",
        "valid_until": "2099-12-31",
        "publicity_until": (DAY + dt.timedelta(days=365)).isoformat(),
        "authority": "东胜区水利局",
        "source_unit": "东胜区水利局",
    }
    page = operator.post(url, data=form).get_data(as_text=True)
    assert "罚款金额（万元）应为以万元计的数字" in page
    with app.app_context():
        assert db.session.get(Penalty, penalty_id).fine_amount == Decimal("2.5")
    response = operator.post(url, data={**form, "fine_amount": "3.25", "kinds": ["罚款"]})
    assert response.status_code == 302
    with app.app_context():
        saved = db.session.get(Penalty, penalty_id)
        assert saved.fine_amount == Decimal("3.25") and saved.kinds == "罚款"


def db_penalty_id(app, number):
    with app.app_context():
        return db.session.scalar(select(Penalty.id).where(Penalty.decision_number == number))


# --- masking --------------------------------------------------------------------------------


def test_no_page_shows_a_natural_persons_id_number(app, world, inspected, login_as):
    """The person's penalty and its blacklist listing: the public pages show the name masked
    and never the ID number; the staff penalty page masks the ID number too."""
    ids = _entered_for_penalties(app, inspected)
    with acting(app, "admin"):
        person = db.session.get(InspectionRecord, ids[1]).target
        person.target_type, person.name = "自然人", "欧阳建华"
        person.uscc, person.id_number = None, PERSON_ID
        db.session.commit()
        target_id = person.id
    # The records were entered before the change: enter the person's record again.
    with acting(app, "operator_a"):
        record = db.session.get(InspectionRecord, ids[1])
        record.target_name, record.target_type, record.target_code = "欧阳建华", "自然人", None
        db.session.commit()
    penalty_id = _penalise(app, ids[1], "东水罚〔2027〕3号")
    finish(app, inspected)
    anonymous = app.test_client()
    pages = [
        anonymous.get("/public/results").get_data(as_text=True),
        anonymous.get("/public/results?format=csv").get_data().decode("utf-8-sig"),
        anonymous.get(f"/public/credit/{target_id}").get_data(as_text=True),
        anonymous.get("/public/blacklist").get_data(as_text=True),
    ]
    assert any("欧阳**" in page for page in pages)
    for page in pages:
        assert PERSON_ID not in page and "欧阳建华" not in page
    staff = login_as("operator_a").get(f"/penalties/show/{penalty_id}").get_data(as_text=True)
    assert "欧阳建华" in staff and PERSON_ID not in staff
    assert mask_id_number(PERSON_ID) in staff


def test_the_formats_doc_describes_the_layout():
    """docs/exports.md's table is the layout's definition, column by column."""
    from pathlib import Path

    doc = (Path(__file__).parents[2] / "docs" / "exports.md").read_text(encoding="utf-8")
    for column in penalty_export.LAYOUT:
        assert f"| {column.header} | {column.meaning} | {column.required} |" in doc


def test_migration_0020_down_and_up_fills_what_it_can(app, world, penalised):
    """Down to 0021 (the revision before) and up again (batch mode on SQLite): a penalty of before gets its party's
    category from the target's type and the bureau as 处罚机关 / 数据来源单位; the rest stays empty."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import inspect as sa_inspect

    person_penalty = _penalise(app, penalised[1], "东水罚〔2027〕7号")
    with app.app_context():
        db.session.remove()
        try:
            downgrade(revision="0021_import_mappings")
            columns = {c["name"] for c in sa_inspect(db.engine).get_columns("penalty")}
            assert "party_category" not in columns and "kinds" not in columns
            assert "uscc" not in {
                c["name"] for c in sa_inspect(db.engine).get_columns("department")
            }
        finally:
            upgrade()
        p = db.session.get(Penalty, person_penalty)
        assert (p.party_category, p.authority, p.source_unit) == (
            "自然人",
            "东胜区水利局",
            "东胜区水利局",
        )
        assert p.kinds is None and p.violation_facts is None and p.authority_uscc is None
        assert p.decision_number == "东水罚〔2027〕7号"
        assert penalty_export.missing_fields(p)[:2] == ["违法行为类型", "违法事实"]
