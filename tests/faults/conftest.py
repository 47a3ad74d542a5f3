"""The database goes away in the middle of an action: the app's connection is cut with
pg_terminate_backend from a second connection (the shared server itself keeps running)."""

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from app.extensions import db
from app.planning import services as planning
from app.planning.models import AnnualPlan
from tests.directory.conftest import acting, directory  # noqa: F401  (fixture)
from tests.planning.conftest import plan  # noqa: F401  (fixture)


@pytest.fixture
def postgres(app):
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if not url.startswith("postgresql"):
        pytest.skip("cutting a connection needs PostgreSQL (TEST_DATABASE_URL)")
    engine = create_engine(url, poolclass=NullPool)
    yield engine
    engine.dispose()


@pytest.fixture
def cut(postgres):
    """cut(): terminate the server process behind the session's current connection; the
    session's next statement fails as if the database had gone away."""

    def _cut():
        pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar()
        with postgres.connect() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()

    return _cut


@pytest.fixture
def approved_task(app, world, directory, plan):  # noqa: F811
    """Department A's published plan and an approved task of it, not drawn yet, with a few
    targets of its item in scope."""
    from app.directory.models import InspectionItem, Target
    from tests.directory.conftest import uscc

    with acting(app, "operator_a"):
        item = db.session.get(InspectionItem, directory.item_a)
        for n, risk in enumerate(("B", "B", "C", "D")):
            db.session.add(
                Target(
                    department_id=world.dept_a,
                    target_type="企业",
                    name=f"故障测试池{n}",
                    uscc=uscc(700 + n),
                    risk_class=risk,
                    items=[item],
                )
            )
        db.session.commit()
        p = db.session.get(AnnualPlan, plan)
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


from tests.inspections.conftest import inspected  # noqa: E402, F401  (fixture)
