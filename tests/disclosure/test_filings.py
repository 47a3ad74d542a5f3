"""Filings with the joint-meeting office (R9.2, R9.5): the progress report per department and
task with subtotals and the total, by role and scope, audited; the `flask export` command; the
joint-meeting office reads published results only."""

import csv
import datetime as dt
import io

from sqlalchemy import select

from app.core.audit.models import AuditChainHead, AuditLog
from app.disclosure.cli import export_command
from app.extensions import db
from app.inspections.models import InspectionRecord
from app.planning.models import SpotCheckTask
from tests.inspections.conftest import enter_all, finish


def _rows(response, encoding="utf-8-sig"):
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.data.decode(encoding))))


def test_the_progress_report_per_department_and_task(app, world, inspected, login_as):
    finish(app, inspected)
    with app.app_context():
        number = db.session.get(SpotCheckTask, inspected.task).number
    year = 2027
    office = login_as("jointoffice")
    response = office.get(f"/filings/progress.csv?year={year}")
    assert response.data.startswith("\ufeff".encode())
    rows = _rows(response)
    assert rows[0] == [
        "部门",
        "任务编号",
        "任务名称",
        "应检查数",
        "已检查数",
        "已录入",
        "已公示",
        "逾期未录入",
        "完成率",
        "录入率",
        "完结数",
        "完结率",
    ]
    by_key = {(r[0], r[1]): r for r in rows[1:]}
    task_row = by_key[("水资源管理科", number)]
    assert task_row[3:] == ["2", "2", "2", "2", "0", "100.0%", "100.0%", "2", "100.0%"]
    assert by_key[("水资源管理科", "小计")][3:] == task_row[3:]
    # Every department appears, those with nothing too; the total comes last.
    assert by_key[("河湖管理科", "小计")][3:] == ["0", "0", "0", "0", "0", "", "", "0", ""]
    assert ("东胜区水利局", "小计") in by_key and ("节约用水办公室", "小计") in by_key
    assert rows[-2][0] == "合计" and rows[-2][3:] == task_row[3:]
    # The last line is the audit head at the generation (this download's audit row included).
    with app.app_context():
        head = db.session.get(AuditChainHead, 1)
        assert rows[-1] == [
            "审计链头",
            f"第 {head.last_seq} 条",
            head.last_hash,
            f"核验：flask --app run.py audit verify --head {head.last_seq}:{head.last_hash}",
        ]
    # GB18030 on request (the next download has the next audit head).
    again = _rows(office.get(f"/filings/progress.csv?year={year}&encoding=gb18030"), "gb18030")
    assert again[:-1] == rows[:-1] and again[-1][1] != rows[-1][1]
    # An Operator of department B files for B only; an Inspector may not.
    rows_b = _rows(login_as("operator_b").get(f"/filings/progress.csv?year={year}"))
    assert {r[0] for r in rows_b[1:]} == {"河湖管理科", "合计", "审计链头"}
    assert login_as("inspector_a").get(f"/filings/progress.csv?year={year}").status_code == 403
    assert app.test_client().get("/filings/progress.csv").status_code == 302
    # Unpublished figures leaving the system are audited, with who and what.
    with app.app_context():
        exports = db.session.scalars(select(AuditLog).where(AuditLog.action == "export")).all()
    assert len(exports) == 3 and {e.object_type for e in exports} == {"progress_report"}
    page = office.get("/filings/").get_data(as_text=True)
    assert "progress.csv" in page


def test_flask_export_writes_the_portal_layouts(app, world, inspected, tmp_path):
    finish(app, inspected)
    runner = app.test_cli_runner()
    out = tmp_path / "results.csv"
    result = runner.invoke(export_command, ["results", "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))
    assert rows[0][:3] == ["序号", "任务编号", "任务名称"] and len(rows) == 3
    out = tmp_path / "progress.csv"
    result = runner.invoke(
        export_command, ["progress", "--year", "2027", "--encoding", "gb18030", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    lines = out.read_bytes().decode("gb18030").splitlines()
    assert lines[-2].startswith("合计") and lines[-1].startswith("审计链头")
    result = runner.invoke(export_command, ["targets"])
    assert result.exit_code != 0


def test_the_joint_office_reads_published_results_only(app, world, inspected, login_as):
    ids = enter_all(app, inspected)
    office = login_as("jointoffice")
    assert office.get(f"/api/v1/record/{ids[0]}").status_code == 404
    assert office.get(f"/records/show/{ids[0]}").status_code == 404
    finish(app, inspected)
    assert office.get(f"/api/v1/record/{ids[0]}").status_code == 200
    assert office.get(f"/records/show/{ids[0]}").status_code == 200
    assert office.put(f"/api/v1/record/{ids[0]}", json={"situation": "x"}).status_code == 403
    with app.app_context():
        record = db.session.get(InspectionRecord, ids[0])
        assert record.inspection_date == dt.date.today() - dt.timedelta(days=1)
