"""Fixtures of 一单两库 tests: an area, published and draft items, inspectors and targets in
department A and department B of the `world` organisation."""

import datetime as dt
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from flask import g

from app.core.identifiers import USCC, CitizenID
from app.directory import services
from app.directory.models import Area, Conflict, InspectionItem, Inspector, Target
from app.extensions import db
from app.security.system_user import acting_as_system


def uscc(n: int, prefix: str = "91") -> str:
    body = f"{prefix}150602MA0T{n:05d}"[:17]
    return body + USCC.calc_check_digit(body)


def citizen_id(n: int) -> str:
    body = f"15060219800101{n:03d}"
    return body + CitizenID.calc_check_digit(body)


@dataclass
class Directory:
    area: int
    item_a: int  # published, dept A
    draft_a: int  # draft, dept A
    item_b: int  # published, dept B
    inspector_a: int  # linked to the inspector_a login
    inspector_b: int
    target_a: int
    target_b: int


def new_item(code: str, department_id: int, published_by=None) -> InspectionItem:
    """An inspection item of the department's list, added to the session; published when a
    Leader is given."""
    obj = InspectionItem(
        code=code,
        department_id=department_id,
        category="水资源管理",
        name=f"取水许可检查{code}",
        target_type="取水单位",
        item_class="重点",
        method="实地检查",
        inspecting_body="东胜区水利局",
        legal_basis="《中华人民共和国水法》第四十八条",
        sampling_ratio="5",
        frequency="每年1次",
    )
    db.session.add(obj)
    if published_by:
        services.publish_item(obj, user=published_by)
    return obj


@pytest.fixture
def directory(app, world):
    leader_id = world.user("leader")
    with app.app_context():
        sm = app.appbuilder.sm
        with acting_as_system():
            area = Area(name="交通街道", kind="街道")
            db.session.add(area)

            def item(code, dept, publish):
                return new_item(code, dept, publish and sm.get_user_by_id(leader_id))

            item_a, draft_a, item_b = (
                item("A-001", world.dept_a, True),
                item("A-002", world.dept_a, False),
                item("B-001", world.dept_b, True),
            )
            far = dt.date.today() + dt.timedelta(days=365)
            inspector_a = Inspector(
                name="王建国",
                department_id=world.dept_a,
                certificate_no="C-A-1",
                certificate_expiry=far,
                status="在岗",
                phone="13847701234",
                id_number=citizen_id(1),
                user_id=world.user("inspector_a"),
            )
            inspector_b = Inspector(
                name="李海涛",
                department_id=world.dept_b,
                certificate_no="C-B-1",
                certificate_expiry=far,
                status="在岗",
            )
            target_a = Target(
                department_id=world.dept_a,
                target_type="企业",
                name="东胜水务有限公司",
                uscc=uscc(1),
                area=area,
                industry="取水单位",
                risk_class="B",
                contact_phone="13912345678",
            )
            target_b = Target(
                department_id=world.dept_b,
                target_type="企业",
                name="河湖砂石有限公司",
                uscc=uscc(2),
                area=area,
                industry="河道采砂",
                risk_class="C",
            )
            db.session.add_all([inspector_a, inspector_b, target_a, target_b])
            db.session.commit()
            return Directory(
                area.id,
                item_a.id,
                draft_a.id,
                item_b.id,
                inspector_a.id,
                inspector_b.id,
                target_a.id,
                target_b.id,
            )


@pytest.fixture
def conflict(app, directory):
    """A conflict of interest between department A's inspector and target; returns its id."""
    with acting(app, "operator_a"):
        row = Conflict(
            inspector_id=directory.inspector_a,
            target_id=directory.target_a,
            reason="亲属关系",
            detail="法定代表人为其配偶",
            valid_from=dt.date.today(),
        )
        db.session.add(row)
        db.session.commit()
        return row.id


@contextmanager
def acting(app, username):
    """An application context in which `username` is the acting user (as in a request)."""
    with app.app_context():
        g.user = app.appbuilder.sm.find_user(username=username)
        yield g.user
