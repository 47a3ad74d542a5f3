import pytest

from app.directory.models import InspectionItem
from app.extensions import db
from app.planning.models import AnnualPlan, PlanLine
from tests.directory.conftest import acting, directory  # noqa: F401  (fixture)


@pytest.fixture
def plan(app, world, directory):  # noqa: F811
    """A draft 2027 plan of department A with one line covering its published item A-001."""
    with acting(app, "operator_a"):
        item = db.session.get(InspectionItem, directory.item_a)
        plan = AnnualPlan(
            department_id=world.dept_a, year=2027, title="水资源管理科2027年度抽查计划"
        )
        plan.lines.append(
            PlanLine(
                name="取水许可检查",
                method="实地检查",
                items=[item],
                ratio_a=2,
                ratio_b=5,
                ratio_c=10,
                ratio_d=20,
                ratio_special=30,
            )
        )
        db.session.add(plan)
        db.session.commit()
        return plan.id
