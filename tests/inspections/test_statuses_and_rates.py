"""What a record's status and the year's rates say (issue 17, finding 8): a published record
reads 已公示, not 已审核，待公示; R9.5's completion rate counts the checks of a task that was
planned but never drawn, so it cannot read 100% while such a task waits."""

from __future__ import annotations

import re

import pytest

from app.draws.pool import pool_preview
from app.extensions import db
from app.inspections.models import InspectionRecord
from app.planning.models import SpotCheckTask
from app.planning.progress import progress_by_department
from tests.directory.conftest import acting, conflict, directory  # noqa: F401  (fixtures)
from tests.inspections.conftest import finish, inspected, published_task  # noqa: F401
from tests.planning.conftest import plan  # noqa: F401  (fixture)


def _visible(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


def test_a_record_reads_published_once_the_results_are(app, inspected, login_as):  # noqa: F811
    finish(app, inspected)
    task_id = inspected.task
    with app.app_context():
        record_ids = db.session.scalars(
            db.select(InspectionRecord.id).where(InspectionRecord.task_id == task_id)
        ).all()
    client = login_as("operator_a")
    for record_id in record_ids:
        page = _visible(client.get(f"/records/show/{record_id}").get_data(as_text=True))
        assert "已公示" in page and "待公示" not in page
    listing = _visible(client.get("/records/list/").get_data(as_text=True))
    assert "已公示" in listing and "待公示" not in listing
    task_page = _visible(client.get(f"/tasks/show/{task_id}").get_data(as_text=True))
    assert "待公示" not in task_page
    mine = _visible(login_as("inspector_a").get("/my-assignments/").get_data(as_text=True))
    assert "已公示" in mine


def test_a_reviewed_record_waits_for_publication(app, inspected):  # noqa: F811
    from app.inspections import services
    from tests.inspections.conftest import enter_all

    ids = enter_all(app, inspected)
    with acting(app, "operator_a"):
        record = db.session.get(InspectionRecord, ids[0])
        services.review_record(record)
        db.session.commit()
        assert str(record.status_label) == "已审核，待公示"


def test_a_task_never_drawn_counts_in_the_checks_planned(app, world, directory, plan):  # noqa: F811
    task_id = published_task(app, world, directory, plan)
    with acting(app, "leader"):
        task = db.session.get(SpotCheckTask, task_id)
        expected = sum(s["to_draw"] for s in pool_preview(task))
        assert expected > 0
        row = {d.id: p for d, p in progress_by_department(task.year).rows}[world.dept_a]
        assert row.planned == expected
        assert row.completion_rate == 0 and row.entry_rate == 0


def test_the_task_page_says_who_writes_the_summary(
    app, inspected, login_as  # noqa: F811
):
    from tests.inspections.conftest import enter_all

    enter_all(app, inspected)
    operator = _visible(login_as("operator_a").get(f"/tasks/show/{inspected.task}").get_data(as_text=True))
    assert "尚未撰写，由本任务的检查人员撰写" in operator
    # The inspectors write it from their assignments page (they do not open task pages).
    mine = login_as("inspector_a").get("/my-assignments/").get_data(as_text=True)
    assert f"/summary-workflow/open/{inspected.task}" in mine


def test_a_published_record_says_it_can_no_longer_change(app, inspected):  # noqa: F811
    from app.core.errors import DomainError
    from app.inspections import services

    finish(app, inspected)
    task_id = inspected.task
    with app.app_context():
        record_id = db.session.scalars(
            db.select(InspectionRecord.id).where(InspectionRecord.task_id == task_id)
        ).first()
    with acting(app, "inspector_a"):
        record = db.session.get(InspectionRecord, record_id)
        assert record is not None
        with pytest.raises(DomainError) as refused:
            services.ensure_can_enter(record)
        assert "已公示" in str(refused.value) and "退回" not in str(refused.value)
