"""Archives (R10.4). An archived task and everything under it are read-only for every role,
Admin included: `refuse_changes_to_archived_tasks` stops any flush that would add, change or
delete a row of an archived task, whatever path (page, REST, action, CLI) it comes from. The
services refuse earlier with a clearer message; this guard is the floor under them.

`build_bundle` writes the archive bundle: a ZIP with the task, its records, the summary (data and
DOCX), both draw records, the evidence files and a manifest of SHA-256 hashes (also as a
`SHA256SUMS` file that `sha256sum -c` checks); `verify_bundle` checks one."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tempfile
import zipfile

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from app.core.csvfile import csv_bytes
from app.core.errors import DomainError
from app.core.files import stored_path
from app.core.text import chinese_date, chinese_dates_in
from app.planning.models import SpotCheckTask

ARCHIVED = "archived"


def _status_before_flush(task: SpotCheckTask) -> str:
    history = inspect(task).attrs.status.history
    if history.deleted:
        return history.deleted[0]
    return task.status


@event.listens_for(Session, "before_flush")
def refuse_changes_to_archived_tasks(session, flush_context, instances):
    from flask_babel import gettext as _

    changed = [*session.new, *session.dirty, *session.deleted]
    if not changed:
        return
    with session.no_autoflush:
        for obj in changed:
            if isinstance(obj, SpotCheckTask):
                task = obj
                if obj in session.new:
                    continue
            else:
                # A new row may name its task by relationship only (task_id is set at flush).
                task = getattr(obj, "task", None) if hasattr(type(obj), "task") else None
                if not isinstance(task, SpotCheckTask):
                    task_id = getattr(obj, "task_id", None)
                    if not isinstance(task_id, int):
                        continue
                    task = session.get(SpotCheckTask, task_id)
                if task is None:
                    continue
            if obj in session.dirty and not session.is_modified(obj):
                continue
            if _status_before_flush(task) == ARCHIVED:
                raise DomainError(
                    _("The task is archived: it and everything under it are read-only.")
                )


# --- the bundle ------------------------------------------------------------------------------

RECORD_HEADERS = (
    "检查对象",
    "统一社会信用代码/证件号码",
    "检查日期",
    "检查方式",
    "检查事项",
    "现场检查情况",
    "发现的问题",
    "检查结果",
    "后续处置",
    "处理意见和建议",
    "在场人员",
    "录入期限",
    "提交时间",
    "状态",
)


def _date(value) -> str:
    return value.isoformat() if value else ""


def _record_data(record) -> dict:
    return {
        "id": record.id,
        # The target as entered (the record's snapshot), not as the directory says today.
        "target": record.target_name,
        "target_code": record.target_code or "",
        "inspection_date": _date(record.inspection_date),
        "method": record.method or "",
        "items": record.items_text,
        "situation": record.situation or "",
        "problems": record.problems or "",
        "result": record.result_code or "",
        "follow_up": record.follow_up or "",
        "follow_up_closed": record.follow_up_closed,
        "follow_up_note": record.follow_up_note or "",
        "opinions": record.opinions or "",
        "present_person": record.present_person or "",
        "due_on": _date(record.due_on),
        "submitted_on": record.submitted_on.isoformat(timespec="seconds")
        if record.submitted_on
        else "",
        "status": record.status,
        "evidence": [
            {
                "file": evidence_path(e),
                "name": e.file_name,
                "sha256": e.sha256,
                "size": e.size,
                "note": e.note or "",
                "uploaded_by": str(e.created_by) if e.created_by else "",
                "uploaded_on": e.created_on.isoformat(timespec="seconds") if e.created_on else "",
            }
            for e in record.evidence
        ],
        "rectification": [
            {
                "department": c.department.name,
                "requirement": c.requirement,
                "deadline": _date(c.deadline),
                "status": c.status_label,
                "closed_on": _date(c.closed_on),
                "closing_note": c.closing_note or "",
                "reinspections": [
                    {"date": _date(r.date), "finding": r.finding, "rectified": r.rectified}
                    for r in c.reinspections
                ],
            }
            for c in record.rectification_cases
        ],
        "penalties": [
            {
                "number": p.decision_number,
                "date": _date(p.decision_date),
                "content": p.content,
            }
            for p in record.penalties
        ],
        "transfers": [
            {"date": _date(t.transfer_date), "organ": t.organ, "description": t.description}
            for t in record.transfers
        ],
    }


def evidence_path(evidence) -> str:
    # Never the uploader's file name as a path: the record and evidence ids, the kind's suffix.
    suffix = {"jpeg": "jpg", "ole": "bin"}.get(evidence.kind, evidence.kind)
    return f"evidence/{evidence.record_id}/{evidence.id}.{suffix}"


def _records_csv(records) -> bytes:
    """records.csv, written by the one CSV writer (formula cells neutralised, UTF-8 with BOM)."""
    rows = (
        [
            r.target_name,
            r.target_code or "",
            _date(r.inspection_date),
            r.method or "",
            r.items_text,
            r.situation or "",
            r.problems or "",
            r.result_code or "",
            r.follow_up_text,
            r.opinions or "",
            r.present_person or "",
            _date(r.due_on),
            r.submitted_on.isoformat(timespec="seconds") if r.submitted_on else "",
            str(r.status_label),
        ]
        for r in records
    )
    return csv_bytes(RECORD_HEADERS, rows)


def _json(data) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")


def build_bundle(task: SpotCheckTask):
    """The archive bundle as a temporary file (rewound), streamed to the client by the caller."""
    from app.draws.models import Draw
    from app.draws.services import record as draw_record
    from app.draws.site_record import site_record_html
    from app.extensions import db
    from app.inspections.models import InspectionSummary
    from app.inspections.services import task_records

    records = task_records(task)
    summary = db.session.scalar(
        select(InspectionSummary).where(InspectionSummary.task_id == task.id)
    )
    draws = db.session.scalars(select(Draw).where(Draw.task_id == task.id).order_by(Draw.id)).all()
    manifest: list[dict] = []
    out = tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:

        def add(name: str, data: bytes) -> None:
            archive.writestr(name, data)
            manifest.append(
                {"path": name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
            )

        add(
            "task.json",
            _json(
                {
                    "number": task.number,
                    "name": task.name,
                    "department": task.department.name,
                    "items": [i.name for i in task.items],
                    "content": task.content or "",
                    "window": [_date(task.window_start), _date(task.window_end)],
                    "status": task.status,
                    "results_published_on": _date(task.results_published_on),
                    "archived_on": _date(task.archived_on),
                }
            ),
        )
        add("records.json", _json([_record_data(r) for r in records]))
        add("records.csv", _records_csv(records))
        if summary is not None:
            add("summary.json", _json(summary_data(summary)))
            add("summary.docx", summary_document(summary))
        for draw in draws:
            add(f"draws/draw-{draw.uid}.json", _json({**draw_record(draw), "status": draw.status}))
            add(f"draws/site-record-{draw.uid}.html", site_record_html(draw).encode("utf-8"))
        for record in records:
            for evidence in record.evidence:
                name = evidence_path(evidence)
                digest, size = hashlib.sha256(), 0
                with (
                    archive.open(name, "w") as target,
                    open(stored_path(evidence.sha256), "rb") as source,
                ):
                    while chunk := source.read(1 << 20):
                        digest.update(chunk)
                        size += len(chunk)
                        target.write(chunk)
                manifest.append({"path": name, "sha256": digest.hexdigest(), "size": size})
        sums = "".join(f"{m['sha256']}  {m['path']}\n" for m in manifest)
        archive.writestr("SHA256SUMS", sums)
        archive.writestr(
            "manifest.json",
            _json(
                {
                    "task": task.number,
                    "generated_at": dt.datetime.now().isoformat(timespec="seconds"),
                    "files": manifest,
                }
            ),
        )
    out.seek(0)
    return out


def summary_data(summary) -> dict:
    return {
        "status": summary.status,
        "check_period": summary.check_period or "",
        "content": summary.content or "",
        "situation": summary.situation or "",
        "opinions": summary.opinions or "",
        "approved_on": _date(summary.approved_on),
        "versions": [
            {
                "version": v.version,
                "fields": v.fields(),
                "submitted_on": v.submitted_on.isoformat(timespec="seconds"),
                "submitted_by": str(v.submitted_by),
                "decision": v.decision or "",
                "decided_on": v.decided_on.isoformat(timespec="seconds") if v.decided_on else "",
                "decided_by": str(v.decided_by) if v.decided_by else "",
                "comment": v.comment or "",
            }
            for v in summary.versions
        ],
    }


def summary_report_data(summary) -> dict:
    """What the printable report shows (DOCX and the browser's print page alike)."""
    from app.inspections.services import task_inspectors, task_records

    task = summary.task
    records = [r for r in task_records(task) if r.status in ("submitted", "reviewed")]
    status = {"approved": "已批准", "submitted": "待审批", "returned": "已退回"}.get(
        summary.status, "草稿"
    )
    # The bureau issues the report; the section that did the work is its 承办科室.
    bureau, section = task.department.issuing_names
    return {
        "issuer": bureau,
        "section": section,
        "title": f"关于{task.name}的检查报告",
        "number": task.number,
        "recipient": "局领导",
        "check_period": chinese_dates_in(summary.check_period or ""),
        "content": summary.content or "",
        "situation": summary.situation or "",
        "opinions": summary.opinions or "",
        "records": [
            {
                "target": r.target_name,
                "date": chinese_date(r.inspection_date),
                "result": r.result_code or "",
                "follow_up": r.follow_up or "",
            }
            for r in records
        ],
        "inspectors": "、".join(task_inspectors(task)),
        "date": summary.approved_on or dt.date.today(),
        "version": summary.version,
        "status": status,
    }


def summary_document(summary) -> bytes:
    """The summary report as DOCX in 公文 style (app/inspections/documents.py)."""
    from app.inspections.documents import summary_docx

    return summary_docx(summary_report_data(summary))


def verify_bundle(stream) -> list[str]:
    """What is wrong with a bundle (empty: every file matches the manifest and SHA256SUMS)."""
    problems = []
    try:
        archive = zipfile.ZipFile(stream)
    except zipfile.BadZipFile:
        return ["not a ZIP file"]
    with archive:
        names = set(archive.namelist())
        if "manifest.json" not in names:
            return ["manifest.json is missing"]
        manifest = json.loads(archive.read("manifest.json"))
        listed = {m["path"] for m in manifest["files"]}
        for entry in manifest["files"]:
            if entry["path"] not in names:
                problems.append(f"{entry['path']}: missing")
                continue
            digest = hashlib.sha256(archive.read(entry["path"])).hexdigest()
            if digest != entry["sha256"]:
                problems.append(f"{entry['path']}: SHA-256 differs")
        for extra in sorted(names - listed - {"manifest.json", "SHA256SUMS"}):
            problems.append(f"{extra}: not in the manifest")
        sums = archive.read("SHA256SUMS").decode() if "SHA256SUMS" in names else ""
        expected = "".join(f"{m['sha256']}  {m['path']}\n" for m in manifest["files"])
        if sums != expected:
            problems.append("SHA256SUMS does not match manifest.json")
    return problems
