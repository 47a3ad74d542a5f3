"""The 摇号现场记录 (site record of a draw): one A4 page in 公文 style that the witnesses and the
operator sign at the draw. It states what the witnesses saw before they typed (the pool's size
and hash, the commitment and its public ledger entry) and, once the draw is complete, what came
out (entropy, record hash, selection or groups). The same HTML is the draw's page to print
(/task-draw/draw/<id>/site-record) and a file of the archive bundle. The page needs nothing
from outside: styles are inline, no script, no font or image is fetched."""

from __future__ import annotations

import datetime as dt
import re

from flask import render_template
from sqlalchemy import select

from app.draws.models import Assignment, Draw
from app.extensions import db

NONE = "—"
_WITNESS_SEPARATORS = re.compile(r"[、,，;；\n]+")


def _when(value) -> str:
    """A stored time (naive, local) or an ISO 8601 text, as 2026年4月1日 09:00."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    if not isinstance(value, dt.datetime):
        return NONE
    return f"{value.year}年{value.month}月{value.day}日 {value:%H:%M:%S}"


def ledger_entry(record: dict, step: str) -> dict:
    """The record's ledger entry of a step ("commit" or "complete"): seq, hash and time, each
    "—" when the record does not carry it (a draw from before the public ledger)."""
    ledger = record.get("ledger")
    entry = ledger.get(step) if isinstance(ledger, dict) else None
    entry = entry if isinstance(entry, dict) else {}
    at = entry.get("at") or record.get("committed_at" if step == "commit" else "completed_at")
    return {
        "present": entry.get("seq") is not None or bool(entry.get("hash")),
        "seq": entry["seq"] if entry.get("seq") is not None else NONE,
        "hash": entry.get("hash") or NONE,
        "at": _when(at) if at else NONE,
    }


def witness_names(witnesses: str | None) -> list[str]:
    return [n.strip() for n in _WITNESS_SEPARATORS.split(witnesses or "") if n.strip()]


def _operator(draw: Draw) -> str:
    user = draw.created_by
    if user is None:
        return ""
    full = f"{user.last_name or ''}{user.first_name or ''}".strip()
    return full or user.username


def _target_names(draw: Draw) -> dict[int, str]:
    """The drawn targets' names as their inspection records keep them (TargetSnapshot): the
    record signed on site, and the copy in the archive bundle, do not change when a target is
    renamed later. A target without a record yet shows its current name."""
    from app.inspections.models import InspectionRecord

    rows = db.session.execute(
        select(InspectionRecord.target_id, InspectionRecord.target_name).where(
            InspectionRecord.task_id == draw.task_id
        )
    ).all()
    return {target_id: name for target_id, name in rows if name}


def site_record_data(draw: Draw) -> dict:
    from app.draws.services import record

    data = record(draw, with_pool=False)
    params = data.get("params", {})
    done = draw.status == "done"
    rows: list[dict] = []
    substitutions: list[dict] = []
    names = _target_names(draw)

    def target_name(target) -> str:
        return names.get(target.id, target.name)

    if done and draw.kind == "target":
        for drawn in sorted(draw.drawn_targets, key=lambda d: (d.stratum, d.rank)):
            rows.append(
                {"group": drawn.stratum, "rank": drawn.rank, "name": target_name(drawn.target)}
            )
    elif done:
        assignments = db.session.scalars(
            select(Assignment)
            .where(Assignment.draw_id == draw.id)
            .order_by(Assignment.target_id, Assignment.position, Assignment.id)
        ).all()
        for a in assignments:
            if a.substitute_for_id is None:
                rows.append(
                    {"group": target_name(a.target), "rank": a.position, "name": a.inspector.name}
                )
        by_id = {a.id: a for a in assignments}
        for a in assignments:
            if a.substitute_for_id is not None:
                replaced = by_id.get(a.substitute_for_id)
                substitutions.append(
                    {
                        "target": target_name(a.target),
                        "replaced": replaced.inspector.name if replaced else NONE,
                        "reason": (replaced.unavailable_reason or "") if replaced else "",
                        "note": (replaced.unavailable_note or "") if replaced else "",
                        "substitute": a.inspector.name,
                    }
                )
    return {
        "draw": draw,
        "task": draw.task,
        # The bureau heads the page; the section that runs the task is its 承办科室.
        "issuer": draw.task.department.issuing_names[0],
        "section": draw.task.department.issuing_names[1],
        "params": params,
        "committed": _when(data.get("committed_at") or draw.created_on),
        "completed": _when(data.get("completed_at") or draw.drawn_at) if done else NONE,
        "commit_entry": ledger_entry(data, "commit"),
        "complete_entry": ledger_entry(data, "complete") if done else None,
        "witnesses": witness_names(draw.witnesses),
        "entropy": draw.witness_entropy or "",
        "entropy_source": draw.entropy_source_label if params.get("entropy_source") else "",
        "attempt": params.get("attempt"),
        "excluded": len(data.get("excluded") or []),
        "rows": rows,
        "substitutions": substitutions,
        "operator": _operator(draw),
        "done": done,
    }


def site_record_html(draw: Draw) -> str:
    return render_template("draws/site_record.html", **site_record_data(draw))
