"""The public draw ledger (摇号公示台账) for anyone: `/public/draws/ledger` (newest first,
paged) and `/public/draws/ledger.json` (oldest first, `?since=SEQ` for the entries after SEQ),
the ledger check of a published draw's page, and the cancelled attempts of a task. Routes on
the `public` blueprint (anonymous, like every /public page); docs/draw-protocol.md §17–18."""

from __future__ import annotations

import json

from flask import jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.disclosure.public import PAGE_SIZE, _page_number, bp
from app.extensions import db

# The most entries one JSON answer holds; `more` says when ?since=<last seq> has the rest.
JSON_LIMIT = 5000

EVENT_LABELS = {
    "commit": _l("Commitment (before any entropy)"),
    "entropy": _l("Outside entropy entered"),
    "complete": _l("Draw completed"),
    "cancel": _l("Draw cancelled"),
    "substitute": _l("Substitute drawn"),
    "supplement": _l("Supplementary inspector draw"),
    "audit_head": _l("Audit log head of the day"),
}
# Shown in the page's "details" column, in this order (the JSON has every field).
DETAIL_FIELDS = (
    ("task", _l("Task")),
    ("kind", _l("Kind")),
    ("attempt", _l("Attempt")),
    ("pool_size", _l("Pool size")),
    ("pool_hash", _l("Pool hash")),
    ("params_hash", _l("Parameters hash")),
    ("commitment", _l("Commitment")),
    ("entropy_source", _l("Outside entropy")),
    ("entropy", _l("Entropy")),
    ("record_hash", _l("Record hash")),
    ("reason", _l("Reason")),
    ("n", _l("Substitution no.")),
    ("event_seal", _l("Event seal")),
    ("audit_seq", _l("Audit log entry")),
    ("audit_hash", _l("Audit log hash")),
    ("note", _l("Note")),
)


KIND_LABELS = {"target": _l("Draw of targets"), "inspector": _l("Draw of inspectors")}


def detail_value(name: str, value):
    """A ledger field's value as a person reads it: the draw's kind and the entropy source in
    words (the JSON keeps the codes, which the hashes cover)."""
    if name == "kind" and value in KIND_LABELS:
        return str(KIND_LABELS[value])
    if name == "entropy_source" and isinstance(value, str):
        from app.draws.ledger_chain import NO_ENTROPY

        if value == "witnesses":
            return str(_l("Entropy typed by the witnesses (监督人)"))
        if value.startswith("public:"):
            return str(
                _l("Declared public source: %(source)s", source=value.removeprefix("public:"))
            )
        return NO_ENTROPY if value == NO_ENTROPY else value
    return value


def event_label(event: str) -> str:
    return str(EVENT_LABELS.get(event, event))


def entry_time(at: str) -> str:
    """An entry's time as people read it, "2026-12-02 10:08:02" (Beijing time, as every time
    the system shows); the entry itself keeps its ISO form with +08:00 (the hashed text)."""
    return (at or "").replace("T", " ").removesuffix("+08:00")


@bp.app_context_processor
def _ledger_helpers():
    from app.draws import ledger

    return {
        "ledger_entries": ledger.entries_of,
        "ledger_event_label": event_label,
        "ledger_time": entry_time,
    }


@bp.route("/draws/ledger")
def ledger_page():
    from app.draws import ledger
    from app.draws.models import DrawLedgerEntry

    total = db.session.scalar(select(func.count(DrawLedgerEntry.id))) or 0
    page = _page_number()
    bodies = db.session.scalars(
        select(DrawLedgerEntry.body)
        .order_by(DrawLedgerEntry.seq.desc())
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    entries = [json.loads(body) for body in bodies]
    rows = [
        {
            "entry": e,
            "label": event_label(e["event"]),
            "details": [
                (label, detail_value(name, e[name])) for name, label in DETAIL_FIELDS if name in e
            ],
        }
        for e in entries
    ]
    return render_template(
        "public/ledger.html",
        rows=rows,
        head=ledger.head(),
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        total=total,
    )


@bp.route("/draws/how-to-verify")
def how_to_verify():
    """In plain words: how anyone can check a published draw on their own computer."""
    return render_template("public/how_to_verify.html")


@bp.route("/draws/ledger.json")
def ledger_json():
    from app.draws import ledger

    since = request.args.get("since", "0").strip()
    if not since.isascii() or not since.isdigit() or len(since) > 15:
        return jsonify(message=_("since must be the whole number of a ledger entry.")), 400
    entries = ledger.all_entries(int(since))
    more = len(entries) > JSON_LIMIT
    return jsonify(entries=entries[:JSON_LIMIT], head=ledger.head(), more=more)


_CHECKED: dict[tuple, tuple[str, ...]] = {}


def ledger_check(draw) -> tuple[str, ...]:
    """The published draw's record against the public ledger (whole chain and the draw's
    entries), once per process and ledger head."""
    from app.draws import ledger, services

    key = (draw.uid, draw.record_hash, ledger.head()["hash"])
    if key not in _CHECKED:
        if len(_CHECKED) > 1000:
            _CHECKED.clear()
        _CHECKED[key] = tuple(services.verify_against_ledger(draw))
    return _CHECKED[key]


def cancelled_attempts(task_id: int) -> list[dict]:
    """A task's cancelled draws, with their attempt number, reason and cancel time."""
    from app.draws import ledger
    from app.draws.models import Draw

    found = []
    for draw in db.session.scalars(
        select(Draw).where(Draw.task_id == task_id, Draw.status == "cancelled").order_by(Draw.id)
    ):
        params = json.loads(draw.params)
        cancel = ledger.entry_of(draw.uid, "cancel")
        found.append(
            {
                "uid": draw.uid,
                "kind": draw.kind,
                "attempt": params.get("attempt", 1),
                "reason": draw.cancel_reason,
                "at": cancel["at"] if cancel else None,
                "commitment": draw.commitment,
            }
        )
    return found
