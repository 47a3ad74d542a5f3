"""The item list (R4, R5.1): drafts by Operators, publication by a Leader, revisions with a
reason kept side by side, retirement with a reason; what the public sees is the published one."""

import json

import pytest
from sqlalchemy import select

from app.core.errors import DomainError
from app.directory import services
from app.directory.models import InspectionItem, ItemRevision
from app.extensions import db
from tests.conftest import csrf_token_from
from tests.directory.conftest import acting


def _item(app, pk):
    with app.app_context():
        item = db.session.get(InspectionItem, pk)
        return {
            "status": item.status,
            "version": item.version,
            "name": item.name,
            "published_on": item.published_on,
            "revisions": [(r.version, r.status, r.reason) for r in item.revisions],
        }


def test_item_without_legal_basis_cannot_be_published(app, world, directory):
    with acting(app, "leader"):
        item = db.session.get(InspectionItem, directory.draft_a)
        item.legal_basis = None
        with pytest.raises(DomainError, match="检查依据"):
            services.publish_item(item)
        db.session.rollback()
    assert _item(app, directory.draft_a)["status"] == "draft"


def test_only_a_leader_publishes(app, world, directory):
    with acting(app, "operator_a"):
        item = db.session.get(InspectionItem, directory.draft_a)
        with pytest.raises(DomainError):
            services.publish_item(item)
        db.session.rollback()
    with acting(app, "leader_a"):
        item = db.session.get(InspectionItem, directory.draft_a)
        services.publish_item(item)
        db.session.commit()
    state = _item(app, directory.draft_a)
    assert state["status"] == "published" and state["version"] == 1
    assert state["revisions"][0][:2] == (1, "published")


def test_a_revision_waits_for_the_leader_and_keeps_the_published_version(app, world, directory):
    with acting(app, "operator_a"):
        item = db.session.get(InspectionItem, directory.item_a)
        with pytest.raises(DomainError, match="理由"):
            services.propose_revision(item, {"name": "新名称"}, "  ")
        services.propose_revision(
            item, {"name": "取水许可及计量设施检查"}, "《取水许可管理办法》修订"
        )
        db.session.commit()
    state = _item(app, directory.item_a)
    assert state["name"] == "取水许可检查A-001"  # still the published version
    assert state["version"] == 1
    assert state["revisions"][-1] == (2, "pending", "《取水许可管理办法》修订")

    with acting(app, "operator_a"):
        item = db.session.get(InspectionItem, directory.item_a)
        with pytest.raises(DomainError, match="等待"):
            services.propose_revision(item, {"name": "再改"}, "又一次")
        db.session.rollback()
    with acting(app, "leader"):
        revision = db.session.get(InspectionItem, directory.item_a).pending_revision
        services.publish_revision(revision)
        db.session.commit()
        changed = json.loads(revision.changed_fields)
    state = _item(app, directory.item_a)
    assert state["name"] == "取水许可及计量设施检查" and state["version"] == 2
    assert changed == {"name": ["取水许可检查A-001", "取水许可及计量设施检查"]}
    assert [v for v, s, _ in state["revisions"]] == [1, 2]


def test_a_returned_revision_changes_nothing(app, world, directory):
    with acting(app, "operator_a"):
        item = db.session.get(InspectionItem, directory.item_a)
        services.propose_revision(item, {"frequency": "每年2次"}, "加大频次")
        db.session.commit()
    with acting(app, "leader"):
        revision = db.session.get(InspectionItem, directory.item_a).pending_revision
        with pytest.raises(DomainError):
            services.reject_revision(revision, "")
        services.reject_revision(revision, "依据不足")
        db.session.commit()
        assert db.session.get(InspectionItem, directory.item_a).frequency == "每年1次"
        assert revision.status == "rejected"


def test_unchanged_revision_is_refused(app, world, directory):
    with acting(app, "operator_a"):
        item = db.session.get(InspectionItem, directory.item_a)
        with pytest.raises(DomainError, match="没有变化"):
            services.propose_revision(item, {}, "无")


def test_retiring_needs_a_reason_and_a_leader(app, world, directory):
    with acting(app, "operator_a"):
        item = db.session.get(InspectionItem, directory.item_a)
        with pytest.raises(DomainError):
            services.retire_item(item, "职权调整")
    with acting(app, "leader"):
        item = db.session.get(InspectionItem, directory.item_a)
        with pytest.raises(DomainError):
            services.retire_item(item, "")
        services.retire_item(item, "行政权力调整，划转至市局")
        db.session.commit()
    state = _item(app, directory.item_a)
    assert state["status"] == "retired"


def test_published_item_cannot_be_edited_in_place_through_the_form(app, login_as, directory):
    client = login_as("operator_a")
    token = csrf_token_from(client, f"/items/edit/{directory.draft_a}")
    response = client.post(
        f"/items/edit/{directory.item_a}",
        data={
            "csrf_token": token,
            "code": "A-001",
            "category": "x",
            "name": "偷改",
            "target_type": "x",
            "item_class": "一般",
            "method": "实地检查",
            "inspecting_body": "x",
            "department": "1",
        },
        follow_redirects=True,
    )
    assert "修订" in response.get_data(as_text=True)
    assert _item(app, directory.item_a)["name"] == "取水许可检查A-001"


def test_revision_page_and_leader_publication_through_the_ui(app, login_as, directory):
    operator = login_as("operator_a")
    page = operator.get(f"/items/show/{directory.item_a}").get_data(as_text=True)
    assert "提出修订" in page
    token = csrf_token_from(operator, f"/item-workflow/revise/{directory.item_a}")
    form = {
        "csrf_token": token,
        "code": "A-001",
        "category": "水资源管理",
        "name": "取水许可检查A-001",
        "target_type": "取水单位",
        "item_class": "重点",
        "method": ["实地检查", "书面检查"],
        "inspecting_body": "东胜区水利局",
        "legal_basis": "《中华人民共和国水法》第四十八条",
        "sampling_ratio": "8",
        "frequency": "每年1次",
        "remarks": "",
        "reason": "提高抽查比例",
    }
    response = operator.post(f"/item-workflow/revise/{directory.item_a}", data=form)
    assert response.status_code == 302
    with app.app_context():
        revision = db.session.scalar(select(ItemRevision).where(ItemRevision.status == "pending"))
        rev_id = revision.id
        assert json.loads(revision.changed_fields)["sampling_ratio"] == ["5", "8"]
    # An Operator cannot publish the revision ...
    response = operator.post(
        "/item-revisions/action_post",
        data={"action": "publish_revision", "rowid": [rev_id], "csrf_token": token, "confirm": "1"},
    )
    assert _item(app, directory.item_a)["version"] == 1
    # ... a Leader can.
    leader = login_as("leader")
    token = csrf_token_from(leader, f"/item-workflow/retire/{directory.item_a}")
    leader.post(
        "/item-revisions/action_post",
        data={"action": "publish_revision", "rowid": [rev_id], "csrf_token": token, "confirm": "1"},
    )
    state = _item(app, directory.item_a)
    assert state["version"] == 2
    page = leader.get(f"/items/show/{directory.item_a}").get_data(as_text=True)
    assert "提高抽查比例" in page and "v2" in page and "v1" in page


def test_leader_publishes_a_draft_with_the_list_action(app, login_as, directory):
    leader = login_as("leader_a")
    token = csrf_token_from(leader, f"/item-workflow/retire/{directory.item_a}")
    leader.post(
        "/items/action_post",
        data={"action": "publish", "rowid": [directory.draft_a], "csrf_token": token, "confirm": "1"},
    )
    assert _item(app, directory.draft_a)["status"] == "published"


def test_operator_cannot_publish_with_the_list_action(app, login_as, directory):
    operator = login_as("operator_a")
    token = csrf_token_from(operator, f"/items/edit/{directory.draft_a}")
    operator.post(
        "/items/action_post",
        data={"action": "publish", "rowid": [directory.draft_a], "csrf_token": token, "confirm": "1"},
    )
    assert _item(app, directory.draft_a)["status"] == "draft"


def test_operator_of_another_department_cannot_revise(app, login_as, directory):
    client = login_as("operator_b")
    assert client.get(f"/item-workflow/revise/{directory.item_a}").status_code == 404
    assert client.get(f"/items/show/{directory.item_a}").status_code == 404


def test_jointoffice_and_inspectors_see_published_items_only(login_as, directory):
    for username in ("jointoffice", "inspector_a"):
        html = login_as(username).get("/items/list/").get_data(as_text=True)
        assert "A-001" in html, username
        assert "A-002" not in html, username  # the draft
    assert login_as("jointoffice").get(f"/items/show/{directory.draft_a}").status_code == 404


def test_item_api_is_scoped_and_draft_only_for_keepers(app, api_token, directory):
    client = app.test_client()
    headers = {"Authorization": f"Bearer {api_token('operator_a')}"}
    codes = {r["code"] for r in client.get("/api/v1/item/", headers=headers).get_json()["result"]}
    assert codes == {"A-001", "A-002"}
    assert client.get(f"/api/v1/item/{directory.item_b}", headers=headers).status_code == 404
    put = client.put(f"/api/v1/item/{directory.item_a}", json={"name": "x"}, headers=headers)
    assert put.status_code == 422
    info = client.get("/api/v1/item/_info", headers=headers).get_json()
    labels = {f["name"]: f["label"] for f in info["add_columns"]}
    assert labels["legal_basis"] == "检查依据"


def test_item_workflow_through_the_api(app, api_token, directory):
    client = app.test_client()
    operator = {"Authorization": f"Bearer {api_token('operator_a')}"}
    leader = {"Authorization": f"Bearer {api_token('leader')}"}

    # An Operator may not publish; a Leader may, and gets the published item back.
    assert (
        client.post(f"/api/v1/item/{directory.draft_a}/publish", headers=operator).status_code
        == 403
    )
    response = client.post(f"/api/v1/item/{directory.draft_a}/publish", headers=leader)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["result"]["status"] == "published"

    # A revision needs a reason; with one it waits for the Leader.
    bad = client.post(
        f"/api/v1/item/{directory.item_a}/revise", json={"frequency": "每年3次"}, headers=operator
    )
    assert bad.status_code == 422 and "理由" in bad.get_json()["message"]
    ok = client.post(
        f"/api/v1/item/{directory.item_a}/revise",
        json={"frequency": "每年3次", "reason": "专项整治后加密检查"},
        headers=operator,
    )
    assert ok.status_code == 200
    assert ok.get_json()["result"]["version"] == 1
    assert (
        client.post(
            f"/api/v1/item/{directory.item_a}/revision/publish", headers=operator
        ).status_code
        == 403
    )
    published = client.post(f"/api/v1/item/{directory.item_a}/revision/publish", headers=leader)
    assert published.get_json()["result"]["version"] == 2
    assert published.get_json()["result"]["frequency"] == "每年3次"

    # Nothing pending any more; retiring needs a reason.
    none = client.post(
        f"/api/v1/item/{directory.item_a}/revision/reject", json={"note": "x"}, headers=leader
    )
    assert none.status_code == 422
    assert (
        client.post(f"/api/v1/item/{directory.item_a}/retire", json={}, headers=leader).status_code
        == 422
    )
    retired = client.post(
        f"/api/v1/item/{directory.item_a}/retire", json={"reason": "职权划转"}, headers=leader
    )
    assert retired.get_json()["result"]["status"] == "retired"


def test_item_workflow_api_respects_scope(app, api_token, directory):
    client = app.test_client()
    headers = {"Authorization": f"Bearer {api_token('leader_a')}"}
    response = client.post(
        f"/api/v1/item/{directory.item_b}/retire", json={"reason": "x"}, headers=headers
    )
    assert response.status_code == 404


def test_the_leader_publishes_a_revision_from_the_item_page_with_an_opinion(
    app, login_as, directory
):
    """Issue 17: the page asks first (the revision replaces the public item for good) and keeps
    the Leader's 意见 on the revision."""
    with acting(app, "operator_a"):
        item = db.session.get(InspectionItem, directory.item_a)
        services.propose_revision(item, {"name": "取水许可及计量设施检查"}, "办法修订")
        db.session.commit()
        rev_id = item.pending_revision.id
    leader = login_as("leader")
    page = leader.get(f"/items/show/{directory.item_a}").get_data(as_text=True)
    assert 'id="revision-publish"' in page and "该修订将立即替换公开清单上已发布的事项" in page
    token = csrf_token_from(leader, f"/items/show/{directory.item_a}")
    url = f"/item-workflow/publish-revision/{rev_id}"
    form = {"csrf_token": token, "opinion": "同意按新办法修订"}
    asked = leader.post(url, data=form)
    assert asked.status_code == 200 and "不能撤销" in asked.get_data(as_text=True)
    assert _item(app, directory.item_a)["version"] == 1
    # An Operator cannot publish it, confirmed or not.
    operator = login_as("operator_a")
    operator_token = csrf_token_from(operator, f"/items/edit/{directory.draft_a}")
    denied = operator.post(url, data={"csrf_token": operator_token, "confirm": "1"})
    assert denied.status_code == 403
    assert leader.post(url, data={**form, "confirm": "1"}).status_code == 302
    assert _item(app, directory.item_a)["version"] == 2
    shown = leader.get(f"/item-revisions/show/{rev_id}").get_data(as_text=True)
    assert "同意按新办法修订" in shown and "审定意见" in shown
