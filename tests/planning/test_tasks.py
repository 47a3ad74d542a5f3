"""Spot-check tasks: created from a published plan line with an automatic 文号, checks outside
the plan only with a reason and a Leader's approval, the drawable pool preview, progress."""

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.core.errors import DomainError
from app.directory.models import InspectionItem, Target
from app.draws.pool import pool_preview
from app.extensions import db
from app.planning import services
from app.planning.models import AnnualPlan, SpotCheckTask
from app.planning.progress import Progress, progress_by_department, rate
from tests.conftest import csrf_token_from
from tests.directory.conftest import acting, uscc


def _publish(app, plan_id):
    with acting(app, "operator_a"):
        services.submit_plan(db.session.get(AnnualPlan, plan_id))
        db.session.commit()
    with acting(app, "leader_a"):
        services.approve_plan(db.session.get(AnnualPlan, plan_id))
        db.session.commit()
    with acting(app, "operator_a"):
        services.publish_plan(db.session.get(AnnualPlan, plan_id), today=dt.date(2027, 2, 1))
        db.session.commit()


def _task_from_line(app, plan_id, **kw):
    with acting(app, "operator_a"):
        task = services.create_task_from_line(db.session.get(AnnualPlan, plan_id).lines[0], **kw)
        db.session.add(task)
        db.session.commit()
        return task.id, task.number


def test_tasks_come_from_a_published_plan_with_numbers_in_sequence(app, plan):
    with acting(app, "operator_a"):
        with pytest.raises(DomainError, match="已发布"):
            services.create_task_from_line(db.session.get(AnnualPlan, plan).lines[0])
    _publish(app, plan)
    first = _task_from_line(app, plan)
    second = _task_from_line(app, plan, name="第二批取水许可检查")
    assert first[1] == "东水双随机〔2027〕1号"
    assert second[1] == "东水双随机〔2027〕2号"
    with acting(app, "operator_a"):
        task = db.session.get(SpotCheckTask, first[0])
        assert task.plan_id == plan and not task.out_of_plan and task.approval == "approved"
        assert [i.code for i in task.items] == ["A-001"]
        assert task.ratio_d == Decimal("20.00")


def test_a_group_has_at_least_two_inspectors(app, plan):
    _publish(app, plan)
    with acting(app, "operator_a"):
        with pytest.raises(DomainError, match="2"):
            services.create_task_from_line(db.session.get(AnnualPlan, plan).lines[0], group_size=1)


def _out_of_plan(world, directory, **kw):
    values = dict(
        name="群众举报取水核查",
        year=2027,
        department_id=world.dept_a,
        ratio_a=100,
        ratio_b=100,
        ratio_c=100,
        ratio_d=100,
        ratio_special=100,
        group_size=2,
        out_of_plan_reason="群众举报超许可取水",
    )
    values.update(kw)
    return SpotCheckTask(**values)


def test_a_check_outside_the_plan_needs_a_reason_and_a_leader(app, world, directory):
    with acting(app, "operator_a"):
        item = db.session.get(InspectionItem, directory.item_a)
        with pytest.raises(DomainError, match="理由"):
            services.create_out_of_plan_task(
                _out_of_plan(world, directory, items=[item], out_of_plan_reason=" ")
            )
        task = services.create_out_of_plan_task(_out_of_plan(world, directory, items=[item]))
        db.session.add(task)
        db.session.commit()
        task_id = task.id
        assert task.approval == "pending"
        with pytest.raises(DomainError):
            services.decide_out_of_plan_task(task, True)
        db.session.rollback()
    with acting(app, "leader_a"):
        task = db.session.get(SpotCheckTask, task_id)
        with pytest.raises(DomainError):
            services.decide_out_of_plan_task(task, False, "")
        services.decide_out_of_plan_task(task, True)
        db.session.commit()
    with acting(app, "leader"):
        report = progress_by_department(2027)
        row = {dept.id: p for dept, p in report.rows}[world.dept_a]
        assert (row.tasks, row.out_of_plan_tasks) == (1, 1)


def test_pool_preview_counts_each_stratum_and_rounds_up(app, world, directory, plan):
    _publish(app, plan)
    with acting(app, "operator_a"):
        item = db.session.get(InspectionItem, directory.item_a)
        classes = ["A"] * 10 + ["B"] * 7 + ["D"] * 3
        for n, risk in enumerate(classes, start=100):
            db.session.add(
                Target(
                    department_id=world.dept_a,
                    target_type="企业",
                    name=f"对象{n}",
                    uscc=uscc(n),
                    risk_class=risk,
                    registration_status="存续",
                    items=[item],
                )
            )
        db.session.add(
            Target(
                department_id=world.dept_a,
                target_type="企业",
                name="失信对象",
                uscc=uscc(200),
                risk_class="A",
                flags="失信",
                registration_status="存续",
                items=[item],
            )
        )
        db.session.add(
            Target(
                department_id=world.dept_a,
                target_type="企业",
                name="注销对象",
                uscc=uscc(201),
                risk_class="D",
                registration_status="注销",
                items=[item],
            )
        )
        db.session.add(
            Target(
                department_id=world.dept_a,
                target_type="企业",
                name="无关对象",
                uscc=uscc(202),
                risk_class="D",
                registration_status="存续",
            )
        )
        db.session.commit()
    task_id, _ = _task_from_line(app, plan)
    with acting(app, "operator_a"):
        preview = {
            row["stratum"]: row
            for row in pool_preview(db.session.get(SpotCheckTask, task_id))
        }
    # ratios from the plan line: A 2%, B 5%, C 10%, D 20%, special 30%
    assert (preview["A"]["pool"], preview["A"]["to_draw"]) == (10, 1)  # 0.2 rounds up
    assert (preview["B"]["pool"], preview["B"]["to_draw"]) == (7, 1)
    assert (preview["C"]["pool"], preview["C"]["to_draw"]) == (0, 0)
    assert (preview["D"]["pool"], preview["D"]["to_draw"]) == (
        3,
        1,
    )  # closed and unrelated left out
    assert (preview["special"]["pool"], preview["special"]["to_draw"]) == (1, 1)


def test_task_page_and_api_show_the_pool_and_respect_scope(app, login_as, api_token, plan):
    _publish(app, plan)
    task_id, number = _task_from_line(app, plan)
    html = login_as("operator_a").get(f"/tasks/show/{task_id}").get_data(as_text=True)
    assert number in html and "摇号前可抽取对象预览" in html
    assert login_as("operator_b").get(f"/tasks/show/{task_id}").status_code == 404
    client = app.test_client()
    mine = {"Authorization": f"Bearer {api_token('operator_a')}"}
    other = {"Authorization": f"Bearer {api_token('operator_b')}"}
    pool = client.get(f"/api/v1/task/{task_id}/pool", headers=mine).get_json()["result"]
    assert [row["stratum"] for row in pool] == ["A", "B", "C", "D", "special"]
    assert client.get(f"/api/v1/task/{task_id}/pool", headers=other).status_code == 404


def test_a_task_from_the_plan_page(app, login_as, plan):
    _publish(app, plan)
    client = login_as("operator_a")
    with acting(app, "operator_a"):
        line_id = db.session.get(AnnualPlan, plan).lines[0].id
    token = csrf_token_from(client, "/plans/add")
    # A group size that is no number (or none a column can hold) is refused in Chinese.
    for size in ("abc", "99999999999"):
        refused = client.post(
            f"/plan-workflow/line/{line_id}/task",
            data={"csrf_token": token, "group_size": size},
            follow_redirects=True,
        )
        assert "“每组检查人员数”须为整数" in refused.get_data(as_text=True), size
        with acting(app, "operator_a"):
            assert db.session.scalar(select(SpotCheckTask.number)) is None
    response = client.post(f"/plan-workflow/line/{line_id}/task", data={"csrf_token": token})
    assert response.status_code == 302
    with acting(app, "operator_a"):
        assert db.session.scalar(select(SpotCheckTask.number)) == "东水双随机〔2027〕1号"


def test_participating_department_sees_a_joint_task(app, world, directory, plan):
    _publish(app, plan)
    with acting(app, "operator_a"):
        line = db.session.get(AnnualPlan, plan).lines[0]
        from app.security.models import Department

        line.participating_departments = [db.session.get(Department, world.dept_b)]
        task = services.create_task_from_line(line)
        db.session.add(task)
        db.session.commit()
        task_id = task.id
    with acting(app, "operator_b"):
        from app.security.scope import in_scope

        assert in_scope(db.session.get(SpotCheckTask, task_id))


def test_rates_and_progress_list_every_department(app, world):
    assert rate(1, 3) == Decimal("33.3")
    assert rate(2, 3) == Decimal("66.7")
    assert rate(0, 0) is None
    p = Progress(planned=10, entered=8, published=6, closed=3)
    assert (p.completion_rate, p.entry_rate, p.closure_rate) == (
        Decimal("60.0"),
        Decimal("80.0"),
        Decimal("50.0"),
    )
    with acting(app, "leader"):
        report = progress_by_department(2027)
    assert {dept.id for dept, _ in report.rows} == {
        world.bureau,
        world.dept_a,
        world.dept_a1,
        world.dept_b,
    }
    assert report.total.tasks == 0 and report.total.completion_rate is None


def test_progress_page(app, login_as, world):
    html = login_as("jointoffice").get("/progress/?year=2027").get_data(as_text=True)
    assert "完成率" in html and "河湖管理科" in html and "合计" in html
    html = login_as("operator_b").get("/progress/?year=2027").get_data(as_text=True)
    assert "河湖管理科" in html and "水资源管理科" not in html


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_training_material_is_typed_by_content_and_scoped(app, login_as, plan):
    import io

    _publish(app, plan)
    task_id, _ = _task_from_line(app, plan)
    client = login_as("operator_a")
    token = csrf_token_from(client, "/plans/add")
    ok = client.post(
        f"/task-material/{task_id}/upload",
        data={
            "csrf_token": token,
            "note": "培训课件",
            "file": (io.BytesIO(PDF), "../../etc/课件.pdf"),
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "培训课件" in ok.get_data(as_text=True)
    # A program renamed to .pdf is refused by its content.
    bad = client.post(
        f"/task-material/{task_id}/upload",
        data={"csrf_token": token, "file": (io.BytesIO(b"MZ\x90\x00 not a pdf"), "x.pdf")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "不接受此类文件" in bad.get_data(as_text=True)
    from app.planning.models import TaskAttachment

    with acting(app, "operator_a"):
        attachments = db.session.scalars(select(TaskAttachment)).all()
        assert [a.file_name for a in attachments] == ["课件.pdf"]
        attachment_id = attachments[0].id
    download = client.get(f"/task-material/{attachment_id}")
    assert download.status_code == 200 and download.data == PDF
    assert login_as("operator_b").get(f"/task-material/{attachment_id}").status_code == 404
    assert login_as("operator_b").post(
        f"/task-material/{task_id}/upload", data={"csrf_token": "x"}
    ).status_code in (400, 404)


def test_api_creates_only_checks_outside_the_plan_that_wait_for_a_leader(
    app, api_token, world, directory
):
    client = app.test_client()
    headers = {"Authorization": f"Bearer {api_token('operator_a')}"}
    body = {
        "name": "举报核查",
        "department": world.dept_a,
        "items": [directory.item_a],
        "ratio_a": 100,
        "ratio_b": 100,
        "ratio_c": 100,
        "ratio_d": 100,
        "ratio_special": 100,
        "group_size": 2,
    }
    refused = client.post("/api/v1/task/", json=body, headers=headers)
    assert refused.status_code == 422 and "理由" in refused.get_json()["message"]
    sneaky = client.post(
        "/api/v1/task/",
        json={**body, "approval": "approved", "out_of_plan_reason": "举报"},
        headers=headers,
    )
    assert sneaky.status_code in (400, 422)
    created = client.post(
        "/api/v1/task/", json={**body, "out_of_plan_reason": "群众举报"}, headers=headers
    )
    assert created.status_code == 201, created.get_json()
    shown = client.get(f"/api/v1/task/{created.get_json()['id']}", headers=headers).get_json()
    assert shown["result"]["approval"] == "pending" and shown["result"]["out_of_plan"] is True


def _approved_out_of_plan(app, world, directory):
    with acting(app, "operator_a"):
        item = db.session.get(InspectionItem, directory.item_a)
        task = services.create_out_of_plan_task(_out_of_plan(world, directory, items=[item]))
        db.session.add(task)
        db.session.commit()
        task_id = task.id
    with acting(app, "leader_a"):
        services.decide_out_of_plan_task(db.session.get(SpotCheckTask, task_id), True)
        db.session.commit()
    return task_id


def test_departments_added_after_approval_wait_for_a_new_approval(app, world, directory):
    task_id = _approved_out_of_plan(app, world, directory)
    with acting(app, "operator_a"):
        task = db.session.get(SpotCheckTask, task_id)
        task.name = "群众举报取水核查（补充说明）"
        services.check_task_editable(task)  # a new name is no new check
        assert task.approval == "approved"
        from app.security.models import Department

        task.participating_departments = [db.session.get(Department, world.dept_b)]
        services.check_task_editable(task)
        db.session.commit()
        # Another department taking part is another check: the Leader decides again.
        assert (task.approval, task.approved_by_id) == ("pending", None)
        with pytest.raises(DomainError):
            from app.draws import services as draws

            draws.start_draw(task, "target")
        db.session.rollback()


def test_a_planned_task_keeps_its_plan_lines_departments_and_items(app, world, login_as, plan):
    _publish(app, plan)
    task_id, _number = _task_from_line(app, plan)
    operator = login_as("operator_a")
    url = f"/tasks/edit/{task_id}"
    form = {
        "csrf_token": csrf_token_from(operator, url),
        "name": "取水许可检查",
        "department": str(world.dept_a),
        "group_size": "2",
        "ratio_a": "2",
        "ratio_b": "5",
        "ratio_c": "10",
        "ratio_d": "20",
        "ratio_special": "30",
        "participating_departments": [str(world.dept_b)],
    }
    with acting(app, "operator_a"):
        form["items"] = [str(i.id) for i in db.session.get(SpotCheckTask, task_id).items]
    body = operator.post(url, data=form).get_data(as_text=True)
    assert "如需变更，请调整年度计划" in body, body[:3000]
    with acting(app, "operator_a"):
        assert db.session.get(SpotCheckTask, task_id).participating_departments == []
