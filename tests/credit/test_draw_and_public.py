"""A listed target is drawn in the highest stratum (R9.7, R12.2); the public blacklist and the
public credit record show only what was published, natural persons masked (X3); the staff's
credit record shows everything in time order, in scope only."""

import csv
import datetime as dt
import io

from sqlalchemy import select

from app.credit.models import BlacklistEntry
from app.directory.models import NATURAL_PERSON, Target
from app.draws import pool as pools
from app.draws import services as draws
from app.extensions import db
from app.inspections.models import InspectionRecord
from app.planning import services as planning
from app.planning.models import SpotCheckTask
from tests.directory.conftest import acting
from tests.inspections.conftest import finish


def _list(app, target_id, *, status="listed", published=True, number="东水信〔2027〕9号"):
    """A listing decided and (by default) published, written directly: these tests are about
    what the draw and the public pages do with it, test_blacklist.py about the workflow."""
    with acting(app, "operator_a"):
        target = db.session.get(Target, target_id)
        today = dt.date.today()
        entry = BlacklistEntry(
            target=target,
            department_id=target.department_id,
            basis="refused",
            status=status,
            reasons="拒不整改",
            decision_number=number,
            listed_on=today if status in ("listed", "removed") else None,
            published_on=today if published else None,
            removed_on=today if status == "removed" else None,
            active_key=str(target_id) if status == "listed" else None,
        )
        if status == "listed":
            target.listed_on = today
        db.session.add(entry)
        db.session.commit()
        return entry.id


def _target_named(app, name) -> int:
    with app.app_context():
        return db.session.scalar(select(Target.id).where(Target.name == name))


def test_a_listed_target_is_drawn_in_the_special_stratum_until_removed(app, inspected):
    _draw_with_a_listed_target(app, inspected)


def _draw_with_a_listed_target(app, inspected) -> int:
    listed = _target_named(app, "检查对象1")  # risk class B
    _list(app, listed)
    with acting(app, "operator_a"):
        task = db.session.get(SpotCheckTask, inspected.task)
        again = planning.create_task_from_line(task.plan_line)
        db.session.add(again)
        db.session.commit()
        pool, _ = pools.target_pool(again)
        assert {c["id"]: c["stratum"] for c in pool}[listed] == "special"
        # The special stratum's ratio is the plan's highest.
        preview = {row["stratum"]: row for row in pools.pool_preview(again)}
        assert preview["special"]["ratio"] == max(row["ratio"] for row in preview.values())
        assert preview["special"]["pool"] == 1 and preview["special"]["to_draw"] == 1
        draw = draws.start_draw(again, "target")
        db.session.commit()
        draws.complete_draw(draw)
        db.session.commit()
        record = draws.record(draw)
        assert record["params"]["blacklisted"] == [listed]  # the record states it
        assert listed in record["selection"]["special"]
        assert draws.verify_draw(draw) == []
        draw_id = draw.id
        # Removed: back in its own class for the next draw.
        db.session.get(Target, listed).listed_on = None
        db.session.commit()
        later = planning.create_task_from_line(task.plan_line)
        db.session.add(later)
        db.session.commit()
        pool, _ = pools.target_pool(later)
        assert {c["id"]: c["stratum"] for c in pool}[listed] == "B"
        draw = draws.start_draw(later, "target")
        assert "blacklisted" not in draws.record(draw)["params"]
        db.session.rollback()
    return draw_id


def test_the_draw_page_names_the_blacklisted(app, inspected, login_as):
    draw_id = _draw_with_a_listed_target(app, inspected)
    page = login_as("operator_a").get(f"/draws/show/{draw_id}").get_data(as_text=True)
    assert "抽取时已列入失信黑名单" in page and "blacklisted" in page


def _public_rows(client, url="/public/blacklist?format=csv", encoding="utf-8-sig"):
    response = client.get(url)
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.data.decode(encoding))))


def test_the_public_blacklist_shows_only_published_listings_masked(app, world, inspected, client):
    with acting(app, "operator_a"):
        person = Target(
            department_id=world.dept_a,
            target_type=NATURAL_PERSON,
            name="欧阳娜娜",
            id_number="150602199001011234",
            contact_phone="13812341234",
            risk_class="B",
        )
        company = Target(
            department_id=world.dept_a,
            target_type="企业",
            name='=HYPERLINK("x")有限公司',
            uscc="91150602MA0N000001",
            risk_class="B",
        )
        db.session.add_all([person, company])
        db.session.commit()
        person_id, company_id = person.id, company.id
    _list(app, person_id, number="东水信〔2027〕11号")
    _list(app, company_id, number="-东水信〔2027〕12号")
    hidden = {
        "unpublished": _target_named(app, "检查对象0"),
        "proposed": _target_named(app, "检查对象1"),
        "rejected": _target_named(app, "检查对象2"),
    }
    _list(app, hidden["unpublished"], published=False, number="未公示号")
    _list(app, hidden["proposed"], status="proposed", published=False, number="提议号")
    _list(app, hidden["rejected"], status="rejected", published=True, number="不予列入号")

    page = client.get("/public/blacklist").get_data(as_text=True)
    assert "欧阳**" in page and "欧阳娜娜" not in page
    assert "199001011234" not in page and "13812341234" not in page
    for number in ("未公示号", "提议号", "不予列入号"):
        assert number not in page
    assert "检查对象" not in page
    assert "http://" not in page and "https://" not in page  # nothing from outside
    assert client.get("/public/blacklist?format=csv").data.startswith("\ufeff".encode())  # BOM
    rows = _public_rows(client)
    assert rows[0] == [
        "序号",
        "主体名称",
        "统一社会信用代码",
        "列入原因",
        "决定文号",
        "列入日期",
        "列入机关",
        "移出日期",
        "承办科室",
    ]
    by_number = {row[4]: row for row in rows[1:]}
    assert set(by_number) == {"东水信〔2027〕11号", "'-东水信〔2027〕12号"}  # CSV injection
    person_row = by_number["东水信〔2027〕11号"]
    today = dt.date.today().isoformat()
    assert person_row[1:] == [
        "欧阳**",
        "",
        "拒不整改",
        "东水信〔2027〕11号",
        today,
        "东胜区水利局",  # 列入机关: the bureau; the section is 承办科室
        "",
        "水资源管理科",
    ]
    assert by_number["'-东水信〔2027〕12号"][1] == '\'=HYPERLINK("x")有限公司'
    # GB18030 on request round-trips.
    gb = _public_rows(client, "/public/blacklist?format=csv&encoding=gb18030", "gb18030")
    assert gb[1:] == rows[1:]
    # XLSX carries the same rows.
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(client.get("/public/blacklist?format=xlsx").data))
    values = [[c if c is not None else "" for c in row] for row in book.active.values]
    assert values[0] == rows[0]
    # The same texts; the formula-like ones as quote-prefixed strings instead of CSV's `'`.
    assert sorted(str(r[4]) for r in values[1:]) == sorted(n.lstrip("'") for n in by_number)
    injected = next(row[4] for row in book.active.iter_rows(min_row=2) if row[4].value[0] == "-")
    assert injected.data_type == "s" and injected.quotePrefix
    # Typed as Excel users expect: 序号 a number, 列入日期 a date.
    sheet = book.active
    assert book.sheetnames == ["失信黑名单"] and sheet["A2"].data_type == "n"
    assert sheet["F2"].is_date and sheet["F2"].value.date() == dt.date.today()
    # Search by an organisation's USCC; a natural person is not found by their full name.
    assert "91150602MA0N000001" in client.get("/public/blacklist?q=91150602ma0n000001").get_data(
        as_text=True
    )
    assert "欧阳**" not in client.get("/public/blacklist?q=欧阳娜娜").get_data(as_text=True)
    # Bad input: a clear error, no 500.
    assert client.get("/public/blacklist?format=pdf").status_code == 400
    assert client.get("/public/blacklist?format=csv&encoding=latin1").status_code == 400
    assert client.get("/public/blacklist?page=abc").status_code == 200
    # The public credit record: a listed natural person, masked; an unlisted target: 404.
    credit = client.get(f"/public/credit/{person_id}").get_data(as_text=True)
    assert "欧阳**" in credit and "欧阳娜娜" not in credit and "列入失信黑名单" in credit
    assert client.get(f"/public/credit/{hidden['unpublished']}").status_code == 404
    assert client.get(f"/public/credit/{hidden['rejected']}").status_code == 404
    assert client.get("/public/credit/999999").status_code == 404


def test_anonymous_reaches_the_public_pages_and_nothing_else(app, world, client):
    assert client.get("/public/").status_code == 200
    assert client.get("/public/blacklist").status_code == 200
    assert client.get("/blacklist/list/").status_code == 302  # to the login page
    assert client.get("/api/v1/blacklist/").status_code == 401
    assert client.get("/credit/target/1").status_code == 302


def test_the_credit_record_in_time_order_and_in_scope(app, inspected, login_as, client):
    finish(app, inspected)  # results published
    with app.app_context():
        record = db.session.scalars(select(InspectionRecord).order_by(InspectionRecord.id)).first()
        target_id, task_number = record.target_id, record.task.number
    _list(app, target_id)
    operator = login_as("operator_a")
    page = operator.get(f"/credit/target/{target_id}").get_data(as_text=True)
    assert "检查结果" in page and task_number in page and "未发现问题" in page
    assert "失信黑名单" in page and "label-danger" in page
    assert login_as("operator_b").get(f"/credit/target/{target_id}").status_code == 404
    assert login_as("inspector_a").get(f"/credit/target/{target_id}").status_code == 403
    assert login_as("leader_a").get(f"/credit/target/{target_id}").status_code == 200
    public = client.get(f"/public/credit/{target_id}").get_data(as_text=True)
    assert task_number in public and "未发现问题" in public and "列入失信黑名单" in public
