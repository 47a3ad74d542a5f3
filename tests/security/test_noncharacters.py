"""Unicode noncharacters (U+FFFE, U+FFFF, U+FDD0–U+FDEF, the end of every plane) and lone
surrogates are refused where control characters are, with a Chinese message and nothing
written; a row saved before that never breaks an XLSX export (second probe of issue 17)."""

import datetime as dt
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, update

from app.core.text import has_control_characters, xml_safe
from app.core.xlsxfile import write_xlsx
from app.directory.models import Inspector
from app.extensions import db
from app.planning.models import AnnualPlan, PlanLine
from tests.conftest import csrf_token_from
from tests.directory.conftest import acting, directory  # noqa: F401  (fixture)
from tests.planning.conftest import plan  # noqa: F401  (fixture)


def _bearer(api_token, user):
    return {"Authorization": f"Bearer {api_token(user)}"}


def _inspector(world, **kw):
    values = dict(
        name="新来的检查员",
        department=world.dept_a,
        certificate_no="C-NONCHAR-1",
        certificate_expiry=(dt.date.today() + dt.timedelta(days=300)).isoformat(),
        status="在岗",
    )
    values.update(kw)
    return values


def _inspectors(app):
    with app.app_context():
        return db.session.scalar(select(func.count(Inspector.id)))


def _chinese(text):
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


@pytest.mark.parametrize(
    "bad", ["\ufffe", "\uffff", "\ufdd0", "\ufdef", "\U0001fffe", "\U0010ffff", "\ud800", "\udfff"]
)
def test_the_text_check_refuses_noncharacters_and_lone_surrogates(bad):
    assert has_control_characters(f"计划{bad}测试")
    assert xml_safe(f"计划{bad}测试") in ("计划测试", f"计划{bad}测试")


def test_ordinary_text_passes_the_check():
    for text in ("计划测试", "emoji 😀", "换行\n制表\t", "\ufdcf\ufff0\ufffd"):
        assert not has_control_characters(text)


@pytest.mark.parametrize("bad", ["\udfff", "\ud83d", "\uffff", "\ufffe", "\ufdd0"])
def test_the_rest_api_refuses_them_in_chinese_and_writes_nothing(
    app, client, world, api_token, bad
):
    headers = _bearer(api_token, "operator_a")
    before = _inspectors(app)
    response = client.post("/api/v1/inspector/", json=_inspector(world, name=bad), headers=headers)
    assert response.status_code == 400, response.data
    assert _chinese(response.get_json()["message"])
    # In a key, or nested, too.
    response = client.post(
        "/api/v1/inspector/", json={**_inspector(world), bad: ["x", {"y": bad}]}, headers=headers
    )
    assert response.status_code == 400 and _chinese(response.get_json()["message"])
    assert _inspectors(app) == before


def test_the_task_api_refuses_a_lone_surrogate(app, client, world, api_token):
    response = client.post(
        "/api/v1/task/",
        json={"name": "\udfff", "plan": 1},
        headers=_bearer(api_token, "operator_a"),
    )
    assert response.status_code == 400 and _chinese(response.get_json()["message"])


def test_a_page_form_refuses_a_noncharacter(app, world, login_as):
    operator = login_as("operator_a")
    before = _inspectors(app)
    response = operator.post(
        "/inspectors/add",
        data={
            "csrf_token": csrf_token_from(operator, "/inspectors/add"),
            "name": "王\uffff建国",
            "department": str(world.dept_a),
            "certificate_no": "C-NONCHAR-2",
            "certificate_expiry": (dt.date.today() + dt.timedelta(days=300)).isoformat(),
            "status": "在岗",
        },
    )
    assert response.status_code == 200
    assert "控制字符" in response.get_data(as_text=True)
    assert _inspectors(app) == before


def test_the_xlsx_writer_drops_what_xml_cannot_hold():
    target = io.BytesIO()
    write_xlsx(
        target,
        "计划\uffff表",
        ["计划\ufffe名称", "编码"],
        [["计划\uffff\ufffe测试", "=SUM(1+1)\uffff"], ["\ud800半个\x01", None]],
        text_columns=[1],
    )
    sheet = load_workbook(io.BytesIO(target.getvalue())).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0] == ["计划名称", "编码"]
    assert rows[1] == ["计划测试", "=SUM(1+1)"]
    formula_like = sheet.cell(row=2, column=2)
    assert formula_like.data_type == "s" and formula_like.quotePrefix  # text, not a formula
    assert rows[2] == ["半个", None]


def test_an_old_plan_with_noncharacters_does_not_break_the_public_export(app, client, plan):  # noqa: F811
    # Saved before such characters were refused: written straight to the table.
    with acting(app, "operator_a"):
        db.session.execute(
            update(AnnualPlan)
            .where(AnnualPlan.id == plan)
            .values(title="计划\uffff\ufffe测试", status="published", has_published_version=True)
        )
        db.session.execute(
            update(PlanLine).where(PlanLine.plan_id == plan).values(name="=SUM(1+1)\uffff")
        )
        db.session.commit()
    response = client.get("/public/plans?format=xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    cells = {c.value for row in sheet.iter_rows(min_row=2) for c in row}
    assert "计划测试" in cells
    assert not any(isinstance(c, str) and has_control_characters(c) for c in cells)
