"""The annual plan (R9): lines of published items, coverage, the workflow by role, the late
flag after February, adjustments with a 10-working-day deadline, filing."""

import datetime as dt
import json
from decimal import Decimal

import pytest

from app.core.errors import DomainError
from app.directory.models import InspectionItem
from app.extensions import db
from app.planning import services
from app.planning.models import AnnualPlan, PlanLine
from tests.conftest import csrf_token_from
from tests.directory.conftest import acting


def _plan(app, pk):
    with app.app_context():
        return db.session.get(AnnualPlan, pk)


def _through_publication(app, pk, published_on):
    with acting(app, "operator_a"):
        services.submit_plan(db.session.get(AnnualPlan, pk))
        db.session.commit()
    with acting(app, "leader_a"):
        services.approve_plan(db.session.get(AnnualPlan, pk))
        db.session.commit()
    with acting(app, "operator_a"):
        services.publish_plan(db.session.get(AnnualPlan, pk), today=published_on)
        db.session.commit()


def test_the_whole_workflow_by_role(app, plan):
    with acting(app, "operator_a"):
        p = db.session.get(AnnualPlan, plan)
        with pytest.raises(DomainError):
            services.approve_plan(p)  # an Operator does not approve
        services.submit_plan(p)
        db.session.commit()
    with acting(app, "leader_a"):
        p = db.session.get(AnnualPlan, plan)
        with pytest.raises(DomainError):
            services.return_plan(p, "")  # a return needs a comment
        services.return_plan(p, "请补充特殊监管对象比例")
        db.session.commit()
    assert _plan(app, plan).status == "draft"
    assert _plan(app, plan).return_comment == "请补充特殊监管对象比例"
    _through_publication(app, plan, dt.date(2027, 2, 20))
    with acting(app, "operator_a"):
        p = db.session.get(AnnualPlan, plan)
        services.file_plan(p, b"csv", today=dt.date(2027, 2, 21))
        db.session.commit()
        assert (p.status, p.filed_on) == ("filed", dt.date(2027, 2, 21))
        assert len(p.filing_sha256) == 64
        assert p.late_days() == 0


def test_a_plan_cannot_be_published_before_approval(app, plan):
    with acting(app, "operator_a"):
        with pytest.raises(DomainError):
            services.publish_plan(db.session.get(AnnualPlan, plan))


@pytest.mark.parametrize(
    "year, published_on, late",
    [
        (2027, dt.date(2027, 2, 28), 0),
        (2027, dt.date(2027, 3, 1), 1),
        (2028, dt.date(2028, 2, 29), 0),
        (2028, dt.date(2028, 3, 10), 10),
    ],
)
def test_publication_after_february_is_late_by_the_number_of_days(year, published_on, late):
    plan = AnnualPlan(year=year, first_published_on=published_on)
    assert plan.late_days() == late


def test_an_unpublished_plan_is_late_already(app):
    plan = AnnualPlan(year=2027)
    assert plan.late_days(today=dt.date(2027, 3, 5)) == 5
    assert plan.late_days(today=dt.date(2027, 1, 5)) == 0


def test_uncovered_items_block_submission_until_a_leader_records_why(app, world, directory, plan):
    with acting(app, "operator_a"):
        extra = InspectionItem(
            code="A-003",
            department_id=world.dept_a,
            category="节约用水",
            name="计划用水检查",
            target_type="用水大户",
            item_class="一般",
            method="书面检查",
            inspecting_body="局",
            legal_basis="《节约用水条例》",
            status="published",
            version=1,
        )
        db.session.add(extra)
        db.session.commit()
        extra_id = extra.id
        p = db.session.get(AnnualPlan, plan)
        assert [i.code for i in services.uncovered_items(p)] == ["A-003"]
        with pytest.raises(DomainError, match="A-003"):
            services.submit_plan(p)
        with pytest.raises(DomainError):
            services.exempt_item(p, extra, "本年度无此类对象")  # Operators do not exempt
        db.session.rollback()
    with acting(app, "leader_a"):
        p = db.session.get(AnnualPlan, plan)
        services.exempt_item(p, db.session.get(InspectionItem, extra_id), "本年度辖区无用水大户")
        db.session.commit()
    with acting(app, "operator_a"):
        services.submit_plan(db.session.get(AnnualPlan, plan))
        db.session.commit()
    assert _plan(app, plan).status == "submitted"


def test_special_targets_never_get_a_lower_ratio_than_any_class(app, plan):
    with acting(app, "operator_a"):
        line = db.session.get(AnnualPlan, plan).lines[0]
        line.ratio_special = 10
        with pytest.raises(DomainError, match="20"):
            services.check_line(line)
        db.session.rollback()


def test_a_class_can_be_left_out_with_a_ratio_of_zero(app, plan):
    """0 draws none of a class (the form's default); only negative or above 100 is refused."""
    with acting(app, "operator_a"):
        line = db.session.get(AnnualPlan, plan).lines[0]
        line.ratio_a, line.ratio_c = Decimal("0.00"), "0"
        services.check_line(line)
        assert line.ratio_a == 0 and line.ratio_c == 0
        for bad in ("-1", "101", "abc"):
            line.ratio_a = bad
            with pytest.raises(DomainError, match="A类"):
                services.check_line(line)
        db.session.rollback()


def test_a_line_takes_published_items_only(app, directory, plan):
    with acting(app, "operator_a"):
        line = PlanLine(
            plan_id=plan,
            name="草稿事项",
            method="实地检查",
            ratio_a=5,
            ratio_special=5,
            items=[db.session.get(InspectionItem, directory.draft_a)],
        )
        with pytest.raises(DomainError, match="A-002"):
            services.check_line(line)
        db.session.rollback()


def test_adjustment_is_due_in_ten_working_days_across_national_day(app, plan):
    _through_publication(app, plan, dt.date(2027, 2, 10))
    with acting(app, "operator_a"):
        p = db.session.get(AnnualPlan, plan)
        with pytest.raises(DomainError):
            services.revise_plan(p, " ")
        # 2026-09-28 (Mon) + 10 working days: 9/29, 9/30, [10/1–10/7 National Day], 10/8, 10/9,
        # 10/10 (调休 Saturday), 10/12, 10/13, 10/14, 10/15, 10/16.
        revision = services.revise_plan(p, "机构职能调整", today=dt.date(2026, 9, 28))
        db.session.commit()
        assert revision.due_on == dt.date(2026, 10, 16)
        assert revision.due_confirmed
        assert p.status == "draft" and p.revision_no == 1
        assert revision.overdue(today=dt.date(2026, 10, 17))
        assert not revision.overdue(today=dt.date(2026, 10, 16))


def test_adjustment_in_an_unconfirmed_year_is_flagged(app, plan):
    _through_publication(app, plan, dt.date(2027, 2, 10))
    with acting(app, "operator_a"):
        revision = services.revise_plan(
            db.session.get(AnnualPlan, plan), "调整", today=dt.date(2027, 6, 1)
        )
        assert not revision.due_confirmed


def test_revisions_keep_before_and_after_and_close_on_refiling(app, plan):
    _through_publication(app, plan, dt.date(2027, 2, 10))
    with acting(app, "operator_a"):
        p = db.session.get(AnnualPlan, plan)
        services.revise_plan(p, "提高D类比例", today=dt.date(2027, 5, 6))
        p.lines[0].ratio_d = 25
        p.lines[0].ratio_special = 35
        db.session.commit()
    _through_publication(app, plan, dt.date(2027, 5, 10))
    with acting(app, "operator_a"):
        p = db.session.get(AnnualPlan, plan)
        services.file_plan(p, b"csv v1", today=dt.date(2027, 5, 12))
        db.session.commit()
        revision = p.revisions[0]
        assert revision.republished_on == dt.date(2027, 5, 10)
        assert revision.refiled_on == dt.date(2027, 5, 12)
        assert p.open_revision is None
        diff = services.snapshot_diff(json.loads(revision.before), json.loads(revision.after))
        assert any("D类 25%" in after for _, _, after in diff)
        assert p.first_published_on == dt.date(2027, 2, 10)  # lateness counts the original


def test_a_published_plan_is_not_edited_in_place(app, plan):
    _through_publication(app, plan, dt.date(2027, 2, 10))
    with acting(app, "operator_a"):
        p = db.session.get(AnnualPlan, plan)
        p.title = "偷改"
        with pytest.raises(DomainError, match="调整"):
            services.check_plan_editable(p)
        db.session.rollback()


def test_one_plan_per_department_and_year(app, world, plan):
    with acting(app, "operator_a"):
        with pytest.raises(DomainError, match="2027"):
            services.check_plan(AnnualPlan(department_id=world.dept_a, year=2027, title="第二份"))


def test_plan_pages_and_workflow_buttons(app, login_as, plan):
    operator = login_as("operator_a")
    page = operator.get(f"/plans/show/{plan}").get_data(as_text=True)
    assert "提交领导审批" in page and "取水许可检查" in page
    assert "全部已发布事项均已纳入计划" in page
    token = csrf_token_from(operator, "/plans/add")
    assert (
        operator.post(f"/plan-workflow/{plan}/submit", data={"csrf_token": token}).status_code
        == 302
    )
    assert _plan(app, plan).status == "submitted"
    # The Operator has no approve button and cannot post the step either.
    assert (
        operator.post(f"/plan-workflow/{plan}/approve", data={"csrf_token": token}).status_code
        == 403
    )
    leader = login_as("leader_a")
    assert "批准" in leader.get(f"/plans/show/{plan}").get_data(as_text=True)
    leader_token = csrf_token_from(leader, f"/plan-workflow/{plan}/return")
    leader.post(f"/plan-workflow/{plan}/approve", data={"csrf_token": leader_token})
    assert _plan(app, plan).status == "approved"
    operator.post(f"/plan-workflow/{plan}/publish", data={"csrf_token": token, "confirm": "1"})
    assert _plan(app, plan).status == "published"
    csv_file = operator.get(f"/plan-workflow/{plan}/filing")
    assert csv_file.data.startswith("\ufeff".encode()) and "计划名称".encode() in csv_file.data
    operator.post(f"/plan-workflow/{plan}/filing", data={"csrf_token": token, "confirm": "1"})
    assert _plan(app, plan).status == "filed"
    assert operator.post(f"/plan-workflow/{plan}/submit").status_code == 400  # no CSRF token


def test_other_departments_and_the_joint_office(app, login_as, plan):
    assert login_as("operator_b").get(f"/plans/show/{plan}").status_code == 404
    assert login_as("operator_b").post(
        f"/plan-workflow/{plan}/submit", data={"csrf_token": "x"}
    ).status_code in (400, 404)
    joint = login_as("jointoffice")
    assert joint.get(f"/plans/show/{plan}").status_code == 404  # a draft
    _through_publication(app, plan, dt.date(2027, 2, 10))
    assert joint.get(f"/plans/show/{plan}").status_code == 200


def test_plan_api_workflow_and_roles(app, api_token, plan):
    client = app.test_client()
    operator = {"Authorization": f"Bearer {api_token('operator_a')}"}
    leader = {"Authorization": f"Bearer {api_token('leader_a')}"}
    other = {"Authorization": f"Bearer {api_token('operator_b')}"}
    assert client.post(f"/api/v1/plan/{plan}/submit", headers=other).status_code == 404
    assert client.post(f"/api/v1/plan/{plan}/submit", headers=operator).status_code == 200
    assert client.post(f"/api/v1/plan/{plan}/approve", headers=operator).status_code == 403
    returned = client.post(f"/api/v1/plan/{plan}/return", json={}, headers=leader)
    assert returned.status_code == 422
    client.post(f"/api/v1/plan/{plan}/return", json={"comment": "补充内容"}, headers=leader)
    client.post(f"/api/v1/plan/{plan}/submit", headers=operator)
    assert client.post(f"/api/v1/plan/{plan}/approve", headers=leader).status_code == 200
    assert (
        client.post(f"/api/v1/plan/{plan}/publish", headers=operator).get_json()["result"]["status"]
        == "published"
    )
    assert (
        client.post(f"/api/v1/plan/{plan}/file", headers=operator).get_json()["result"]["status"]
        == "filed"
    )
    revised = client.post(
        f"/api/v1/plan/{plan}/revise", json={"reason": "职能调整"}, headers=operator
    )
    assert revised.get_json()["result"]["revision_no"] == 1


def test_a_line_is_added_through_the_form_with_its_multi_choice_scope(
    app, login_as, directory, plan
):
    client = login_as("operator_a")
    token = csrf_token_from(client, "/plan-lines/add")
    response = client.post(
        "/plan-lines/add",
        data={
            "csrf_token": token,
            "plan": plan,
            "name": "高风险取水户检查",
            "items": [directory.item_a],
            "method": "实地检查",
            "ratio_a": "3",
            "ratio_b": "3",
            "ratio_c": "5",
            "ratio_d": "10",
            "ratio_special": "20",
            "target_types": ["企业", "个体工商户"],
            "risk_classes": ["C", "D"],
        },
    )
    assert response.status_code == 302
    with acting(app, "operator_a"):
        line = next(
            li for li in db.session.get(AnnualPlan, plan).lines if li.name == "高风险取水户检查"
        )
        assert (line.target_types, line.risk_classes) == ("企业、个体工商户", "C、D")
    # A special-target ratio below the highest class ratio is refused on the form too.
    response = client.post(
        "/plan-lines/add",
        data={
            "csrf_token": token,
            "plan": plan,
            "name": "比例倒挂",
            "items": [directory.item_a],
            "method": "实地检查",
            "ratio_a": "3",
            "ratio_b": "3",
            "ratio_c": "5",
            "ratio_d": "10",
            "ratio_special": "5",
        },
        follow_redirects=True,
    )
    assert "特殊监管对象的抽查比例不得低于" in response.get_data(as_text=True)
