"""What is not yet published stays with those who keep the lists: JointOffice and Inspectors
read published items and plans only, and a proposal or an adjustment in the making is not
that (second probe of issue 15). Also: a department-scoped Leader can open a revision's
forms (the scope of a row reached through another table was a 500)."""

import datetime as dt

from app.directory import services as directory_services
from app.directory.models import InspectionItem, ItemRevision
from app.extensions import db
from app.planning import services
from app.planning.models import AnnualPlan
from tests.directory.conftest import acting, directory  # noqa: F401  (fixture)
from tests.planning.conftest import plan  # noqa: F401  (fixture)
from tests.planning.test_plans import _through_publication

SECRET = "秘密调整内容"


def _propose(app, item_id):
    with acting(app, "operator_a"):
        item = db.session.get(InspectionItem, item_id)
        revision = directory_services.propose_revision(item, {"name": SECRET}, "法规修订")
        db.session.commit()
        return revision.id


def test_a_pending_item_revision_shows_only_to_those_who_keep_the_list(
    app,
    login_as,
    directory,  # noqa: F811
):
    _propose(app, directory.item_a)
    page = f"/items/show/{directory.item_a}"
    for reader in ("jointoffice", "inspector_a"):
        body = login_as(reader).get(page).get_data(as_text=True)
        assert "取水许可检查A-001" in body  # the published item itself
        assert SECRET not in body, reader
        assert "/item-revisions/show/" not in body, reader
    keeper = login_as("operator_a").get(page).get_data(as_text=True)
    assert SECRET in keeper


def test_a_plan_being_adjusted_shows_joint_office_the_published_version(app, login_as, plan):  # noqa: F811
    _through_publication(app, plan, dt.date(2027, 2, 10))
    with acting(app, "operator_a"):
        p = db.session.get(AnnualPlan, plan)
        services.revise_plan(p, "机构职能调整", today=dt.date(2027, 5, 6))
        p.lines[0].content = SECRET
        p.lines[0].name = SECRET
        line_id = p.lines[0].id
        db.session.commit()
    office = login_as("jointoffice")
    body = office.get(f"/plans/show/{plan}").get_data(as_text=True)
    assert "取水许可检查" in body  # the published line
    assert SECRET not in body
    assert "机构职能调整" not in body  # the adjustment is not public before republication
    assert office.get(f"/plan-lines/show/{line_id}").status_code in (403, 404)
    listed = office.get("/plan-lines/list/").get_data(as_text=True)
    assert SECRET not in listed
    keeper = login_as("operator_a").get(f"/plans/show/{plan}").get_data(as_text=True)
    assert SECRET in keeper and "机构职能调整" in keeper


def test_a_department_leader_opens_the_return_form_of_a_revision(app, login_as, directory):  # noqa: F811
    revision = _propose(app, directory.item_a)
    leader = login_as("leader_a")
    assert leader.get(f"/item-workflow/reject/{revision}").status_code == 200
    with acting(app, "operator_b"):
        other = db.session.get(InspectionItem, directory.item_b)
        other_revision = directory_services.propose_revision(other, {"name": "乙"}, "修订")
        db.session.commit()
        other_id = other_revision.id
        missing = db.session.query(db.func.max(ItemRevision.id)).scalar() + 100
    # Another department's revision looks exactly like a missing one.
    assert leader.get(f"/item-workflow/reject/{other_id}").status_code == 404
    assert leader.get(f"/item-workflow/reject/{missing}").status_code == 404


def test_a_plan_exempts_only_items_of_its_department(app, login_as, directory, plan):  # noqa: F811
    leader = login_as("leader")
    # Department B's published item is not in department A's list: as missing as no item.
    assert leader.get(f"/plan-workflow/{plan}/exempt/{directory.item_b}").status_code == 404
    assert leader.get(f"/plan-workflow/{plan}/exempt/{10**6}").status_code == 404
    body = leader.get(f"/plan-workflow/{plan}/exempt/{directory.draft_a}").get_data(as_text=True)
    assert "A-002" in body


def test_a_plan_being_adjusted_keeps_its_published_title(app, api_token, client, plan):  # noqa: F811
    _through_publication(app, plan, dt.date(2027, 2, 10))
    headers = {"Authorization": f"Bearer {api_token('operator_a')}"}
    assert (
        client.post(
            f"/api/v1/plan/{plan}/revise", json={"reason": "调整"}, headers=headers
        ).status_code
        == 200
    )
    response = client.put(f"/api/v1/plan/{plan}", json={"title": SECRET}, headers=headers)
    assert response.status_code == 422
    with app.app_context():
        assert db.session.get(AnnualPlan, plan).title == "水资源管理科2027年度抽查计划"
