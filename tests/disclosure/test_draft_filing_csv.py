"""The filing CSV of a plan never published names its version 原计划 (it read 第-1次调整)."""

from app.extensions import db
from app.planning.models import AnnualPlan
from tests.directory.conftest import acting, directory  # noqa: F401  (fixture)
from tests.planning.conftest import plan  # noqa: F401  (fixture)


def test_the_filing_csv_of_a_draft_plan_is_the_original_plan(app, plan):  # noqa: F811
    from app.disclosure.plan_export import plan_csv

    with acting(app, "operator_a"):
        text = plan_csv(db.session.get(AnnualPlan, plan)).decode("utf-8-sig")
    assert "原计划" in text and "第-1次调整" not in text
