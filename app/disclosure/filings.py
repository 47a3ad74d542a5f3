"""Filings with the district joint-meeting office (联席会议办公室): the progress report (R9.5) as
CSV, per department and task, with each department's subtotal and the district's total. The
plan filing (R9.2) is the plan in the portal layout, recorded on the plan by
app/planning/services.file_plan (its SHA-256 and date).

Its last line is the audit head at its generation (AUDIT_HEAD): the seq and hash of the
audit log's newest entry, so that the office can later run `flask --app run.py audit verify
--head SEQ:HASH` and know the log was not rewritten since (docs/exports.md).

The report holds unpublished figures: the JointOffice role downloads it for every department,
Operators and Leaders for their own scope, and every download is in the audit log (R13.2)."""

from __future__ import annotations

from app.planning.progress import Progress, progress_by_department, progress_by_task

PROGRESS_HEADERS = [
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
SUBTOTAL = "小计"
TOTAL = "合计"
AUDIT_HEAD = "审计链头"


def _rate(value) -> str:
    return "" if value is None else f"{value}%"


def _cells(progress: Progress) -> list:
    return [
        progress.planned,
        progress.inspected,
        progress.entered,
        progress.published,
        progress.overdue_unentered,
        _rate(progress.completion_rate),
        _rate(progress.entry_rate),
        progress.closed,
        _rate(progress.closure_rate),
    ]


def progress_rows(year: int, department_ids=None):
    """Each department's tasks, then its subtotal (every department appears, one without tasks
    with its zero subtotal only); the last row is the total."""
    tasks = progress_by_task(year, department_ids)
    report = progress_by_department(year, department_ids)
    for department, subtotal in report.rows:
        for row in (r for r in tasks if r.department.id == department.id):
            yield [department.name, row.task.number, row.task.name, *_cells(row.progress)]
        yield [department.name, SUBTOTAL, "", *_cells(subtotal)]
    yield [TOTAL, "", "", *_cells(report.total)]
    yield audit_head_row()


def audit_head_row() -> list:
    """["审计链头", "第 N 条", hash, "核验：… --head N:hash"]: the audit chain's head now."""
    from app.core.audit.models import GENESIS_HASH, AuditChainHead
    from app.extensions import db

    head = db.session.get(AuditChainHead, 1)
    seq, digest = (head.last_seq, head.last_hash) if head else (0, GENESIS_HASH)
    return [
        AUDIT_HEAD,
        f"第 {seq} 条",
        digest,
        f"核验：flask --app run.py audit verify --head {seq}:{digest}",
    ]
