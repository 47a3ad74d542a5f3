"""The plan filing's printable 备案表 (R9.2): an A4 print page and a DOCX beside the filing CSV,
issued by the bureau with the section as 承办科室, dates written the Chinese way, a seal area;
by scope and status; the CSV contract unchanged; downloads named by the plan's title."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from urllib.parse import unquote

import docx

from app.extensions import db
from app.planning.models import AnnualPlan
from tests.conftest import csrf_token_from
from tests.planning.test_plans import _through_publication


def _filename_star(response) -> str:
    header = response.headers["Content-Disposition"]
    assert header.isascii() and 'filename="' in header
    return unquote(header.split("filename*=UTF-8''", 1)[1])


def test_the_print_page_is_an_a4_filing_form_of_the_bureau(app, login_as, plan):
    operator = login_as("operator_a")
    # A draft has no filing form yet.
    draft = operator.get(f"/plan-workflow/{plan}/filing-form")
    assert draft.status_code == 302 and f"/plans/show/{plan}" in draft.headers["Location"]
    assert "计划发布后才有备案表" in operator.get(f"/plans/show/{plan}").get_data(as_text=True)
    _through_publication(app, plan, dt.date(2027, 2, 10))

    show = operator.get(f"/plans/show/{plan}").get_data(as_text=True)
    assert f"/plan-workflow/{plan}/filing-form" in show and "打印备案表" in show
    response = operator.get(f"/plan-workflow/{plan}/filing-form")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "@page { size: A4;" in page
    assert "<h1>2027年度随机抽查工作计划备案表</h1>" in page
    assert "<th>备案单位</th><td>东胜区水利局</td>" in page
    assert "<th>承办科室</th><td>水资源管理科</td>" in page
    assert "<th>发布日期</th><td>2027年2月10日</td>" in page
    assert "A-001 " in page  # the line's item
    assert 'class="seal-area"' in page and "盖章处" in page and "（印章）" not in page
    csv_file = operator.get(f"/plan-workflow/{plan}/filing")
    assert hashlib.sha256(csv_file.data).hexdigest() in page
    assert "None" not in page and "2027-02-10" not in page


def test_the_docx_has_the_title_and_fields(app, login_as, plan):
    _through_publication(app, plan, dt.date(2027, 2, 10))
    operator = login_as("operator_a")
    token = csrf_token_from(operator, f"/plans/show/{plan}")
    operator.post(f"/plan-workflow/{plan}/filing", data={"csrf_token": token, "confirm": "1"})
    with app.app_context():
        filed = db.session.get(AnnualPlan, plan)
        assert filed.status == "filed"
        sha, filed_on = filed.filing_sha256, filed.filed_on
    response = operator.get(f"/plan-workflow/{plan}/filing-form.docx")
    assert response.status_code == 200
    assert response.mimetype.endswith("wordprocessingml.document")
    assert _filename_star(response) == "水资源管理科2027年度抽查计划_备案表.docx"
    assert 'filename="plan-2027-A-filing-form.docx"' in response.headers["Content-Disposition"]
    document = docx.Document(io.BytesIO(response.data))
    texts = [p.text for p in document.paragraphs]
    assert texts[0] == "2027年度随机抽查工作计划备案表"
    fields, lines, receipt = document.tables
    by_label = {row.cells[0].text: row.cells[1].text for row in fields.rows}
    assert by_label["备案单位"] == "东胜区水利局"
    assert by_label["承办科室"] == "水资源管理科"
    assert by_label["计划名称"] == "水资源管理科2027年度抽查计划"
    assert by_label["计划年度"] == "2027" and by_label["发布日期"] == "2027年2月10日"
    assert by_label["计划版本"] == "原计划" and by_label["备案文件SHA-256"] == sha
    assert [c.text for c in lines.rows[0].cells][:2] == ["序号", "抽查事项"]
    assert len(lines.rows) == 2 and lines.rows[1].cells[0].text == "1"
    # The seal area carries the bureau and the filing date; the office's receipt the date.
    at = texts.index("盖章处")
    day = f"{filed_on.year}年{filed_on.month}月{filed_on.day}日"
    assert texts[at + 1 : at + 3] == ["东胜区水利局", day]
    assert day in receipt.rows[0].cells[0].text
    section = document.sections[0]
    assert (round(section.page_width.cm, 1), round(section.page_height.cm, 1)) == (21.0, 29.7)


def test_scope_and_the_csv_contract(app, login_as, plan):
    _through_publication(app, plan, dt.date(2027, 2, 10))
    assert login_as("operator_b").get(f"/plan-workflow/{plan}/filing-form").status_code == 404
    assert login_as("operator_b").get(f"/plan-workflow/{plan}/filing-form.docx").status_code == 404
    assert login_as("jointoffice").get(f"/plan-workflow/{plan}/filing-form").status_code == 200
    assert app.test_client().get(f"/plan-workflow/{plan}/filing-form").status_code == 302
    # The filing CSV itself is unchanged, only named by the plan's title now.
    csv_file = login_as("operator_a").get(f"/plan-workflow/{plan}/filing")
    assert csv_file.data.startswith("\ufeff序号,计划名称,年度,实施部门,".encode())
    assert _filename_star(csv_file) == "水资源管理科2027年度抽查计划_备案.csv"
