"""Pages and REST resources of the annual plan, its lines, tasks and progress."""

from __future__ import annotations

import datetime as dt
import json

from flask import (
    Response,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_appbuilder import BaseView, expose
from flask_appbuilder.actions import action
from flask_appbuilder.api import protect, safe
from flask_appbuilder.fieldwidgets import BS3TextAreaFieldWidget
from flask_appbuilder.models.sqla.filters import FilterEqual
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from wtforms import TextAreaField
from wtforms.validators import DataRequired

from app.core import api_fields as f
from app.core.confirm import STEPS, confirmation_page
from app.core.downloads import DOCX_MIMETYPE, attach, plan_file_names, send_named
from app.core.errors import DomainError
from app.core.files import DOCUMENT_KINDS, PHOTO_KINDS, safe_display_name, store, stored_path
from app.core.i18n import relation_text
from app.directory.models import (
    INDUSTRIES,
    INSPECTION_METHODS,
    RISK_CLASSES,
    TARGET_TYPES,
    InspectionItem,
)
from app.directory.views import MultiChoiceField
from app.disclosure.plan_export import filing_form_data, plan_csv
from app.draws.pool import pool_preview
from app.extensions import db
from app.planning import services
from app.planning.models import (
    PUBLIC_PLAN_STATUSES,
    AnnualPlan,
    PlanLine,
    SpotCheckTask,
    TaskAttachment,
)
from app.planning.progress import CHINESE_HEADERS, progress_by_department
from app.security.base_views import (
    API_METHOD_PERMISSIONS,
    VIEW_METHOD_PERMISSIONS,
    AppModelRestApi,
    AppModelView,
    WorkflowView,
    WrongType,
    form_integer,
    takes,
)
from app.security.scope import (
    ScopedInterface,
    current_actor,
    departments_in_scope,
    ensure_in_scope,
    in_scope,
    role_clause,
    role_names,
)

LABELS = {
    "title": _l("Plan"),
    "year": _l("Year"),
    "department": _l("Department"),
    "status": _l("Status"),
    "status_label": _l("Status"),
    "revision_no": _l("Adjustments"),
    "first_published_on": _l("First published on"),
    "published_on": _l("Published on"),
    "filed_on": _l("Filed on"),
    "late_text": _l("Deadline (end of February)"),
    "return_comment": _l("Leader's comment"),
    "plan": _l("Plan"),
    "name": _l("Name"),
    "items": _l("Items"),
    "method": _l("Method"),
    "content": _l("Inspection content"),
    "frequency": _l("Frequency"),
    "target_types": _l("Target types"),
    "areas": _l("Areas"),
    "industries": _l("Industries"),
    "risk_classes": _l("Credit-risk classes"),
    "ratio_a": _l("Ratio class A (%)"),
    "ratio_b": _l("Ratio class B (%)"),
    "ratio_c": _l("Ratio class C (%)"),
    "ratio_d": _l("Ratio class D (%)"),
    "ratio_special": _l("Ratio special targets (%)"),
    "ratios_text": _l("Sampling ratios"),
    "scope_text": _l("Scope"),
    "window_start": _l("Window from"),
    "window_end": _l("Window until"),
    "skip_clean_months": _l("Skip targets found clean within (months)"),
    "participating_departments": _l("Participating departments (joint check)"),
    "number": _l("Number"),
    "group_size": _l("Inspectors per group"),
    "one_per_department": _l("A member of every participating department in each group"),
    "max_groups_per_inspector": _l("Groups per inspector at most"),
    "out_of_plan": _l("Outside the plan"),
    "out_of_plan_reason": _l("Reason for a check outside the plan"),
    "approval_label": _l("Approval"),
    "approval_note": _l("Leader's note"),
    "created_by": _l("Created by"),
    "created_on": _l("Created on"),
}

SCOPE_FORM_FIELDS = {
    "target_types": MultiChoiceField(
        LABELS["target_types"], choices=[(c, c) for c in TARGET_TYPES]
    ),
    "industries": MultiChoiceField(LABELS["industries"], choices=[(c, c) for c in INDUSTRIES]),
    "risk_classes": MultiChoiceField(
        LABELS["risk_classes"], choices=[(c, c) for c in RISK_CLASSES]
    ),
    "content": TextAreaField(LABELS["content"], widget=BS3TextAreaFieldWidget()),
    # 检查方式: the items' pick-list (one definition), not free text.
    "method": MultiChoiceField(LABELS["method"], choices=[(c, c) for c in INSPECTION_METHODS]),
}
# A plan line names its method (the service refuses a line without one): marked required.
LINE_FORM_FIELDS = {
    **SCOPE_FORM_FIELDS,
    "method": MultiChoiceField(
        LABELS["method"],
        choices=[(c, c) for c in INSPECTION_METHODS],
        validators=[DataRequired()],
    ),
}
SCOPE_DESCRIPTIONS = {
    "target_types": _l("Empty: every type."),
    "areas": _l("Area names separated by 、; empty: the whole district."),
    "industries": _l("Empty: every industry."),
    "risk_classes": _l("Empty: every class. Special targets are always in the pool (R9.7)."),
    "skip_clean_months": _l(
        "Avoid repeated checks: targets found without problems by a check in this many months before the draw are left out. Empty: off."
    ),
    "ratio_special": _l(
        "Targets with complaints, serious violations or dishonesty records (R9.7): at least the highest class ratio."
    ),
}
LINE_COLUMNS = [
    "plan",
    "name",
    "items",
    "method",
    "content",
    "frequency",
    *PlanLine.SCOPE_FIELDS,
    "participating_departments",
]
PUBLISHED_ITEMS = [["status", FilterEqual, "published"]]
# A check outside the plan as entered on the page and through the REST API alike.
TASK_FORM_COLUMNS = [
    "name",
    "department",
    "items",
    "out_of_plan_reason",
    "method",
    "content",
    *SpotCheckTask.SCOPE_FIELDS,
    "group_size",
    "one_per_department",
    "max_groups_per_inspector",
    "participating_departments",
]


class AnnualPlanView(AppModelView):
    route_base = "/plans"
    datamodel = ScopedInterface(AnnualPlan)
    class_permission_name = "AnnualPlan"
    list_title = _l("Annual spot-check plans")
    show_title = _l("Annual spot-check plan")
    add_title = _l("Add annual plan")
    edit_title = _l("Edit annual plan")
    label_columns = LABELS
    list_columns = [
        "title",
        "department",
        "year",
        "status_label",
        "revision_no",
        "first_published_on",
        "late_text",
        "filed_on",
    ]
    show_columns = [
        "title",
        "department",
        "year",
        "status_label",
        "revision_no",
        "first_published_on",
        "published_on",
        "filed_on",
        "late_text",
        "return_comment",
    ]
    add_columns = edit_columns = ["title", "year", "department"]
    search_columns = ["title", "department", "year", "status"]
    order_columns = ["title", "year", "revision_no", "first_published_on", "filed_on"]
    base_order = ("year", "desc")
    show_template = "planning/plan_show.html"
    item_rule = services.check_plan
    delete_rule = services.check_plan_deletable

    def pre_update(self, item):
        services.check_plan_editable(item)

    def render_template(self, template, **kwargs):
        if template == self.show_template and "pk" in kwargs:
            plan = self.datamodel.get(kwargs["pk"])
            if plan is not None:
                kwargs.update(_plan_page(plan))
        return super().render_template(template, **kwargs)


def _plan_page(plan: AnnualPlan) -> dict:
    uncovered = services.uncovered_items(plan)
    exemptions = {e.item_id: e for e in plan.exemptions}
    # Those who read published plans only (JointOffice) see, while an adjustment is being
    # prepared, the version last published, as the public does: not the working copy, and
    # not an adjustment's content before it is republished.
    published_only = role_clause(AnnualPlan, current_actor()) is not None
    revisions = []
    for revision in reversed(plan.revisions):
        if published_only and revision.republished_on is None:
            continue
        after = json.loads(revision.after) if revision.after else services.plan_snapshot(plan)
        revisions.append((revision, services.snapshot_diff(json.loads(revision.before), after)))
    page = {
        "plan": plan,
        "uncovered": [(item, exemptions.get(item.id)) for item in uncovered],
        "revisions": revisions,
        "today": dt.date.today(),
        "published_rows": None,
    }
    if published_only and plan.status not in PUBLIC_PLAN_STATUSES:
        from app.disclosure import portal

        page["published_rows"] = list(portal.plan_rows(plan))
        page["published_headers"] = portal.PLAN_HEADERS
    return page


class PlanLineView(AppModelView):
    route_base = "/plan-lines"
    datamodel = ScopedInterface(PlanLine, unscoped_relations=("participating_departments",))
    class_permission_name = "PlanLine"
    list_title = _l("Plan lines")
    show_title = _l("Plan line")
    add_title = _l("Add plan line")
    edit_title = _l("Edit plan line")
    label_columns = LABELS
    description_columns = SCOPE_DESCRIPTIONS
    list_columns = ["plan", "name", "items", "ratios_text", "window_start", "window_end"]
    show_columns = [
        "plan",
        "name",
        "items",
        "method",
        "content",
        "frequency",
        "scope_text",
        "ratios_text",
        "window_start",
        "window_end",
        "participating_departments",
    ]
    add_columns = edit_columns = LINE_COLUMNS
    search_columns = ["plan", "name", "items"]
    order_columns = ["name", "window_start", "window_end"]
    add_form_extra_fields = edit_form_extra_fields = LINE_FORM_FIELDS
    validators_columns = {"items": [DataRequired()]}
    add_form_query_rel_fields = edit_form_query_rel_fields = {
        "plan": [["status", FilterEqual, "draft"]],
        "items": PUBLISHED_ITEMS,
    }
    formatters_columns = {"items": relation_text, "participating_departments": relation_text}
    item_rule = services.check_line
    delete_rule = services.check_line_deletable

    def saved_row_url(self, pk) -> str:
        # A line is part of its plan: the user is back on the plan, its lines listed there.
        line = self.datamodel.get(pk)
        return url_for("AnnualPlanView.show", pk=line.plan_id)


class PlanWorkflowView(BaseView):
    """The plan's workflow steps (each a POST with a CSRF token) and their forms."""

    route_base = "/plan-workflow"
    class_permission_name = "AnnualPlan"
    method_permission_name = {
        "submit": "write",
        "revise": "write",
        "create_task": "write",
        "publish": "publish",
        "filing": "file",
        "filing_form": "read",
        "filing_form_docx": "read",
        "approve": "approve",
        "return_plan": "approve",
        "exempt": "approve",
    }
    default_view = "submit"

    def _plan(self, pk) -> AnnualPlan:
        return ensure_in_scope(db.session.get(AnnualPlan, pk))

    def _step(self, plan, operation, success):
        try:
            operation()
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        else:
            db.session.commit()
            flash(success, "success")
        return redirect(url_for("AnnualPlanView.show", pk=plan.id))

    @expose("/<int:pk>/submit", methods=["POST"])
    @has_access
    def submit(self, pk):
        plan = self._plan(pk)
        return self._step(
            plan, lambda: services.submit_plan(plan), _("The plan was submitted to the Leader.")
        )

    @expose("/<int:pk>/approve", methods=["POST"])
    @has_access
    def approve(self, pk):
        plan = self._plan(pk)
        opinion = request.form.get("opinion", "")
        return self._step(
            plan, lambda: services.approve_plan(plan, opinion=opinion), _("The plan is approved.")
        )

    @expose("/<int:pk>/publish", methods=["POST"])
    @has_access
    def publish(self, pk):
        plan = self._plan(pk)
        page = confirmation_page(self, "publish_plan", url_for("AnnualPlanView.show", pk=plan.id))
        if page is not None:
            return page
        return self._step(plan, lambda: services.publish_plan(plan), _("The plan is published."))

    @expose("/<int:pk>/filing", methods=["GET", "POST"])
    @has_access
    def filing(self, pk):
        """GET: the filing CSV; POST: record that exactly that file was filed today."""
        plan = self._plan(pk)
        if request.method == "GET":
            name, fallback = plan_file_names(plan, "备案", "filing", "csv")
            return attach(Response(plan_csv(plan), mimetype="text/csv"), name, fallback)
        page = confirmation_page(self, "file_plan", url_for("AnnualPlanView.show", pk=plan.id))
        if page is not None:
            return page
        return self._step(
            plan,
            lambda: services.file_plan(plan, plan_csv(plan)),
            _("The filing with the joint-meeting office is recorded."),
        )

    def _filing_form(self, pk, as_docx: bool):
        """The 备案表 of a plan with a version to file (published or filed)."""
        from app.inspections.documents import plan_filing_docx

        plan = self._plan(pk)
        if plan.status not in PUBLIC_PLAN_STATUSES:
            flash(_("The filing form exists once the plan is published."), "danger")
            return redirect(url_for("AnnualPlanView.show", pk=pk))
        if not as_docx:
            return render_template(
                "disclosure/plan_filing_print.html", plan=plan, form=filing_form_data(plan)
            )
        return send_named(
            plan_filing_docx(filing_form_data(plan)),
            DOCX_MIMETYPE,
            plan_file_names(plan, "备案表", "filing-form", "docx"),
        )

    @expose("/<int:pk>/filing-form", methods=["GET"])
    @has_access
    def filing_form(self, pk):
        """备案表: the filing as an A4 page for the browser's print dialog."""
        return self._filing_form(pk, as_docx=False)

    @expose("/<int:pk>/filing-form.docx", methods=["GET"])
    @has_access
    def filing_form_docx(self, pk):
        """备案表 as DOCX (app/inspections/documents.plan_filing_docx)."""
        return self._filing_form(pk, as_docx=True)

    @expose("/<int:pk>/return", methods=["GET", "POST"])
    @has_access
    def return_plan(self, pk):
        plan = self._plan(pk)
        if request.method == "POST":
            return self._step(
                plan,
                lambda: services.return_plan(plan, request.form.get("reason", "")),
                _("The plan was returned with your comment."),
            )
        return self.render_template(
            "directory/reason_form.html",
            title=_("Return plan %(title)s", title=plan.title),
            prompt=_("What must change before the plan can be approved?"),
        )

    @expose("/<int:pk>/revise", methods=["GET", "POST"])
    @has_access
    def revise(self, pk):
        plan = self._plan(pk)
        if request.method == "POST":
            return self._step(
                plan,
                lambda: services.revise_plan(plan, request.form.get("reason", "")),
                _(
                    "The plan is open for adjustment: republish and refile it within 10 working days."
                ),
            )
        return self.render_template(
            "directory/reason_form.html",
            title=_("Adjust plan %(title)s", title=plan.title),
            prompt=_("Why is the plan adjusted? (R9.6)"),
        )

    @expose("/<int:pk>/exempt/<int:item_id>", methods=["GET", "POST"])
    @has_access
    def exempt(self, pk, item_id):
        plan = self._plan(pk)
        # Only an item of the plan's department's list: any other looks like a missing one.
        item = db.session.get(InspectionItem, item_id)
        if item is None or item.department_id != plan.department_id:
            abort(404)
        if request.method == "POST":
            return self._step(
                plan,
                lambda: services.exempt_item(plan, item, request.form.get("reason", "")),
                _("The reason is recorded."),
            )
        return self.render_template(
            "directory/reason_form.html",
            title=_("Item %(code)s not covered by the plan", code=item.code),
            prompt=_("Why does the plan not cover this item this year? (R9.4)"),
        )

    @expose("/line/<int:line_id>/task", methods=["POST"])
    @has_access
    def create_task(self, line_id):
        line = db.session.get(PlanLine, line_id) or abort(404)
        plan = self._plan(line.plan_id)
        try:
            task = services.create_task_from_line(
                line, group_size=form_integer("group_size", 2, LABELS["group_size"])
            )
            db.session.add(task)
            db.session.flush()
        except IntegrityError:
            # Another task took the same 文号 at the same moment (unique year + seq).
            db.session.rollback()
            flash(_("Another task was numbered at the same moment: please try again."), "danger")
            return redirect(url_for("AnnualPlanView.show", pk=plan.id))
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
            return redirect(url_for("AnnualPlanView.show", pk=plan.id))
        db.session.commit()
        flash(_("Task %(number)s created.", number=task.number), "success")
        return redirect(url_for("SpotCheckTaskView.show", pk=task.id))


class SpotCheckTaskView(AppModelView):
    route_base = "/tasks"
    datamodel = ScopedInterface(SpotCheckTask, unscoped_relations=("participating_departments",))
    class_permission_name = "SpotCheckTask"
    method_permission_name = {
        **VIEW_METHOD_PERMISSIONS,
        "approve_tasks": "approve",
        "draw_targets": "draw",
    }
    list_title = _l("Spot-check tasks")
    show_title = _l("Spot-check task")
    add_title = _l("Add a check outside the plan")
    edit_title = _l("Edit task")
    label_columns = LABELS
    description_columns = SCOPE_DESCRIPTIONS
    list_columns = [
        "number",
        "name",
        "department",
        "status_label",
        "out_of_plan",
        "approval_label",
        "window_start",
        "window_end",
    ]
    show_columns = [
        "number",
        "name",
        "department",
        "plan",
        "items",
        "method",
        "content",
        "scope_text",
        "ratios_text",
        "window_start",
        "window_end",
        "group_size",
        "one_per_department",
        "max_groups_per_inspector",
        "participating_departments",
        "status_label",
        "out_of_plan",
        "out_of_plan_reason",
        "approval_label",
        "approval_note",
    ]
    add_columns = TASK_FORM_COLUMNS
    edit_columns = [c for c in add_columns if c != "out_of_plan_reason"]
    search_columns = ["number", "name", "department", "status", "out_of_plan", "approval"]
    order_columns = ["number", "name", "out_of_plan", "window_start", "window_end"]
    base_order = ("number", "desc")
    add_form_extra_fields = edit_form_extra_fields = {
        **SCOPE_FORM_FIELDS,
        # The form adds checks outside the plan only: each says why (marked required).
        "out_of_plan_reason": TextAreaField(
            LABELS["out_of_plan_reason"],
            widget=BS3TextAreaFieldWidget(),
            validators=[DataRequired()],
        ),
    }
    validators_columns = {"items": [DataRequired()]}
    add_form_query_rel_fields = edit_form_query_rel_fields = {"items": PUBLISHED_ITEMS}
    formatters_columns = {"items": relation_text, "participating_departments": relation_text}
    show_template = "planning/task_show.html"

    def pre_add(self, item):
        # The form adds checks outside the plan only; planned tasks come from plan lines.
        services.create_out_of_plan_task(item)

    def pre_update(self, item):
        services.check_task_editable(item)

    def pre_delete(self, item):
        services.check_task_deletable(item)

    def render_template(self, template, **kwargs):
        if template == self.show_template and "pk" in kwargs:
            task = self.datamodel.get(kwargs["pk"])
            if task is not None:
                from app.inspections.services import task_results

                kwargs["task"] = task
                kwargs["preview"] = pool_preview(task)
                from app.draws.services import target_draw_not_open

                kwargs["draw_not_open"] = (
                    target_draw_not_open(task) if task.status == "planned" else None
                )
                kwargs["results"] = task_results(task)
                from app.draws.confidential import log_confidential_view

                log_confidential_view([task.id], "task page")
        return super().render_template(template, **kwargs)

    def _offered_actions(self, task=None) -> dict:
        """The one-step draw (摇号) only where a draw without outside entropy is allowed
        (DRAW_ALLOW_NO_ENTROPY) and, on a task's page, only while its targets are to be drawn:
        elsewhere the button could only end in a refusal. The witnessed draw is on the page."""
        from flask import current_app

        offered = dict(self.actions)
        if not current_app.config.get("DRAW_ALLOW_NO_ENTROPY") or (
            task is not None and task.status != "planned"
        ):
            offered.pop("draw_targets", None)
        return offered

    def _get_show_widget(self, pk, item, **kwargs):
        kwargs.setdefault("actions", self._offered_actions(item))
        return super()._get_show_widget(pk, item, **kwargs)

    def _get_list_widget(self, filters, **kwargs):
        kwargs.setdefault("actions", self._offered_actions())
        return super()._get_list_widget(filters, **kwargs)

    @action(
        "draw_targets",
        _l("Draw (摇号)"),
        STEPS["draw_targets"],
        "fa-random",
    )
    def draw_targets(self, tasks):
        from app.draws import services as draws

        tasks = tasks if isinstance(tasks, list) else [tasks]
        if len(tasks) != 1:
            flash(_("Select exactly one task to draw."), "danger")
            return redirect(url_for(".list"))
        task = tasks[0]
        try:
            draw = draws.start_draw(task, "target")
            db.session.commit()  # the commitment is on record before any result exists
            draws.complete_draw(draw)
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
            return redirect(url_for(".show", pk=task.id))
        flash(_("Draw completed."), "success")
        return redirect(url_for("DrawView.show", pk=draw.id))

    @action(
        "approve_tasks",
        _l("Approve the check outside the plan"),
        _l(
            "The selected checks outside the plan are approved now, without an opinion; this "
            "cannot be undone. To give an opinion, decide on the task's page. Approve them?"
        ),
        "fa-check",
    )
    def approve_tasks(self, tasks):
        tasks = tasks if isinstance(tasks, list) else [tasks]
        try:
            for task in tasks:
                services.decide_out_of_plan_task(task, True)
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        else:
            db.session.commit()
            flash(_("%(n)d task(s) approved.", n=len(tasks)), "success")
        return redirect(url_for(".list"))


class TaskApprovalView(WorkflowView):
    """The Leader's decision on a check outside the plan, with its 意见 (opinion): required to
    refuse, optional to approve; kept as a `Decision` and shown on the task's page."""

    route_base = "/task-approval"
    class_permission_name = "SpotCheckTask"
    method_permission_name = {"decide": "approve"}
    default_view = "decide"
    back_endpoint = "SpotCheckTaskView.show"

    @expose("/<int:pk>/decide", methods=["POST"])
    @has_access
    def decide(self, pk):
        task = ensure_in_scope(db.session.get(SpotCheckTask, pk))
        approve = request.form.get("decision") == "approve"
        opinion = request.form.get("opinion", "")
        if approve or opinion.strip():  # a refusal without its opinion is refused at once
            page = confirmation_page(self, "decide_task", url_for(self.back_endpoint, pk=task.id))
            if page is not None:
                return page
        return self._run(
            task,
            lambda: services.decide_out_of_plan_task(task, approve, opinion),
            _("The check outside the plan is approved.")
            if approve
            else _("The check outside the plan is refused."),
        )


class TaskMaterialView(BaseView):
    """Training material on a task (R7.4): upload by the task's department, download by
    whoever may see the task."""

    route_base = "/task-material"
    class_permission_name = "SpotCheckTask"
    # Downloading is its own permission: the task's assigned inspectors have it without
    # reading the task list (R7.4).
    method_permission_name = {"upload": "write", "download": "material"}
    default_view = "download"

    @expose("/<int:task_id>/upload", methods=["POST"])
    @has_access
    def upload(self, task_id):
        task = ensure_in_scope(db.session.get(SpotCheckTask, task_id))
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            flash(_("Choose a file to upload."), "danger")
            return redirect(url_for("SpotCheckTaskView.show", pk=task.id))
        try:
            stored = store(upload.stream, DOCUMENT_KINDS | PHOTO_KINDS)
            db.session.add(
                TaskAttachment(
                    task=task,
                    file_name=safe_display_name(upload.filename, stored.kind),
                    sha256=stored.sha256,
                    size=stored.size,
                    content_type=stored.content_type,
                    note=(request.form.get("note") or "").strip()[:200] or None,
                )
            )
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        else:
            flash(_("The training material is attached."), "success")
        return redirect(url_for("SpotCheckTaskView.show", pk=task.id))

    @expose("/<int:attachment_id>", methods=["GET"])
    @has_access
    def download(self, attachment_id):
        from app.draws.services import is_assigned_to_task

        attachment = db.session.get(TaskAttachment, attachment_id)
        if attachment is None:
            abort(404)
        # Staff of the task's departments read it; an inspector only once assigned to the task.
        keeps_lists = role_names(g.user) & {"Admin", "Leader", "Operator", "JointOffice"}
        allowed = in_scope(attachment) if keeps_lists else False
        if not (allowed or is_assigned_to_task(g.user, attachment.task_id)):
            abort(404)
        path = stored_path(attachment.sha256)
        if not path.exists():
            abort(404)
        return send_file(
            path,
            mimetype=attachment.content_type,
            as_attachment=True,
            download_name=safe_display_name(attachment.file_name),
        )


class ProgressView(BaseView):
    """完成率 / 录入率 / 完结率 per department and for the district (R9.5)."""

    route_base = "/progress"
    class_permission_name = "Progress"
    method_permission_name = {"index": "read"}
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        try:
            year = int(request.args.get("year") or dt.date.today().year)
        except ValueError:
            year = dt.date.today().year
        scope = departments_in_scope()
        report = progress_by_department(year, None if scope is None else scope)
        return self.render_template(
            "planning/progress.html", report=report, year=year, headers=CHINESE_HEADERS
        )


class AnnualPlanApi(AppModelRestApi):
    """`plan` resource with its workflow: /<id>/submit|approve|return|publish|file|revise."""

    resource_name = "plan"
    datamodel = ScopedInterface(AnnualPlan)
    class_permission_name = "AnnualPlan"
    method_permission_name = {
        **API_METHOD_PERMISSIONS,
        "submit": "write",
        "revise": "write",
        "approve": "approve",
        "return_plan": "approve",
        "publish": "publish",
        "file": "file",
    }
    list_columns = [
        "id",
        "title",
        "year",
        "department.id",
        "department.name",
        "status",
        "revision_no",
        "first_published_on",
        "published_on",
        "filed_on",
    ]
    show_columns = [*list_columns, "return_comment", "filing_sha256"]
    add_columns = ["title", "year", "department"]
    edit_columns = ["title", "year"]
    label_columns = {**LABELS, "filing_sha256": _l("SHA-256 fingerprint of the filed CSV")}
    search_columns = ["title", "year", "department", "status"]
    order_columns = [
        "id",
        "title",
        "year",
        "status",
        "revision_no",
        "first_published_on",
        "published_on",
        "filed_on",
    ]
    item_rule = services.check_plan
    delete_rule = services.check_plan_deletable

    def pre_update(self, item):
        services.check_plan_editable(item)

    @expose("/<int:pk>/submit", methods=["POST"])
    @takes()
    @protect()
    @safe
    def submit(self, pk):
        """Submit a draft to the Leader (every published item covered or exempted)."""
        return self.run_workflow(pk, lambda plan, body: services.submit_plan(plan))

    @expose("/<int:pk>/approve", methods=["POST"])
    @takes(opinion=f.OPINION)
    @protect()
    @safe
    def approve(self, pk):
        """Approve a submitted plan (Leader): {"opinion"} (意见) optional."""
        return self.run_workflow(
            pk, lambda plan, body: services.approve_plan(plan, opinion=body.opinion())
        )

    @expose("/<int:pk>/return", methods=["POST"])
    @takes(required=["opinion"], opinion=f.OPINION)
    @protect()
    @safe
    def return_plan(self, pk):
        """Return a plan (Leader): {"opinion": "..."} (意见, required; the older {"comment"}
        is read too)."""
        return self.run_workflow(
            pk, lambda plan, body: services.return_plan(plan, body.opinion("comment"))
        )

    @expose("/<int:pk>/publish", methods=["POST"])
    @takes()
    @protect()
    @safe
    def publish(self, pk):
        """Publish an approved plan."""
        return self.run_workflow(pk, lambda plan, body: services.publish_plan(plan))

    @expose("/<int:pk>/file", methods=["POST"])
    @takes()
    @protect()
    @safe
    def file(self, pk):
        """Record the filing (备案) of the plan's CSV with the joint-meeting office."""
        return self.run_workflow(pk, lambda plan, body: services.file_plan(plan, plan_csv(plan)))

    @expose("/<int:pk>/revise", methods=["POST"])
    @takes(required=["reason"], reason=f.REASON)
    @protect()
    @safe
    def revise(self, pk):
        """Adjust a published plan: {"reason": "..."}; due again within 10 working days."""
        return self.run_workflow(
            pk, lambda plan, body: services.revise_plan(plan, body.get("reason", ""))
        )


class SpotCheckTaskApi(AppModelRestApi):
    """`task` resource; GET /<id>/pool previews the drawable pool per stratum."""

    resource_name = "task"
    datamodel = ScopedInterface(SpotCheckTask, unscoped_relations=("participating_departments",))
    class_permission_name = "SpotCheckTask"
    method_permission_name = {
        **API_METHOD_PERMISSIONS,
        "pool": "read",
        "approve": "approve",
        "reject": "approve",
        "draw_targets": "draw",
        "draw_inspectors": "draw",
    }
    list_columns = [
        "id",
        "number",
        "name",
        "year",
        "department.id",
        "department.name",
        "status",
        "out_of_plan",
        "approval",
        "window_start",
        "window_end",
        "group_size",
    ]
    show_columns = [
        *list_columns,
        "plan.id",
        "method",
        "content",
        "target_types",
        "areas",
        "industries",
        "risk_classes",
        "ratio_a",
        "ratio_b",
        "ratio_c",
        "ratio_d",
        "ratio_special",
        "one_per_department",
        "max_groups_per_inspector",
        "out_of_plan_reason",
        "approval_note",
    ]
    # POST creates a check outside the plan (it waits for a Leader); planned tasks are created
    # from plan lines on the plan page.
    add_columns = TASK_FORM_COLUMNS
    edit_columns = [
        "name",
        "group_size",
        "one_per_department",
        "max_groups_per_inspector",
        "window_start",
        "window_end",
        "content",
    ]
    label_columns = LABELS
    search_columns = ["number", "name", "year", "department", "status", "out_of_plan"]
    order_columns = [
        "id",
        "number",
        "name",
        "year",
        "status",
        "out_of_plan",
        "approval",
        "window_start",
        "window_end",
    ]

    def pre_add(self, item):
        services.create_out_of_plan_task(item)

    def pre_update(self, item):
        services.check_task_editable(item)

    def pre_delete(self, item):
        services.check_task_deletable(item)

    @expose("/<int:pk>/pool", methods=["GET"])
    @protect()
    @safe
    def pool(self, pk):
        """Targets in the pool and to be drawn, per credit-risk class and for special targets."""
        task = self.datamodel.get(pk)
        if task is None:
            return self.response_404()
        preview = [dict(row, ratio=str(row["ratio"])) for row in pool_preview(task)]
        return self.response(200, result=preview)

    def _decide(self, pk, approve):
        return self.run_workflow(
            pk,
            lambda task, body: services.decide_out_of_plan_task(
                task, approve, body.opinion("note")
            ),
        )

    @expose("/<int:pk>/approve", methods=["POST"])
    @takes(opinion=f.OPINION)
    @protect()
    @safe
    def approve(self, pk):
        """Approve a check outside the plan (Leader): {"opinion"} (意见) optional."""
        return self._decide(pk, True)

    @expose("/<int:pk>/reject", methods=["POST"])
    @takes(required=["opinion"], opinion=f.OPINION)
    @protect()
    @safe
    def reject(self, pk):
        """Refuse a check outside the plan (Leader): {"opinion": "..."} (意见, required; the
        older {"note"} is read too)."""
        return self._decide(pk, False)

    def _draw(self, pk, kind):
        from app.draws import services as draws

        task = self.datamodel.get(pk)
        if task is None:
            return self.response_404()
        body, refused = self.workflow_body()
        if refused is not None:
            return refused
        try:
            committed = next(
                (d for d in draws.open_draws(task) if d.kind == kind and d.status == "committed"),
                None,
            )
            if committed is None:
                # witnessed / public: the commitment (and its ledger entry) is answered first;
                # {} is a one-step draw, refused unless DRAW_ALLOW_NO_ENTROPY is on.
                mode = body.get("mode", "") or "one_step"
                committed = draws.start_draw(
                    task,
                    kind,
                    body.get("witnesses", ""),
                    mode=mode,
                    entropy_source=body.get("entropy_source", ""),
                )
                db.session.commit()  # the commitment is public before any entropy is taken
                if mode != "one_step":
                    return self.response(200, result=draws.draw_summary(committed))
            draws.complete_draw(committed, body.get("witness_entropy", ""))
            db.session.commit()
        except WrongType as exc:  # a field of the wrong type: as in run_workflow
            db.session.rollback()
            return self.response_400(message=str(exc))
        except DomainError as exc:
            db.session.rollback()
            return self.response_422(message=str(exc))
        return self.response(200, result=draws.draw_summary(committed))

    @expose("/<int:pk>/draw_targets", methods=["POST"])
    @takes(
        mode=f.DRAW_MODE,
        witnesses=f.WITNESSES,
        entropy_source=f.ENTROPY_SOURCE,
        witness_entropy=f.WITNESS_ENTROPY,
    )
    @protect()
    @safe
    def draw_targets(self, pk):
        """Draw the task's targets. {"mode": "witnessed", "witnesses": "A、B"} (or {"mode":
        "public", "entropy_source": "..."}) returns the commitment and its ledger entry, then
        {"witness_entropy": "..."} draws. {} (one step, no outside entropy) is refused unless
        DRAW_ALLOW_NO_ENTROPY is on."""
        return self._draw(pk, "target")

    @expose("/<int:pk>/draw_inspectors", methods=["POST"])
    @takes(
        mode=f.DRAW_MODE,
        witnesses=f.WITNESSES,
        entropy_source=f.ENTROPY_SOURCE,
        witness_entropy=f.WITNESS_ENTROPY,
    )
    @protect()
    @safe
    def draw_inspectors(self, pk):
        """Draw an inspection group for every drawn target: the same two steps as the targets."""
        return self._draw(pk, "inspector")
