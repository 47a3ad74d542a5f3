"""Business rules of the dishonesty blacklist (失信黑名单, R12) and of the credit record (信用记录).

The workflow of an entry:

    suggested (system) ─┐
    draft ──────────────┴─ propose ─> proposed ─ review ─> reviewed ─ approve ─> listed ─ publish
        ^                               │ (returned)          │ reject                │
        └───────────────────────────────┘                     v                       │ remove
    suggested / draft ─ dismiss ─> dismissed              rejected                    v
                                                 listed <─ reject ─ removal_proposed ─ approve ─> removed

- A suggestion comes from the system when a rectification case closes as 拒不整改 / 整改不到位 or a
  penalty is recorded: never a listing by itself; a person proposes it.
- A proposal needs reasons and evidence that backs its basis (no listing without evidence).
- The department review is done by someone other than the proposer; the Leader decides with a
  decision number (文号) and a listing period; removal (信用修复 / 期满移出) is its own proposal and
  decision. Every step is an event of the entry and a row of the audit log.
- While listed, the target's `listed_on` is set: the draw puts it in the special stratum, the
  plan's highest ratio (R9.7, R12.2).

Each function raises DomainError (nothing written) when a rule refuses; the caller commits."""

from __future__ import annotations

import datetime as dt

from dateutil.relativedelta import relativedelta
from flask import g
from flask_babel import lazy_gettext as _
from sqlalchemy import select

from app.core.audit import log_event
from app.core.decisions import MAX_OPINION, check_opinion
from app.core.errors import DomainError
from app.credit.models import (
    BASES,
    CASE_BASIS,
    EDITABLE_STATUSES,
    MAX_PERIOD_MONTHS,
    OPEN_STATUSES,
    REMOVAL_KINDS,
    BlacklistEntry,
    BlacklistEvent,
)
from app.extensions import db
from app.inspections.models import (
    BLACKLIST_GROUNDS,
    ENTERED_RECORD_STATUSES,
    InspectionRecord,
    Penalty,
    RectificationCase,
)
from app.security import roles
from app.security.scope import ALL, departments_in_scope, in_scope, role_names
from app.security.system_user import acting_as_system


def _actor(user=None):
    return user if user is not None else g.user


def _now() -> dt.datetime:
    return dt.datetime.now()


def _today() -> dt.date:
    return dt.date.today()


def _text(value) -> str:
    return (value or "").strip()


def _record_event(entry: BlacklistEntry, action: str, comment=None, number=None, user=None):
    """One step: an event of the entry (its history) and a row of the audit log."""
    check_opinion(comment)
    user = _actor(user)
    entry.events.append(
        BlacklistEvent(
            at=_now(),
            user_id=getattr(user, "id", None),
            action=action,
            comment=_text(comment) or None,
            decision_number=_text(number) or None,
        )
    )
    db.session.flush()
    log_event(
        f"blacklist_{action}",
        "blacklist_entry",
        entry.id,
        department_id=entry.department_id,
        detail={
            "target": entry.target_id,
            "status": entry.status,
            **({"decision_number": _text(number)} if number else {}),
        },
    )


def _open_entry_of(target_id: int, excluding: int | None = None) -> BlacklistEntry | None:
    query = select(BlacklistEntry).where(
        BlacklistEntry.target_id == target_id, BlacklistEntry.status.in_(OPEN_STATUSES)
    )
    if excluding is not None:
        query = query.where(BlacklistEntry.id != excluding)
    return db.session.scalars(query.limit(1)).first()


def _ensure_department(entry: BlacklistEntry, user) -> None:
    """Reviews, decisions and removals are the listing department's (in the user's scope)."""
    scope = departments_in_scope(user)
    if scope is not ALL and entry.department_id not in scope:
        raise DomainError(_("Only the listing department's staff and Leaders act on this entry."))


def _is_inspector_only(user) -> bool:
    return not role_names(user) & {roles.ADMIN, roles.LEADER, roles.OPERATOR}


# --- drafting and proposing -------------------------------------------------------------------


def check_entry(entry: BlacklistEntry, user=None) -> None:
    """Before a draft (or a suggestion) is saved, on the page and through the REST API: the
    fields make sense, and everything it cites is the same target's and visible to the user."""
    user = _actor(user)
    if entry.status not in EDITABLE_STATUSES:
        raise DomainError(_("Only a draft or a suggestion can be changed."))
    if entry.target is None:
        # A new draft's target is its evidence's.
        source = entry.case or entry.penalty or (entry.records[0] if entry.records else None)
        # Evidence the user may not see is no evidence (and must not name its target).
        if source is not None and in_scope(source, user):
            entry.target = source.target
    if entry.target is None:
        raise DomainError(_("Cite the rectification case or the penalty the proposal rests on."))
    if entry.basis not in BASES:
        raise DomainError(_("Choose the basis: 拒不整改, 整改不到位 or 受到行政处罚."))
    if entry.department is None:
        raise DomainError(_("Choose the listing department."))
    scope = departments_in_scope(user)
    if scope is not ALL and entry.department.id not in scope:
        raise DomainError(_("The listing department must be one of your departments."))
    target_id = entry.target.id
    if entry.case is not None:
        if entry.case.target_id != target_id or not in_scope(entry.case, user):
            raise DomainError(_("The rectification case cited must be this target's."))
        if entry.case.status not in BLACKLIST_GROUNDS:
            raise DomainError(
                _("Only a case closed as 拒不整改 or 整改不到位 is a ground for listing.")
            )
    if entry.penalty is not None:
        if entry.penalty.target_id != target_id or not in_scope(entry.penalty, user):
            raise DomainError(_("The penalty cited must be this target's."))
    for record in entry.records:
        if record.target_id != target_id or not in_scope(record, user):
            raise DomainError(_("Every inspection record cited must be this target's."))
        if record.status not in ENTERED_RECORD_STATUSES:
            raise DomainError(_("Cite inspection records once they are submitted."))
    if _is_inspector_only(user) and not entry.records:
        raise DomainError(_("An inspector proposes from their own inspection record: cite it."))
    other = _open_entry_of(target_id, excluding=entry.id)
    if other is not None and not in_scope(other, user):
        # Its status (a draft, a proposal) is the listing department's business.
        raise DomainError(
            _("This target already has an open blacklist entry: its department continues it.")
        )
    if other is not None:
        raise DomainError(
            _(
                "This target already has an open blacklist entry (%(status)s): continue that one.",
                status=other.status_label,
            )
        )
    if entry.id is None:
        entry.origin = "inspector" if _is_inspector_only(user) else "operator"
    entry.active_key = str(target_id)
    entry.reasons = _text(entry.reasons) or None


def check_evidence(entry: BlacklistEntry) -> None:
    """No listing without evidence: the basis is backed by what the entry cites."""
    if entry.basis in CASE_BASIS:
        case = entry.case
        if case is None or case.status != CASE_BASIS[entry.basis]:
            raise DomainError(
                _(
                    "The basis %(basis)s needs a rectification case of this target closed as %(basis)s.",
                    basis=BASES[entry.basis],
                )
            )
    elif entry.penalty is None:
        raise DomainError(_("The basis 受到行政处罚 needs the penalty decision of this target."))


def create_draft(target, basis, department, user=None, **evidence) -> BlacklistEntry:
    """A new draft (the page and the REST API go through check_entry the same way)."""
    entry = BlacklistEntry(
        target=target, basis=basis, department=department, status="draft", **evidence
    )
    check_entry(entry, user)
    db.session.add(entry)
    db.session.flush()
    _record_event(entry, "create", user=user)
    return entry


def note_created(entry: BlacklistEntry, user=None) -> None:
    """A draft added on the page or through the REST API: its first event, written with it
    (the insert itself is in the audit log like every insert)."""
    user = _actor(user)
    entry.events.append(
        BlacklistEvent(at=_now(), user_id=getattr(user, "id", None), action="create")
    )


def propose(entry: BlacklistEntry, user=None) -> None:
    user = _actor(user)
    if entry.status not in EDITABLE_STATUSES:
        raise DomainError(_("This entry was proposed already."))
    check_entry(entry, user)
    check_evidence(entry)
    if not entry.reasons:
        raise DomainError(_("Give the reasons for the listing."))
    entry.status = "proposed"
    entry.proposed_on = _now()
    entry.proposed_by_id = user.id
    entry.review_comment = None
    _record_event(entry, "propose", entry.reasons, user=user)


def dismiss(entry: BlacklistEntry, reason: str, user=None) -> None:
    """A suggestion (or a draft) not taken up: closed with the reason, kept on record."""
    user = _actor(user)
    if entry.status not in EDITABLE_STATUSES:
        raise DomainError(_("Only a draft or a suggestion can be set aside."))
    _ensure_department(entry, user)
    if not _text(reason):
        raise DomainError(_("Say why the suggestion is not taken up."))
    entry.status = "dismissed"
    entry.active_key = None
    _record_event(entry, "dismiss", reason, user=user)


# --- review and decision ---------------------------------------------------------------------


def review(entry: BlacklistEntry, passed: bool, comment: str, user=None) -> None:
    """The department's review (部门审核): passed on to the Leader, or returned to the draft."""
    user = _actor(user)
    if entry.status != "proposed":
        raise DomainError(_("Only a proposed entry is reviewed."))
    _ensure_department(entry, user)
    if entry.proposed_by_id == user.id:
        raise DomainError(_("The review is done by someone other than the proposer."))
    entry.reviewed_on = _now()
    entry.reviewed_by_id = user.id
    entry.review_comment = _text(comment) or None
    if passed:
        check_evidence(entry)
        entry.status = "reviewed"
        _record_event(entry, "review", comment, user=user)
    else:
        if not _text(comment):
            raise DomainError(_("Say why the proposal is returned."))
        entry.status = "draft"
        _record_event(entry, "return", comment, user=user)


def _decision_date(value, earliest: dt.datetime | None) -> dt.date:
    day = value or _today()
    if day > _today():
        raise DomainError(_("The decision date cannot be in the future."))
    if earliest is not None and day < earliest.date():
        raise DomainError(_("The decision date cannot be before the proposal."))
    return day


def _with_opinion(text: str, opinion: str) -> str:
    return f"{text}；意见：{opinion}" if opinion else text


def approve(
    entry: BlacklistEntry,
    decision_number: str,
    period_months=None,
    decided_on: dt.date | None = None,
    user=None,
    opinion: str = "",
) -> None:
    """The Leader's decision: list the target (reviewed entries) or remove it (removal
    proposals). A decision number is required either way; the 意见 (opinion) is optional and
    kept in the event's comment."""
    user = _actor(user)
    opinion = _text(opinion)
    _ensure_department(entry, user)
    number = _text(decision_number)
    if not number:
        raise DomainError(_("Enter the decision number (文号)."))
    if len(number) > 60:
        raise DomainError(_("The decision number is at most 60 characters."))
    if entry.status == "reviewed":
        try:
            months = int(period_months)
        except (TypeError, ValueError):
            months = 0
        if not 1 <= months <= MAX_PERIOD_MONTHS:
            raise DomainError(
                _(
                    "The listing period is 1 to %(max)d months.",
                    max=MAX_PERIOD_MONTHS,
                )
            )
        check_evidence(entry)
        day = _decision_date(decided_on, entry.proposed_on)
        entry.status = "listed"
        entry.decided_on = _now()
        entry.decided_by_id = user.id
        entry.decision_number = number
        entry.listed_on = day
        entry.period_months = months
        entry.expires_on = day + relativedelta(months=months)
        entry.target.listed_on = day
        _record_event(
            entry, "approve", _with_opinion(f"列入期限 {months} 个月", opinion), number, user=user
        )
    elif entry.status == "removal_proposed":
        day = _decision_date(decided_on, entry.removal_proposed_on)
        entry.status = "removed"
        entry.removal_decision_number = number
        entry.removal_decided_by_id = user.id
        entry.removed_on = day
        entry.active_key = None
        entry.target.listed_on = None
        _record_event(
            entry,
            "approve_removal",
            _with_opinion(str(entry.removal_kind_label), opinion),
            number,
            user=user,
        )
    else:
        raise DomainError(_("Nothing of this entry awaits a decision."))


def reject(entry: BlacklistEntry, reason: str, user=None) -> None:
    """The Leader refuses the listing (the entry closes) or the removal (it stays listed)."""
    user = _actor(user)
    _ensure_department(entry, user)
    if not _text(reason):
        raise DomainError(_("Give the reasons for the refusal."))
    if entry.status == "reviewed":
        entry.status = "rejected"
        entry.decided_on = _now()
        entry.decided_by_id = user.id
        entry.rejection_reason = _text(reason)
        entry.active_key = None
        _record_event(entry, "reject", reason, user=user)
    elif entry.status == "removal_proposed":
        entry.status = "listed"
        entry.removal_refusal = _text(reason)
        _record_event(entry, "reject_removal", reason, user=user)
    else:
        raise DomainError(_("Nothing of this entry awaits a decision."))


def publish(entry: BlacklistEntry, user=None) -> None:
    """The listing decision goes on /public/blacklist (R12.1); a later removal shows there too."""
    user = _actor(user)
    _ensure_department(entry, user)
    if entry.status not in ("listed", "removal_proposed", "removed") or entry.listed_on is None:
        raise DomainError(_("Only a listing decided by the Leader is published."))
    if entry.published_on is not None:
        raise DomainError(_("This listing is published already."))
    entry.published_on = _today()
    _record_event(entry, "publish", user=user)


def propose_removal(entry: BlacklistEntry, kind: str, reason: str, user=None) -> None:
    user = _actor(user)
    _ensure_department(entry, user)
    if entry.status != "listed":
        raise DomainError(_("Only a current listing can be proposed for removal."))
    if kind not in REMOVAL_KINDS:
        raise DomainError(_("Choose 信用修复 or 期满移出."))
    if kind == "expired" and entry.expires_on and entry.expires_on > _today():
        raise DomainError(
            _(
                "The listing period ends on %(day)s: before then, removal is by credit repair.",
                day=entry.expires_on.isoformat(),
            )
        )
    if not _text(reason):
        raise DomainError(_("Give the reasons for the removal."))
    entry.status = "removal_proposed"
    entry.removal_kind = kind
    entry.removal_reason = _text(reason)
    entry.removal_proposed_on = _now()
    entry.removal_proposed_by_id = user.id
    entry.removal_refusal = None
    _record_event(entry, "propose_removal", f"{REMOVAL_KINDS[kind]}：{_text(reason)}", user=user)


# --- suggestions from follow-up supervision (R11.4) --------------------------------------------


def _suggest(target, basis: str, department_id: int, reasons: str, **evidence):
    if _open_entry_of(target.id) is not None:
        return None  # already suggested, proposed or listed: the open entry carries on
    with acting_as_system() as system:
        entry = BlacklistEntry(
            target=target,
            basis=basis,
            department_id=department_id,
            status="suggested",
            origin="system",
            active_key=str(target.id),
            reasons=reasons,
            **evidence,
        )
        db.session.add(entry)
        db.session.flush()
        _record_event(entry, "suggest", reasons, user=system)
    return entry


def suggest_from_case(case: RectificationCase):
    """A case closed as 拒不整改 / 整改不到位: a suggestion for the responsible department."""
    if case.status not in BLACKLIST_GROUNDS:
        return None
    reasons = f"整改案件结案为{case.status_label}：{case.closing_note or ''}".rstrip("：")
    return _suggest(
        case.target, case.status, case.department_id, reasons, case=case, records=[case.record]
    )


def suggest_from_penalty(penalty: Penalty):
    """A penalty recorded: a suggestion for the task's department."""
    reasons = f"受到行政处罚：{penalty.decision_number}，{penalty.content}"
    if len(reasons) > MAX_OPINION:  # a long 处罚内容 is the penalty's: the reasons quote it
        reasons = reasons[: MAX_OPINION - 1] + "…"
    return _suggest(
        penalty.record.target,
        "penalty",
        penalty.task.department_id,
        reasons,
        penalty=penalty,
        records=[penalty.record],
    )


def open_from(kind: str, obj, user=None) -> BlacklistEntry:
    """A draft started from a case, a penalty or a record page; an open suggestion for the
    same target is taken over instead of starting a second entry."""
    user = _actor(user)
    if kind == "case":
        target, basis, evidence = obj.target, obj.status, {"case": obj, "records": [obj.record]}
        department = obj.department
    elif kind == "penalty":
        target, basis, evidence = obj.record.target, "penalty", {"penalty": obj}
        evidence["records"] = [obj.record]
        department = obj.task.department
    else:  # an inspection record
        target, basis, evidence = obj.target, "refused", {"records": [obj]}
        department = obj.task.department
    existing = _open_entry_of(target.id)
    if existing is not None and existing.status == "suggested" and in_scope(existing, user):
        return existing
    scope = departments_in_scope(user)
    if scope is not ALL and department.id not in scope:
        from app.security.models import Department

        own = sorted(scope)
        department = db.session.get(Department, own[0]) if own else None
    return create_draft(target, basis, department, user=user, **evidence)


# --- the credit record (信用记录) ----------------------------------------------------------------


def credit_events(target, public: bool = False) -> list[dict]:
    """Everything on a target's credit record in time order: inspection results, rectification,
    penalties, transfers, listings and removals. `public`: only what is published (results of
    published tasks, published listings and their removals)."""
    from app.inspections.models import JudicialTransfer, Reinspection

    events: list[dict] = []

    def add(day, kind, text, link=None):
        if day is not None:
            day = day.date() if isinstance(day, dt.datetime) else day
            events.append({"date": day, "kind": kind, "text": text, "link": link})

    records = db.session.scalars(
        select(InspectionRecord).where(
            InspectionRecord.target_id == target.id,
            InspectionRecord.status.in_(ENTERED_RECORD_STATUSES),
        )
    ).all()
    for record in records:
        task = record.task
        if public and task.results_published_on is None:
            continue
        text = f"{task.number} {task.name}：{record.result_code or ''}"
        if record.result_detail_label:
            text += f"（{record.result_detail_label}）"
        if record.follow_up:
            text += f"；后续处置：{record.follow_up}"
        add(record.inspection_date, "检查结果", text, ("record", record.id))
    if not public:
        cases = db.session.scalars(
            select(RectificationCase).where(RectificationCase.target_id == target.id)
        ).all()
        for case in cases:
            add(case.created_on, "责令整改", f"{case.requirement}（期限 {case.deadline}）")
            for visit in db.session.scalars(
                select(Reinspection).where(Reinspection.case_id == case.id)
            ):
                state = "已整改" if visit.rectified else "未整改"
                add(visit.date, "复查", f"{visit.finding}（{state}）")
            if case.closed:
                add(case.closed_on, "整改结案", f"{case.status_label}：{case.closing_note or ''}")
        for penalty in db.session.scalars(select(Penalty).where(Penalty.target_id == target.id)):
            add(
                penalty.decision_date,
                "行政处罚",
                f"{penalty.decision_number}：{penalty.content}",
            )
        for transfer in db.session.scalars(
            select(JudicialTransfer)
            .join(InspectionRecord, JudicialTransfer.record_id == InspectionRecord.id)
            .where(InspectionRecord.target_id == target.id)
        ):
            add(transfer.transfer_date, "移送司法机关", f"{transfer.organ}：{transfer.description}")
    entries = db.session.scalars(
        select(BlacklistEntry)
        .where(BlacklistEntry.target_id == target.id)
        .order_by(BlacklistEntry.id)
    ).all()
    for entry in entries:
        if public:
            if entry.published_on is None:
                continue
            add(
                entry.listed_on,
                "列入失信黑名单",
                f"{entry.basis_label}（{entry.decision_number}，{entry.department.name}）",
            )
            if entry.removed_on:
                add(
                    entry.removed_on,
                    "移出失信黑名单",
                    f"{entry.removal_kind_label}（{entry.removal_decision_number}）",
                )
            continue
        for event in entry.events:
            text = str(event.action_label)
            if event.decision_number:
                text += f"（{event.decision_number}）"
            if event.comment:
                text += f"：{event.comment}"
            add(event.at, "失信黑名单", text, ("blacklist", entry.id))
    events.sort(key=lambda e: e["date"])
    return events
