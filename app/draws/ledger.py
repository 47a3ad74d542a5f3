"""Writing the public draw ledger (摇号公示台账) in the caller's transaction.

Every draw step appends its entry in the same transaction as the step itself, so a step and
its entry are committed together or not at all. Appends are serialised on the one-row head
table: `SELECT ... FOR UPDATE` on PostgreSQL and MariaDB; on SQLite a write to the head row
first takes the database's write lock. The audit chain's head is locked before the ledger's
(every draw step writes its audit row first), so no two transactions wait on each other in
opposite orders. The unique constraints on `seq` and `prev_hash` are the backstop: a second
entry after the same predecessor cannot be stored.

The first ledger entry of each day (+08:00) is preceded by an `audit_head` entry holding the
audit chain's head at that moment (seq and hash): the audit log's state, outside the database,
once a day at least. `flask --app run.py audit head` writes it for a day without draws (cron).
"""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import event, insert, select, update
from sqlalchemy.orm import Session

from app.core.audit.chain import HEAD_ID as AUDIT_HEAD_ID
from app.core.audit.models import AuditChainHead
from app.core.locks import lock_for_update
from app.draws.ledger_chain import GENESIS_HASH, canonical_json, entry_hash
from app.draws.models import DrawLedgerEntry, DrawLedgerHead
from app.extensions import db

HEAD_ID = 1
CST = dt.timezone(dt.timedelta(hours=8))  # China has no daylight saving time
EVENTS = ("commit", "entropy", "complete", "cancel", "substitute", "supplement", "audit_head")


class LedgerIsAppendOnly(RuntimeError):
    pass


@event.listens_for(Session, "before_flush")
def _refuse_orm_changes(session, flush_context, instances):
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if isinstance(obj, (DrawLedgerEntry, DrawLedgerHead)):
            raise LedgerIsAppendOnly("摇号公示台账只能追加，不能通过程序新增、修改或删除记录")


def now() -> dt.datetime:
    return dt.datetime.now(CST).replace(microsecond=0)


def _lock(connection):
    """Lock the audit head, then the ledger head; returns (audit head, (seq, hash))."""
    audit = connection.execute(
        select(AuditChainHead.last_seq, AuditChainHead.last_hash)
        .where(AuditChainHead.id == AUDIT_HEAD_ID)
        .with_for_update()
    ).first()
    # SQLite has no row locks: a write takes the database's lock until the transaction ends.
    lock_for_update(connection, DrawLedgerHead.__table__, HEAD_ID)
    head = connection.execute(
        select(DrawLedgerHead.last_seq, DrawLedgerHead.last_hash)
        .where(DrawLedgerHead.id == HEAD_ID)
        .with_for_update()
    ).first()
    if head is None:
        # A database built by the migration has the row; this covers one built by create_all.
        connection.execute(
            insert(DrawLedgerHead).values(id=HEAD_ID, last_seq=0, last_hash=GENESIS_HASH)
        )
        return audit, (0, GENESIS_HASH)
    return audit, (head.last_seq, head.last_hash)


def _audit_head_fields(audit) -> dict:
    if audit is None:
        return {"audit_seq": 0, "audit_hash": GENESIS_HASH}
    return {"audit_seq": audit.last_seq, "audit_hash": audit.last_hash}


def append(event_name: str, draw_uid: str | None = None, session=None, **fields) -> dict:
    """Append an entry (and, first thing each day, the `audit_head` entry); returns the
    entry as published. Nothing confidential goes in `fields`: no pool, result or names."""
    if event_name not in EVENTS:
        raise ValueError(f"unknown ledger event {event_name!r}")
    connection = (session or db.session).connection()
    audit, (seq, prev) = _lock(connection)
    at = now()
    day = at.date().isoformat()
    pending = []
    if event_name != "audit_head" and not _has_audit_head(connection, day):
        pending.append(("audit_head", None, _audit_head_fields(audit)))
    if event_name == "audit_head":
        fields = {**_audit_head_fields(audit), **fields}
    pending.append((event_name, draw_uid, fields))
    rows, entry = [], {}
    for name, uid, extra in pending:
        seq += 1
        entry = {
            **extra,
            "seq": seq,
            "at": at.isoformat(),
            "event": name,
            "draw_uid": uid,
            "prev_hash": prev,
        }
        entry["hash"] = prev_hash = entry_hash(entry)
        rows.append(
            {
                "seq": seq,
                "event": name,
                "draw_uid": uid,
                "day": day,
                "prev_hash": prev,
                "hash": prev_hash,
                "body": canonical_json(entry).decode("utf-8"),
            }
        )
        prev = prev_hash
    connection.execute(insert(DrawLedgerEntry), rows)
    connection.execute(
        update(DrawLedgerHead)
        .where(DrawLedgerHead.id == HEAD_ID)
        .values(last_seq=seq, last_hash=prev)
    )
    return entry


def _has_audit_head(connection, day: str) -> bool:
    return (
        connection.execute(
            select(DrawLedgerEntry.id)
            .where(DrawLedgerEntry.day == day, DrawLedgerEntry.event == "audit_head")
            .limit(1)
        ).first()
        is not None
    )


def write_daily_audit_head(session=None) -> dict | None:
    """The `audit_head` entry of today, unless one exists already (for cron); returns it."""
    connection = (session or db.session).connection()
    _lock(connection)
    if _has_audit_head(connection, now().date().isoformat()):
        return None
    return append("audit_head", session=session)


def entries_of(draw_uid: str) -> list[dict]:
    return [
        json.loads(body)
        for (body,) in db.session.execute(
            select(DrawLedgerEntry.body)
            .where(DrawLedgerEntry.draw_uid == draw_uid)
            .order_by(DrawLedgerEntry.seq)
        )
    ]


def entry_of(draw_uid: str, event_name: str) -> dict | None:
    body = db.session.scalar(
        select(DrawLedgerEntry.body)
        .where(DrawLedgerEntry.draw_uid == draw_uid, DrawLedgerEntry.event == event_name)
        .order_by(DrawLedgerEntry.seq)
        .limit(1)
    )
    return json.loads(body) if body else None


def all_entries(since: int = 0) -> list[dict]:
    """The published entries after `since`, oldest first."""
    return [
        json.loads(body)
        for (body,) in db.session.execute(
            select(DrawLedgerEntry.body)
            .where(DrawLedgerEntry.seq > since)
            .order_by(DrawLedgerEntry.seq)
        )
    ]


def head() -> dict:
    row = db.session.execute(
        select(DrawLedgerEntry.seq, DrawLedgerEntry.hash)
        .order_by(DrawLedgerEntry.seq.desc())
        .limit(1)
    ).first()
    return {"seq": row.seq, "hash": row.hash} if row else {"seq": 0, "hash": GENESIS_HASH}


def position(entry: dict | None) -> dict | None:
    """{seq, hash, at} of an entry: how a record and a REST answer name it."""
    if entry is None:
        return None
    return {"seq": entry["seq"], "hash": entry["hash"], "at": entry["at"]}
