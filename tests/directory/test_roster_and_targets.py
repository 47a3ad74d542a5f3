"""The inspector roster (R6) and the target directory (R8.1): drawability, masking, validated
codes, history, list filters, and department scope on every resource."""

import datetime as dt
import re

import pytest
from sqlalchemy import select

from app.core.errors import DomainError
from app.directory import services
from app.directory.models import Inspector, Target
from app.extensions import db
from tests.conftest import csrf_token_from
from tests.directory.conftest import acting, citizen_id, uscc

TODAY = dt.date.today()


def test_drawable_means_on_duty_with_a_valid_certificate():
    inspector = Inspector(name="x", status="在岗", certificate_expiry=TODAY)
    assert inspector.is_drawable(TODAY)
    assert not inspector.is_drawable(TODAY + dt.timedelta(days=1))
    assert len(inspector.not_drawable_reasons(TODAY + dt.timedelta(days=1))) == 1
    inspector.status = "离岗"
    assert not inspector.is_drawable(TODAY)


def test_roster_list_masks_phones_and_says_who_is_not_drawable_and_why(app, login_as, directory):
    with acting(app, "operator_a"):
        inspector = db.session.get(Inspector, directory.inspector_a)
        inspector.certificate_expiry = TODAY - dt.timedelta(days=3)
        db.session.commit()
    html = login_as("operator_a").get("/inspectors/list/").get_data(as_text=True)
    assert "138****1234" in html and "13847701234" not in html
    assert "不可抽取" in html and "执法证已于" in html


def test_inspector_page_masks_the_id_number_and_shows_status_history(app, login_as, directory):
    with acting(app, "operator_a"):
        inspector = db.session.get(Inspector, directory.inspector_a)
        inspector.status = "离岗"
        db.session.commit()
    html = (
        login_as("operator_a")
        .get(f"/inspectors/show/{directory.inspector_a}")
        .get_data(as_text=True)
    )
    assert citizen_id(1) not in html
    assert citizen_id(1)[:4] + "*" * 10 + citizen_id(1)[-4:] in html
    assert "变更历史" in html and "在岗" in html and "离岗" in html


def test_drawable_filter_on_the_roster(app, login_as, directory):
    with acting(app, "operator_a"):
        db.session.add(
            Inspector(
                name="过期者",
                department_id=db.session.get(Inspector, directory.inspector_a).department_id,
                certificate_no="C-A-2",
                certificate_expiry=TODAY - dt.timedelta(days=1),
                status="在岗",
            )
        )
        db.session.commit()
    client = login_as("operator_a")
    yes = client.get("/inspectors/list/?_flt_0_status=是").get_data(as_text=True)
    no = client.get("/inspectors/list/?_flt_0_status=否").get_data(as_text=True)
    assert "王建国" in yes and "过期者" not in yes
    assert "过期者" in no and "王建国" not in no


def test_certificate_numbers_are_unique(app, world, directory):
    with acting(app, "operator_a"):
        twin = Inspector(
            name="重复",
            department_id=world.dept_a,
            certificate_no="C-A-1",
            certificate_expiry=TODAY,
            status="在岗",
        )
        with pytest.raises(DomainError, match="已登记"):
            services.check_inspector(twin)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"uscc": "91150602MA0T000019"}, "校验码"),
        ({"uscc": None}, "统一社会信用代码"),
        ({"target_type": "自然人", "uscc": None, "id_number": "150602198001011235"}, "校验码"),
        ({"risk_class": "E"}, "信用风险等级"),
        ({"flags": "投诉举报多、黑名单"}, "特殊监管标记"),
        ({"industry": "外星产业"}, "行业类别"),
    ],
)
def test_target_rules_refuse_bad_values_with_chinese_messages(app, world, changes, message):
    with acting(app, "operator_a"):
        values = dict(
            department_id=world.dept_a,
            target_type="企业",
            name="甲公司",
            uscc=uscc(9),
            registration_status="存续",
            risk_class="B",
        )
        values.update(changes)
        with pytest.raises(DomainError, match=message):
            services.check_target(Target(**values))


def test_uscc_is_unique_among_live_targets_only(app, world, directory):
    with acting(app, "operator_a"):
        twin = Target(
            department_id=world.dept_a,
            target_type="企业",
            name="同码公司",
            uscc=uscc(1),
            registration_status="存续",
            risk_class="B",
        )
        with pytest.raises(DomainError, match="存续"):
            services.check_target(twin)
        twin.registration_status = "注销"
        services.check_target(twin)  # a closed target may keep the old code


def test_a_natural_person_is_identified_by_citizen_id(app, world):
    with acting(app, "operator_a"):
        person = Target(
            department_id=world.dept_a,
            target_type="自然人",
            name="张三",
            id_number=citizen_id(7).lower(),
            registration_status="存续",
            risk_class="B",
        )
        services.check_target(person)
        assert person.id_number == citizen_id(7).upper()


def test_closed_target_stays_listed_but_is_not_drawable(app, login_as, directory):
    with acting(app, "operator_a"):
        target = db.session.get(Target, directory.target_a)
        target.registration_status = "吊销"
        db.session.commit()
        assert not target.is_drawable()
    client = login_as("operator_a")
    html = client.get("/targets/list/").get_data(as_text=True)
    assert "东胜水务有限公司" in html
    drawable = client.get("/targets/list/?_flt_0_registration_status=是")
    assert "东胜水务有限公司" not in drawable.get_data(as_text=True)
    page = client.get(f"/targets/show/{directory.target_a}").get_data(as_text=True)
    assert "不可抽取" in page and "登记状态为吊销" in page
    assert "变更历史" in page and "存续" in page and "吊销" in page


def test_target_list_filters_and_count(app, login_as, directory):
    with acting(app, "operator_a"):
        target = db.session.get(Target, directory.target_a)
        target.last_inspected_on = TODAY - dt.timedelta(days=30)
        target.flags = "失信"
        db.session.add(
            Target(
                department_id=target.department_id,
                target_type="企业",
                name="未检公司",
                uscc=uscc(3),
                registration_status="存续",
                risk_class="A",
            )
        )
        db.session.commit()
    client = login_as("operator_a")
    recent = client.get("/targets/list/?_flt_0_last_inspected_on=12")
    text = recent.get_data(as_text=True)
    assert "东胜水务有限公司" in text and "未检公司" not in text
    never = client.get("/targets/list/?_flt_1_last_inspected_on=12")
    assert "未检公司" in never.get_data(as_text=True)
    flagged = client.get("/targets/list/?_flt_0_flags=失信").get_data(as_text=True)
    assert "东胜水务有限公司" in flagged and "未检公司" not in flagged
    risk = client.get("/targets/list/?_flt_0_risk_class=A").get_data(as_text=True)
    assert "未检公司" in risk and "东胜水务有限公司" not in risk
    assert "记录数目" in risk


def test_a_long_list_says_more_than_the_limit_and_the_api_counts_exactly(
    app, login_as, api_token, world, directory, monkeypatch
):
    with acting(app, "operator_a"):
        department_id = db.session.get(Target, directory.target_a).department_id
        for i in range(3):
            db.session.add(
                Target(
                    department_id=department_id,
                    target_type="企业",
                    name=f"计数公司{i}",
                    uscc=uscc(10 + i),
                    registration_status="存续",
                    risk_class="D",
                )
            )
        db.session.commit()
        in_scope = db.session.query(Target).filter_by(department_id=department_id).count()
    monkeypatch.setitem(app.config, "LIST_EXACT_COUNT_LIMIT", 2)
    client = login_as("operator_a")
    text = client.get("/targets/list/").get_data(as_text=True)
    assert re.search(r"记录数目.*</strong>\s*超过 2\s", text)
    # Pagination still reaches every page within the limit (page size 1: pages 1 and 2).
    page_two = client.get("/targets/list/?psize_TargetView=1&page_TargetView=1")
    assert page_two.status_code == 200
    # Under the limit the count is exact.
    one = client.get("/targets/list/?_flt_2_name=计数公司0").get_data(as_text=True)
    assert re.search(r"记录数目.*</strong>\s*1\s", one)
    response = app.test_client().get(
        "/api/v1/target/", headers={"Authorization": f"Bearer {api_token('operator_a')}"}
    )
    assert response.get_json()["count"] == in_scope > 2


def test_add_target_through_the_form(app, login_as, world, directory):
    client = login_as("operator_a")
    token = csrf_token_from(client, "/targets/add")
    response = client.post(
        "/targets/add",
        data={
            "csrf_token": token,
            "target_type": "企业",
            "name": "新取水户",
            "uscc": uscc(11),
            "registration_status": "存续",
            "risk_class": "B",
            "department": world.dept_a,
            "area": directory.area,
            "industry": "取水单位",
            "flags": ["投诉举报多"],
        },
    )
    assert response.status_code == 302
    with acting(app, "operator_a"):
        target = db.session.scalar(select(Target).where(Target.name == "新取水户"))
        assert target.flags == "投诉举报多"


def test_a_refused_add_keeps_what_was_typed(app, login_as, world, directory):
    """A rule refuses the save (the USCC is already in the directory): the form comes back
    with the typed values and the reason, and nothing is written."""
    client = login_as("operator_a")
    with acting(app, "operator_a"):
        taken = db.session.get(Target, directory.target_a).uscc
        before = db.session.query(Target).count()
    response = client.post(
        "/targets/add",
        data={
            "csrf_token": csrf_token_from(client, "/targets/add"),
            "target_type": "企业",
            "name": "重复代码的公司",
            "uscc": taken,
            "registration_status": "存续",
            "risk_class": "C",
            "department": world.dept_a,
            "legal_representative": "赵六",
        },
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'value="重复代码的公司"' in html and 'value="赵六"' in html
    assert re.search(r'alert-danger[^>]*>.*?统一社会信用代码', html, re.S)
    with acting(app, "operator_a"):
        assert db.session.query(Target).count() == before


def test_operator_cannot_put_a_target_into_another_department(app, login_as, world, directory):
    client = login_as("operator_a")
    token = csrf_token_from(client, "/targets/add")
    response = client.post(
        "/targets/add",
        data={
            "csrf_token": token,
            "target_type": "企业",
            "name": "越权公司",
            "uscc": uscc(12),
            "registration_status": "存续",
            "risk_class": "B",
            "department": world.dept_b,
        },
        follow_redirects=True,
    )
    with acting(app, "admin"):
        assert db.session.scalar(select(Target).where(Target.name == "越权公司")) is None
    assert response.status_code in (200, 400)


@pytest.mark.parametrize(
    "resource, key",
    [
        ("inspector", "inspector"),
        ("target", "target"),
    ],
)
def test_rest_resources_are_scoped(app, api_token, directory, resource, key):
    client = app.test_client()
    headers = {"Authorization": f"Bearer {api_token('operator_a')}"}
    own = getattr(directory, f"{key}_a")
    other = getattr(directory, f"{key}_b")
    assert client.get(f"/api/v1/{resource}/{own}", headers=headers).status_code == 200
    assert client.get(f"/api/v1/{resource}/{other}", headers=headers).status_code == 404
    assert (
        client.put(f"/api/v1/{resource}/{other}", json={"name": "x"}, headers=headers).status_code
        == 404
    )
    ids = {
        r["id"] for r in client.get(f"/api/v1/{resource}/", headers=headers).get_json()["result"]
    }
    assert own in ids and other not in ids
    text = client.get(f"/api/v1/{resource}/{own}", headers=headers).get_data(as_text=True)
    assert "password" not in text and "13847701234" not in text


def test_inspectors_and_jointoffice_do_not_read_the_directories(login_as, directory):
    for username in ("inspector_a", "jointoffice"):
        client = login_as(username)
        assert client.get("/targets/list/").status_code == 403
        assert client.get("/inspectors/list/").status_code == 403


def test_a_detail_page_has_one_confirmation_dialog(login_as, directory):
    # FAB includes it from its layout and again from the detail widget: duplicate element ids.
    html = login_as("operator_a").get(f"/targets/show/{directory.target_a}").get_data(as_text=True)
    assert html.count('id="modal-confirm"') == 1
