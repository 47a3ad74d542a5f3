"""The summary report and its versions (R10.3), follow-up supervision (R11.4), publication of
the results, the archive (R10.4) and its bundle, and the frequency rule of the draw."""

import datetime as dt
import io
import zipfile

import pytest
from sqlalchemy import select

from app.core.errors import DomainError
from app.draws import pool as pools
from app.draws import services as draws
from app.draws.models import Draw
from app.extensions import db
from app.inspections import services
from app.inspections.archive import verify_bundle
from app.inspections.models import (
    InspectionRecord,
    InspectionSummary,
    RectificationCase,
)
from app.planning.models import SpotCheckTask
from tests.conftest import csrf_token_from
from tests.directory.conftest import acting
from tests.inspections.conftest import PNG, enter_all, finish


def _summary(app, inspected):
    with acting(app, "inspector_a"):
        summary = services.open_summary(db.session.get(SpotCheckTask, inspected.task))
        db.session.commit()
        return summary.id


def test_the_summary_is_written_submitted_returned_and_approved(app, inspected, login_as):
    enter_all(app, inspected)
    summary_id = _summary(app, inspected)
    with app.app_context():
        summary = db.session.get(InspectionSummary, summary_id)
        # Aggregated from the records, editable.
        assert "取水计量设施运行正常" in summary.situation
        # Every record of the same day: one date, not "2026-12-01 至 2026-12-01".
        day = dt.date.today() - dt.timedelta(days=1)
        assert summary.check_period == f"{day.year}年{day.month}月{day.day}日"
    inspector, leader = login_as("inspector_a"), login_as("leader_a")
    assert leader.put(f"/api/v1/summary/{summary_id}", json={"opinions": "x"}).status_code == 403
    response = inspector.put(f"/api/v1/summary/{summary_id}", json={"opinions": "加强巡查"})
    assert response.status_code == 200
    assert inspector.post(f"/api/v1/summary/{summary_id}/approve").status_code == 403
    assert inspector.post(f"/api/v1/summary/{summary_id}/submit").status_code == 200
    # With the Leader: the inspectors cannot change it.
    response = inspector.put(f"/api/v1/summary/{summary_id}", json={"opinions": "改"})
    assert response.status_code == 422
    response = leader.post(f"/api/v1/summary/{summary_id}/return", json={"comment": ""})
    assert response.status_code == 422
    response = leader.post(f"/api/v1/summary/{summary_id}/return", json={"comment": "补充数据"})
    assert response.status_code == 200
    assert (
        inspector.put(f"/api/v1/summary/{summary_id}", json={"opinions": "v2"}).status_code == 200
    )
    assert inspector.post(f"/api/v1/summary/{summary_id}/submit").status_code == 200
    assert leader.post(f"/api/v1/summary/{summary_id}/approve").status_code == 200
    with app.app_context():
        summary = db.session.get(InspectionSummary, summary_id)
        assert summary.status == "approved" and summary.approved_on == dt.date.today()
        versions = [(v.version, v.decision, v.fields()["opinions"]) for v in summary.versions]
        assert versions == [(1, "returned", "加强巡查"), (2, "approved", "v2")]
        assert summary.versions[0].comment == "补充数据"
    page = leader.get(f"/summaries/show/{summary_id}").get_data(as_text=True)
    assert "补充数据" in page and "加强巡查" in page
    docx = leader.get(f"/summary-workflow/{summary_id}/document.docx")
    assert docx.status_code == 200 and docx.data.startswith(b"PK")
    printed = leader.get(f"/summary-workflow/{summary_id}/print").get_data(as_text=True)
    assert "二、检查内容" in printed and "v2" in printed and "size: A4" in printed
    assert "http" not in printed  # nothing loaded from outside the server
    assert login_as("operator_b").get(f"/summaries/show/{summary_id}").status_code == 404


def test_the_summary_waits_for_every_record(app, inspected):
    enter_all(app, inspected)
    with acting(app, "operator_a"):
        record = db.session.scalars(select(InspectionRecord)).first()
        services.return_record(record, "重填")
        db.session.commit()
    summary_id = _summary(app, inspected)
    with acting(app, "inspector_a"):
        with pytest.raises(DomainError, match="所有检查记录"):
            services.submit_summary(db.session.get(InspectionSummary, summary_id))


def _record_with_problems(app, inspected, follow_up):
    ids = enter_all(
        app,
        inspected,
        problems="未安装取水计量设施",
        result_code="发现问题待后续处理",
        result_detail="违反水资源管理规定",
        follow_up=follow_up,
    )
    return ids[0]


def test_rectification_closes_the_follow_up_and_grounds_a_blacklist_proposal(
    app,
    world,
    inspected,
    login_as,
):
    record_id = _record_with_problems(app, inspected, "责令改正、跟踪整改")
    operator = login_as("operator_a")
    deadline = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    # The responsible department is another one (谁管辖谁负责): department B.
    response = operator.post(
        "/api/v1/rectification/",
        json={
            "record": record_id,
            "department": world.dept_b,
            "requirement": "限期安装计量设施",
            "deadline": deadline,
        },
    )
    assert response.status_code == 201, response.get_json()
    case_id = response.get_json()["id"]
    # Department B's Operator sees the case it is responsible for and follows it up.
    other = login_as("operator_b")
    assert other.get(f"/rectifications/show/{case_id}").status_code == 200
    response = other.post(f"/api/v1/rectification/{case_id}/close", json={"status": "refused"})
    assert response.status_code == 422 and "复查" in response.get_json()["message"]
    today = dt.date.today().isoformat()
    response = other.post(
        f"/api/v1/rectification/{case_id}/reinspect",
        json={"date": today, "finding": "仍未安装", "rectified": False},
    )
    assert response.status_code == 200
    with app.app_context():
        assert not db.session.get(InspectionRecord, record_id).follow_up_closed
    response = other.post(
        f"/api/v1/rectification/{case_id}/close", json={"status": "refused", "note": "拒不整改"}
    )
    assert response.status_code == 200, response.get_json()
    with app.app_context():
        record = db.session.get(InspectionRecord, record_id)
        assert record.follow_up_closed and record.follow_up_closed_on == dt.date.today()
        assert db.session.get(RectificationCase, case_id).status_label == "拒不整改"
        grounds = services.blacklist_grounds(record.target_id)
        assert [(g["kind"], g["basis"]) for g in grounds] == [("case", "拒不整改")]
    # A closed case is not edited any more.
    response = other.put(f"/api/v1/rectification/{case_id}", json={"requirement": "改"})
    assert response.status_code == 422
    # The Inspector reads cases of their own targets but does not edit them.
    inspector = login_as("inspector_a")
    assert inspector.get(f"/rectifications/show/{case_id}").status_code == 200
    response = inspector.post(f"/api/v1/rectification/{case_id}/reinspect", json={})
    assert response.status_code == 403


def test_penalty_transfer_and_notified_follow_ups(app, inspected, login_as):
    record_id = _record_with_problems(app, inspected, "立案查处")
    operator = login_as("operator_a")
    url = f"/api/v1/record/{record_id}/penalty"
    assert operator.post(url, json={"decision_number": "东水罚〔2027〕1号"}).status_code == 422
    response = operator.post(
        url,
        json={
            "decision_number": "东水罚〔2027〕1号",
            "decision_date": dt.date.today().isoformat(),
            "content": "罚款人民币一万元",
            "violation_facts": "未安装取水计量设施",
            "legal_basis": "《取水许可和水资源费征收管理条例》第五十三条",
            "kinds": "罚款",
            "fine_amount": "1",
        },
    )
    assert response.status_code == 200 and response.get_json()["result"]["follow_up_closed"]
    with app.app_context():
        target_id = db.session.get(InspectionRecord, record_id).target_id
        assert [g["basis"] for g in services.blacklist_grounds(target_id)] == ["受到行政处罚"]
    # An inspector cannot record penalties.
    assert login_as("inspector_a").post(url, json={}).status_code == 403
    # The transfer form on the page.
    with acting(app, "operator_a"):
        record = db.session.get(InspectionRecord, record_id)
        record.follow_up, record.follow_up_closed = "移送司法机关", False
        db.session.commit()
    token = csrf_token_from(operator, f"/records/show/{record_id}")
    response = operator.post(
        f"/record-workflow/{record_id}/transfer",
        data={
            "csrf_token": token,
            "date": dt.date.today().isoformat(),
            "organ": "东胜区公安分局",
            "description": "涉嫌非法采砂",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        record = db.session.get(InspectionRecord, record_id)
        assert record.transfers[0].organ == "东胜区公安分局" and record.follow_up_closed


def test_publish_needs_reviewed_records_and_an_approved_summary(app, inspected, login_as):
    enter_all(app, inspected)
    with acting(app, "operator_a"):
        with pytest.raises(DomainError, match="审核"):
            services.publish_results(db.session.get(SpotCheckTask, inspected.task))
    finish(app, inspected)
    with app.app_context():
        task = db.session.get(SpotCheckTask, inspected.task)
        assert task.status == "published" and task.results_published_on == dt.date.today()
        draw = db.session.scalars(select(Draw).where(Draw.task_id == task.id)).first()
        # Published: the server secret is revealed and the draw verifies from its record.
        assert "server_secret" in draws.record(draw)


def _archived(app, inspected, login_as):
    finish(app, inspected)
    with app.app_context():
        record_id = db.session.scalar(select(InspectionRecord.id))
    client = login_as("operator_a")
    token = csrf_token_from(client, f"/tasks/show/{inspected.task}")
    response = client.post(
        f"/task-results/{inspected.task}/archive", data={"csrf_token": token, "confirm": "1"}
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(SpotCheckTask, inspected.task).status == "archived"
    return client, record_id


def test_archive_makes_every_write_path_refuse(app, inspected, login_as):
    client, record_id = _archived(app, inspected, login_as)
    with app.app_context():
        before = db.session.get(InspectionRecord, record_id).opinions
        summary_id = db.session.scalar(select(InspectionSummary.id))
    # REST
    inspector = login_as("inspector_a")
    response = inspector.put(f"/api/v1/record/{record_id}", json={"opinions": "改"})
    assert response.status_code == 422 and "归档" in response.get_json()["message"]
    response = inspector.put(f"/api/v1/summary/{summary_id}", json={"opinions": "改"})
    assert response.status_code == 422
    response = client.post(f"/api/v1/record/{record_id}/return", json={"comment": "重填"})
    assert response.status_code == 422 and "归档" in response.get_json()["message"]
    response = client.put(f"/api/v1/task/{inspected.task}", json={"name": "改名"})
    assert response.status_code in (403, 422)
    # Pages and actions
    token = csrf_token_from(client, f"/tasks/show/{inspected.task}")
    response = client.post(
        f"/record-workflow/{record_id}/close",
        data={"csrf_token": token, "note": "x", "confirm": "1"},
    )
    assert response.status_code == 302
    response = client.post(
        "/tasks/action_post",
        data={"csrf_token": token, "confirm": "1", "action": "draw_targets", "rowid": [str(inspected.task)]},
    )
    assert response.status_code == 302
    response = client.post(
        f"/task-material/{inspected.task}/upload",
        data={"csrf_token": token, "file": (io.BytesIO(PNG), "x.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    # Everybody, Admin included, and any code path: the flush guard refuses.
    with acting(app, "admin"):
        record = db.session.get(InspectionRecord, record_id)
        record.opinions = "管理员改"
        with pytest.raises(DomainError, match="归档"):
            db.session.commit()
        db.session.rollback()
        task = db.session.get(SpotCheckTask, inspected.task)
        task.status = "published"
        with pytest.raises(DomainError, match="归档"):
            db.session.commit()
        db.session.rollback()
    with app.app_context():
        assert db.session.get(InspectionRecord, record_id).opinions == before
        assert db.session.get(SpotCheckTask, inspected.task).status == "archived"
        assert not db.session.get(SpotCheckTask, inspected.task).attachments


def test_the_archive_bundle_has_everything_and_its_manifest_matches(
    app,
    inspected,
    login_as,
    tmp_path,
):
    # Evidence on the first record before it is submitted.
    from app.draws.models import DrawnTarget

    with acting(app, "inspector_a"):
        record = services.open_record(db.session.get(DrawnTarget, inspected.drawn[0]))
        services.add_evidence(record, io.BytesIO(PNG), "现场.png", "全景")
        db.session.commit()
    client, _ = _archived(app, inspected, login_as)
    response = client.get(f"/task-results/{inspected.task}/bundle.zip")
    assert response.status_code == 200
    data = response.data
    assert verify_bundle(io.BytesIO(data)) == []
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = set(archive.namelist())
        assert {"task.json", "records.json", "records.csv", "summary.docx", "SHA256SUMS"} <= names
        assert sum(n.startswith("draws/draw-") for n in names) == 2
        # each draw's printable 摇号现场记录, listed in the manifest like every file
        sites = sorted(n for n in names if n.startswith("draws/site-record-"))
        assert len(sites) == 2 and "摇号现场记录" in archive.read(sites[0]).decode("utf-8")
        evidence = [n for n in names if n.startswith("evidence/")]
        assert len(evidence) == 1 and archive.read(evidence[0]) == PNG
        assert archive.read("records.csv").decode("utf-8-sig").startswith("检查对象,")
    with app.app_context():  # the download is in the audit log (R13.2)
        from app.core.audit.models import AuditLog

        assert db.session.scalar(
            select(AuditLog.id).where(
                AuditLog.action == "export", AuditLog.object_type == "archive_bundle"
            )
        )
    # A tampered bundle is caught.
    tampered = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(tampered, "w") as target:
        for name in source.namelist():
            body = source.read(name)
            target.writestr(name, body + b"x" if name == "records.json" else body)
    assert verify_bundle(io.BytesIO(tampered.getvalue())) == ["records.json: SHA-256 differs"]
    # The same check from the command line.
    bundle = tmp_path / "bundle.zip"
    bundle.write_bytes(tampered.getvalue())
    result = app.test_cli_runner().invoke(args=["archive", "verify", str(bundle)])
    assert result.exit_code == 1 and "records.json" in result.output
    bundle.write_bytes(data)
    result = app.test_cli_runner().invoke(args=["archive", "verify", str(bundle)])
    assert result.exit_code == 0 and result.output.startswith("VALID")
    # Only the task's departments download it.
    assert (
        login_as("operator_b").get(f"/task-results/{inspected.task}/bundle.zip").status_code == 404
    )


def test_the_frequency_rule_leaves_out_targets_found_clean_recently(app, inspected):
    from app.directory.models import Target
    from app.draws.models import DrawnTarget
    from app.planning import services as planning

    enter_all(app, inspected)  # both drawn targets found without problems yesterday
    with acting(app, "operator_a"):
        task = db.session.get(SpotCheckTask, inspected.task)
        clean = set(
            db.session.scalars(select(DrawnTarget.target_id).where(DrawnTarget.task_id == task.id))
        )
        # Flag one of them as special: special targets are never skipped (R9.7).
        special = sorted(clean)[0]
        db.session.get(Target, special).flags = "投诉举报多"
        again = planning.create_task_from_line(task.plan_line)
        again.skip_clean_months = 6
        db.session.add(again)
        db.session.commit()
        pool, excluded = pools.target_pool(again)
        skipped = {e["id"] for e in excluded if e["reason"].startswith("inspected_clean:")}
        assert skipped == clean - {special}
        assert special in {c["id"] for c in pool}
        preview = pools.pool_preview(again)
        assert sum(row["pool"] for row in preview) == len(pool)
        # The draw records the rule and its exclusions, and verifies.
        draw = draws.start_draw(again, "target")
        db.session.commit()
        draws.complete_draw(draw)
        db.session.commit()
        assert draws.record(draw)["params"]["skip_clean_months"] == 6
        assert {e["id"] for e in draws.record(draw)["excluded"]} >= clean - {special}
        assert draws.verify_draw(draw) == []
        again = planning.create_task_from_line(task.plan_line)
        db.session.add(again)
        db.session.commit()
        # Without the rule they are back.
        again.skip_clean_months = None
        pool, _ = pools.target_pool(again)
        assert clean <= {c["id"] for c in pool}
        again.skip_clean_months = 61
        with pytest.raises(DomainError, match="1 到 60"):
            planning.check_scope_and_ratios(again, 2027)
        db.session.rollback()


def test_a_summary_submitted_with_empty_parts_is_told_which(app, inspected):
    enter_all(app, inspected)
    summary_id = _summary(app, inspected)
    with acting(app, "inspector_a"):
        summary = db.session.get(InspectionSummary, summary_id)
        summary.opinions = ""
        summary.situation = "  "
        with pytest.raises(DomainError) as refused:
            services.submit_summary(summary)
        assert "现场检查情况" in str(refused.value) and "处理意见和建议" in str(refused.value)
        assert "检查内容" not in str(refused.value)
