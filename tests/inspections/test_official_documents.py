"""公文 conventions on the documents a bureau prints, files or hands out (issue 17, finding 12):
the bureau issues them, the section is 承办科室; dates as 2026年12月1日; a seal area instead of
printed "（印章）"; downloads named by task number and title (RFC 5987 with an ASCII fallback);
the public pages name the bureau as 检查实施机关 / 列入机关. And the public XLSX as Excel users
expect it (finding 13)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from urllib.parse import unquote

import docx
from openpyxl import load_workbook
from sqlalchemy import select

from app.draws.models import Draw
from app.extensions import db
from app.inspections.models import InspectionSummary
from app.planning.models import SpotCheckTask
from tests.conftest import csrf_token_from
from tests.inspections.conftest import finish

ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def _names(response) -> tuple[str, str]:
    """(filename*, ASCII filename) of a download."""
    header = response.headers["Content-Disposition"]
    assert header.startswith("attachment; ") and header.isascii(), header
    plain = re.search(r'filename="([^"]+)"', header).group(1)
    return unquote(header.split("filename*=UTF-8''", 1)[1]), plain


def _chinese(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _task(app, inspected):
    with app.app_context():
        task = db.session.get(SpotCheckTask, inspected.task)
        summary_id = db.session.scalar(select(InspectionSummary.id))
        uids = db.session.scalars(select(Draw.uid).where(Draw.task_id == task.id)).all()
        return task.number, task.name, task.year, task.seq, summary_id, uids


def test_the_summary_report_is_issued_by_the_bureau_with_a_seal_area(app, inspected, login_as):
    finish(app, inspected)
    number, name, year, seq, summary_id, _uids = _task(app, inspected)
    leader = login_as("leader_a")
    inspected_on = _chinese(dt.date.today() - dt.timedelta(days=1))

    response = leader.get(f"/summary-workflow/{summary_id}/document.docx")
    assert response.status_code == 200
    assert _names(response) == (f"{number}_{name}_检查报告.docx", f"task-{year}-{seq:03d}-report.docx")
    document = docx.Document(io.BytesIO(response.data))
    texts = [p.text for p in document.paragraphs]
    assert texts[0] == "东胜区水利局"  # the masthead: the bureau, not 水资源管理科
    assert "承办科室：水资源管理科" in texts
    assert "（印章）" not in texts
    at = texts.index("盖章处")
    assert texts[at + 1] == "东胜区水利局" and texts[at + 2] == _chinese(dt.date.today())
    assert texts[texts.index("一、检查时间") + 1] == inspected_on
    [table] = document.tables
    assert {row.cells[2].text for row in table.rows[1:]} == {inspected_on}

    page = leader.get(f"/summary-workflow/{summary_id}/print").get_data(as_text=True)
    assert '<div class="issuer">东胜区水利局</div>' in page
    assert "承办科室：水资源管理科" in page
    assert 'class="seal-area"' in page and "盖章处" in page and "（印章）" not in page
    body = page[page.index("<body>") :]
    assert not ISO_DATE.search(body) and inspected_on in body


def test_downloads_are_named_by_task_number_and_title(app, inspected, login_as, client):
    finish(app, inspected)
    number, name, year, seq, _summary_id, uids = _task(app, inspected)
    operator = login_as("operator_a")
    with app.app_context():
        draws = {d.kind: d.id for d in db.session.scalars(select(Draw))}
    response = operator.get(f"/task-draw/draw/{draws['target']}/record.json")
    assert _names(response) == (
        f"{number}_{name}_检查对象抽取结果.json",
        f"task-{year}-{seq:03d}-target-draw.json",
    )
    response = operator.get(f"/task-draw/draw/{draws['inspector']}/record.json")
    assert _names(response)[0] == f"{number}_{name}_检查人员抽取结果.json"
    # The public record of a published draw alike; no id in any name.
    for uid in uids:
        public_name, plain = _names(client.get(f"/public/draws/{uid}.json"))
        assert public_name.startswith(f"{number}_{name}_") and uid not in public_name + plain
    # The archive bundle.
    token = csrf_token_from(operator, f"/tasks/show/{inspected.task}")
    operator.post(
        f"/task-results/{inspected.task}/archive", data={"csrf_token": token, "confirm": "1"}
    )
    response = operator.get(f"/task-results/{inspected.task}/bundle.zip")
    assert response.status_code == 200
    assert _names(response) == (f"{number}_{name}_归档包.zip", f"task-{year}-{seq:03d}-archive.zip")
    with zipfile.ZipFile(io.BytesIO(response.data)) as bundle:
        # The bundle's own file names stay as docs/exports.md gives them.
        assert "summary.docx" in bundle.namelist() and "records.csv" in bundle.namelist()
        site_records = [n for n in bundle.namelist() if n.startswith("draws/site-record-")]
        site_record = bundle.read(site_records[0]).decode()
    # The bundle's printable site record: the bureau heads it, the section is 承办科室.
    assert '<div class="issuer">东胜区水利局</div>' in site_record
    assert "<th>承办科室</th><td>水资源管理科</td>" in site_record
    # Public exports keep their Chinese names, with an ASCII fallback.
    assert _names(client.get("/public/results?format=csv")) == ("抽查结果.csv", "download.csv")


def test_public_results_name_the_bureau_and_the_section(app, inspected, client):
    finish(app, inspected)
    number, *_rest = _task(app, inspected)
    response = client.get("/public/results?format=csv")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    header = rows[0]
    assert header[5] == "检查实施机关" and header[-1] == "承办科室"
    assert {(r[5], r[-1]) for r in rows[1:]} == {("东胜区水利局", "水资源管理科")}
    page = client.get("/public/results").get_data(as_text=True)
    assert "东胜区水利局" in page and "承办科室：水资源管理科" in page
    detail = client.get(f"/public/results/{inspected.task}").get_data(as_text=True)
    assert "检查实施机关：东胜区水利局" in detail and number in detail
    plans = client.get("/public/plans").get_data(as_text=True)
    assert "<p>东胜区水利局 ｜ 承办科室：水资源管理科 ｜" in plans


def test_the_public_xlsx_is_typed_with_a_bold_frozen_header(app, inspected, client):
    finish(app, inspected)
    response = client.get("/public/results?format=xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["抽查结果"]
    ws = book.worksheets[0]
    header = [c.value for c in ws[1]]
    assert header[0] == "序号" and all(c.font.bold for c in ws[1]) and ws.freeze_panes == "A2"
    first = {h: c for h, c in zip(header, ws[2], strict=True)}
    assert first["序号"].value == 1 and first["序号"].data_type == "n"
    for column in ("检查日期", "公示日期"):
        assert first[column].is_date and first[column].number_format == "yyyy-mm-dd"
    assert first["公示日期"].value.date() == dt.date.today()
    widths = {ws.column_dimensions[c.column_letter].width for c in ws[1]}
    assert len(widths) > 3  # fitted, not all 13
