"""Rules of the annual plan and its tasks (R5.2, R9.1–R9.7): shared by pages, REST API and CLI.

Checks raise DomainError with a message for the user; workflow functions change state and leave
committing to the caller, so that one user action is one transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal, InvalidOperation

from flask import current_app
from flask_babel import lazy_gettext as _
from sqlalchemy import func, inspect, select

from app.core.calendar import add_working_days
from app.core.decisions import check_opinion, record_decision
from app.core.errors import DomainError
from app.directory.models import (
    INDUSTRIES,
    INSPECTION_METHODS,
    RISK_CLASSES,
    TARGET_TYPES,
    Area,
    InspectionItem,
    join_multi,
    split_multi,
)
from app.directory.services import parse_ratio
from app.extensions import db
from app.planning.models import (
    RISK_STRATA,
    AnnualPlan,
    CoverageExemption,
    PlanLine,
    PlanRevision,
    SpotCheckTask,
)
from app.security import roles
from app.security.scope import ALL, current_actor, departments_in_scope, role_names

DEFAULT_TASK_NUMBER_FORMAT = "东水双随机〔{year}〕{seq}号"


def _require_role(user, role, message):
    if role not in role_names(user):
        raise DomainError(message)


def _require_leader(user):
    _require_role(user, roles.LEADER, _("Only a Leader can do this."))


def _require_status(plan: AnnualPlan, *statuses):
    if plan.status not in statuses:
        raise DomainError(
            _("The plan is %(status)s: this step is not possible now.", status=plan.status_label)
        )


def require_lead_department(task: SpotCheckTask, user=None) -> None:
    """A joint check's steps (its draws, substitutes, the review and publication of its
    records, its archive) are its lead department's: a participating department reads the
    task and lends inspectors (谁牵头谁负责), it does not run it."""
    scope = departments_in_scope(user)
    if scope is not ALL and task.department_id not in scope:
        raise DomainError(
            _("Only the lead department of this check (and its Leaders) can do this.")
        )


def _require_in_scope(department_id):
    scope = departments_in_scope()
    if scope is not None and department_id not in scope:
        raise DomainError(_("You can only record data of your own departments."))


# --- plans ---------------------------------------------------------------------------------


def check_plan(plan: AnnualPlan) -> None:
    plan.title = (plan.title or "").strip()
    if not plan.title:
        raise DomainError(_("The plan's title is required."))
    if plan.year is None or not 2000 <= plan.year <= 2100:
        raise DomainError(_("The year must be between 2000 and 2100."))
    dept_id = (
        plan.department_id
        if plan.department_id is not None
        else (plan.department.id if plan.department else None)
    )
    if dept_id is None:
        raise DomainError(_("Choose the department in charge."))
    _require_in_scope(dept_id)
    other = db.session.scalar(
        select(AnnualPlan.id).where(
            AnnualPlan.department_id == dept_id,
            AnnualPlan.year == plan.year,
            AnnualPlan.id != (plan.id or 0),
        )
    )
    if other:
        raise DomainError(_("The department already has a plan for %(year)d.", year=plan.year))


def check_plan_editable(plan: AnnualPlan) -> None:
    # Before check_plan: its queries flush the session, which clears the attributes' history.
    renamed = _changed_fields(plan, ("title", "year", "department_id"))
    check_plan(plan)
    if plan.status != "draft":
        raise DomainError(
            _(
                "A plan is edited as a draft only; to change a published plan, adjust it with a reason."
            )
        )
    if plan.has_published_version and renamed:
        # The plan's name is what the joint-meeting office and the public know it by: it stays
        # while an adjustment is being prepared (they see the version last published).
        raise DomainError(_("A published plan keeps its title, year and department."))


def check_plan_deletable(plan: AnnualPlan) -> None:
    if plan.status != "draft" or plan.has_published_version:
        raise DomainError(_("Only a plan that was never published can be deleted."))


def _check_ratio(value, label) -> Decimal:
    """A plan's or task's ratio of one stratum: 0 (draw none of it) to 100."""
    try:
        if Decimal(str(value).strip().rstrip("%％").strip() or "0") == 0:
            return Decimal("0.00")
    except InvalidOperation:
        pass  # parse_ratio says what is wrong
    try:
        ratio = parse_ratio(value)
    except DomainError:
        raise DomainError(
            _("%(label)s: the ratio must be a percentage from 0 to 100.", label=label)
        ) from None
    return ratio if ratio is not None else Decimal("0.00")


def _check_multi(value, allowed, message):
    parts = split_multi(value)
    unknown = [p for p in parts if p not in allowed]
    if unknown:
        raise DomainError(message % {"values": "、".join(unknown)})
    return join_multi(parts) or None


def check_scope_and_ratios(obj, year: int) -> None:
    """The target filter and ratios of a plan line or a task, and its 检查方式 (the pick-list
    of the items: INSPECTION_METHODS)."""
    obj.method = _check_multi(
        obj.method,
        INSPECTION_METHODS,
        _("Unknown method: %(values)s.")
        + " "
        + _("Allowed: %(values)s", values="、".join(INSPECTION_METHODS)),
    )
    obj.target_types = _check_multi(
        obj.target_types, TARGET_TYPES, _("Unknown target type: %(values)s.")
    )
    obj.industries = _check_multi(
        obj.industries, INDUSTRIES, _("Unknown industry category: %(values)s.")
    )
    obj.risk_classes = _check_multi(
        obj.risk_classes, RISK_CLASSES, _("Unknown credit-risk class: %(values)s.")
    )
    if obj.areas:
        names = split_multi(obj.areas)
        known = set(db.session.scalars(select(Area.name).where(Area.name.in_(names))))
        unknown = [n for n in names if n not in known]
        if unknown:
            raise DomainError(_("Unknown area: %(values)s.", values="、".join(unknown)))
        obj.areas = join_multi(names)
    for stratum in RISK_STRATA:
        setattr(
            obj, f"ratio_{stratum.lower()}", _check_ratio(obj.ratio_for(stratum), f"{stratum}类")
        )
    obj.ratio_special = _check_ratio(obj.ratio_special, "特殊监管对象")
    highest = max(obj.ratio_for(s) for s in RISK_STRATA)
    if obj.ratio_special < highest:
        # R9.7: targets with complaints, serious violations or dishonesty records are drawn
        # harder than any ordinary class, never softer.
        raise DomainError(
            _(
                "Special targets (R9.7) must be drawn with a ratio of at least %(ratio)s%%, the highest class ratio.",
                ratio=f"{highest:g}",
            )
        )
    if highest <= 0 and obj.ratio_special <= 0:
        raise DomainError(_("Set at least one sampling ratio above 0%."))
    if obj.window_start and obj.window_end and obj.window_start > obj.window_end:
        raise DomainError(_("The implementation window ends before it starts."))
    if obj.skip_clean_months is not None and not 1 <= obj.skip_clean_months <= 60:
        raise DomainError(_("The months of the frequency rule must lie between 1 and 60."))
    for day in (obj.window_start, obj.window_end):
        if day is not None and day.year != year:
            raise DomainError(_("The implementation window must lie within %(year)d.", year=year))


def check_line(line: PlanLine) -> None:
    plan = line.plan or (db.session.get(AnnualPlan, line.plan_id) if line.plan_id else None)
    if plan is None:
        raise DomainError(_("Choose the plan."))
    _require_in_scope(plan.department_id)
    if plan.status != "draft":
        raise DomainError(
            _(
                "A plan is edited as a draft only; to change a published plan, adjust it with a reason."
            )
        )
    line.name = (line.name or "").strip()
    line.method = (line.method or "").strip()
    if not line.name:
        raise DomainError(_("The line needs a name (抽查项目)."))
    if not line.method:
        raise DomainError(_("The method (检查方式) is required."))
    if not line.items:
        raise DomainError(_("Choose at least one item of the published list (Art. 5)."))
    for item in line.items:
        if item.status != "published":
            raise DomainError(
                _(
                    "Item %(code)s is not published: only published items can be planned (Art. 5).",
                    code=item.code,
                )
            )
    check_scope_and_ratios(line, plan.year)


def check_line_deletable(line: PlanLine) -> None:
    if line.plan.status != "draft":
        raise DomainError(
            _(
                "A plan is edited as a draft only; to change a published plan, adjust it with a reason."
            )
        )


def uncovered_items(plan: AnnualPlan) -> list[InspectionItem]:
    """Published items of the department that no line covers (R9.4), exempted ones included."""
    covered = {item.id for line in plan.lines for item in line.items}
    items = db.session.scalars(
        select(InspectionItem)
        .where(
            InspectionItem.department_id == plan.department_id, InspectionItem.status == "published"
        )
        .order_by(InspectionItem.code)
    )
    return [item for item in items if item.id not in covered]


def blocking_uncovered_items(plan: AnnualPlan) -> list[InspectionItem]:
    exempted = {e.item_id for e in plan.exemptions}
    return [item for item in uncovered_items(plan) if item.id not in exempted]


def exempt_item(
    plan: AnnualPlan, item: InspectionItem, reason: str, user=None
) -> CoverageExemption:
    user = user or current_actor()
    _require_leader(user)
    if not (reason or "").strip():
        raise DomainError(_("Say why the item is not covered this year."))
    if item.id not in {i.id for i in uncovered_items(plan)}:
        raise DomainError(
            _("Item %(code)s is covered by the plan or not in its list.", code=item.code)
        )
    exemption = next((e for e in plan.exemptions if e.item_id == item.id), None)
    if exemption is None:
        exemption = CoverageExemption(item=item, reason=reason.strip())
        plan.exemptions.append(exemption)
    else:
        exemption.reason = reason.strip()
    return exemption


def submit_plan(plan: AnnualPlan, user=None) -> AnnualPlan:
    _require_in_scope(plan.department_id)
    _require_status(plan, "draft")
    if not plan.lines:
        raise DomainError(_("The plan has no lines yet."))
    missing = blocking_uncovered_items(plan)
    if missing:
        raise DomainError(
            _(
                "The plan does not cover these published items: %(codes)s. Add lines for them, or ask a Leader to record why not (R9.4).",
                codes="、".join(i.code for i in missing),
            )
        )
    plan.status = "submitted"
    plan.return_comment = None
    return plan


def approve_plan(plan: AnnualPlan, user=None, today=None, opinion: str = "") -> AnnualPlan:
    """The Leader approves a submitted plan; the 意见 (opinion) is optional and kept."""
    user = user or current_actor()
    _require_leader(user)
    _require_in_scope(plan.department_id)
    _require_status(plan, "submitted")
    plan.status = "approved"
    plan.approved_by_id = user.id
    plan.approved_on = today or dt.date.today()
    record_decision(plan, "approved", opinion, user)
    return plan


def return_plan(plan: AnnualPlan, comment: str, user=None) -> AnnualPlan:
    user = user or current_actor()
    _require_leader(user)
    _require_in_scope(plan.department_id)
    _require_status(plan, "submitted", "approved")
    if not (comment or "").strip():
        raise DomainError(_("Say what must change before the plan can be approved."))
    plan.status = "draft"
    plan.return_comment = comment.strip()
    record_decision(plan, "returned", comment, user)
    return plan


def publish_plan(plan: AnnualPlan, user=None, today=None) -> AnnualPlan:
    _require_in_scope(plan.department_id)
    _require_status(plan, "approved")
    today = today or dt.date.today()
    plan.status = "published"
    plan.published_on = today
    plan.first_published_on = plan.first_published_on or today
    plan.has_published_version = True
    revision = plan.open_revision
    if revision is not None:
        revision.republished_on = today
        revision.after = json.dumps(plan_snapshot(plan), ensure_ascii=False, sort_keys=True)
    return plan


def file_plan(plan: AnnualPlan, filing: bytes, user=None, today=None) -> AnnualPlan:
    """备案 with the joint-meeting office (R9.2): the filed CSV's SHA-256 and the date."""
    _require_in_scope(plan.department_id)
    _require_status(plan, "published")
    today = today or dt.date.today()
    plan.status = "filed"
    plan.filed_on = today
    plan.filing_sha256 = hashlib.sha256(filing).hexdigest()
    revision = plan.open_revision
    if revision is not None:
        revision.refiled_on = today
    return plan


def revise_plan(plan: AnnualPlan, reason: str, user=None, today=None) -> PlanRevision:
    """Adjust a published plan (R9.6): a numbered revision with a reason; the plan becomes a
    draft again and must be republished and refiled within 10 working days."""
    _require_in_scope(plan.department_id)
    _require_status(plan, "published", "filed")
    if not (reason or "").strip():
        raise DomainError(_("Say why the plan is adjusted."))
    today = today or dt.date.today()
    due = add_working_days(today, 10)
    plan.revision_no += 1
    revision = PlanRevision(
        number=plan.revision_no,
        reason=reason.strip(),
        adjusted_on=today,
        due_on=due.date,
        due_confirmed=due.confirmed,
        before=json.dumps(plan_snapshot(plan), ensure_ascii=False, sort_keys=True),
    )
    plan.revisions.append(revision)
    plan.status = "draft"
    plan.approved_by_id = None
    plan.approved_on = None
    return revision


def plan_snapshot(plan: AnnualPlan) -> dict:
    """The plan as published, for revision diffs."""
    return {
        "title": plan.title,
        "year": plan.year,
        "lines": [
            {
                "name": line.name,
                "items": sorted(i.code for i in line.items),
                "scope": line.scope_text,
                "ratios": line.ratios_text,
                "method": line.method,
                "content": line.content or "",
                "frequency": line.frequency or "",
                "window": f"{line.window_start or ''}–{line.window_end or ''}",
                "participating": sorted(d.name for d in line.participating_departments),
            }
            for line in plan.lines
        ],
    }


def snapshot_diff(before: dict, after: dict) -> list[tuple[str, str, str]]:
    """(what, before, after) for each changed line field, lines matched by name."""
    changes = []
    if before.get("title") != after.get("title"):
        changes.append(("标题", before.get("title", ""), after.get("title", "")))
    old = {line["name"]: line for line in before.get("lines", [])}
    new = {line["name"]: line for line in after.get("lines", [])}
    for name in sorted(set(old) | set(new)):
        a, b = old.get(name), new.get(name)
        if a is None:
            changes.append((name, "—", "新增"))
        elif b is None:
            changes.append((name, "删除前存在", "—"))
        else:
            for key in sorted(set(a) | set(b)):
                if a.get(key) != b.get(key):
                    changes.append((f"{name}：{key}", str(a.get(key, "")), str(b.get(key, ""))))
    return changes


# --- tasks ---------------------------------------------------------------------------------


def next_task_number(year: int) -> tuple[int, str]:
    """The next 文号 of the year. Uniqueness is enforced by the database (year, seq); the
    caller retries on a clash with a concurrent creation."""
    seq = (
        db.session.scalar(select(func.max(SpotCheckTask.seq)).where(SpotCheckTask.year == year))
        or 0
    ) + 1
    fmt = current_app.config.get("TASK_NUMBER_FORMAT", DEFAULT_TASK_NUMBER_FORMAT)
    return seq, fmt.format(year=year, seq=seq)


def check_task(task: SpotCheckTask) -> None:
    task.name = (task.name or "").strip()
    if not task.name:
        raise DomainError(_("The task needs a name."))
    if task.group_size is None or task.group_size < 2:
        raise DomainError(_("An inspection group has at least 2 inspectors (Art. 7)."))
    if task.max_groups_per_inspector is not None and task.max_groups_per_inspector < 1:
        raise DomainError(_("The cap of groups per inspector must be at least 1."))
    if task.one_per_department:
        needed = 1 + len(task.participating_departments)
        if task.group_size < needed:
            raise DomainError(
                _(
                    "A group with a member of each of the %(n)d departments needs at least %(n)d inspectors.",
                    n=needed,
                )
            )
    if not task.items:
        raise DomainError(_("Choose at least one item of the published list (Art. 5)."))
    for item in task.items:
        if item.status != "published":
            raise DomainError(
                _(
                    "Item %(code)s is not published: only published items can be planned (Art. 5).",
                    code=item.code,
                )
            )
    dept_id = task.department_id if task.department_id is not None else task.department.id
    _require_in_scope(dept_id)
    check_scope_and_ratios(task, task.year)
    if task.out_of_plan and not (task.out_of_plan_reason or "").strip():
        raise DomainError(_("A check outside the plan needs a reason (R5.2, R9.3)."))


def create_task_from_line(
    line: PlanLine, name: str | None = None, group_size: int = 2, user=None
) -> SpotCheckTask:
    plan = line.plan
    # A plan under revision keeps its published version in force until republished.
    if not plan.has_published_version:
        raise DomainError(_("Tasks are created from a published plan."))
    task = SpotCheckTask(
        year=plan.year,
        name=(name or "").strip() or f"{plan.year}年{line.name}",
        department_id=plan.department_id,
        plan=plan,
        plan_line=line,
        method=line.method,
        content=line.content,
        group_size=group_size,
        items=list(line.items),
        participating_departments=list(line.participating_departments),
        out_of_plan=False,
        approval="approved",
    )
    for field in PlanLine.SCOPE_FIELDS:
        setattr(task, field, getattr(line, field))
    task.seq, task.number = next_task_number(plan.year)
    check_task(task)
    return task


def create_out_of_plan_task(task: SpotCheckTask) -> SpotCheckTask:
    """A check outside the plan (R5.2, R9.3): allowed only with a reason, waits for a Leader."""
    task.year = task.year or (task.window_start or dt.date.today()).year
    task.out_of_plan = True
    task.plan = None
    task.plan_line = None
    task.approval = "pending"
    task.status = "planned"
    task.seq, task.number = next_task_number(task.year)
    check_task(task)
    return task


def decide_out_of_plan_task(task: SpotCheckTask, approve: bool, note: str = "", user=None):
    check_opinion(note)
    user = user or current_actor()
    _require_leader(user)
    _require_in_scope(task.department_id)
    if not task.out_of_plan or task.approval != "pending":
        raise DomainError(_("This task is not waiting for approval."))
    if not approve and not (note or "").strip():
        raise DomainError(_("Say why the check is refused."))
    task.approval = "approved" if approve else "rejected"
    task.approval_note = (note or "").strip() or None
    task.approved_by_id = user.id
    record_decision(task, task.approval, note, user)
    return task


# What a Leader approved for a check outside the plan, and what a planned task takes from its
# plan line: who takes part, which items, which targets.
APPROVED_TASK_FIELDS = (
    "department",
    "department_id",
    "items",
    "participating_departments",
    "one_per_department",
    *SpotCheckTask.SCOPE_FIELDS,
)


def _changed_fields(obj, names) -> list[str]:
    state = inspect(obj)
    return [n for n in names if n in state.attrs and state.attrs[n].history.has_changes()]


def _has_draw_under_way(task_id: int) -> bool:
    from app.draws.models import Draw

    with db.session.no_autoflush:
        return (
            db.session.scalar(
                select(Draw.id)
                .where(Draw.task_id == task_id, Draw.status.in_(("committed", "done")))
                .limit(1)
            )
            is not None
        )


def check_task_editable(task: SpotCheckTask) -> None:
    # Before check_task: its queries flush the session, which clears the attributes' history.
    changed = _changed_fields(task, APPROVED_TASK_FIELDS)
    check_task(task)
    if task.status != "planned":
        raise DomainError(_("A task can be changed only before its targets are drawn."))
    if task.id is not None and _has_draw_under_way(task.id):
        # The draw froze the window, scope, ratios and group rules under its commitment: a
        # change now (and back before completion) would draw on other terms than the draw
        # timing rule and the public ledger say.
        raise DomainError(
            _(
                "A draw of this task is under way (committed, not completed): the task cannot "
                "be changed until the draw is completed or a Leader cancels it."
            )
        )
    if not changed:
        return
    line = task.plan_line
    if line is not None:
        # The plan decides the departments taking part and the items (R9.3): a change is an
        # adjustment of the plan, republished and refiled (R9.6), not a task edit.
        if set(task.participating_departments) != set(line.participating_departments) or not (
            set(task.items) <= set(line.items)
        ):
            raise DomainError(
                _(
                    "A task of the plan keeps its plan line's items and participating "
                    "departments: adjust the plan instead (R9.6)."
                )
            )
    elif task.out_of_plan and task.approval == "approved":
        # The Leader approved other departments, items and targets: changed, it is another
        # check and waits for a new approval (R5.2).
        task.approval = "pending"
        task.approved_by_id = None
        task.approval_note = None


def check_task_deletable(task: SpotCheckTask) -> None:
    if task.status != "planned":
        raise DomainError(_("A task whose targets were drawn stays on record."))
