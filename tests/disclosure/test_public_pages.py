"""The public pages and their portal-layout downloads (一公开): only published data, natural
persons masked, CSV injection neutralised, UTF-8 with BOM or GB18030, XLSX; anonymous visitors
reach /public and verify a published draw."""

import csv
import datetime as dt
import io
import json

from openpyxl import load_workbook
from sqlalchemy import select

from app.directory.models import NATURAL_PERSON, InspectionItem
from app.draws.ledger_chain import without_ledger_fields
from app.draws.models import Draw, DrawnTarget
from app.draws.protocol import verify
from app.extensions import db
from app.planning.models import AnnualPlan, SpotCheckTask
from tests.directory.conftest import acting
from tests.inspections.conftest import finish


def _csv(client, url, encoding="utf-8-sig"):
    response = client.get(url)
    assert response.status_code == 200, url
    # The header names the encoding the bytes are in (a harvester trusts it).
    charset = "gb18030" if encoding == "gb18030" else "utf-8"
    assert response.headers["Content-Type"] == f"text/csv; charset={charset}", url
    return list(csv.reader(io.StringIO(response.data.decode(encoding))))


def _prepare_targets(app, inspected):
    """One drawn target becomes a natural person, the other an organisation whose name a
    spreadsheet would run as a formula."""
    with acting(app, "operator_a"):
        drawn = [db.session.get(DrawnTarget, i) for i in inspected.drawn]
        person, company = drawn[0].target, drawn[1].target
        person.target_type, person.name = NATURAL_PERSON, "欧阳娜娜"
        person.uscc, person.id_number = None, "150602199001011234"
        company.name = '=HYPERLINK("http://x")水务公司'
        db.session.commit()
        return person.id, company.id, company.uscc


def test_results_appear_only_once_published_and_masked(app, inspected, client):
    person_id, company_id, company_uscc = _prepare_targets(app, inspected)
    with app.app_context():
        task = db.session.get(SpotCheckTask, inspected.task)
        number, task_id = task.number, task.id
        uids = db.session.scalars(select(Draw.uid).where(Draw.task_id == task_id)).all()
    # Not published yet: nowhere in public.
    assert number not in client.get("/public/results").get_data(as_text=True)
    assert _csv(client, "/public/results?format=csv")[1:] == []
    book = load_workbook(io.BytesIO(client.get("/public/results?format=xlsx").data))
    assert len(list(book.active.values)) == 1  # the header row only
    assert client.get(f"/public/results/{task_id}?format=csv").status_code == 404
    assert client.get(f"/public/results/{task_id}").status_code == 404
    assert client.get(f"/public/draws/{uids[0]}").status_code == 404
    assert client.get(f"/public/draws/{uids[0]}.json").status_code == 404
    assert client.get(f"/public/credit/{company_id}").status_code == 404

    finish(app, inspected)
    page = client.get("/public/results").get_data(as_text=True)
    assert number in page
    detail = client.get(f"/public/results/{task_id}").get_data(as_text=True)
    assert "欧阳**" in detail and "欧阳娜娜" not in detail and "199001011234" not in detail
    rows = _csv(client, "/public/results?format=csv")
    assert rows[0] == [
        "序号",
        "任务编号",
        "任务名称",
        "检查对象名称",
        "统一社会信用代码",
        "检查实施机关",
        "检查类型",
        "检查日期",
        "检查结果",
        "后续处置",
        "公示日期",
        "承办科室",
    ]
    by_name = {row[3]: row for row in rows[1:]}
    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    today = dt.date.today().isoformat()
    assert by_name["欧阳**"][4:] == [
        "",
        "东胜区水利局",  # 检查实施机关: the bureau, not the section
        "双随机抽查",
        yesterday,
        "未发现问题",
        "无需后续处置",
        today,
        "水资源管理科",  # 承办科室
    ]
    company_row = by_name['\'=HYPERLINK("http://x")水务公司']  # neutralised
    assert company_row[1] == number and company_row[4] == company_uscc
    assert _csv(client, "/public/results?format=csv&encoding=gb18030", "gb18030") == rows
    # Search by an organisation's USCC; a natural person is not found by their full name.
    assert number in client.get(f"/public/results?q={company_uscc}").get_data(as_text=True)
    assert number not in client.get("/public/results?q=欧阳娜娜").get_data(as_text=True)

    # The draws are verifiable by anyone once published.
    for uid in uids:
        page = client.get(f"/public/draws/{uid}").get_data(as_text=True)
        assert "校验通过" in page and "VALID" not in page
        record = json.loads(client.get(f"/public/draws/{uid}.json").data)
        assert len(record["server_secret"]) == 64 and record["draw_id"] == uid
        # What anyone downloads verifies with the standard-library verifier.
        # (the ledger's positions and times are outside record_hash: docs/draw-protocol.md §18)
        assert verify(without_ledger_fields(record)) == [] and len(record["pool"]) >= 1
    assert f"/public/draws/{uids[0]}" in detail
    assert client.get("/public/draws/nonexistent").status_code == 404
    # The public credit record now shows the published result.
    assert number in client.get(f"/public/credit/{company_id}").get_data(as_text=True)


def test_items_and_plans_show_the_published_versions_only(app, world, inspected, client):
    with acting(app, "admin"):
        draft = InspectionItem(
            department_id=world.dept_a,
            code="A-999",
            category="水资源",
            name="草稿事项不公开",
            target_type="企业",
            method="实地检查",
            inspecting_body="东胜区水利局",
        )
        db.session.add(draft)
        db.session.add(
            AnnualPlan(department_id=world.dept_b, year=2027, title="河湖管理科草稿计划")
        )
        db.session.commit()
        published = db.session.scalars(
            select(InspectionItem).where(InspectionItem.status == "published")
        ).all()
        plan = db.session.scalars(select(AnnualPlan).where(AnnualPlan.status != "draft")).one()
        plan_title, first_item = plan.title, published[0]
        item_code, item_name = first_item.code, first_item.name
    page = client.get("/public/items").get_data(as_text=True)
    assert item_name in page and "草稿事项不公开" not in page
    rows = _csv(client, "/public/items?format=csv")
    assert rows[0][:4] == ["序号", "事项编码", "抽查类别", "抽查事项"] and rows[0][-1] == "版本日期"
    assert item_code in {row[1] for row in rows[1:]} and "A-999" not in {r[1] for r in rows}
    page = client.get("/public/plans").get_data(as_text=True)
    assert plan_title in page and "河湖管理科草稿计划" not in page
    rows = _csv(client, "/public/plans?format=csv")
    assert rows[0][:3] == ["序号", "计划名称", "年度"] and rows[1][1:3] == [plan_title, "2027"]
    book = load_workbook(io.BytesIO(client.get("/public/plans?format=xlsx").data))
    assert [c.value for c in next(book.active.iter_rows())][:3] == ["序号", "计划名称", "年度"]
    # A revision in preparation: the public keeps the published version.
    from app.planning import services as planning

    with acting(app, "operator_a"):
        plan = db.session.scalars(select(AnnualPlan).where(AnnualPlan.title == plan_title)).one()
        planning.revise_plan(plan, "调整抽查比例")
        plan.title = "调整中的标题不公开"
        db.session.commit()
    page = client.get("/public/plans").get_data(as_text=True)
    assert plan_title in page and "调整中的标题不公开" not in page
    assert client.get("/public/plans?year=abc").status_code == 200


def test_anonymous_sees_public_pages_only(app, world, client):
    for url in (
        "/public/",
        "/public/items",
        "/public/plans",
        "/public/results",
        "/public/blacklist",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        page = response.get_data(as_text=True)
        assert 'src="http' not in page and 'href="http' not in page
    assert client.get("/public/items?format=doc").status_code == 400
    assert client.get("/public/results/999").status_code == 404
    # A visitor's error pages keep the public layout (no staff menu, no sign-in form), in
    # Chinese, whether a record is missing or no page has that address.
    for url in ("/public/results/999", "/public/no-such-page", "/public/items?format=doc"):
        page = client.get(url).get_data(as_text=True)
        assert 'lang="zh-CN"' in page and "公开" in page, url
        assert "navbar" not in page and "退出" not in page and "登录" not in page, url
    assert client.get("/records/list/").status_code == 302
    assert client.get("/api/v1/record/").status_code == 401
