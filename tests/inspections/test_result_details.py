"""The second level of the result codes (检查结果细类, issue 19 part 3): required where the first
level has one, refused (in Chinese, nothing written) where it does not match its first level on
the service, the form and the REST API; shown on the record and the public pages; both levels
in the national layout of the results export, the portal layout unchanged."""

import csv
import io

import pytest
from sqlalchemy import select, text

from app.core.errors import DomainError
from app.disclosure import portal
from app.disclosure.cli import export_command
from app.draws.models import DrawnTarget
from app.extensions import db
from app.inspections import services
from app.inspections.models import InspectionRecord
from app.inspections.result_codes import NOT_SUBDIVIDED, RESULT_DETAILS
from tests.conftest import csrf_token_from
from tests.directory.conftest import acting
from tests.inspections.conftest import fill, finish

PENDING = "发现问题待后续处理"
CLOSED = "已注销或被吊销、撤销"


def _open(app, inspected, index=0) -> int:
    with acting(app, "inspector_a"):
        record = services.open_record(db.session.get(DrawnTarget, inspected.drawn[index]))
        db.session.commit()
        return record.id


def _stored(app, record_id):
    with app.app_context():
        record = db.session.get(InspectionRecord, record_id)
        return record.status, record.result_code, record.result_detail


def test_the_closed_code_is_split_as_the_national_list_is():
    assert RESULT_DETAILS[CLOSED] == ("已注销", "被吊销", "被撤销", "迁出")
    assert all(v.startswith("违反") for v in RESULT_DETAILS[PENDING][:-1])


def test_the_service_requires_a_detail_and_refuses_one_of_another_result(app, inspected):
    record_id = _open(app, inspected)
    with acting(app, "inspector_a"):
        record = db.session.get(InspectionRecord, record_id)
        fill(
            record,
            inspected.item,
            result_code=PENDING,
            problems="未安装取水计量设施",
            follow_up="责令改正、跟踪整改",
        )
        with pytest.raises(DomainError, match="检查结果细类"):
            services.submit_record(record)
        record.result_detail = "迁出"  # a detail of 已注销或被吊销、撤销
        with pytest.raises(DomainError, match="不属于检查结果“发现问题待后续处理”"):
            services.submit_record(record)
        record.result_code, record.result_detail = "未发现问题", "违反安全生产规定"
        record.problems, record.follow_up = "无", "无需后续处置"
        with pytest.raises(DomainError, match="没有细类"):
            services.check_record_entry(record)
        db.session.rollback()
    assert _stored(app, record_id) == ("draft", None, None)
    with acting(app, "inspector_a"):
        record = db.session.get(InspectionRecord, record_id)
        fill(record, inspected.item, result_code=CLOSED, result_detail="被吊销")
        services.submit_record(record)
        db.session.commit()
    assert _stored(app, record_id) == ("submitted", CLOSED, "被吊销")


def test_the_form_lists_the_details_by_result_and_refuses_a_mismatch(app, inspected, login_as):
    record_id = _open(app, inspected)
    client = login_as("inspector_a")
    url = f"/records/edit/{record_id}"
    page = client.get(url).get_data(as_text=True)
    assert f'<optgroup label="{PENDING}">' in page and f'<optgroup label="{CLOSED}">' in page
    assert '<option value="违反河湖管理规定">' in page
    data = {
        "csrf_token": csrf_token_from(client, url),
        "method": "实地检查",
        "items": [str(inspected.item)],
        "result_code": "未发现问题",
        "result_detail": "已注销",
        "follow_up": "无需后续处置",
    }
    response = client.post(url, data=data)
    assert response.status_code == 200 and "没有细类" in response.get_data(as_text=True)
    assert _stored(app, record_id) == ("draft", None, None)
    response = client.post(url, data={**data, "result_code": CLOSED})
    assert response.status_code == 302
    assert _stored(app, record_id) == ("draft", CLOSED, "已注销")
    show = client.get(f"/records/show/{record_id}").get_data(as_text=True)
    assert "检查结果细类" in show and "已注销" in show


def test_the_api_refuses_a_mismatch_and_shows_the_detail(app, inspected, login_as):
    record_id = _open(app, inspected)
    client = login_as("inspector_a")
    url = f"/api/v1/record/{record_id}"
    response = client.put(url, json={"result_code": PENDING, "result_detail": "被撤销"})
    assert response.status_code == 422 and "不属于" in response.get_json()["message"]
    assert _stored(app, record_id) == ("draft", None, None)
    response = client.put(url, json={"result_code": PENDING, "result_detail": "违反河湖管理规定"})
    assert response.status_code == 200, response.get_json()
    assert client.get(url).get_json()["result"]["result_detail"] == "违反河湖管理规定"
    listed = client.get(
        "/api/v1/record/?q=(filters:!((col:result_detail,opr:eq,value:违反河湖管理规定)),"
        "order_column:result_detail,order_direction:asc)"
    )
    assert listed.status_code == 200, listed.get_json()
    assert [r["id"] for r in listed.get_json()["result"]] == [record_id]


def _published(app, inspected) -> int:
    """Record 0 left for follow-up (河湖), record 1 closed down (迁出), the results published."""
    for index, values in enumerate(
        (
            dict(
                result_code=PENDING,
                result_detail="违反河湖管理规定",
                problems="河道管理范围内违规堆放",
                follow_up="责令改正、跟踪整改",
            ),
            dict(result_code=CLOSED, result_detail="迁出"),
        )
    ):
        record_id = _open(app, inspected, index)
        with acting(app, "inspector_a"):
            record = db.session.get(InspectionRecord, record_id)
            fill(record, inspected.item, **values)
            services.submit_record(record)
            db.session.commit()
    finish(app, inspected)
    return inspected.task


def _csv(data: bytes):
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_both_levels_are_in_the_national_export_and_the_portal_layout_is_unchanged(
    app, inspected, client, login_as, tmp_path
):
    task_id = _published(app, inspected)
    portal_rows = _csv(client.get(f"/public/results/{task_id}?format=csv").data)
    assert portal_rows[0] == portal.RESULT_HEADERS and len(portal_rows[0]) == 12
    assert {r[8] for r in portal_rows[1:]} == {PENDING, CLOSED}
    rows = _csv(client.get("/public/results?format=csv&layout=national").data)
    at = rows[0].index("检查结果")
    assert rows[0][at - 3 : at + 2] == [
        "检查实施机关",
        "检查类型",
        "检查日期",
        "检查结果",
        "检查结果细类",
    ]
    assert {(r[at], r[at + 1]) for r in rows[1:]} == {
        (PENDING, "违反河湖管理规定"),
        (CLOSED, "迁出"),
    }
    # A record entered before the second level existed: 未细分, on the page and in the file.
    with app.app_context():
        db.session.execute(
            text("UPDATE inspection_record SET result_detail = NULL WHERE result_code = :code"),
            {"code": CLOSED},
        )
        db.session.commit()
    out = tmp_path / "results.csv"
    result = app.test_cli_runner().invoke(
        export_command, ["results", "--layout", "national", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    rows = _csv(out.read_bytes())
    assert rows[0] == portal.NATIONAL_RESULT_HEADERS
    assert {(r[at], r[at + 1]) for r in rows[1:]} == {
        (PENDING, "违反河湖管理规定"),
        (CLOSED, NOT_SUBDIVIDED),
    }
    page = client.get(f"/public/results/{task_id}").get_data(as_text=True)
    assert "检查结果细类" in page and "违反河湖管理规定" in page and NOT_SUBDIVIDED in page
    assert "layout=national" in page
    with app.app_context():
        target_id = db.session.get(DrawnTarget, inspected.drawn[0]).target_id
        closed_id = db.session.scalar(
            select(InspectionRecord.id).where(InspectionRecord.result_code == CLOSED)
        )
    credit = client.get(f"/public/credit/{target_id}").get_data(as_text=True)
    assert f"{PENDING}（违反河湖管理规定）" in credit
    show = login_as("operator_a").get(f"/records/show/{closed_id}").get_data(as_text=True)
    assert "检查结果细类" in show and NOT_SUBDIVIDED in show
    response = client.get("/public/results?format=csv&layout=provincial")
    assert response.status_code == 400 and "未知的格式" in response.get_data(as_text=True)
