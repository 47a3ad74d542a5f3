"""A target of the inspected task whose rectification case closed as 拒不整改 (the system then
suggests a listing), and a second Operator of department A for the four-eyes review."""

import datetime as dt
from dataclasses import dataclass

import pytest

from app.extensions import db
from app.inspections import services as inspections
from app.inspections.models import InspectionRecord
from app.security import roles
from tests.conftest import PASSWORD
from tests.directory.conftest import (
    acting,
    directory,  # noqa: F401  (fixture)
)
from tests.inspections.conftest import enter_all, inspected  # noqa: F401  (fixture)
from tests.planning.conftest import plan  # noqa: F401  (fixture)


@dataclass
class Refused:
    record: int
    case: int
    target: int
    other_record: int


def close_as(app, record_id: int, outcome: str) -> int:
    """operator_a opens a case on the record, re-inspects it, closes it with the outcome."""
    with acting(app, "operator_a"):
        record = db.session.get(InspectionRecord, record_id)
        case = inspections.open_case(
            record,
            record.task.department_id,
            "限期安装取水计量设施",
            dt.date.today() + dt.timedelta(days=30),
        )
        db.session.flush()
        inspections.add_reinspection(case, dt.date.today(), "仍未安装", False)
        inspections.close_case(case, outcome, "复查仍未整改")
        db.session.commit()
        return case.id


@pytest.fixture
def refused(app, world, inspected):  # noqa: F811
    ids = enter_all(
        app,
        inspected,
        problems="未安装取水计量设施",
        result_code="发现问题待后续处理",
        result_detail="违反水资源管理规定",
        follow_up="责令改正、跟踪整改",
    )
    case_id = close_as(app, ids[0], "refused")
    with app.app_context():
        target_id = db.session.get(InspectionRecord, ids[0]).target_id
    return Refused(ids[0], case_id, target_id, ids[1])


@pytest.fixture
def operator_a2(app, world):
    """A second Operator of department A: the department review is not the proposer's."""
    from app.security.models import Department

    with app.app_context():
        sm = app.appbuilder.sm
        user = sm.add_user(
            username="operator_a2",
            first_name="operator_a2",
            last_name="测试",
            email="operator_a2@test.invalid",
            role=sm.find_role(roles.OPERATOR),
            password=PASSWORD,
        )
        user.departments = [db.session.get(Department, world.dept_a)]
        db.session.commit()
        return user.id
