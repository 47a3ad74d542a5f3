"""Running draws against the database: freeze the pool and the parameters, commit, draw with
app/draws/protocol.py, persist the record and the selection. The pure protocol decides; this
module only gathers its inputs and stores its outputs."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import unicodedata
import uuid

from flask_babel import lazy_gettext as _
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import IntegrityError

from app.core.audit import log_event
from app.core.errors import DomainError
from app.directory.models import (
    ACTIVE_STATUS,
    Conflict,
    Inspector,
)
from app.draws import ledger, protocol
from app.draws import pool as pools
from app.draws.ledger_chain import (
    NO_ENTROPY,
    SUPPLEMENT_EVENT,
    check_chain,
    check_record,
    event_seal,
    without_ledger_fields,
)
from app.draws.models import SUBSTITUTION_REASONS, Assignment, Draw, DrawnTarget
from app.draws.pool import target_params
from app.extensions import db
from app.planning.models import SpotCheckTask
from app.planning.services import require_lead_department
from app.security.scope import ensure_in_scope

# --- pools --------------------------------------------------------------------------------------
# The target pool, its parameters and its preview live in app/draws/pool.py.


def inspector_pool(task: SpotCheckTask, on_date: dt.date) -> tuple[list[dict], list[dict]]:
    departments = [task.department_id] + [d.id for d in task.participating_departments]
    pool, excluded = [], []
    for inspector in db.session.scalars(
        select(Inspector).where(Inspector.department_id.in_(departments)).order_by(Inspector.id)
    ):
        if inspector.status != ACTIVE_STATUS:
            excluded.append({"id": inspector.id, "reason": f"status:{inspector.status}"})
        elif inspector.certificate_expiry is None or inspector.certificate_expiry < on_date:
            excluded.append({"id": inspector.id, "reason": "certificate_expired"})
        else:
            pool.append({"id": inspector.id, "department": inspector.department_id})
    return pool, excluded


# --- starting and completing a draw ---------------------------------------------------------------


def _log_draw(draw: Draw, step: str, **detail) -> None:
    """Every step of a draw (commit, draw, substitute, cancel) in the audit log."""
    log_event(
        "draw",
        "draw",
        draw.uid,
        department_id=draw.task.department_id,
        detail={"step": step, **detail},
    )


def _require_task(task: SpotCheckTask):
    ensure_in_scope(task)
    require_lead_department(task)
    if task.approval != "approved":
        raise DomainError(_("A check outside the plan is drawn only after a Leader approved it."))


def target_draw_opens_on(task: SpotCheckTask) -> dt.date | None:
    """The first day the task's targets may be drawn: DRAW_OPENS_WORKING_DAYS_BEFORE working
    days (bureau calendar) before its implementation window starts; None for a task without a
    window start (no rule to apply)."""
    from flask import current_app

    from app.core.calendar import working_days_before

    if task.window_start is None:
        return None
    days = max(0, int(current_app.config.get("DRAW_OPENS_WORKING_DAYS_BEFORE", 5)))
    return working_days_before(task.window_start, days).date


def target_draw_not_open(task: SpotCheckTask, today: dt.date | None = None) -> str | None:
    """Why the task's targets cannot be drawn yet (a Chinese sentence saying from which date),
    or None when the draw is open."""
    from app.core.text import chinese_date

    opens = target_draw_opens_on(task)
    if opens is None or (today or dt.date.today()) >= opens:
        return None
    end = chinese_date(task.window_end) if task.window_end else "—"
    return str(
        _(
            "The task's inspection window is %(start)s to %(end)s: its targets can be drawn "
            "from %(opens)s.",
            start=chinese_date(task.window_start),
            end=end,
            opens=chinese_date(opens),
        )
    )


WITNESSES_MAX_LENGTH = Draw.__table__.c.witnesses.type.length
ENTROPY_SOURCE_MAX_LENGTH = 200
_NAME_SEPARATORS = str.maketrans({c: " " for c in "、,，;；/"})


def witness_names(witnesses: str | None) -> list[str]:
    """The distinct names in the witnesses' field (separated by 、 , ; / or spaces). Names are
    compared in NFKC form without invisible characters (a zero-width space or a full-width
    letter makes no second person), and a single character is no name (“张 三” is one
    person written with a space)."""
    names: list[str] = []
    seen: set[str] = set()
    text = unicodedata.normalize("NFKC", witnesses or "")
    text = "".join(c for c in text if unicodedata.category(c) != "Cf")
    for name in text.translate(_NAME_SEPARATORS).split():
        key = name.casefold()
        if len(name) >= 2 and key not in seen:
            seen.add(key)
            names.append(name)
    return names


def no_entropy_allowed() -> bool:
    from flask import current_app

    return bool(current_app.config.get("DRAW_ALLOW_NO_ENTROPY"))


def _entropy_source(mode: str, witnesses: str | None, declared: str | None) -> str:
    """The outside entropy the commitment declares (params.entropy_source, so hashed):
    "witnesses" (at least two named persons type it after the commitment is public),
    "public:<source>" (a future public result, e.g. a lottery draw, entered when it is out),
    or 无外部随机源 (a one-step draw, only where DRAW_ALLOW_NO_ENTROPY is on)."""
    if mode == "witnessed":
        if len(witness_names(witnesses)) < 2:
            raise DomainError(
                _(
                    "Name at least two witnesses (监督人), separated by 、: one person is no outside check."
                )
            )
        return "witnesses"
    if mode == "public":
        declared = " ".join((declared or "").split())
        if not declared:
            raise DomainError(
                _(
                    "Declare the future public source of the entropy, e.g. 中国福利彩票3D 第2027070期开奖号码."
                )
            )
        if len(declared) > ENTROPY_SOURCE_MAX_LENGTH:
            raise DomainError(
                _("The public source: at most %(n)d characters.", n=ENTROPY_SOURCE_MAX_LENGTH)
            )
        if any(ord(ch) < 32 for ch in declared):
            raise DomainError(_("The public source must not contain control characters."))
        return f"public:{declared}"
    if mode != "one_step":
        raise DomainError(_("Unknown draw mode: use witnessed or public."))
    if not no_entropy_allowed():
        raise DomainError(
            _(
                "A draw without outside entropy is not allowed: draw with at least two witnesses "
                "or declare a future public source (DRAW_ALLOW_NO_ENTROPY is off)."
            )
        )
    return NO_ENTROPY


def _attempt(task: SpotCheckTask, kind: str) -> dict:
    """A draw after cancelled ones is the next attempt, linked to the last cancelled draw."""
    cancelled = db.session.scalars(
        select(Draw.uid)
        .where(Draw.task_id == task.id, Draw.kind == kind, Draw.status == "cancelled")
        .order_by(Draw.id)
    ).all()
    if not cancelled:
        return {"attempt": 1}
    return {"attempt": len(cancelled) + 1, "previous_draw": cancelled[-1]}


def _note(draw: Draw) -> dict:
    """Every ledger entry of a draw without outside entropy says so."""
    source = json.loads(draw.params).get("entropy_source") if draw.params else None
    return {"note": NO_ENTROPY} if source == NO_ENTROPY else {}


def start_draw(
    task: SpotCheckTask,
    kind: str,
    witnesses: str | None = None,
    mode: str = "one_step",
    entropy_source: str | None = None,
) -> Draw:
    """Freeze pool and parameters, pick the secret, write the commitment and its public
    ledger entry. The caller commits this before any entropy is accepted."""
    _require_task(task)
    witnesses = (witnesses or "").strip() or None
    if witnesses and len(witnesses) > WITNESSES_MAX_LENGTH:
        raise DomainError(
            _("The witnesses' names: at most %(n)d characters.", n=WITNESSES_MAX_LENGTH)
        )
    source = _entropy_source(mode, witnesses, entropy_source)
    today = dt.date.today()
    if kind == "target":
        if task.status != "planned":
            raise DomainError(_("The targets of this task were drawn already."))
        not_open = target_draw_not_open(task, today)
        if not_open:
            raise DomainError(not_open)
        # Frozen as canonical JSON once, inside PostgreSQL or in Python (app/draws/pool.py).
        target_pool = pools.freeze_target_pool(task)
        if not target_pool.size:
            raise DomainError(_("No target matches the task's scope: nothing to draw."))
        excluded = target_pool.excluded
        params = target_params(task)
        if target_pool.blacklisted:
            # Informational, under params_hash: why these targets are in the special stratum.
            params["blacklisted"] = target_pool.blacklisted
    else:
        if task.status != "targets_drawn":
            raise DomainError(_("Draw the targets first; inspectors are drawn once per task."))
        targets = [
            t
            for (t,) in db.session.execute(
                select(DrawnTarget.target_id)
                .where(DrawnTarget.task_id == task.id)
                .order_by(DrawnTarget.target_id)
            )
        ]
        inspectors, excluded = inspector_pool(task, today)
        conflicts = sorted(
            [i, t]
            for i, t in db.session.execute(
                select(Conflict.inspector_id, Conflict.target_id).where(
                    Conflict.target_id.in_(targets),
                    Conflict.inspector_id.in_([i["id"] for i in inspectors]),
                    Conflict.valid_from <= today,
                    (Conflict.valid_until.is_(None)) | (Conflict.valid_until >= today),
                )
            )
        )
        params = {
            "algorithm": protocol.ALGORITHM,
            "kind": "inspector",
            "task": task.number,
            "group_size": task.group_size,
            "max_groups_per_inspector": task.max_groups_per_inspector,
            "one_per_department": sorted(
                {task.department_id} | {d.id for d in task.participating_departments}
            )
            if task.one_per_department and task.participating_departments
            else [],
            "targets": targets,
            "conflicts": conflicts,
        }
        _check_enough_inspectors(targets, inspectors, conflicts, excluded, task.group_size)
        # Canonicalise and encode the pool once: its bytes are stored and hashed as they are.
        frozen = protocol.canonical_pool(protocol.pool_from_inspectors(inspectors))
        text = protocol.encode_pool(frozen).decode("utf-8")
        target_pool = pools.FrozenPool(
            text, protocol.sha256_hex(text.encode("utf-8")), len(frozen), excluded, [], frozen
        )
    params.update(_attempt(task, kind), entropy_source=source)
    secret = secrets.token_bytes(protocol.SECRET_BYTES)
    draw = Draw(
        uid=uuid.uuid4().hex,
        task=task,
        kind=kind,
        status="committed",
        active_key=f"{task.id}:{kind}",
        mode=mode,
        witnesses=witnesses,
        server_secret=secret.hex(),
        commitment=protocol.commitment(secret),
        pool_hash=target_pool.pool_hash,
        params_hash=protocol.params_hash(params),
        pool_size=target_pool.size,
        params=json.dumps(params, ensure_ascii=False, sort_keys=True),
        pool=target_pool.text if target_pool.text is not None else pools.frozen_text(),
        excluded=json.dumps(excluded, ensure_ascii=False) if excluded else None,
    )
    # Not columns: kept for complete_draw in the same process (the candidates only when the
    # pool was built in Python; on PostgreSQL the stored pool is ranked where it is).
    draw.frozen_pool = target_pool.candidates
    draw.audit_digests = {"pool": target_pool.pool_hash}  # the audit log's digest of the pool
    db.session.add(draw)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise DomainError(
            _("This task already has a draw of this kind: a task is drawn once.")
        ) from None
    if target_pool.text is None:  # frozen by PostgreSQL: keep its strata for the ranking
        pools.store_strata(draw.id)
    _log_draw(
        draw,
        "commit",
        task=task.number,
        kind=kind,
        commitment=draw.commitment,
        pool_hash=draw.pool_hash,
        params_hash=draw.params_hash,
        pool_size=draw.pool_size,
    )
    ledger.append(
        "commit",
        draw.uid,
        task=task.number,
        kind=kind,
        attempt=params["attempt"],
        pool_size=draw.pool_size,
        pool_hash=draw.pool_hash,
        params_hash=draw.params_hash,
        commitment=draw.commitment,
        entropy_source=source,
        **_note(draw),
    )
    return draw


def _check_enough_inspectors(targets, inspectors, conflicts, excluded, size):
    blocked = {(i, t) for i, t in conflicts}
    for target in targets:
        eligible = [i for i in inspectors if (i["id"], target) not in blocked]
        if len(eligible) < size:
            raise DomainError(
                _(
                    "Target %(target)s: only %(n)d eligible inspectors for a group of %(size)d "
                    "(%(excluded)d not on duty or without a valid certificate, %(conflicts)d with a "
                    "declared conflict).",
                    target=target,
                    n=len(eligible),
                    size=size,
                    excluded=len(excluded),
                    conflicts=len(inspectors) - len(eligible),
                )
            )


def complete_draw(draw: Draw, witness_entropy: str | None = None) -> Draw:
    if draw.status != "committed":
        raise DomainError(_("This draw is not waiting to be completed."))
    if draw.kind == "target":
        # The timing rule holds at the draw itself, not only at its commitment.
        not_open = target_draw_not_open(draw.task)
        if not_open:
            raise DomainError(not_open)
    try:
        entropy = protocol.normalise_witness_entropy(witness_entropy)
    except protocol.ProtocolError:
        raise DomainError(
            _("The witnesses' entropy must not contain control characters.")
        ) from None
    if draw.mode in ("witnessed", "public") and not entropy:
        raise DomainError(
            _("Enter the digits or text the witnesses chose.")
            if draw.mode == "witnessed"
            else _("Enter the result of the declared public source.")
        )
    if ledger.entry_of(draw.uid, "commit") is None:
        # The commitment is public before any entropy is taken, or the draw does not go on.
        raise DomainError(
            _(
                "The commitment of this draw is not in the public draw ledger: no entropy is accepted."
            )
        )
    secret = bytes.fromhex(draw.server_secret)
    seed = protocol.derive_seed(secret, draw.uid, draw.pool_hash, draw.params_hash, entropy)
    params = json.loads(draw.params)
    # On PostgreSQL a target pool is ranked where it is stored (app/draws/pool.py).
    ranked_in_database = draw.kind == "target" and pools.in_database()
    # A one-step draw still holds the pool it froze; a witnessed one reads it back.
    pool = None
    if not ranked_in_database:
        pool = getattr(draw, "frozen_pool", None) or protocol.canonical_pool(
            json.loads(draw.pool)
        )
    task = draw.task
    try:
        # The selection's rows (for lists, scope and counts) are derived data written in bulk;
        # the draw's own audit rows and record hash cover the selection.
        if ranked_in_database:
            result = pools.select_in_database(draw.id, task.id, params, seed, draw.pool_size)
            task.status = "targets_drawn"
        elif draw.kind == "target":
            result = protocol.select_targets(pool, params, seed)
            rows = [
                {
                    "draw_id": draw.id,
                    "task_id": task.id,
                    "target_id": target_id,
                    "stratum": stratum,
                    "rank": position,
                }
                for stratum, ids in result.items()
                for position, target_id in enumerate(ids, start=1)
            ]
            if rows:
                db.session.execute(insert(DrawnTarget), rows)
            task.status = "targets_drawn"
        else:
            groups = protocol.draw_inspectors(
                params["targets"],
                protocol.inspectors_from_pool(pool),
                params["conflicts"],
                params,
                seed,
            )
            rows = [
                {
                    "draw_id": draw.id,
                    "task_id": task.id,
                    "target_id": target_id,
                    "inspector_id": inspector_id,
                    "position": position,
                    "active": True,
                }
                for target_id, group in groups.items()
                for position, inspector_id in enumerate(group, start=1)
            ]
            if rows:
                db.session.execute(insert(Assignment), rows)
            result = {str(t): g for t, g in groups.items()}
            task.status = "inspectors_drawn"
    except protocol.ProtocolError as exc:
        raise DomainError(str(exc)) from None
    draw.witness_entropy = entropy or None
    draw.result = json.dumps(result, ensure_ascii=False, sort_keys=True)
    draw.status = "done"
    draw.drawn_at = dt.datetime.now().replace(microsecond=0)
    if ranked_in_database:
        draw.record_hash = _record_hash_in_database(draw)
    else:
        draw.record_hash = protocol.record_hash(
            record(draw, reveal=False, pool=pool, with_ledger=False),
            pool_json=draw.pool.encode("utf-8"),
        )
    _log_draw(draw, "draw", task=task.number, kind=draw.kind, record_hash=draw.record_hash)
    note = _note(draw)
    ledger.append("entropy", draw.uid, entropy=entropy, **note)
    ledger.append("complete", draw.uid, record_hash=draw.record_hash, **note)
    return draw


def _record_hash_in_database(draw: Draw) -> str:
    """protocol.record_hash of the draw's record, the stored pool hashed where it is stored:
    SHA-256(the record's canonical JSON before its pool || the pool || after it)."""
    data = record(draw, reveal=False, with_pool=False, with_ledger=False)
    data["pool"] = []
    before, after = protocol.record_hash_parts(data)
    db.session.flush()
    return db.session.scalar(
        text(
            "SELECT encode(sha256(CAST(:before AS bytea) || convert_to(pool, 'UTF8')"
            " || CAST(:after AS bytea)), 'hex') FROM draw WHERE id = :id"
        ),
        {"before": before, "after": after, "id": draw.id},
    )


def record(
    draw: Draw,
    reveal: bool | None = None,
    pool: list | None = None,
    with_pool: bool = True,
    with_ledger: bool = True,
) -> dict:
    """The verifiable record. The server secret is in it only once the task's results are
    published (or when `reveal` says so, for verification inside the system). `pool` saves
    decoding the stored pool again when the caller has it; `with_pool=False` leaves it out
    (a page that shows the record, not the candidates: a pool can hold a million).
    `with_ledger` adds the positions and times of the draw's `commit` and `complete` ledger
    entries (`ledger`, `committed_at`, `completed_at`: not covered by record_hash)."""
    data = {
        "algorithm": protocol.ALGORITHM,
        "kind": draw.kind,
        "draw_id": draw.uid,
        "task": draw.task.number,
        "params": json.loads(draw.params),
        "pool_hash": draw.pool_hash,
        "params_hash": draw.params_hash,
        "commitment": draw.commitment,
        "witness_entropy": draw.witness_entropy or "",
        "witnesses": draw.witnesses or "",
        "excluded": json.loads(draw.excluded) if draw.excluded else [],
    }
    if with_pool:
        data["pool"] = pool if pool is not None else json.loads(draw.pool)
    if draw.kind == "target":
        data["selection"] = draw.result_data()
    else:
        data["groups"] = draw.result_data()
        data["substitutions"] = draw.substitution_events()
    if draw.record_hash:
        data["record_hash"] = draw.record_hash
    if reveal if reveal is not None else draw.published:
        data["server_secret"] = draw.server_secret
    if with_ledger:
        commit = ledger.entry_of(draw.uid, "commit")
        complete = ledger.entry_of(draw.uid, "complete")
        if commit is not None:
            data["ledger"] = {"commit": ledger.position(commit)}
            data["committed_at"] = commit["at"]
            if complete is not None:
                data["ledger"]["complete"] = ledger.position(complete)
                data["completed_at"] = complete["at"]
    return data


def record_json(draw: Draw) -> str:
    """The record as a JSON file (the public download of a published draw, the staff export).
    The stored pool text goes in as it is: decoding a million candidates into Python objects only to encode
    them again would cost hundreds of megabytes per download."""
    head = json.dumps(record(draw, with_pool=False), ensure_ascii=False, sort_keys=True, indent=1)
    return head[: head.rindex("}")].rstrip() + ',\n "pool": ' + draw.pool + "\n}\n"


def open_draws(task: SpotCheckTask) -> list[Draw]:
    return list(
        db.session.scalars(
            select(Draw).where(Draw.task_id == task.id, Draw.status.in_(("committed", "done")))
        )
    )


def draw_summary(draw: Draw) -> dict:
    """What a caller may see of a draw without the confidential selection."""
    return {
        "id": draw.id,
        "draw_id": draw.uid,
        "kind": draw.kind,
        "status": draw.status,
        "commitment": draw.commitment,
        "pool_size": draw.pool_size,
        "pool_hash": draw.pool_hash,
        "params_hash": draw.params_hash,
        "record_hash": draw.record_hash,
        "entropy_source": json.loads(draw.params).get("entropy_source"),
        "ledger": {
            name: ledger.position(ledger.entry_of(draw.uid, name))
            for name in ("commit", "complete")
            if ledger.entry_of(draw.uid, name) is not None
        },
    }


def verify_draw(draw: Draw) -> list[str]:
    """The record's own consistency (every hash and the selection recomputed)."""
    return protocol.verify(without_ledger_fields(record(draw, reveal=True)))


def verify_against_ledger(draw: Draw) -> list[str]:
    """The ledger check: the whole chain unbroken, and the record matching its entries
    (docs/draw-protocol.md §18). Messages name the entry that differs."""
    entries = ledger.all_entries()
    problems = check_chain(entries, ledger.head())
    data = record(draw, reveal=True)
    return problems + check_record(data, entries)


# --- substitutes --------------------------------------------------------------------------------


class _Substitution:
    """What a substitute draw and a supplementary draw both start from: the checks, the
    assignment replaced, the seed and the state of the substitution chain."""

    def __init__(self, draw: Draw, target_id: int, inspector_id: int, reason: str, note: str):
        ensure_in_scope(draw.task)
        require_lead_department(draw.task)
        # The draw's row is locked until this step commits: two substitutes of one draw at the
        # same moment would each append to the chain they read and one event would be lost.
        from app.core.locks import lock_for_update

        lock_for_update(db.session, Draw.__table__, draw.id)
        db.session.refresh(draw, with_for_update=True)
        if draw.kind != "inspector" or draw.status != "done":
            raise DomainError(_("Substitutes are drawn for a completed inspector draw."))
        if draw.published:
            raise DomainError(_("The results are published: the groups can no longer change."))
        if not reason:
            raise DomainError(_("Choose the reason why the inspector cannot attend."))
        if reason not in SUBSTITUTION_REASONS:
            raise DomainError(
                _("Choose the reason: %(values)s.", values="、".join(SUBSTITUTION_REASONS))
            )
        if reason == "其他" and not (note or "").strip():
            raise DomainError(_("Describe the reason when it is 其他."))
        # A locking read: under MariaDB's repeatable read a plain SELECT would still see the
        # member as active after a step that waited for the lock had replaced them.
        self.current = db.session.scalar(
            select(Assignment)
            .where(
                Assignment.draw_id == draw.id,
                Assignment.target_id == target_id,
                Assignment.inspector_id == inspector_id,
                Assignment.active.is_(True),
            )
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if self.current is None:
            raise DomainError(_("That inspector is not in the group of that target."))
        self.draw, self.target_id, self.inspector_id = draw, target_id, inspector_id
        self.reason, self.note = reason, (note or "").strip()
        self.seed, self.params, self.state = _chain(draw)
        self.events = draw.substitution_events()
        self.unavailable = self.state.unavailable.get(target_id, set()) | {inspector_id}

    def from_ranking(self, extra: list[dict] = ()) -> int:
        """The §12 substitute: the next eligible inspector of the draw's own ranking."""
        return self.state.next_substitute(
            self.seed, self.target_id, self.unavailable, self.params, self.inspector_id, extra
        )

    def ranking_used_up(self) -> bool:
        try:
            self.from_ranking()
        except protocol.ProtocolError:
            return True
        return False

    def record(self, chosen: int, step: str, **extra) -> Assignment:
        """Append the event to the chain, the assignment, the audit row and the ledger entry."""
        draw, current = self.draw, self.current
        event = {
            "target": self.target_id,
            "replaced": self.inspector_id,
            "substitute": chosen,
            "reason": self.reason,
            "note": self.note,
            "at": ledger.now().isoformat(),  # with +08:00, like the ledger and the record
            "prev_hash": self.events[-1]["event_hash"] if self.events else draw.record_hash,
            **extra,
        }
        event["event_hash"] = protocol.event_hash(event)
        self.events.append(event)
        draw.substitutions = json.dumps(self.events, ensure_ascii=False)
        current.active = False
        current.unavailable_reason = self.reason
        current.unavailable_note = self.note or None
        replacement = Assignment(
            draw_id=draw.id,
            task_id=draw.task_id,
            target_id=self.target_id,
            inspector_id=chosen,
            position=current.position,
            substitute_for_id=current.id,
        )
        db.session.add(replacement)
        _log_draw(
            draw,
            step,
            target=self.target_id,
            replaced=self.inspector_id,
            substitute=chosen,
            reason=self.reason,
            event_hash=event["event_hash"],
        )
        # Before publication the public sees a seal of the event (HMAC with the draw's secret),
        # not its hash, which could be found by trying the few possible events.
        ledger.append(
            step,
            draw.uid,
            n=len(self.events),
            event_seal=event_seal(draw.server_secret, event["event_hash"]),
        )
        return replacement


def substitute_inspector(
    draw: Draw, target_id: int, inspector_id: int, reason: str, note: str = ""
) -> Assignment:
    """递补抽取 (R7.2): the next eligible inspector of the same ranking replaces one who cannot
    attend; both stay on record and the event joins the record's hash chain."""
    sub = _Substitution(draw, target_id, inspector_id, reason, note)
    try:
        chosen = sub.from_ranking()
    except protocol.ProtocolError:
        raise DomainError(RANKING_USED_UP) from None
    return sub.record(chosen, "substitute")


RANKING_USED_UP = _(
    "No eligible inspector is left for this target in the draw's ranking. A substitute comes "
    "only from the inspectors frozen in the pool when the inspectors were drawn, so an "
    "inspector added to the roster since then cannot be chosen this way. A Leader runs the "
    "supplementary inspector draw (补充摇号): it draws at random from today's roster."
)


def supplementary_pool(task: SpotCheckTask, target_id: int, on_date: dt.date) -> list[dict]:
    """Today's roster for a supplementary draw: inspectors of the task's departments, on duty,
    with a valid certificate and without a conflict of interest with the target declared and in
    force today. The draw's own rules (not in the group, the load cap, one per department) are
    the protocol's, applied when it ranks them (docs/draw-protocol.md §12a)."""
    pool, _excluded = inspector_pool(task, on_date)
    conflicted = set(
        db.session.scalars(
            select(Conflict.inspector_id).where(
                Conflict.target_id == target_id,
                Conflict.valid_from <= on_date,
                (Conflict.valid_until.is_(None)) | (Conflict.valid_until >= on_date),
            )
        )
    )
    return [i for i in pool if i["id"] not in conflicted]


def supplementary_draw(
    draw: Draw, target_id: int, inspector_id: int, reason: str, note: str = ""
) -> Assignment:
    """补充摇号 (R7.2 “从检查人员名录库再次随机抽取”): when the draw's ranking has nobody left for
    the target, the substitute is drawn from today's roster, ranked with a seed derived from
    the draw's seed, the supplementary pool's hash and the event's place in the chain. The
    pool goes into the event, so the record, its ledger seal and the verifier cover it.

    Separation of duties: the Operator edits the roster, so a Leader runs the supplementary
    draw (as a cancellation), else an Operator could add inspectors and redraw the member
    who came in by the last draw until the person wanted comes up."""
    _require_leader(draw)
    sub = _Substitution(draw, target_id, inspector_id, reason, note)
    if not sub.ranking_used_up():
        raise DomainError(
            _(
                "The draw's ranking still has an eligible inspector for this target: draw a "
                "substitute (递补抽取) instead."
            )
        )
    candidates = supplementary_pool(draw.task, target_id, dt.date.today())
    if not candidates:
        raise DomainError(NOBODY_IN_ROSTER)
    frozen = protocol.canonical_pool(protocol.pool_from_inspectors(candidates))
    digest = protocol.pool_hash(frozen)
    try:
        chosen = sub.state.supplementary_substitute(
            sub.seed,
            len(sub.events) + 1,
            target_id,
            sub.unavailable,
            sub.params,
            inspector_id,
            frozen,
        )
    except protocol.ProtocolError:
        raise DomainError(NOBODY_IN_ROSTER) from None
    return sub.record(chosen, SUPPLEMENT_EVENT, pool=frozen, pool_hash=digest)


NOBODY_IN_ROSTER = _(
    "Today's roster has no eligible inspector for this target either (on duty, with a valid "
    "certificate, without a conflict of interest, not in its group, under the load cap and of "
    "the department the group needs). Add or update inspectors in the roster, then draw again."
)


def _chain(draw: Draw):
    """The draw's seed, parameters and the state after its substitution chain."""
    seed = protocol.derive_seed(
        bytes.fromhex(draw.server_secret),
        draw.uid,
        draw.pool_hash,
        draw.params_hash,
        draw.witness_entropy or "",
    )
    state, _problems = protocol.replay_state(record(draw, reveal=True), seed)
    return seed, json.loads(draw.params), state


def used_up_members(draw: Draw) -> set[tuple[int, int]]:
    """(target, inspector) of the current members whose substitute can only come from a
    supplementary draw: the draw's own ranking has nobody left for them (the draw's page
    offers 补充摇号 there)."""
    if draw.kind != "inspector" or draw.status != "done" or draw.published:
        return set()
    seed, params, state = _chain(draw)
    used_up = set()
    for target, group in state.groups.items():
        for member in group:
            unavailable = state.unavailable.get(target, set()) | {member}
            try:
                state.next_substitute(seed, target, unavailable, params, member)
            except protocol.ProtocolError:
                used_up.add((target, member))
    return used_up


def planned_counts(year: int, department_ids=None) -> dict[int, dict[str, int]]:
    """应检查数 per task of the year (R9.5: checks done / checks planned): the targets drawn for
    it, and for an approved task not drawn yet the number its draw would take today. A task
    never drawn keeps the rate below 100%, as it must. Only tasks led by `department_ids`
    (None: all)."""
    led = [] if department_ids is None else [SpotCheckTask.department_id.in_(department_ids)]
    rows = db.session.execute(
        select(DrawnTarget.task_id, func.count(DrawnTarget.id))
        .join(SpotCheckTask, DrawnTarget.task_id == SpotCheckTask.id)
        .where(SpotCheckTask.year == year, *led)
        .group_by(DrawnTarget.task_id)
    )
    counts = {task_id: {"planned": n} for task_id, n in rows}
    undrawn = [
        task
        for task in db.session.scalars(
            select(SpotCheckTask)
            .where(
                SpotCheckTask.year == year,
                SpotCheckTask.approval == "approved",
                SpotCheckTask.status == "planned",
                *led,
            )
            .options(*pools.scope_loaded())
        )
        if task.id not in counts
    ]
    for task_id, n in pools.pool_counts(undrawn).items():
        counts[task_id] = {"planned": n}
    return counts


def is_assigned_to_task(user, task_id: int, target_id: int | None = None) -> bool:
    """Whether the user is an inspector with an active assignment in the task (and, when
    given, to that target: a member of its inspection group)."""
    if user is None or not getattr(user, "id", None):
        return False
    query = Assignment.of_user(user, task_id, target_id).limit(1)
    return db.session.scalar(query) is not None


def _require_leader(draw: Draw, user=None) -> None:
    """Only a Leader of the task's lead department (cancellation, supplementary draw)."""
    from app.security import roles
    from app.security.scope import current_actor, role_names

    user = user or current_actor()
    if roles.LEADER not in role_names(user):
        raise DomainError(_("Only a Leader can do this."))
    ensure_in_scope(draw.task)
    require_lead_department(draw.task, user)


def cancel_draw(draw: Draw, reason: str, user=None) -> Draw:
    """A witnessed draw committed but never completed blocks its task: a Leader cancels it
    with a reason. The row stays visible; a completed draw is never cancelled (no redraw)."""
    _require_leader(draw, user)
    if draw.status != "committed":
        raise DomainError(_("Only a draw that was committed and never completed can be cancelled."))
    if not (reason or "").strip():
        raise DomainError(_("Say why the draw is cancelled."))
    draw.status = "cancelled"
    draw.active_key = None
    draw.cancel_reason = reason.strip()
    pools.release_strata(draw.id)
    _log_draw(draw, "cancel", task=draw.task.number, reason=draw.cancel_reason)
    ledger.append("cancel", draw.uid, reason=draw.cancel_reason, **_note(draw))
    return draw
