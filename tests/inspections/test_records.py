"""Inspection records: 谁检查谁录入 (R11.2), validation, evidence (R10.2), the 20-working-day
deadline (R11.3), review and return, scope on pages and REST."""

import datetime as dt
import io

import pytest
from sqlalchemy import select

from app.core.errors import DomainError
from app.draws.models import DrawnTarget
from app.extensions import db
from app.inspections import services
from app.inspections.deadlines import deadline_text
from app.inspections.models import Evidence, InspectionRecord
from app.planning.models import SpotCheckTask
from app.planning.progress import progress_by_department
from tests.conftest import csrf_token_from
from tests.directory.conftest import acting
from tests.inspections.conftest import PNG, enter_all, fill


def _open(app, inspected, user="inspector_a", index=0) -> int:
    with acting(app, user):
        record = services.open_record(db.session.get(DrawnTarget, inspected.drawn[index]))
        db.session.commit()
        return record.id


def _add_inspector_user(app, world, username="inspector_a2"):
    from app.security import roles
    from app.security.models import Department

    with app.app_context():
        sm = app.appbuilder.sm
        user = sm.add_user(
            username=username,
            first_name=username,
            last_name="测试",
            email=f"{username}@test.invalid",
            role=sm.find_role(roles.INSPECTOR),
            password="Passw0rd-2026",
        )
        user.departments = [db.session.get(Department, world.dept_a)]
        db.session.commit()


def test_the_group_enters_submits_and_the_task_moves_on(app, world, inspected):
    record_id = _open(app, inspected)
    with acting(app, "inspector_a"):
        record = db.session.get(InspectionRecord, record_id)
        assert record.task.status == "inspecting"
        with pytest.raises(DomainError, match="填写"):
            services.submit_record(record)
        db.session.rollback()
        record = db.session.get(InspectionRecord, record_id)
        fill(record, inspected.item)
        services.submit_record(record)
        db.session.commit()
        assert record.status == "submitted" and record.follow_up_closed  # 无需后续处置
        assert record.target.last_inspected_on == record.inspection_date
        assert record.due_on > record.inspection_date
    enter_all(app, inspected)
    with acting(app, "operator_a"):
        assert db.session.get(SpotCheckTask, inspected.task).status == "results_entered"
        progress = {dept.id: counts for dept, counts in progress_by_department(2027).rows}
        counts = progress[world.dept_a]
        assert (counts.planned, counts.inspected, counts.entered) == (2, 2, 2)
        assert counts.entry_rate == 100


def test_only_the_group_may_enter_and_a_leader_cannot(app, world, inspected, login_as):
    record_id = _open(app, inspected)
    _add_inspector_user(app, world)
    # Another inspector of the same department, not in the group: the record does not exist
    # for them, on the page and through the API.
    other = login_as("inspector_a2")
    assert other.get(f"/records/show/{record_id}").status_code == 404
    assert other.get(f"/records/edit/{record_id}").status_code == 404
    assert other.get("/api/v1/record/").get_json()["count"] == 0
    with acting(app, "inspector_a2"):
        with pytest.raises(DomainError, match="谁检查谁录入"):
            services.open_record(db.session.get(DrawnTarget, inspected.drawn[1]))
    # A Leader reads the record but has no right to enter it.
    leader = login_as("leader_a")
    assert leader.get(f"/records/show/{record_id}").status_code == 200
    response = leader.put(f"/api/v1/record/{record_id}", json={"situation": "领导代填"})
    assert response.status_code == 403
    assert leader.get(f"/records/edit/{record_id}").status_code in (302, 403)
    # An Operator of another department does not see it at all.
    assert login_as("operator_b").get(f"/records/show/{record_id}").status_code == 404
    with app.app_context():
        assert db.session.get(InspectionRecord, record_id).situation is None


def test_entering_through_the_page_and_the_api(app, inspected, login_as):
    record_id = _open(app, inspected)
    client = login_as("inspector_a")
    token = csrf_token_from(client, f"/records/edit/{record_id}")
    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    response = client.post(
        f"/records/edit/{record_id}",
        data={
            "csrf_token": token,
            "inspection_date": yesterday,
            "method": "实地检查",
            "items": [str(inspected.item)],
            "situation": "<script>alert(1)</script>现场正常",
            "problems": "无",
            "result_code": "未发现问题",
            "follow_up": "无需后续处置",
            "present_person": "张三",
        },
    )
    assert response.status_code == 302
    page = client.get(f"/records/show/{record_id}").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;现场正常" in page and "剩余" in page
    response = client.post(f"/api/v1/record/{record_id}/submit")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["result"]["status"] == "submitted"
    # Submitted: no more changes by the inspectors.
    response = client.put(f"/api/v1/record/{record_id}", json={"situation": "改"})
    assert response.status_code == 422 and "退回" in response.get_json()["message"]


def test_a_future_date_and_foreign_items_are_refused(app, inspected, login_as):
    record_id = _open(app, inspected)
    client = login_as("inspector_a")
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    response = client.put(f"/api/v1/record/{record_id}", json={"inspection_date": tomorrow})
    assert response.status_code == 422 and "晚于今天" in response.get_json()["message"]
    with acting(app, "inspector_a"):
        record = db.session.get(InspectionRecord, record_id)
        assert record.inspection_date is None
        record.items = [db.session.get(InspectionRecord, record_id).task.items[0]]
        from app.directory.models import InspectionItem

        foreign = db.session.scalar(select(InspectionItem).where(InspectionItem.code == "B-001"))
        record.items = [foreign]
        # Another department's item: the flush refuses it as not found (write_scope.py), the
        # rule with its own message where nothing flushes first.
        with pytest.raises(DomainError, match="其他|不存在"):
            services.check_record_entry(record)


def test_problems_need_a_description_and_a_follow_up(app, inspected):
    record_id = _open(app, inspected)
    with acting(app, "inspector_a"):
        record = db.session.get(InspectionRecord, record_id)
        fill(
            record,
            inspected.item,
            result_code="发现问题待后续处理",
            result_detail="违反水资源管理规定",
        )
        with pytest.raises(DomainError, match="描述"):
            services.submit_record(record)
        record.problems = "取水计量设施未按规定安装"
        with pytest.raises(DomainError, match="后续处置"):
            services.submit_record(record)
        record.follow_up = "责令改正、跟踪整改"
        services.submit_record(record)
        assert not record.follow_up_closed


def test_evidence_is_typed_by_content_limited_in_size_and_kept(app, inspected, login_as):
    record_id = _open(app, inspected)
    client = login_as("inspector_a")
    url = f"/api/v1/record/{record_id}/evidence"

    def upload(data: bytes, name: str):
        return client.post(
            url,
            data={"file": (io.BytesIO(data), name), "note": "现场照片"},
            content_type="multipart/form-data",
        )

    response = upload(b"MZ\x90\x00 this is a program, not a photo" * 10, "photo.jpg")
    assert response.status_code == 422 and "不接受" in response.get_json()["message"]
    big = PNG + b"\0" * (20 * 1024 * 1024 + 10)
    response = upload(big, "big.png")
    assert response.status_code == 422 and "20 MB" in response.get_json()["message"]
    response = upload(b"\0" * (21 * 1024 * 1024), "huge.png")  # over the request limit
    assert response.status_code == 413
    assert "不超过 20 MB" in response.get_json()["message"]
    response = upload(PNG, "../../etc/现场.png")
    assert response.status_code == 200, response.get_json()
    with app.app_context():
        evidence = db.session.scalars(select(Evidence)).all()
        assert len(evidence) == 1
        e = evidence[0]
        assert (e.file_name, e.kind, e.size) == ("现场.png", "png", len(PNG))
        assert e.created_by.username == "inspector_a" and e.note == "现场照片"
        evidence_id = e.id
    page = client.get(f"/records/show/{record_id}").get_data(as_text=True)
    assert f"/record-workflow/evidence/{evidence_id}/thumbnail" in page
    thumb = client.get(f"/record-workflow/evidence/{evidence_id}/thumbnail")
    assert thumb.status_code == 200 and thumb.data.startswith(b"\xff\xd8\xff")
    assert client.get(f"/record-workflow/evidence/{evidence_id}").data == PNG
    # Other departments never reach the file.
    other = login_as("operator_b")
    assert other.get(f"/record-workflow/evidence/{evidence_id}").status_code == 404
    # After submission no evidence is added, and nothing can remove it.
    with acting(app, "inspector_a"):
        record = db.session.get(InspectionRecord, record_id)
        fill(record, inspected.item)
        services.submit_record(record)
        db.session.commit()
    response = upload(PNG + b"2", "later.png")
    assert response.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(Evidence.id).where(Evidence.id == evidence_id))


def test_the_due_date_counts_working_days_across_the_spring_festival(app, inspected):
    # 2026: 春节 2月15日–23日 off, Saturdays 2月14日 and 2月28日 are workdays.
    record_id = _open(app, inspected)
    with acting(app, "inspector_a"):
        record = db.session.get(InspectionRecord, record_id)
        record.task.window_start = None
        fill(record, inspected.item, inspection_date=dt.date(2026, 2, 10))
        services.check_record_entry(record)
        assert record.due_on == dt.date(2026, 3, 16)
        assert record.due_confirmed
        assert deadline_text(record, dt.date(2026, 3, 13)) == "剩余 1 个工作日"
        assert deadline_text(record, dt.date(2026, 3, 18)) == "逾期 2 个工作日"
        db.session.rollback()


def test_review_and_return(app, inspected, login_as):
    record_id = enter_all(app, inspected)[0]
    inspector = login_as("inspector_a")
    assert inspector.post(f"/api/v1/record/{record_id}/review").status_code == 403
    operator = login_as("operator_a")
    response = operator.post(f"/api/v1/record/{record_id}/return", json={"comment": ""})
    assert response.status_code == 422
    response = operator.post(f"/api/v1/record/{record_id}/return", json={"comment": "补充照片"})
    assert response.status_code == 200
    with app.app_context():
        record = db.session.get(InspectionRecord, record_id)
        assert (record.status, record.return_comment) == ("returned", "补充照片")
        assert record.task.status == "inspecting"
    # Returned: the inspectors correct and submit again; then it is reviewed.
    assert (
        inspector.put(f"/api/v1/record/{record_id}", json={"opinions": "已补充"}).status_code == 200
    )
    assert inspector.post(f"/api/v1/record/{record_id}/submit").status_code == 200
    assert operator.post(f"/api/v1/record/{record_id}/review").status_code == 200
    with app.app_context():
        assert db.session.get(InspectionRecord, record_id).status == "reviewed"


def test_overdue_records_are_counted(app, world, inspected):
    record_id = _open(app, inspected)
    with acting(app, "inspector_a"):
        record = db.session.get(InspectionRecord, record_id)
        fill(record, inspected.item, inspection_date=dt.date.today() - dt.timedelta(days=60))
        services.check_record_entry(record)
        db.session.commit()
        assert "逾期" in record.deadline_text
        rows = {dept.id: counts for dept, counts in progress_by_department(2027).rows}
        assert rows[world.dept_a].overdue_unentered == 1


def test_drawn_targets_and_inspectors_cannot_be_deleted(app, inspected, login_as):
    from app.directory.models import Inspector, Target

    with app.app_context():
        target_id = db.session.get(DrawnTarget, inspected.drawn[0]).target_id
        inspector_id = db.session.scalar(select(Inspector.id).where(Inspector.name == "赵检查"))
    operator = login_as("operator_a")
    response = operator.delete(f"/api/v1/target/{target_id}")
    assert response.status_code == 422 and "注销" in response.get_json()["message"]
    response = operator.delete(f"/api/v1/inspector/{inspector_id}")
    assert response.status_code == 422 and "离岗" in response.get_json()["message"]
    token = csrf_token_from(operator, f"/targets/edit/{target_id}")
    response = operator.post(f"/targets/delete/{target_id}", data={"csrf_token": token})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Target, target_id) is not None
        assert db.session.get(Inspector, inspector_id) is not None
