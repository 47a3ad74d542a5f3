"""A task of department A whose targets and inspectors are drawn: inspector_a (the login) and
a second inspector of A form every group, two targets are drawn (one of class B, one of C)."""

import datetime as dt
import io
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from app.directory.models import InspectionItem, Inspector, Target
from app.draws import services as draws
from app.draws.models import DrawnTarget
from app.extensions import db
from app.inspections import services
from app.inspections.models import InspectionRecord
from app.planning import services as planning
from app.planning.models import AnnualPlan, SpotCheckTask
from tests.directory.conftest import acting, directory, uscc  # noqa: F401  (fixture)
from tests.planning.conftest import plan  # noqa: F401  (fixture)


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (640, 480), (30, 120, 200)).save(out, "PNG")
    return out.getvalue()


PNG = _png()


@dataclass
class Inspected:
    task: int
    drawn: list  # DrawnTarget ids, in rank order
    item: int


def published_task(app, world, directory, plan) -> int:  # noqa: F811
    """Three more drawable targets and a third inspector in department A, the plan published
    and a task made from its line (not drawn yet); returns the task's id."""
    with acting(app, "operator_a"):
        item = db.session.get(InspectionItem, directory.item_a)
        for n, risk in enumerate(("B", "B", "C")):
            db.session.add(
                Target(
                    department_id=world.dept_a,
                    target_type="企业",
                    name=f"检查对象{n}",
                    uscc=uscc(500 + n),
                    risk_class=risk,
                    items=[item],
                )
            )
        db.session.get(Target, directory.target_a).items = [item]
        db.session.add(
            Inspector(
                name="赵检查",
                department_id=world.dept_a,
                certificate_no="C-A-2",
                certificate_expiry=dt.date.today() + dt.timedelta(days=400),
                status="在岗",
            )
        )
        p = db.session.get(AnnualPlan, plan)
        db.session.commit()
        planning.submit_plan(p)
        db.session.commit()
    with acting(app, "leader_a"):
        planning.approve_plan(db.session.get(AnnualPlan, plan))
        db.session.commit()
    with acting(app, "operator_a"):
        p = db.session.get(AnnualPlan, plan)
        planning.publish_plan(p)
        task = planning.create_task_from_line(p.lines[0])
        db.session.add(task)
        db.session.commit()
        return task.id


@pytest.fixture
def inspected(app, world, directory, plan):  # noqa: F811
    task_id = published_task(app, world, directory, plan)
    with acting(app, "operator_a"):
        task = db.session.get(SpotCheckTask, task_id)
        for kind in ("target", "inspector"):
            draw = draws.start_draw(task, kind)
            db.session.commit()
            draws.complete_draw(draw)
            db.session.commit()
        drawn = db.session.scalars(
            select(DrawnTarget.id).where(DrawnTarget.task_id == task.id).order_by(DrawnTarget.rank)
        ).all()
        assert len(drawn) == 2
        return Inspected(task.id, list(drawn), directory.item_a)


# A record that found problems (with the follow-up measure still to choose).
WITH_PROBLEMS = {
    "problems": "未安装取水计量设施",
    "result_code": "发现问题待后续处理",
    "result_detail": "违反水资源管理规定",
}


def fill(record: InspectionRecord, item_id: int, **overrides) -> None:
    values = dict(
        inspection_date=dt.date.today() - dt.timedelta(days=1),
        method="实地检查",
        situation="取水计量设施运行正常",
        problems="无",
        result_code="未发现问题",
        follow_up="无需后续处置",
        opinions="继续保持",
        present_person="张三（法定代表人）",
    )
    values.update(overrides)
    for key, value in values.items():
        setattr(record, key, value)
    record.items = [db.session.get(InspectionItem, item_id)]


def enter_all(app, inspected, **overrides) -> list[int]:
    """inspector_a opens, fills and submits every record of the task not entered yet; returns
    the ids of all."""
    ids = []
    with acting(app, "inspector_a"):
        for drawn_id in inspected.drawn:
            record = services.open_record(db.session.get(DrawnTarget, drawn_id))
            if record.editable:
                fill(record, inspected.item, **overrides)
                services.submit_record(record)
                db.session.commit()
            ids.append(record.id)
    return ids


def summary_submitted(app, inspected) -> int:
    """Every record entered and reviewed, the summary submitted to the Leader; its id."""
    ids = enter_all(app, inspected)
    with acting(app, "operator_a"):
        for record_id in ids:
            services.review_record(db.session.get(InspectionRecord, record_id))
        db.session.commit()
    with acting(app, "inspector_a"):
        summary = services.open_summary(db.session.get(SpotCheckTask, inspected.task))
        services.submit_summary(summary)
        db.session.commit()
        return summary.id


def finish(app, inspected) -> int:
    """Every record entered and reviewed, the summary approved, the results published."""
    summary_id = summary_submitted(app, inspected)
    with acting(app, "leader_a"):
        from app.inspections.models import InspectionSummary

        services.decide_summary(db.session.get(InspectionSummary, summary_id), True, "")
        db.session.commit()
    with acting(app, "operator_a"):
        services.publish_results(db.session.get(SpotCheckTask, inspected.task))
        db.session.commit()
    return summary_id


# The 双公示 fields a penalty needs besides its number, date and content (penalty_rules).
PENALTY_FIELDS = dict(
    violation_facts="未安装取水计量设施",
    legal_basis="《取水许可和水资源费征收管理条例》第五十三条",
    kinds="罚款",
    fine_amount="2",
)
