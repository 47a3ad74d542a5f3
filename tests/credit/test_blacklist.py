"""The dishonesty blacklist (R12): suggestions, proposals, the department review, the Leader's
decision, publication and removal, each step allowed to its role and scope only, audited, and
never a listing without evidence."""

import datetime as dt

from sqlalchemy import select

from app.core.audit.models import AuditLog
from app.credit.models import BlacklistEntry
from app.directory.models import Target
from app.extensions import db
from app.inspections import services as inspections
from app.inspections.models import InspectionRecord
from tests.conftest import csrf_token_from
from tests.credit.conftest import close_as
from tests.directory.conftest import acting


def _entry_of(app, target_id) -> BlacklistEntry:
    with app.app_context():
        entry = db.session.scalars(
            select(BlacklistEntry)
            .where(BlacklistEntry.target_id == target_id)
            .order_by(BlacklistEntry.id.desc())
        ).first()
        db.session.expunge(entry)
        return entry


def _listed_on(app, target_id):
    with app.app_context():
        return db.session.get(Target, target_id).listed_on


def test_a_refused_rectification_is_suggested_never_listed(app, refused, login_as):
    entry = _entry_of(app, refused.target)
    assert (entry.status, entry.origin, entry.basis) == ("suggested", "system", "refused")
    assert entry.case_id == refused.case
    assert _listed_on(app, refused.target) is None
    public = login_as("leader_a").get("/public/blacklist").get_data(as_text=True)
    assert "检查对象" not in public and "东胜" not in public.split("<main")[1]


def test_every_step_is_its_roles_and_departments(app, world, refused, operator_a2, login_as):
    entry_id = _entry_of(app, refused.target).id
    url = f"/api/v1/blacklist/{entry_id}"
    operator, operator2 = login_as("operator_a"), login_as("operator_a2")
    leader, inspector = login_as("leader_a"), login_as("inspector_a")
    other_department, office = login_as("operator_b"), login_as("jointoffice")

    # The system's suggestion is not an inspector's, nor department B's to see.
    assert inspector.get(url).status_code == 404
    assert other_department.get(url).status_code == 404
    assert office.get(url).status_code == 404  # not published
    assert leader.post(f"{url}/propose").status_code == 403
    response = operator.put(url, json={"reasons": "整改期满后复查仍未安装，拒不整改"})
    assert response.status_code == 200, response.get_json()
    assert operator.post(f"{url}/propose").status_code == 200
    assert operator.put(url, json={"reasons": "改"}).status_code == 422  # no longer a draft

    # Department review: by someone else of the listing department, never by a Leader.
    response = operator.post(f"{url}/review", json={"passed": True})
    assert response.status_code == 422 and "提议人" in response.get_json()["message"]
    assert leader.post(f"{url}/review", json={"passed": True}).status_code == 403
    assert other_department.post(f"{url}/review", json={"passed": True}).status_code == 404
    response = operator2.post(f"{url}/review", json={"passed": False, "comment": ""})
    assert response.status_code == 422
    assert operator2.post(f"{url}/review", json={"passed": True}).status_code == 200

    # The Leader decides; an Operator cannot.
    body = {"decision_number": "东水信〔2027〕1号", "period_months": 36}
    assert operator.post(f"{url}/approve", json=body).status_code == 403
    response = leader.post(f"{url}/approve", json={"period_months": 36})
    assert response.status_code == 422 and "文号" in response.get_json()["message"]
    response = leader.post(f"{url}/approve", json={**body, "period_months": 61})
    assert response.status_code == 422
    response = leader.post(f"{url}/approve", json=body)
    assert response.status_code == 200, response.get_json()
    result = response.get_json()["result"]
    assert result["status"] == "listed" and result["listed_on"] == dt.date.today().isoformat()
    assert _listed_on(app, refused.target) == dt.date.today()

    # Published by the department; the public sees it only then.
    assert "东水信〔2027〕1号" not in login_as("leader").get("/public/blacklist").get_data(
        as_text=True
    )
    assert inspector.post(f"{url}/publish").status_code == 403
    assert operator.post(f"{url}/publish").status_code == 200
    assert operator.post(f"{url}/publish").status_code == 422  # once
    assert office.get(url).status_code == 200  # the joint-meeting office reads what is published

    # Removal: its own proposal and decision.
    assert leader.post(f"{url}/remove", json={"kind": "repair", "reason": "x"}).status_code == 403
    response = operator.post(f"{url}/remove", json={"kind": "expired", "reason": "期满"})
    assert response.status_code == 422 and "信用修复" in response.get_json()["message"]
    assert operator.post(f"{url}/remove", json={"kind": "repair"}).status_code == 422
    repair = {"kind": "repair", "reason": "已安装计量设施并缴纳罚款，申请信用修复"}
    assert operator.post(f"{url}/remove", json=repair).status_code == 200
    assert _listed_on(app, refused.target) == dt.date.today()  # listed until decided
    assert leader.post(f"{url}/reject", json={"reason": ""}).status_code == 422
    assert leader.post(f"{url}/reject", json={"reason": "整改材料不全"}).status_code == 200
    assert _entry_of(app, refused.target).status == "listed"
    assert operator.post(f"{url}/remove", json=repair).status_code == 200
    response = leader.post(f"{url}/approve", json={"decision_number": "东水信〔2027〕2号"})
    assert response.status_code == 200 and response.get_json()["result"]["status"] == "removed"
    assert _listed_on(app, refused.target) is None

    # The history stays, step by step, and every step is in the audit log.
    entry = _entry_of(app, refused.target)
    with app.app_context():
        entry = db.session.get(BlacklistEntry, entry.id)
        steps = [e.action for e in entry.events]
        audited = db.session.scalars(
            select(AuditLog.action).where(
                AuditLog.object_type == "blacklist_entry",
                AuditLog.object_id == str(entry.id),
                AuditLog.action.like("blacklist_%"),
            )
        ).all()
    assert steps == [
        "suggest",
        "propose",
        "review",
        "approve",
        "publish",
        "propose_removal",
        "reject_removal",
        "propose_removal",
        "approve_removal",
    ]
    assert sorted(audited) == sorted(f"blacklist_{s}" for s in steps)
    page = leader.get(f"/blacklist/show/{entry.id}").get_data(as_text=True)
    assert "东水信〔2027〕2号" in page and "整改材料不全" in page
    public = login_as("leader").get("/public/blacklist").get_data(as_text=True)
    assert "东水信〔2027〕1号" in public and dt.date.today().isoformat() in public


def test_a_leader_refuses_and_the_target_is_not_listed(app, refused, operator_a2, login_as):
    entry_id = _entry_of(app, refused.target).id
    url = f"/api/v1/blacklist/{entry_id}"
    operator = login_as("operator_a")
    operator.put(url, json={"reasons": "拒不整改"})
    assert operator.post(f"{url}/propose").status_code == 200
    assert login_as("operator_a2").post(f"{url}/review", json={"passed": True}).status_code == 200
    leader = login_as("leader_a")
    assert (
        leader.post(f"{url}/reject", json={"reason": "证据不足，需补充复查记录"}).status_code == 200
    )
    entry = _entry_of(app, refused.target)
    assert entry.status == "rejected" and entry.rejection_reason == "证据不足，需补充复查记录"
    assert _listed_on(app, refused.target) is None
    assert leader.post(f"{url}/publish").status_code == 422  # nothing to publish
    # The rejected entry closes: a new proposal for the target may start later.
    assert (
        operator.post(
            f"/blacklist-workflow/open/case/{refused.case}",
            data={"csrf_token": csrf_token_from(operator, f"/rectifications/show/{refused.case}")},
        ).status_code
        == 302
    )
    assert _entry_of(app, refused.target).status == "draft"


def test_no_listing_without_evidence(app, world, refused, login_as):
    operator = login_as("operator_a")
    response = operator.post("/api/v1/blacklist/", json={"basis": "refused", "reasons": "x"})
    assert response.status_code == 422  # the listing department is required
    response = operator.post(
        "/api/v1/blacklist/", json={"basis": "refused", "department": world.dept_a}
    )
    assert response.status_code == 422 and "整改案件" in response.get_json()["message"]
    # The target has its open suggestion already: one open entry per target.
    response = operator.post(
        "/api/v1/blacklist/",
        json={"case": refused.case, "basis": "refused", "department": world.dept_a},
    )
    assert response.status_code == 422 and "尚未办结" in response.get_json()["message"]
    url = f"/api/v1/blacklist/{_entry_of(app, refused.target).id}"
    # The basis must be what the evidence shows.
    operator.put(url, json={"basis": "penalty", "reasons": "受到处罚"})
    response = operator.post(f"{url}/propose")
    assert response.status_code == 422 and "处罚决定" in response.get_json()["message"]
    operator.put(url, json={"basis": "inadequate"})
    response = operator.post(f"{url}/propose")
    assert response.status_code == 422 and "整改不到位" in response.get_json()["message"]
    operator.put(url, json={"basis": "refused", "reasons": ""})
    response = operator.post(f"{url}/propose")
    assert response.status_code == 422 and "理由" in response.get_json()["message"]
    # A case of another target is refused as evidence.
    other_case = close_as(app, refused.other_record, "rectified")
    response = operator.put(url, json={"case": other_case})
    assert response.status_code == 422
    assert _entry_of(app, refused.target).status == "suggested"


def test_a_penalty_is_suggested_and_a_suggestion_can_be_set_aside(app, inspected, login_as):
    from tests.inspections.conftest import PENALTY_FIELDS, enter_all

    ids = enter_all(
        app,
        inspected,
        problems="超许可取水",
        result_code="发现问题待后续处理",
        result_detail="违反水资源管理规定",
        follow_up="立案查处",
    )
    with acting(app, "operator_a"):
        record = db.session.get(InspectionRecord, ids[0])
        inspections.add_penalty(
            record,
            "东水罚〔2027〕3号",
            dt.date.today(),
            "罚款二万元",
            **PENALTY_FIELDS,
        )
        db.session.commit()
        target_id = record.target_id
    entry = _entry_of(app, target_id)
    assert (entry.status, entry.basis, entry.origin) == ("suggested", "penalty", "system")
    assert "东水罚〔2027〕3号" in entry.reasons
    url = f"/api/v1/blacklist/{entry.id}"
    operator = login_as("operator_a")
    assert login_as("inspector_a").post(f"{url}/dismiss", json={"reason": "x"}).status_code in (
        403,
        404,
    )
    assert operator.post(f"{url}/dismiss", json={"reason": ""}).status_code == 422
    response = operator.post(f"{url}/dismiss", json={"reason": "首次违法且已改正，暂不列入"})
    assert response.status_code == 200 and response.get_json()["result"]["status"] == "dismissed"


def test_an_inspector_proposes_from_their_record(app, refused, operator_a2, login_as):
    inspector = login_as("inspector_a")
    # The system's suggestion holds the target's open place: set it aside first.
    suggestion = _entry_of(app, refused.target).id
    response = login_as("operator_a").post(
        f"/api/v1/blacklist/{suggestion}/dismiss", json={"reason": "由检查人员另行提议"}
    )
    assert response.status_code == 200
    token = csrf_token_from(inspector, f"/records/show/{refused.record}")
    response = inspector.post(
        f"/blacklist-workflow/open/record/{refused.record}", data={"csrf_token": token}
    )
    assert response.status_code == 302
    entry = _entry_of(app, refused.target)
    assert (entry.status, entry.origin) == ("draft", "inspector")
    url = f"/api/v1/blacklist/{entry.id}"
    response = inspector.put(url, json={"case": refused.case, "reasons": "复查拒不整改"})
    assert response.status_code == 200, response.get_json()
    assert inspector.post(f"{url}/propose").status_code == 200
    assert inspector.post(f"{url}/review", json={"passed": True}).status_code == 403
    assert inspector.get(url).get_json()["result"]["status"] == "proposed"
    # Another inspector's proposals, and other records, stay out of reach.
    response = inspector.get("/api/v1/blacklist/")
    assert [r["id"] for r in response.get_json()["result"]] == [entry.id]
    # The department review and the decision follow as for any proposal.
    assert login_as("operator_a").post(f"{url}/review", json={"passed": True}).status_code == 200


def test_pages_show_the_workflow_and_the_badge(app, refused, operator_a2, login_as):
    entry_id = _entry_of(app, refused.target).id
    with acting(app, "operator_a"):
        from app.credit import services

        entry = db.session.get(BlacklistEntry, entry_id)
        entry.reasons = "拒不整改"
        services.propose(entry)
        db.session.commit()
    with acting(app, "operator_a2"):
        services.review(db.session.get(BlacklistEntry, entry_id), True, "同意")
        db.session.commit()
    leader = login_as("leader_a")
    page = leader.get(f"/blacklist/show/{entry_id}").get_data(as_text=True)
    assert "BlacklistWorkflowView" not in page and f"/blacklist-workflow/{entry_id}/approve" in page
    assert "决定立即对该检查对象生效" in page and 'name="opinion"' in page  # dialog, 意见
    token = csrf_token_from(leader, f"/blacklist/show/{entry_id}")
    decision = {
        "csrf_token": token,
        "decision_number": "东水信〔2027〕5号",
        "period_months": "24",
        "opinion": "拒不整改情节严重，同意列入",
    }
    # Unconfirmed (no dialog): the confirmation page, nothing listed.
    asked = leader.post(f"/blacklist-workflow/{entry_id}/approve", data=decision)
    assert asked.status_code == 200 and "不能撤销" in asked.get_data(as_text=True)
    assert _entry_of(app, refused.target).status == "reviewed"
    response = leader.post(
        f"/blacklist-workflow/{entry_id}/approve", data={**decision, "confirm": "1"}
    )
    assert response.status_code == 302
    entry = _entry_of(app, refused.target)
    assert entry.status == "listed" and entry.period_months == 24
    history = leader.get(f"/blacklist/show/{entry_id}").get_data(as_text=True)
    assert "意见：拒不整改情节严重，同意列入" in history
    # Without the token nothing happens.
    response = leader.post(f"/blacklist-workflow/{entry_id}/reject", data={"reason": "x"})
    assert response.status_code == 400
    # The badge wherever the target appears.
    operator = login_as("operator_a")
    for url in (
        "/targets/list/",
        f"/targets/show/{refused.target}",
        f"/records/show/{refused.record}",
        "/records/list/",
        "/blacklist/list/",
    ):
        page = operator.get(url).get_data(as_text=True)
        assert "起列入失信黑名单" in page, url  # the badge's title, not the menu's label
    page = operator.get(f"/rectifications/show/{refused.case}").get_data(as_text=True)
    assert "起列入失信黑名单" in page
    inspector = login_as("inspector_a").get("/my-assignments/").get_data(as_text=True)
    assert "起列入失信黑名单" in inspector


def test_an_inspector_does_not_learn_the_status_of_an_entry_he_cannot_see(
    app, world, refused, login_as
):
    # The target's open place is held by the system's suggestion, which the inspector cannot
    # read: he learns that the place is taken, not what holds it.
    inspector = login_as("inspector_a")
    response = inspector.post(
        "/api/v1/blacklist/",
        json={"records": [refused.record], "basis": "refused", "department": world.dept_a},
    )
    assert response.status_code == 422
    message = response.get_json()["message"]
    assert "尚未办结" in message and "由其所属部门继续办理" in message
    assert "系统建议" not in message
    # The Operator, who sees the entry, is told what it is.
    response = login_as("operator_a").post(
        "/api/v1/blacklist/",
        json={"case": refused.case, "basis": "refused", "department": world.dept_a},
    )
    assert "系统建议" in response.get_json()["message"]
