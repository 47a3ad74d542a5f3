"""Business rules of inspections: records (谁检查谁录入, R11.2), evidence (R10.2), the 20-working-
day deadline (R11.3), the summary report and its approval (R10.3), follow-up supervision
(R11.4), publication of the task's results and its archive (R10.4).

Views, REST resources and tests call these functions; each raises DomainError (nothing written)
when a rule refuses. The caller commits."""

from __future__ import annotations

import datetime as dt
import json

from flask import g
from flask_babel import lazy_gettext as _
from sqlalchemy import func, select

from app.core.audit import log_event
from app.core.decisions import check_opinion
from app.core.errors import DomainError
from app.core.files import DOCUMENT_KINDS, PHOTO_KINDS, safe_display_name, store
from app.core.text import chinese_date_range
from app.directory.models import Inspector
from app.draws.models import Assignment, DrawnTarget
from app.draws.services import is_assigned_to_task
from app.extensions import db
from app.inspections import penalty_rules
from app.inspections.deadlines import due_date
from app.inspections.models import (
    BLACKLIST_GROUNDS,
    CASE_STATUSES,
    CLOSED_CASE_STATUSES,
    ENTERED_RECORD_STATUSES,
    FOLLOW_UPS,
    METHODS,
    NO_FOLLOW_UP,
    NO_PROBLEM,
    PROBLEM_RESULTS,
    RECORD_WORKING_DAYS,
    RESULT_CODES,
    SUMMARY_FIELD_LABELS,
    SUMMARY_FIELDS,
    CaseTransfer,
    Evidence,
    InspectionRecord,
    InspectionSummary,
    JudicialTransfer,
    Penalty,
    RectificationCase,
    Reinspection,
    SummaryVersion,
)
from app.inspections.result_codes import check_result_detail, missing_result_detail
from app.planning.models import PUBLISHED_TASK_STATUSES, SpotCheckTask, task_item
from app.planning.services import require_lead_department
from app.security.models import Department
from app.security.scope import ensure_in_scope
from app.security.write_scope import crossing_departments

EVIDENCE_KINDS = PHOTO_KINDS | DOCUMENT_KINDS
RECTIFY = "责令改正、跟踪整改"
PENALTY = "立案查处"
TRANSFER = "移送司法机关"


def _actor(user=None):
    return user if user is not None else g.user


def _today() -> dt.date:
    return dt.date.today()


def _now() -> dt.datetime:
    return dt.datetime.now()


def _text(value) -> str:
    return (value or "").strip()


# --- who may do what ------------------------------------------------------------------------


def ensure_task_open(task: SpotCheckTask) -> None:
    """R10.4: nothing under an archived task changes, for any role."""
    if task.status == "archived":
        raise DomainError(_("The task is archived: it and everything under it are read-only."))


def is_group_member(user, task_id: int, target_id: int | None = None) -> bool:
    """An active member of the inspection group of (task, target), or of any group of the
    task when no target is given."""
    return is_assigned_to_task(user, task_id, target_id)


def ensure_group_member(record: InspectionRecord, user=None) -> None:
    if not is_group_member(_actor(user), record.task_id, record.target_id):
        raise DomainError(
            _("Only the inspectors of this target's group enter its record (谁检查谁录入).")
        )


def _log(action: str, obj, **detail) -> None:
    log_event(
        action,
        obj.__tablename__,
        obj.id,
        department_id=obj.task.department_id,
        detail={"task": obj.task.number, **detail},
    )


# --- records ------------------------------------------------------------------------------


def open_record(drawn: DrawnTarget, user=None) -> InspectionRecord:
    """The record of a drawn target, created (as a draft) the first time one of its group
    opens it."""
    user = _actor(user)
    task = drawn.draw.task
    ensure_task_open(task)
    if not is_group_member(user, drawn.task_id, drawn.target_id):
        raise DomainError(
            _("Only the inspectors of this target's group enter its record (谁检查谁录入).")
        )
    record = db.session.scalar(
        select(InspectionRecord).where(InspectionRecord.drawn_target_id == drawn.id)
    )
    if record is not None:
        return record
    if task.status not in ("inspectors_drawn", "inspecting", "results_entered"):
        raise DomainError(_("Records are entered once the inspectors are drawn."))
    record = InspectionRecord(
        task=task, target_id=drawn.target_id, drawn_target=drawn, status="draft"
    )
    db.session.add(record)
    if task.status == "inspectors_drawn":
        task.status = "inspecting"
    db.session.flush()
    _log("record_open", record)
    return record


def ensure_can_enter(record: InspectionRecord, user=None) -> None:
    """The user may change the record now: a member of its group, the record being entered,
    the task not archived."""
    ensure_task_open(record.task)
    ensure_group_member(record, user)
    if not record.editable:
        if record.task.results_published_on is not None:
            raise DomainError(
                _("The task's results are published: its records can no longer be changed.")
            )
        raise DomainError(_("A submitted record cannot be changed; ask for it to be returned."))


def can_enter(record: InspectionRecord, user=None) -> bool:
    try:
        ensure_can_enter(record, user)
    except DomainError:
        return False
    return True


def entry_items(user, record_id: int | None = None):
    """SELECT the ids of the items a record may name (finding 7 of issue 17): its task's items.
    Without a record (the REST `_info`), the items of every task whose record the user enters
    now: an active member of one of its groups, the task not archived."""
    if record_id is not None:
        tasks = select(InspectionRecord.task_id).where(InspectionRecord.id == record_id)
    else:
        user_id = getattr(user, "id", None)
        tasks = (
            select(Assignment.task_id)
            .join(Inspector, Inspector.id == Assignment.inspector_id)
            .join(SpotCheckTask, SpotCheckTask.id == Assignment.task_id)
            .where(
                Inspector.user_id == user_id,
                Assignment.active.is_(True),
                SpotCheckTask.status != "archived",
            )
        )
    return select(task_item.c.item_id).where(task_item.c.task_id.in_(tasks))


def check_record_entry(record: InspectionRecord, user=None) -> None:
    """Before a record is saved: the right person, an editable record, valid values. Also sets
    the due date (R11.3)."""
    ensure_can_enter(record, user)
    task = record.task
    day = record.inspection_date
    if day is not None:
        if day > _today():
            raise DomainError(_("The inspection date cannot be in the future."))
        if task.window_start and day < task.window_start:
            raise DomainError(
                _(
                    "The inspection date cannot be before the task's window (%(start)s).",
                    start=task.window_start.isoformat(),
                )
            )
        result = due_date(day, RECORD_WORKING_DAYS)
        record.due_on, record.due_confirmed = result.date, result.confirmed
    else:
        record.due_on, record.due_confirmed = None, True
    for value, allowed, label in (
        (record.method, METHODS, _("inspection method")),
        (record.result_code, RESULT_CODES, _("result")),
        (record.follow_up, FOLLOW_UPS, _("follow-up measure")),
    ):
        if value and value not in allowed:
            raise DomainError(_("Unknown %(what)s: %(value)s", what=label, value=value))
    check_result_detail(record.result_code, record.result_detail)
    task_items = {i.id for i in task.items}
    for item in record.items:
        if item.id not in task_items:
            raise DomainError(
                _("%(item)s is not an item of this task; enter it under 其他.", item=item.name)
            )


def submit_record(record: InspectionRecord, user=None) -> None:
    user = _actor(user)
    check_record_entry(record, user)
    missing = [
        label
        for value, label in (
            (record.inspection_date, _("inspection date")),
            (record.method, _("inspection method")),
            (record.items or _text(record.other_items), _("items checked")),
            (_text(record.situation), _("on-site situation")),
            (_text(record.problems), _("problems found (or 无)")),
            (record.result_code, _("result")),
            (
                not missing_result_detail(record.result_code, record.result_detail),
                _("result detail"),
            ),
            (record.follow_up, _("follow-up measure")),
            (_text(record.present_person), _("legal representative or contact present")),
        )
        if not value
    ]
    if missing:
        raise DomainError(
            _("Fill in before submitting: %(fields)s.", fields="、".join(str(m) for m in missing))
        )
    no_problem = _text(record.problems) == NO_PROBLEM
    if record.result_code in PROBLEM_RESULTS and no_problem:
        raise DomainError(_("The result says problems were found: describe them."))
    if record.result_code == "发现问题待后续处理" and record.follow_up == NO_FOLLOW_UP:
        raise DomainError(_("Problems left for follow-up need a follow-up measure."))
    record.status = "submitted"
    record.submitted_on = _now()
    record.submitted_by_id = user.id
    record.return_comment = None
    target = record.target
    if target.last_inspected_on is None or target.last_inspected_on < record.inspection_date:
        target.last_inspected_on = record.inspection_date
    refresh_follow_up(record)
    _refresh_task_status(record.task)
    _log("record_submit", record, target=record.target_id)


def return_record(record: InspectionRecord, comment: str, user=None) -> None:
    """The task's Operator or Leader returns a submitted record with a comment."""
    ensure_task_open(record.task)
    require_lead_department(record.task, user)
    if record.status not in ENTERED_RECORD_STATUSES:
        raise DomainError(_("Only a submitted record can be returned."))
    if record.task.status == "published":
        raise DomainError(_("The results of this task are published already."))
    if not _text(comment):
        raise DomainError(_("Say why the record is returned."))
    record.status = "returned"
    record.return_comment = _text(comment)
    record.reviewed_on = _now()
    record.reviewed_by_id = _actor(user).id
    _refresh_task_status(record.task)
    _log("record_return", record, comment=record.return_comment)


def review_record(record: InspectionRecord, user=None) -> None:
    """The task's Operator or Leader accepts a submitted record: ready to publish."""
    ensure_task_open(record.task)
    require_lead_department(record.task, user)
    if record.status != "submitted":
        raise DomainError(_("Only a submitted record can be reviewed."))
    record.status = "reviewed"
    record.reviewed_on = _now()
    record.reviewed_by_id = _actor(user).id
    _refresh_task_status(record.task)
    _log("record_review", record)


def _refresh_task_status(task: SpotCheckTask) -> None:
    """inspecting ⇄ results_entered: every drawn target has an entered record."""
    if task.status not in ("inspecting", "results_entered", "inspectors_drawn"):
        return
    db.session.flush()
    drawn = db.session.scalar(
        select(func.count()).select_from(DrawnTarget).where(DrawnTarget.task_id == task.id)
    )
    entered = db.session.scalar(
        select(func.count())
        .select_from(InspectionRecord)
        .where(
            InspectionRecord.task_id == task.id,
            InspectionRecord.status.in_(ENTERED_RECORD_STATUSES),
        )
    )
    task.status = "results_entered" if drawn and entered == drawn else "inspecting"


def add_evidence(record: InspectionRecord, stream, file_name: str, note: str, user=None):
    """R10.2: a photo or document, typed by its content, stored by its SHA-256 outside the
    database; only while the record is being entered."""
    check_record_entry(record, user)
    stored = store(stream, EVIDENCE_KINDS)
    evidence = Evidence(
        record=record,
        task_id=record.task_id,
        file_name=safe_display_name(file_name, stored.kind),
        sha256=stored.sha256,
        size=stored.size,
        kind=stored.kind,
        content_type=stored.content_type,
        note=_text(note)[:200] or None,
    )
    db.session.add(evidence)
    return evidence


# --- follow-up supervision (R11.4) ------------------------------------------------------------


def refresh_follow_up(record: InspectionRecord) -> None:
    """完结 when no follow-up is needed, or when what the measure calls for is done: the
    rectification case closed, the penalty decided, the transfer made, or (抄告/其他) closed
    with a note."""
    if record.status not in ENTERED_RECORD_STATUSES:
        closed = False
    elif record.follow_up == NO_FOLLOW_UP:
        closed = True
    elif record.follow_up == RECTIFY:
        cases = record.rectification_cases
        closed = bool(cases) and all(c.closed for c in cases)
    elif record.follow_up == PENALTY:
        closed = bool(record.penalties)
    elif record.follow_up == TRANSFER:
        closed = bool(record.transfers)
    else:
        closed = bool(_text(record.follow_up_note))
    if closed and not record.follow_up_closed:
        record.follow_up_closed_on = _today()
    if not closed:
        record.follow_up_closed_on = None
    record.follow_up_closed = closed


def _require_follow_up(record: InspectionRecord, measure: str | None = None) -> None:
    ensure_task_open(record.task)
    if record.status not in ENTERED_RECORD_STATUSES:
        raise DomainError(_("Follow-up starts from a submitted record."))
    if measure and record.follow_up != measure:
        raise DomainError(
            _("The record's follow-up measure is %(measure)s.", measure=record.follow_up)
        )


def open_case(
    record: InspectionRecord, department_id: int, requirement: str, deadline: dt.date
) -> RectificationCase:
    _require_follow_up(record, RECTIFY)
    if not _text(requirement):
        raise DomainError(_("State what must be rectified."))
    if deadline is None or deadline < record.inspection_date:
        raise DomainError(_("The rectification deadline must be after the inspection date."))
    if record.rectification_cases:
        raise DomainError(_("This record has its rectification case already."))
    case = RectificationCase(
        record=record,
        task_id=record.task_id,
        target_id=record.target_id,
        department_id=department_id,
        requirement=_text(requirement),
        deadline=deadline,
        status="in_progress",
    )
    db.session.add(case)
    db.session.flush()
    refresh_follow_up(record)
    return case


def check_case(case: RectificationCase) -> None:
    """Before a case is saved from a form: the record's rules, and no reopening."""
    record = case.record or db.session.get(InspectionRecord, case.record_id)
    if record is None:
        raise DomainError(_("Choose the inspection record."))
    _require_follow_up(record, RECTIFY)
    if case.id and case.closed:
        raise DomainError(_("The case is closed."))
    case.task_id, case.target_id = record.task_id, record.target_id
    if case.deadline and record.inspection_date and case.deadline < record.inspection_date:
        raise DomainError(_("The rectification deadline must be after the inspection date."))
    if case.status not in CASE_STATUSES:
        raise DomainError(_("Unknown rectification status."))


def add_reinspection(
    case: RectificationCase, day: dt.date, finding: str, rectified: bool
) -> Reinspection:
    ensure_task_open(case.task)
    if case.closed:
        raise DomainError(_("The case is closed."))
    if day is None or day > _today():
        raise DomainError(_("The re-inspection date cannot be in the future."))
    if not _text(finding):
        raise DomainError(_("Describe what the re-inspection found."))
    row = Reinspection(
        case=case, task_id=case.task_id, date=day, finding=_text(finding), rectified=rectified
    )
    db.session.add(row)
    return row


def close_case(case: RectificationCase, status: str, note: str) -> None:
    ensure_task_open(case.task)
    if case.closed:
        raise DomainError(_("The case is closed."))
    if status not in CLOSED_CASE_STATUSES:
        raise DomainError(_("Choose 已整改, 整改不到位 or 拒不整改."))
    if not case.reinspections:
        raise DomainError(_("Record the re-inspection before closing the case."))
    if not _text(note):
        raise DomainError(_("Give the reason for closing the case."))
    case.status = status
    case.closed_on = _today()
    case.closing_note = _text(note)
    from app.credit.services import suggest_from_case  # credit builds on inspections

    # The responsible department may be another than the task's (谁管辖谁负责): closing its
    # case closes the follow-up of the task's record and suggests the listing of the task's
    # target, rows outside its own departments (app/security/write_scope.py).
    with crossing_departments(db.session):
        refresh_follow_up(case.record)
        _log("case_close", case, status=status)
        suggest_from_case(case)  # 拒不整改 / 整改不到位: a blacklist suggestion (R12.1)
        db.session.flush()


def transfer_case(case: RectificationCase, department_id, reason: str) -> CaseTransfer:
    """Hand an open case over to the department competent for it (移交, 谁管辖谁负责): a
    recorded step with its reason, which the receiving department sees with the case. The
    only write that moves a case to a department outside the sender's scope."""
    ensure_task_open(case.task)
    if case.closed:
        raise DomainError(_("The case is closed."))
    department = db.session.get(Department, department_id) if department_id else None
    if department is None or not department.active:
        raise DomainError(_("Choose the department that takes the case over."))
    if department.id == case.department_id:
        raise DomainError(_("The case is with that department already."))
    if not _text(reason):
        raise DomainError(_("Give the reason for handing the case over."))
    sender = case.department_id
    row = CaseTransfer(
        case=case,
        from_department_id=sender,
        to_department_id=department.id,
        reason=_text(reason),
    )
    db.session.add(row)
    case.department_id = department.id
    case.department = department
    with crossing_departments(db.session):
        db.session.flush()
    log_event(
        "case_transfer",
        case.__tablename__,
        case.id,
        department_id=department.id,
        detail={"task": case.task.number, "from": sender, "to": department.id},
    )
    return row


def add_penalty(
    record: InspectionRecord, number: str, day: dt.date, content: str, **fields
) -> Penalty:
    """A penalty decided on the record's findings, with the 双公示 fields (`fields`: names of
    penalty_rules.PENALTY_FIELDS, strings or values); the empty ones get their defaults
    (penalty_rules.fill_defaults) before the rules run."""
    _require_follow_up(record)
    # Not attached to the record (nor the session) until the rules have passed.
    penalty = Penalty(task_id=record.task_id, target_id=record.target_id)
    penalty_rules.set_fields(
        penalty, {**fields, "decision_number": number, "decision_date": day, "content": content}
    )
    for name in penalty_rules.DATE_FIELDS:
        setattr(penalty, name, penalty_rules.parse_date(getattr(penalty, name)))
    penalty.kinds = penalty_rules.parse_kinds(penalty.kinds)
    penalty_rules.fill_defaults(penalty, record.task, record.target)
    penalty_rules.check_penalty(penalty, _today(), record.target)
    penalty.record = record
    db.session.add(penalty)
    db.session.flush()
    refresh_follow_up(record)
    from app.credit.services import suggest_from_penalty  # credit builds on inspections

    suggest_from_penalty(penalty)  # a blacklist suggestion, never a listing (R12.1)
    return penalty


def check_penalty_edit(penalty: Penalty) -> None:
    """The penalty's edit page and REST PUT: the same rules as when it was recorded. The
    form's values are not flushed before they are parsed ("abc" in an amount column)."""
    with db.session.no_autoflush:
        penalty_rules.check_penalty(penalty, _today())
        ensure_task_open(penalty.task)


def add_transfer(
    record: InspectionRecord, day: dt.date, organ: str, description: str
) -> JudicialTransfer:
    _require_follow_up(record)
    if not (day and _text(organ) and _text(description)):
        raise DomainError(
            _("A transfer needs its date, the receiving organ and the case description.")
        )
    if day > _today():
        raise DomainError(_("The transfer date cannot be in the future."))
    transfer = JudicialTransfer(
        record=record,
        task_id=record.task_id,
        transfer_date=day,
        organ=_text(organ),
        description=_text(description),
    )
    db.session.add(transfer)
    db.session.flush()
    refresh_follow_up(record)
    return transfer


def close_follow_up(record: InspectionRecord, note: str) -> None:
    """抄告相关部门 / 其他: closed by the department with a note of what was done."""
    _require_follow_up(record)
    if record.follow_up not in ("抄告相关部门", "其他"):
        raise DomainError(_("This follow-up closes by its own case, penalty or transfer."))
    if not _text(note):
        raise DomainError(_("Say what was done."))
    record.follow_up_note = _text(note)
    refresh_follow_up(record)


def blacklist_grounds(target_id: int) -> list[dict]:
    """R12.1: closed cases of 拒不整改 / 整改不到位 and penalties of a target, the evidence a
    blacklist proposal cites (the blacklist workflow builds on this)."""
    grounds = [
        {"kind": "case", "id": c.id, "basis": c.status_label, "date": c.closed_on}
        for c in db.session.scalars(
            select(RectificationCase).where(
                RectificationCase.target_id == target_id,
                RectificationCase.status.in_(BLACKLIST_GROUNDS),
            )
        )
    ]
    grounds += [
        {"kind": "penalty", "id": p.id, "basis": "受到行政处罚", "date": p.decision_date}
        for p in db.session.scalars(select(Penalty).where(Penalty.target_id == target_id))
    ]
    return grounds


# --- the summary report (R10.3) -----------------------------------------------------------------


def task_records(task: SpotCheckTask) -> list[InspectionRecord]:
    return db.session.scalars(
        select(InspectionRecord)
        .where(InspectionRecord.task_id == task.id)
        .order_by(InspectionRecord.inspection_date, InspectionRecord.id)
    ).all()


def aggregate(task: SpotCheckTask) -> dict:
    """The summary's starting text from the records (the inspectors edit it)."""
    records = [r for r in task_records(task) if r.status in ENTERED_RECORD_STATUSES]
    dates = [r.inspection_date for r in records if r.inspection_date]
    period = chinese_date_range(min(dates), max(dates)) if dates else ""
    items = "、".join(i.name for i in task.items)
    content = "；".join(p for p in (items, _text(task.content)) if p)
    situation = "\n".join(
        f"{r.target_name}：{_text(r.situation)}（检查结果：{r.result_code}）" for r in records
    )
    opinions = "\n".join(
        f"{r.target_name}：{_text(r.opinions)}" for r in records if _text(r.opinions)
    )
    return {
        "check_period": period,
        "content": content,
        "situation": situation,
        "opinions": opinions,
    }


def open_summary(task: SpotCheckTask, user=None) -> InspectionSummary:
    user = _actor(user)
    ensure_task_open(task)
    summary = db.session.scalar(
        select(InspectionSummary).where(InspectionSummary.task_id == task.id)
    )
    if summary is not None:
        return summary
    if not is_group_member(user, task.id):
        raise DomainError(_("The summary is written by the task's inspectors."))
    summary = InspectionSummary(task=task, status="draft", version=0, **aggregate(task))
    db.session.add(summary)
    db.session.flush()
    return summary


def check_summary_entry(summary: InspectionSummary, user=None) -> None:
    ensure_task_open(summary.task)
    if not is_group_member(_actor(user), summary.task_id):
        raise DomainError(_("The summary is written by the task's inspectors."))
    if not summary.editable:
        raise DomainError(_("The summary is with the Leader; it can be changed once returned."))


def submit_summary(summary: InspectionSummary, user=None) -> SummaryVersion:
    user = _actor(user)
    check_summary_entry(summary, user)
    task = summary.task
    if task.status != "results_entered":
        raise DomainError(_("Submit the summary once every record of the task is entered."))
    missing = [SUMMARY_FIELD_LABELS[f] for f in SUMMARY_FIELDS if not _text(getattr(summary, f))]
    if missing:
        raise DomainError(
            _("Fill in before submitting: %(fields)s.", fields="、".join(str(m) for m in missing))
        )
    summary.version = (summary.version or 0) + 1
    summary.status = "submitted"
    version = SummaryVersion(
        summary=summary,
        version=summary.version,
        data=json.dumps(
            {f: getattr(summary, f) for f in SUMMARY_FIELDS}, ensure_ascii=False, sort_keys=True
        ),
        submitted_on=_now(),
        submitted_by_id=user.id,
    )
    db.session.add(version)
    _log("summary_submit", summary, version=summary.version)
    return version


def decide_summary(summary: InspectionSummary, approve: bool, comment: str, user=None) -> None:
    """The Leader in charge approves the submitted version or returns it with comments."""
    check_opinion(comment)
    user = _actor(user)
    ensure_task_open(summary.task)
    if summary.status != "submitted":
        raise DomainError(_("Only a submitted summary can be decided."))
    if not approve and not _text(comment):
        raise DomainError(_("Say why the summary is returned."))
    version = summary.versions[-1]
    version.decision = "approved" if approve else "returned"
    version.decided_on = _now()
    version.decided_by_id = user.id
    version.comment = _text(comment) or None
    summary.status = version.decision
    summary.leader_comment = version.comment
    summary.approved_on = _today() if approve else None
    _log("summary_" + version.decision, summary, version=version.version)


# --- publication and archive --------------------------------------------------------------------


def publish_results(task: SpotCheckTask) -> None:
    """The task's results go public (R11.1): every record reviewed, the summary approved. The
    draws' server secrets are revealed from now on."""
    ensure_in_scope(task)
    require_lead_department(task)
    ensure_task_open(task)
    if task.status != "results_entered":
        raise DomainError(_("Every drawn target needs its entered record first."))
    records = task_records(task)
    if any(r.status != "reviewed" for r in records):
        raise DomainError(_("Every record must be reviewed before the results are published."))
    summary = db.session.scalar(
        select(InspectionSummary).where(InspectionSummary.task_id == task.id)
    )
    if summary is None or summary.status != "approved":
        raise DomainError(_("The Leader must approve the summary first."))
    task.status = "published"
    task.results_published_on = _today()
    log_event("publish_results", "spot_check_task", task.id, department_id=task.department_id)


def archive_blockers(task: SpotCheckTask) -> list[str]:
    problems = []
    if task.status != "published":
        problems.append(str(_("The task's results are not published.")))
    open_ones = [r for r in task_records(task) if not r.follow_up_closed]
    if open_ones:
        problems.append(
            str(
                _(
                    "Follow-up still open for: %(names)s.",
                    names="、".join(r.target.name for r in open_ones),
                )
            )
        )
    return problems


def archive_task(task: SpotCheckTask, user=None) -> None:
    """R10.4: a finished task becomes read-only for every role, Admin included."""
    ensure_in_scope(task)
    require_lead_department(task, user)
    ensure_task_open(task)
    problems = archive_blockers(task)
    if problems:
        raise DomainError(" ".join(problems))
    task.status = "archived"
    task.archived_on = _today()
    task.archived_by_id = _actor(user).id
    log_event("archive", "spot_check_task", task.id, department_id=task.department_id)


def task_inspectors(task: SpotCheckTask) -> list[str]:
    """Names of the task's inspectors (active assignments), in roster order."""
    return list(
        db.session.scalars(
            select(Inspector.name)
            .join(Assignment, Assignment.inspector_id == Inspector.id)
            .where(Assignment.task_id == task.id, Assignment.active.is_(True))
            .group_by(Inspector.id, Inspector.name)
            .order_by(Inspector.id)
        )
    )


def work_of(assignments) -> tuple[dict, dict, dict]:
    """For an inspector's assignments: drawn-target ids and records by (task, target), and the
    summaries by task."""
    tasks = {a.task_id for a in assignments}
    drawn = {
        (d.task_id, d.target_id): d.id
        for d in db.session.scalars(select(DrawnTarget).where(DrawnTarget.task_id.in_(tasks)))
    }
    records = {
        (r.task_id, r.target_id): r
        for r in db.session.scalars(
            select(InspectionRecord).where(InspectionRecord.task_id.in_(tasks))
        )
    }
    summaries = {
        s.task_id: s
        for s in db.session.scalars(
            select(InspectionSummary).where(InspectionSummary.task_id.in_(tasks))
        )
    }
    return drawn, records, summaries


def task_results(task: SpotCheckTask) -> dict:
    """The task page's view of its inspections: each drawn target with its record, the
    summary, and what still blocks publication and archive."""
    records = {r.drawn_target_id: r for r in task_records(task)}
    drawn = db.session.scalars(
        select(DrawnTarget).where(DrawnTarget.task_id == task.id).order_by(DrawnTarget.rank)
    ).all()
    summary = db.session.scalar(
        select(InspectionSummary).where(InspectionSummary.task_id == task.id)
    )
    return {
        "rows": [(d, records.get(d.id)) for d in drawn],
        "summary": summary,
        "archive_blockers": archive_blockers(task) if task.status == "published" else [],
    }


def record_counts(year: int, department_ids=None) -> dict[int, dict[str, int]]:
    """Progress counts per task of the year (R9.5): 已检查数 (records with an inspection date),
    已录入 (entered), 已公示 (entered in tasks whose results are published), 逾期未录入 (not
    entered and past the 20 working days), 完结数 (published with the follow-up closed).
    Only tasks led by `department_ids` (None: all)."""
    from app.inspections.deadlines import is_overdue

    counts: dict[int, dict[str, int]] = {}
    query = (
        select(InspectionRecord, SpotCheckTask.status)
        .join(SpotCheckTask, SpotCheckTask.id == InspectionRecord.task_id)
        .where(SpotCheckTask.year == year)
    )
    if department_ids is not None:
        query = query.where(SpotCheckTask.department_id.in_(department_ids))
    today = _today()
    for record, task_status in db.session.execute(query):
        row = counts.setdefault(
            record.task_id,
            {"inspected": 0, "entered": 0, "published": 0, "overdue_unentered": 0, "closed": 0},
        )
        entered = record.status in ENTERED_RECORD_STATUSES
        published = entered and task_status in PUBLISHED_TASK_STATUSES
        row["inspected"] += record.inspection_date is not None
        row["entered"] += entered
        row["published"] += published
        row["closed"] += published and record.follow_up_closed
        row["overdue_unentered"] += not entered and is_overdue(record, today)
    return counts
