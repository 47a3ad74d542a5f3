"""工作台 (the 待办 section of the home page): what waits for the signed-in user, per role.

Every to-do is one counting query (SELECT count(...)) plus, for the first few rows, one query
limited to ROW_LIMIT rows: nothing here loads a whole table. Every query carries the user's
row rule (`row_clause`: department scope and role clause), so nothing of another department is
counted or named. An Inspector's to-dos are their own assignments only.

Rows that would name a drawn target of an unpublished task (R13.1) are grouped per task where
a count says enough (records to enter, to review); a returned record, which carries the
reviewer's 意见, names its target and logs the view as every other page does."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy import and_, exists, func, or_, select

from app.core.calendar.service import unconfirmed_calendar_years, working_days_between
from app.directory.models import InspectionItem, Inspector, ItemRevision
from app.draws.models import Assignment, Draw, DrawnTarget
from app.extensions import db
from app.inspections.models import InspectionRecord, InspectionSummary
from app.planning.models import AnnualPlan, SpotCheckTask
from app.security import roles
from app.security.models import user_department
from app.security.scope import role_names, row_clause

ROW_LIMIT = 5
# Tasks whose records the inspectors enter (app/inspections/services.open_record).
ENTRY_TASK_STATUSES = ("inspectors_drawn", "inspecting", "results_entered")
# Tasks whose groups may still change (a substitute): drawn, results not published.
OPEN_TASK_STATUSES = ("inspectors_drawn", "inspecting", "results_entered")


@dataclass
class TodoRow:
    text: str
    url: str
    note: str = ""  # the 意见 of a return, a deadline
    urgent: bool = False


@dataclass
class Todo:
    key: str  # stable name (data-todo in the page, the tests)
    label: str
    count: int
    url: str  # the list (or page) where the work is done
    rows: list[TodoRow] = field(default_factory=list)
    # When each row stands for several (records per task): how many such rows there are.
    groups: int | None = None

    @property
    def more(self) -> int:
        total = self.count if self.groups is None else self.groups
        return max(total - len(self.rows), 0)


@dataclass
class Section:
    role: str
    title: str
    todos: list[Todo]


def _where(query, model, user):
    clause = row_clause(model, user)
    return query if clause is None else query.where(clause)


def _count(model, user, *conditions) -> int:
    query = _where(select(func.count()).select_from(model).where(*conditions), model, user)
    return db.session.scalar(query) or 0


def _rows(model, user, *conditions, order_by=None):
    query = _where(select(model).where(*conditions), model, user)
    pk = model.__mapper__.primary_key[0]
    return db.session.scalars(
        query.order_by(pk if order_by is None else order_by).limit(ROW_LIMIT)
    ).all()


def _todo(key, label, model, user, conditions, url, row, order_by=None) -> Todo:
    """A to-do of rows of `model`: its count and its first rows, `row(obj)` -> TodoRow."""
    count = _count(model, user, *conditions)
    rows = [row(obj) for obj in _rows(model, user, *conditions, order_by=order_by)] if count else []
    return Todo(key, label, count, url, rows)


def _show(view: str, pk) -> str:
    return url_for(f"{view}.show", pk=pk)


def _list(view: str) -> str:
    return url_for(f"{view}.list")


def _days_left(end: dt.date | None, today: dt.date) -> tuple[str, bool]:
    """ "剩余 N 个工作日" until the end of the task's window, by the bureau calendar."""
    if end is None:
        return "", False
    if end < today:
        return _("Overdue since %(date)s", date=end.isoformat()), True
    count = working_days_between(today, end)
    text = _("%(n)d working days left (until %(date)s)", n=count.days, date=end.isoformat())
    if not count.confirmed:
        text += _(" (calendar not confirmed)")
    return text, count.days <= 3


# --- Operator ---------------------------------------------------------------------------------


def _latest_rejected_revision():
    """A rejected revision that nothing came after: the proposal waits for the Operator."""
    later = ItemRevision.__table__.alias("later")
    return and_(
        ItemRevision.status == "rejected",
        ~exists().where(
            later.c.item_id == ItemRevision.item_id, later.c.version > ItemRevision.version
        ),
        ItemRevision.item_id.in_(
            select(InspectionItem.id).where(InspectionItem.status != "retired")
        ),
    )


def operator_todos(user, today: dt.date) -> list[Todo]:
    task_url = _list("SpotCheckTaskView")
    todos = [
        _draft_items(user, "draft_items", _("Draft inspection items (not published yet)")),
        _todo(
            "draft_plans",
            _("Draft annual plans (not submitted)"),
            AnnualPlan,
            user,
            [AnnualPlan.status == "draft", AnnualPlan.return_comment.is_(None)],
            _list("AnnualPlanView"),
            _plan_row,
        ),
        _todo(
            "returned_plans",
            _("Plans returned by the Leader"),
            AnnualPlan,
            user,
            [AnnualPlan.status == "draft", AnnualPlan.return_comment.is_not(None)],
            _list("AnnualPlanView"),
            lambda p: TodoRow(
                p.title, _show("AnnualPlanView", p.id), _comment(p.return_comment), True
            ),
        ),
        _todo(
            "returned_items",
            _("Item changes returned by the Leader"),
            ItemRevision,
            user,
            [_latest_rejected_revision()],
            _list("ItemRevisionView"),
            lambda r: TodoRow(
                f"{r.item.code} {r.item.name}",
                _show("InspectionItemView", r.item_id),
                _comment(r.decision_note),
                True,
            ),
        ),
        _todo(
            "returned_tasks",
            _("Checks outside the plan refused by the Leader"),
            SpotCheckTask,
            user,
            [SpotCheckTask.out_of_plan.is_(True), SpotCheckTask.approval == "rejected"],
            task_url,
            lambda t: TodoRow(
                f"{t.number} {t.name}",
                _show("SpotCheckTaskView", t.id),
                _comment(t.approval_note),
                True,
            ),
        ),
        _todo(
            "targets_to_draw",
            _("Tasks whose targets are to be drawn"),
            SpotCheckTask,
            user,
            [SpotCheckTask.status == "planned", SpotCheckTask.approval == "approved"],
            task_url,
            lambda t: _task_row(t, t.window_start, _("Window starts %(date)s")),
            order_by=SpotCheckTask.window_start,
        ),
        _todo(
            "inspectors_to_draw",
            _("Tasks whose inspectors are to be drawn"),
            SpotCheckTask,
            user,
            [SpotCheckTask.status == "targets_drawn"],
            task_url,
            lambda t: _task_row(t, t.window_start, _("Window starts %(date)s")),
            order_by=SpotCheckTask.window_start,
        ),
        _substitutes(user, today),
        _per_task(
            "records_to_review",
            _("Records submitted, to review"),
            user,
            InspectionRecord.status == "submitted",
            _("%(n)d record(s) to review"),
        ),
    ]
    return todos


def _draft_items(user, key, label) -> Todo:
    """Items not published yet: the Operator's drafts, which a Leader publishes."""
    return _todo(
        key,
        label,
        InspectionItem,
        user,
        [InspectionItem.status == "draft"],
        _list("InspectionItemView"),
        lambda i: TodoRow(f"{i.code} {i.name}", _show("InspectionItemView", i.id)),
    )


def _plan_row(plan, today: dt.date | None = None) -> TodoRow:
    """A plan with its deadline: the end of February (R9.1), or for an adjustment the date by
    which it is republished and refiled (R9.6)."""
    today = today or dt.date.today()
    revision = plan.open_revision if plan.revision_no else None
    if revision is not None:
        due = revision.due_on
        note = _("Adjustment %(n)d: republish and refile by %(date)s", n=revision.number, date=due)
    else:
        due = plan.deadline
        note = _("Due by %(date)s", date=due)
    return TodoRow(plan.title, _show("AnnualPlanView", plan.id), note, due < today)


# The home page shows the start of an opinion; the row's page shows it whole.
NOTE_LENGTH = 60


def _comment(text) -> str:
    if not text:
        return _("No comment given")
    text = " ".join(str(text).split())
    if len(text) > NOTE_LENGTH:
        text = text[:NOTE_LENGTH].rstrip() + "…"
    return _("Comment: %(text)s", text=text)


def _task_row(task, day, template) -> TodoRow:
    note = template % {"date": day.isoformat()} if day else ""
    return TodoRow(f"{task.number} {task.name}", _show("SpotCheckTaskView", task.id), note)


def _substitutes(user, today: dt.date) -> Todo:
    """Active members of a drawn group who can no longer inspect (not 在岗, certificate
    expired) in a task whose results are not published: a substitute is to be drawn (R7.2)."""
    conditions = [
        Assignment.active.is_(True),
        Draw.status == "done",
        SpotCheckTask.status.in_(OPEN_TASK_STATUSES),
        or_(Inspector.status != "在岗", Inspector.certificate_expiry < today),
    ]

    def query(*columns):
        q = (
            select(*columns)
            .select_from(Assignment)
            .join(Draw, Draw.id == Assignment.draw_id)
            .join(SpotCheckTask, SpotCheckTask.id == Assignment.task_id)
            .join(Inspector, Inspector.id == Assignment.inspector_id)
            .where(*conditions)
        )
        return _where(q, SpotCheckTask, user)

    count = db.session.scalar(query(func.count())) or 0
    rows, groups = [], None
    if count:
        groups = db.session.scalar(query(func.count(Draw.id.distinct())))
        found = db.session.execute(
            query(Draw.id, SpotCheckTask.number, SpotCheckTask.name, func.count())
            .group_by(Draw.id, SpotCheckTask.number, SpotCheckTask.name)
            .order_by(Draw.id)
            .limit(ROW_LIMIT)
        ).all()
        rows = [
            TodoRow(
                f"{number} {name}",
                _show("DrawView", draw_id),
                _("%(n)d inspector(s) no longer available", n=n),
                True,
            )
            for draw_id, number, name, n in found
        ]
    return Todo("substitutes", _("Substitutes to draw"), count, _list("DrawView"), rows, groups)


def _per_task(key, label, user, condition, note, extra=()) -> Todo:
    """Records of a state, counted in SQL and shown per task (a count, not the targets)."""
    base = [condition, *extra]
    count = _count(InspectionRecord, user, *base)
    rows, groups = [], None
    if count:
        groups = db.session.scalar(
            _where(
                select(func.count(InspectionRecord.task_id.distinct())).where(*base),
                InspectionRecord,
                user,
            )
        )
        query = _where(
            select(SpotCheckTask.id, SpotCheckTask.number, SpotCheckTask.name, func.count())
            .select_from(InspectionRecord)
            .join(SpotCheckTask, SpotCheckTask.id == InspectionRecord.task_id)
            .where(*base),
            InspectionRecord,
            user,
        )
        found = db.session.execute(
            query.group_by(SpotCheckTask.id, SpotCheckTask.number, SpotCheckTask.name)
            .order_by(SpotCheckTask.id)
            .limit(ROW_LIMIT)
        ).all()
        rows = [
            TodoRow(f"{number} {name}", _show("SpotCheckTaskView", task_id), note % {"n": n})
            for task_id, number, name, n in found
        ]
    return Todo(key, label, count, _list("InspectionRecordView"), rows, groups)


# --- Leader -----------------------------------------------------------------------------------


def leader_todos(user, today: dt.date) -> list[Todo]:
    from app.credit.models import BlacklistEntry

    def entry_row(e):
        return TodoRow(
            f"{e.target_name or e.target.name}（{e.status_label}）", _show("BlacklistView", e.id)
        )

    return [
        _draft_items(user, "items_to_publish", _("Draft inspection items to publish")),
        _todo(
            "item_changes",
            _("Item changes waiting for a decision"),
            ItemRevision,
            user,
            [ItemRevision.status == "pending"],
            _list("ItemRevisionView"),
            lambda r: TodoRow(
                f"{r.item.code} {r.item.name}", _show("ItemRevisionView", r.id), r.reason
            ),
        ),
        _todo(
            "plans_to_approve",
            _("Annual plans to approve"),
            AnnualPlan,
            user,
            [AnnualPlan.status == "submitted"],
            _list("AnnualPlanView"),
            _plan_row,
        ),
        _todo(
            "tasks_to_approve",
            _("Checks outside the plan to approve"),
            SpotCheckTask,
            user,
            [SpotCheckTask.out_of_plan.is_(True), SpotCheckTask.approval == "pending"],
            _list("SpotCheckTaskView"),
            lambda t: TodoRow(
                f"{t.number} {t.name}", _show("SpotCheckTaskView", t.id), t.out_of_plan_reason or ""
            ),
        ),
        _todo(
            "summaries_to_approve",
            _("Summary reports to approve"),
            InspectionSummary,
            user,
            [InspectionSummary.status == "submitted"],
            _list("InspectionSummaryView"),
            lambda s: TodoRow(
                f"{s.task.number} {s.task.name}", _show("InspectionSummaryView", s.id)
            ),
        ),
        _todo(
            "blacklist_to_decide",
            _("Blacklist entries waiting for your decision"),
            BlacklistEntry,
            user,
            [BlacklistEntry.status.in_(("reviewed", "removal_proposed"))],
            _list("BlacklistView"),
            entry_row,
        ),
    ]


# --- Inspector --------------------------------------------------------------------------------


def _my_entry_targets(user):
    """(task, target) of the user's active assignments in tasks taking records, whose record
    is not opened yet or still a draft."""
    record = InspectionRecord
    not_done = ~exists().where(
        record.task_id == Assignment.task_id,
        record.target_id == Assignment.target_id,
        record.status != "draft",
    )
    return (
        select(Assignment.task_id, Assignment.target_id)
        .join(Inspector, Inspector.id == Assignment.inspector_id)
        .join(SpotCheckTask, SpotCheckTask.id == Assignment.task_id)
        .join(
            DrawnTarget,
            and_(
                DrawnTarget.task_id == Assignment.task_id,
                DrawnTarget.target_id == Assignment.target_id,
            ),
        )
        .where(
            Inspector.user_id == user.id,
            Assignment.active.is_(True),
            SpotCheckTask.status.in_(ENTRY_TASK_STATUSES),
            not_done,
        )
        .distinct()
    )


def inspector_todos(user, today: dt.date) -> list[Todo]:
    from app.draws.confidential import log_confidential_view

    mine = _my_entry_targets(user).subquery()
    count = db.session.scalar(select(func.count()).select_from(mine)) or 0
    rows, groups = [], None
    assignments = url_for("MyAssignmentsView.index")
    if count:
        groups = db.session.scalar(select(func.count(mine.c.task_id.distinct())))
        found = db.session.execute(
            select(
                SpotCheckTask.id,
                SpotCheckTask.number,
                SpotCheckTask.name,
                SpotCheckTask.window_end,
                func.count(),
            )
            .select_from(mine)
            .join(SpotCheckTask, SpotCheckTask.id == mine.c.task_id)
            .group_by(
                SpotCheckTask.id,
                SpotCheckTask.number,
                SpotCheckTask.name,
                SpotCheckTask.window_end,
            )
            .order_by(SpotCheckTask.window_end, SpotCheckTask.id)
            .limit(ROW_LIMIT)
        ).all()
        for _task_id, number, name, end, n in found:
            left, urgent = _days_left(end, today)
            note = _("%(n)d target(s) to inspect", n=n)
            rows.append(
                TodoRow(
                    f"{number} {name}", assignments, f"{note}；{left}" if left else note, urgent
                )
            )
    todos = [Todo("records_to_enter", _("Records to enter"), count, assignments, rows, groups)]

    returned = [InspectionRecord.status == "returned", _assigned(user, InspectionRecord)]
    returned_todo = _todo(
        "returned_records",
        _("Records returned for correction"),
        InspectionRecord,
        user,
        returned,
        assignments,
        lambda r: TodoRow(
            f"{r.task.number} {r.target_name}",
            url_for("InspectionRecordView.edit", pk=r.id),
            _comment(r.return_comment),
            True,
        ),
    )
    log_confidential_view(
        {
            t
            for t in db.session.scalars(
                select(InspectionRecord.task_id).where(*returned).limit(ROW_LIMIT)
            )
        }
        if returned_todo.count
        else (),
        "workbench",
    )
    todos.append(returned_todo)
    todos.append(_summaries_to_write(user, assignments))
    return todos


def _assigned(user, model):
    return Assignment.of_user(user, model.task_id, getattr(model, "target_id", None)).exists()


def _summaries_to_write(user, assignments_url) -> Todo:
    """Tasks of the user whose records are all entered and whose summary is not written, or
    is a draft, or was returned."""
    summary = InspectionSummary
    written = exists().where(
        summary.task_id == SpotCheckTask.id, summary.status.in_(("submitted", "approved"))
    )
    conditions = [
        SpotCheckTask.status == "results_entered",
        Assignment.of_user(user, SpotCheckTask.id).exists(),
        ~written,
    ]

    def row(task):
        found = db.session.scalar(select(summary).where(summary.task_id == task.id))
        if found is None:
            return TodoRow(f"{task.number} {task.name}", assignments_url, _("Not written yet"))
        note = found.status_label
        if found.status == "returned":
            note = _comment(found.leader_comment)
        return TodoRow(
            f"{task.number} {task.name}",
            _show("InspectionSummaryView", found.id),
            str(note),
            found.status == "returned",
        )

    count = db.session.scalar(select(func.count()).select_from(SpotCheckTask).where(*conditions))
    rows = []
    if count:
        rows = [
            row(t)
            for t in db.session.scalars(
                select(SpotCheckTask).where(*conditions).order_by(SpotCheckTask.id).limit(ROW_LIMIT)
            )
        ]
    return Todo(
        "summaries_to_write", _("Summary reports to write"), count or 0, assignments_url, rows
    )


# --- JointOffice ------------------------------------------------------------------------------


def last_progress_download(user) -> dt.datetime | None:
    """When the user last downloaded the progress report (its audit row, R13.2)."""
    from app.core.audit.models import AuditLog

    return db.session.scalar(
        select(func.max(AuditLog.created_at)).where(
            AuditLog.user_id == user.id,
            AuditLog.action == "export",
            AuditLog.object_type == "progress_report",
        )
    )


def joint_office_todos(user, today: dt.date) -> list[Todo]:
    """Plans filed since the user's last download of the filings, or all filed plans when the
    user has never downloaded them."""
    since = last_progress_download(user)
    conditions = [AnnualPlan.status == "filed", AnnualPlan.filed_on.is_not(None)]
    if since is not None:
        # filed_on is a date; the filing step is the plan's last change (changed_on). The
        # audit log keeps whole seconds: a filing in the download's second was in the file.
        seen = since + dt.timedelta(seconds=1)
        conditions += [AnnualPlan.filed_on >= since.date(), AnnualPlan.changed_on >= seen]
        label = _(
            "Plans filed since your last download (%(when)s)",
            when=since.strftime("%Y-%m-%d %H:%M"),
        )
    else:
        label = _("Plans filed (you have not downloaded the filings yet)")
    todo = _todo(
        "new_filings",
        label,
        AnnualPlan,
        user,
        conditions,
        url_for("FilingView.index"),
        lambda p: TodoRow(
            f"{p.department.name}：{p.title}",
            _show("AnnualPlanView", p.id),
            _("Filed on %(date)s", date=p.filed_on.isoformat()),
        ),
        order_by=AnnualPlan.filed_on.desc(),
    )
    return [todo]


# --- the system and the security administrators ----------------------------------------------


def admin_todos(user, today: dt.date) -> list[Todo]:
    """The system administrator's: the holiday calendar."""
    calendar = [
        TodoRow(
            _("Calendar %(year)d not confirmed", year=year),
            url_for("CalendarImportView.form"),
            _("Working-day deadlines in %(year)d count Monday to Friday until it is.", year=year),
            year == today.year,
        )
        for year in unconfirmed_calendar_years(today)
    ]
    todos = [
        Todo(
            "calendar",
            _("Holiday calendar to confirm"),
            len(calendar),
            _list("CalendarYearView"),
            calendar,
        )
    ]
    return todos


def security_admin_todos(user, today: dt.date) -> list[Todo]:
    """The security administrator's: accounts that cannot work as they are."""
    from app.security.system_user import SYSTEM_USERNAME

    User = current_app.appbuilder.sm.user_model
    staff = User.username != SYSTEM_USERNAME
    todos = []

    def user_row(u, note):
        return TodoRow(
            f"{u.last_name or ''}{u.first_name or ''}（{u.username}）",
            url_for("StaffUserView.show", pk=u.id),
            note,
        )

    def accounts(key, label, condition, note):
        count = db.session.scalar(select(func.count()).select_from(User).where(staff, condition))
        rows = []
        if count:
            found = db.session.scalars(
                select(User).where(staff, condition).order_by(User.id).limit(ROW_LIMIT)
            )
            rows = [user_row(u, note) for u in found]
        return Todo(key, label, count or 0, _list("StaffUserView"), rows)

    todos.append(_locked_accounts(User, staff, user_row))
    todos.append(
        accounts(
            "inactive_accounts",
            _("Inactive accounts"),
            User.active.is_not(True),
            _("Cannot sign in"),
        )
    )
    role_table = User.roles.property.secondary
    role_model = current_app.appbuilder.sm.role_model
    needs_department = (
        select(role_table.c.user_id)
        .join(role_model, role_model.id == role_table.c.role_id)
        .where(role_model.name.in_((roles.LEADER, roles.OPERATOR, roles.INSPECTOR)))
    )
    todos.append(
        accounts(
            "accounts_without_department",
            _("Accounts without a department"),
            and_(
                User.id.in_(needs_department),
                User.id.not_in(select(user_department.c.user_id)),
            ),
            _("Sees no data until a department is set"),
        )
    )
    todos.append(
        accounts(
            "accounts_without_role",
            _("Accounts without a role"),
            User.id.not_in(select(role_table.c.user_id)),
            _("Can do nothing until a role is set"),
        )
    )
    return todos


def _locked_accounts(User, staff, user_row) -> Todo:
    """Accounts locked by failed sign-ins: the audit log's lockouts of the last lock period,
    each confirmed against the lock itself (app/security/throttle.py)."""
    from app.core.audit.models import AuditLog
    from app.security import throttle

    since = dt.datetime.now() - dt.timedelta(minutes=throttle.lock_minutes())
    candidates = select(AuditLog.object_id).where(
        AuditLog.action == "login_locked",
        AuditLog.created_at >= since,
        AuditLog.object_id.is_not(None),
    )
    ids = [int(i) for i in db.session.scalars(candidates.distinct()) if str(i).isdigit()]
    found = (
        db.session.scalars(select(User).where(staff, User.id.in_(ids)).order_by(User.id)).all()
        if ids
        else []
    )
    locked = [u for u in found if throttle.is_locked(u.username)]
    rows = [user_row(u, _("Locked after failed sign-ins")) for u in locked[:ROW_LIMIT]]
    return Todo("locked_accounts", _("Locked accounts"), len(locked), _list("StaffUserView"), rows)


# --- the workbench ----------------------------------------------------------------------------

ROLE_TODOS = (
    (roles.OPERATOR, operator_todos),
    (roles.LEADER, leader_todos),
    (roles.INSPECTOR, inspector_todos),
    (roles.JOINT_OFFICE, joint_office_todos),
    (roles.ADMIN, admin_todos),
    (roles.SECURITY_ADMIN, security_admin_todos),
)


def workbench(user, today: dt.date | None = None) -> list[Section]:
    """The user's sections, one per role they hold, each with its to-dos that have work
    (count > 0); an empty list when nothing waits."""
    if user is None:
        return []
    today = today or dt.date.today()
    names = role_names(user)
    sections = []
    for role, build in ROLE_TODOS:
        if role not in names:
            continue
        todos = [t for t in build(user, today) if t.count]
        if todos:
            sections.append(Section(role, str(roles.ROLE_LABELS[role]), todos))
    return sections
