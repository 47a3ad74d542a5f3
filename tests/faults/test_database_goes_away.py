"""The database goes away in the middle of a draw, an import and a result submission: nothing
half-written remains, the user gets a clear Chinese error (503), and the same action succeeds
once the database is back (the connection pool replaces the dead connection)."""

import io

from sqlalchemy import func, select

from app.core.audit.chain import verify
from app.directory.models import Target
from app.draws import protocol
from app.draws.models import Draw, DrawnTarget
from app.extensions import db
from app.planning.models import SpotCheckTask
from tests.conftest import csrf_token_from
from tests.directory.conftest import uscc

UNAVAILABLE = "数据库暂时无法连接"


def _cut_during(monkeypatch, module, name, cut):
    """Wrap module.name: the first call cuts the connection, then runs the original."""
    original = getattr(module, name)
    calls = []

    def wrapper(*args, **kwargs):
        if not calls:
            calls.append(1)
            cut()
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, wrapper)
    return calls


def test_a_draw_cut_in_the_middle_completes_on_retry(
    app, approved_task, login_as, cut, monkeypatch
):
    operator = login_as("operator_a")
    token = csrf_token_from(operator, f"/tasks/show/{approved_task}")
    # The seed is derived once the commitment is on record, on every database's path (on
    # PostgreSQL the ranking itself runs inside the database, not in protocol.select_targets).
    calls = _cut_during(monkeypatch, protocol, "derive_seed", cut)
    response = operator.post(
        f"/task-draw/{approved_task}/targets", data={"csrf_token": token, "confirm": "1"}
    )
    assert calls, (response.status_code, response.headers.get("Location"))
    assert response.status_code == 503
    assert UNAVAILABLE in response.get_data(as_text=True)
    with app.app_context():
        # The commitment was on record before the cut; no result was written.
        task = db.session.get(SpotCheckTask, approved_task)
        assert task.status == "planned"
        assert db.session.scalar(select(func.count(DrawnTarget.id))) == 0
        draw = db.session.scalars(select(Draw).where(Draw.task_id == approved_task)).one()
        assert draw.status == "committed" and draw.result is None
        commitment = draw.commitment
    # The same button again: the committed draw is completed, not drawn anew.
    response = operator.post(
        f"/task-draw/{approved_task}/targets", data={"csrf_token": token, "confirm": "1"}
    )
    assert response.status_code == 302 and "/draws/show/" in response.headers["Location"]
    with app.app_context():
        draw = db.session.scalars(select(Draw).where(Draw.task_id == approved_task)).one()
        assert draw.status == "done" and draw.commitment == commitment
        assert db.session.scalar(select(func.count(DrawnTarget.id))) > 0
        from app.draws import services as draws

        assert draws.verify_draw(draw) == []
        assert verify(db.session.connection()).ok


def _csv(first: int, count: int) -> bytes:
    lines = ["检查对象类型,名称,统一社会信用代码,主管部门,信用风险等级"]
    lines += [f"企业,故障测试对象{n},{uscc(9000 + n)},A,B" for n in range(first, first + count)]
    return ("\n".join(lines) + "\n").encode("gb18030")


def test_an_import_cut_in_the_middle_writes_nothing(app, world, login_as, cut, monkeypatch):
    from app.directory.import_jobs import ImportJob
    from app.directory.imports import importers as imports

    operator = login_as("operator_a")
    token = csrf_token_from(operator, "/directory-import/")
    with app.app_context():
        before = db.session.scalar(select(func.count(Target.id)))
    calls = _cut_during(monkeypatch, imports, "log_event", cut)
    data = {"csrf_token": token, "kind": "targets", "file": (io.BytesIO(_csv(1, 300)), "t.csv")}
    response = operator.post("/directory-import/", data=data, content_type="multipart/form-data")
    # The upload is a background job (run at once here): its page says it failed, and why.
    assert calls and response.status_code == 302, response.status_code
    assert "/directory-import/job/" in response.headers["Location"]
    with app.app_context():
        assert db.session.scalar(select(func.count(Target.id))) == before
        job = db.session.scalars(select(ImportJob).order_by(ImportJob.id.desc())).first()
        assert job.state == "failed" and job.active_key is None
    page = operator.get(response.headers["Location"]).get_data(as_text=True)
    assert "失败" in page and "未写入" in page, page
    monkeypatch.undo()
    data = {"csrf_token": token, "kind": "targets", "file": (io.BytesIO(_csv(1, 300)), "t.csv")}
    response = operator.post("/directory-import/", data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count(Target.id))) == before + 300
        assert verify(db.session.connection()).ok


def test_a_submission_cut_in_the_middle_stays_a_draft(app, inspected, api_token, cut, monkeypatch):
    from app.draws.models import DrawnTarget as Drawn
    from app.inspections import services
    from app.inspections.models import InspectionRecord
    from tests.directory.conftest import acting
    from tests.inspections.conftest import fill

    with acting(app, "inspector_a"):
        record = services.open_record(db.session.get(Drawn, inspected.drawn[0]))
        fill(record, inspected.item)
        db.session.commit()
        record_id = record.id
    headers = {"Authorization": f"Bearer {api_token('inspector_a')}"}
    client = app.test_client()
    calls = _cut_during(monkeypatch, services, "_log", cut)
    response = client.post(f"/api/v1/record/{record_id}/submit", headers=headers)
    assert calls and response.status_code == 503
    assert UNAVAILABLE in response.get_json()["message"]
    with app.app_context():
        record = db.session.get(InspectionRecord, record_id)
        assert record.status == "draft" and record.submitted_on is None
    monkeypatch.undo()
    response = client.post(f"/api/v1/record/{record_id}/submit", headers=headers)
    assert response.status_code == 200 and response.get_json()["result"]["status"] == "submitted"
