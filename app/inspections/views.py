"""Pages of inspections: records with evidence, the summary report, follow-up supervision, and
the task's publication and archive. Thin: every rule is in app/inspections/services.py."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_appbuilder import expose
from flask_appbuilder.fieldwidgets import BS3TextAreaFieldWidget, Select2Widget
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import false, select
from wtforms import SelectField, StringField, TextAreaField

from app.core.audit import log_event
from app.core.downloads import DOCX_MIMETYPE, send_named, task_file_names
from app.core.errors import DomainError
from app.core.files import safe_display_name, stored_path
from app.core.masking import mask_id_number
from app.core.models import is_row_id
from app.core.text import chinese_date
from app.directory.models import NATURAL_PERSON
from app.directory.views import MultiChoiceField
from app.disclosure.exports import csv_response, requested_encoding, xlsx_response
from app.draws.confidential import log_confidential_view
from app.draws.models import DrawnTarget
from app.extensions import db
from app.inspections import penalty_export, services
from app.inspections.archive import build_bundle, summary_document, summary_report_data
from app.inspections.models import (
    CASE_STATUSES,
    CLOSED_CASE_STATUSES,
    FOLLOW_UPS,
    METHODS,
    PARTY_CATEGORIES,
    PENALTY_KINDS,
    RECORD_ENTRY_COLUMNS,
    RECORD_SUBMIT_REQUIRED,
    RESULT_CODES,
    SUMMARY_FIELDS,
    Evidence,
    InspectionRecord,
    InspectionSummary,
    Penalty,
    RectificationCase,
    party_category_of,
)
from app.inspections.penalty_export import amount_text
from app.inspections.penalty_rules import PENALTY_FIELDS
from app.inspections.result_codes import detail_choices
from app.inspections.thumbnails import thumbnail
from app.planning.models import PUBLISHED_TASK_STATUSES, SpotCheckTask
from app.security.base_views import VIEW_METHOD_PERMISSIONS, AppModelView, WorkflowView
from app.security.models import Department
from app.security.scope import ALL, ScopedInterface, departments_in_scope, ensure_in_scope

LABELS = {
    "task": _l("Task"),
    "target": _l("Target"),
    "status_label": _l("Status"),
    "inspection_date": _l("Inspection date"),
    "method": _l("Inspection method"),
    "items": _l("Items checked"),
    "items_text": _l("Items checked"),
    "other_items": _l("Other items (其他), one per line"),
    "situation": _l("On-site situation"),
    "problems": _l("Problems found"),
    "result_code": _l("Result"),
    "result_detail": _l("Result detail"),
    "result_detail_label": _l("Result detail"),
    "follow_up": _l("Follow-up measure"),
    "follow_up_text": _l("Follow-up"),
    "opinions": _l("Handling opinions and suggestions"),
    "present_person": _l("Legal representative or contact present"),
    "deadline_text": _l("Entry deadline (R11.3)"),
    "due_on": _l("Due on"),
    "submitted_on": _l("Submitted on"),
    "submitted_by": _l("Submitted by"),
    "reviewed_by": _l("Reviewed by"),
    "return_comment": _l("Comment on return"),
    "check_period": _l("Check time"),
    "content": _l("Inspection content"),
    "version": _l("Version"),
    "leader_comment": _l("Leader's comment"),
    "approved_on": _l("Approved on"),
    "record": _l("Inspection record"),
    "department": _l("Responsible department"),
    "requirement": _l("Rectification required"),
    "deadline": _l("Rectification deadline"),
    "closed_on": _l("Closed on"),
    "closing_note": _l("Closing note"),
}
DESCRIPTIONS = {
    "items": _l("Only the task's items; anything else goes under 其他."),
    "problems": _l("Describe the problems, or write 无 when none were found."),
    "follow_up": _l("无需后续处置 closes the follow-up at once."),
    "result_detail": _l(
        "Required for 发现问题待后续处理 and 已注销或被吊销、撤销: choose from the group of the "
        "result; empty for every other result."
    ),
}


class EntryItems(BaseFilter):
    """The item choice of a record: its task's items only (services.entry_items). The record is
    the route's `pk` (the edit page); without one (REST `_info`), the tasks the user enters."""

    name = "Items of the task"
    arg_name = "tsk"

    def apply(self, query, value):
        pk = (request.view_args or {}).get("pk")
        record_id = int(pk) if str(pk).isdigit() and is_row_id(int(pk)) else None
        if pk is not None and record_id is None:
            return query.filter(false())
        allowed = services.entry_items(services._actor(), record_id)
        return query.filter(self.model.id.in_(allowed))


ENTRY_ITEMS = {"items": [["id", EntryItems, None]]}


def _choices(values):
    return [("", "—")] + [(v, v) for v in values]


class InspectionRecordView(AppModelView):
    """Records: the group's inspectors enter them (edit), everyone else in scope reads them.
    Records are opened from the assignments, never added by hand, and never deleted."""

    route_base = "/records"
    datamodel = ScopedInterface(InspectionRecord)
    class_permission_name = "InspectionRecord"
    exclude_route_methods = {"add", "delete", "download"}
    list_title = _l("Inspection records")
    show_title = _l("Inspection record")
    edit_title = _l("Enter the inspection record")
    label_columns = LABELS
    description_columns = DESCRIPTIONS
    list_columns = [
        "task",
        "target",
        "status_label",
        "inspection_date",
        "result_code",
        "result_detail_label",
        "deadline_text",
        "follow_up_text",
    ]
    show_columns = [
        "task",
        "target",
        "status_label",
        "inspection_date",
        "method",
        "items_text",
        "situation",
        "problems",
        "result_code",
        "result_detail_label",
        "follow_up_text",
        "opinions",
        "present_person",
        "due_on",
        "deadline_text",
        "submitted_on",
        "submitted_by",
        "reviewed_by",
        "return_comment",
    ]
    edit_columns = RECORD_ENTRY_COLUMNS
    submit_required_columns = RECORD_SUBMIT_REQUIRED
    search_columns = ["task", "target", "status", "result_code", "result_detail", "inspection_date"]
    order_columns = ["inspection_date", "result_code", "result_detail"]
    base_order = ("id", "desc")
    edit_form_extra_fields = {
        "method": SelectField(LABELS["method"], choices=_choices(METHODS), widget=Select2Widget()),
        "result_code": SelectField(
            LABELS["result_code"], choices=_choices(RESULT_CODES), widget=Select2Widget()
        ),
        "result_detail": SelectField(
            LABELS["result_detail"],
            choices=detail_choices(),
            # The rule (services.check_result_detail) refuses a detail of another result in
            # Chinese, on the form and the REST API alike; an absent field is no detail.
            validate_choice=False,
            widget=Select2Widget(),
            description=DESCRIPTIONS["result_detail"],
        ),
        "follow_up": SelectField(
            LABELS["follow_up"],
            choices=_choices(FOLLOW_UPS),
            widget=Select2Widget(),
            description=DESCRIPTIONS["follow_up"],
        ),
        **{
            name: TextAreaField(LABELS[name], widget=BS3TextAreaFieldWidget())
            for name in ("other_items", "situation", "problems", "opinions")
        },
    }
    # The item dropdown: the task's own items, nothing the rule would then refuse.
    edit_form_query_rel_fields = ENTRY_ITEMS
    show_template = "inspections/record_show.html"
    edit_template = "inspections/record_edit.html"
    item_rule = services.check_record_entry

    def pre_update(self, item):
        # Empty select values are stored as NULL, not "".
        for column in ("method", "result_code", "result_detail", "follow_up"):
            setattr(item, column, getattr(item, column) or None)
        super().pre_update(item)

    @expose("/edit/<pk>", methods=["GET", "POST"])
    @has_access
    def edit(self, pk):
        record = self._load_scoped(pk)
        try:
            services.ensure_can_enter(record)
        except DomainError as exc:
            flash(str(exc), "danger")
            return redirect(url_for(".show", pk=record.id))
        return super().edit(pk)

    def render_template(self, template, **kwargs):
        if template == self.edit_template:
            # FAB renders the edit page without its pk: the route has it (edit() scoped it).
            record = self.datamodel.get((request.view_args or {}).get("pk"))
            if record is not None:
                kwargs.update(record=record, **record_header(record))
                # The header names a drawn target of its task (R13.1).
                log_confidential_view([record.task_id], "record form")
        if template == self.show_template and "pk" in kwargs:
            record = self.datamodel.get(kwargs["pk"])
            if record is not None:
                kwargs.update(
                    record=record,
                    can_enter=services.can_enter(record),
                    departments=db.session.scalars(
                        select(Department).order_by(Department.id)
                    ).all(),
                    case_statuses=CASE_STATUSES,
                    closing_statuses=CLOSED_CASE_STATUSES,
                    today=dt.date.today(),
                    penalty_kinds=PENALTY_KINDS,
                    party_categories=PARTY_CATEGORIES,
                    party_default=party_category_of(record.target.target_type),
                )
        return super().render_template(template, **kwargs)


def record_header(record: InspectionRecord) -> dict:
    """What the record form shows at its top: whose record, of which task, on which items."""
    target, task = record.target, record.task
    if target.target_type == NATURAL_PERSON:
        identifier = mask_id_number(target.id_number) if target.id_number else ""
        identifier_label = _("Citizen ID number")
    else:
        identifier, identifier_label = target.uscc or "", _("Unified social credit code")
    return {
        "header_identifier": identifier,
        "header_identifier_label": identifier_label,
        "header_window": " 至 ".join(
            dict.fromkeys(d.isoformat() for d in (task.window_start, task.window_end) if d)
        ),
        "header_items": sorted(task.items, key=lambda i: i.code),
    }


class RecordWorkflowView(WorkflowView):
    """Opening, submitting, reviewing and returning records; evidence; follow-up."""

    route_base = "/record-workflow"
    back_endpoint = "InspectionRecordView.show"
    class_permission_name = "InspectionRecord"
    method_permission_name = {
        "open": "write",
        "submit": "write",
        "evidence_upload": "write",
        "evidence": "read",
        "evidence_thumbnail": "read",
        "review": "review",
        "return_record": "review",
        "case": "follow_up",
        "penalty": "follow_up",
        "transfer": "follow_up",
        "close_follow_up": "follow_up",
    }
    default_view = "evidence"

    def _record(self, pk) -> InspectionRecord:
        return ensure_in_scope(db.session.get(InspectionRecord, pk))

    @expose("/open/<int:drawn_id>", methods=["POST"])
    @has_access
    def open(self, drawn_id):
        drawn = db.session.get(DrawnTarget, drawn_id)
        # Out of the user's groups looks exactly like missing (no "not yours" message).
        if drawn is None or not services.is_group_member(
            services._actor(), drawn.task_id, drawn.target_id
        ):
            abort(404)
        try:
            record = services.open_record(drawn)
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
            return redirect(url_for("MyAssignmentsView.index"))
        return redirect(url_for("InspectionRecordView.edit", pk=record.id))

    @expose("/<int:pk>/submit", methods=["POST"])
    @has_access
    def submit(self, pk):
        record = self._record(pk)
        return self._run(
            record, lambda: services.submit_record(record), _("The record is submitted.")
        )

    @expose("/<int:pk>/review", methods=["POST"])
    @has_access
    def review(self, pk):
        record = self._record(pk)
        return self._run(
            record, lambda: services.review_record(record), _("The record is reviewed.")
        )

    @expose("/<int:pk>/return", methods=["GET", "POST"])
    @has_access
    def return_record(self, pk):
        record = self._record(pk)
        if request.method == "POST":
            return self._run(
                record,
                lambda: services.return_record(record, request.form.get("reason", "")),
                _("The record is returned to the inspectors."),
            )
        return self.render_template(
            "directory/reason_form.html",
            title=_("Return the record of %(target)s", target=record.target.name),
            prompt=_("What must the inspectors correct?"),
        )

    @expose("/<int:pk>/evidence", methods=["POST"])
    @has_access
    def evidence_upload(self, pk):
        record = self._record(pk)
        # The page offers a camera input and a file input, both named `file`: each one filled
        # is attached, all or none.
        uploads = [u for u in request.files.getlist("file") if u.filename]
        if not uploads:
            flash(_("Choose a file to upload."), "danger")
            return redirect(url_for("InspectionRecordView.show", pk=record.id))
        note = request.form.get("note", "")
        return self._run(
            record,
            lambda: [services.add_evidence(record, u.stream, u.filename, note) for u in uploads],
            _("The evidence is attached."),
        )

    def _evidence(self, evidence_id) -> Evidence:
        evidence = db.session.get(Evidence, evidence_id)
        if evidence is None:
            abort(404)
        self._record(evidence.record_id)  # the record's scope and role rule
        return evidence

    @expose("/evidence/<int:evidence_id>", methods=["GET"])
    @has_access
    def evidence(self, evidence_id):
        evidence = self._evidence(evidence_id)
        path = stored_path(evidence.sha256)
        if not path.exists():
            abort(404)
        return send_file(
            path,
            mimetype=evidence.content_type,
            as_attachment=not evidence.is_photo,
            download_name=safe_display_name(evidence.file_name),
        )

    @expose("/evidence/<int:evidence_id>/thumbnail", methods=["GET"])
    @has_access
    def evidence_thumbnail(self, evidence_id):
        evidence = self._evidence(evidence_id)
        data = thumbnail(evidence.sha256, evidence.kind)
        if data is None:
            abort(404)
        return send_file(io.BytesIO(data), mimetype="image/jpeg", max_age=3600)

    @expose("/<int:pk>/case", methods=["POST"])
    @has_access
    def case(self, pk):
        record = self._record(pk)
        form = request.form

        def operation():
            try:
                deadline = dt.date.fromisoformat(form.get("deadline", ""))
                department_id = int(form.get("department_id", ""))
            except ValueError:
                raise DomainError(_("Give the deadline and the responsible department.")) from None
            if db.session.get(Department, department_id) is None:
                raise DomainError(_("Give the deadline and the responsible department."))
            services.open_case(record, department_id, form.get("requirement", ""), deadline)

        return self._run(record, operation, _("The rectification case is opened."))

    @expose("/<int:pk>/penalty", methods=["POST"])
    @has_access
    def penalty(self, pk):
        record = self._record(pk)
        form = request.form
        fields = {
            name: form.get(name)
            for name in PENALTY_FIELDS
            if name not in ("decision_number", "decision_date", "content", "kinds")
        }
        return self._run(
            record,
            lambda: services.add_penalty(
                record,
                form.get("number", ""),
                _parse_date(form.get("date")),
                form.get("content"),
                kinds=form.getlist("kinds"),
                **fields,
            ),
            _("The penalty is recorded."),
        )

    @expose("/<int:pk>/transfer", methods=["POST"])
    @has_access
    def transfer(self, pk):
        record = self._record(pk)
        form = request.form
        return self._run(
            record,
            lambda: services.add_transfer(
                record, _parse_date(form.get("date")), form.get("organ"), form.get("description")
            ),
            _("The transfer is recorded."),
        )

    @expose("/<int:pk>/close", methods=["POST"])
    @has_access
    def close_follow_up(self, pk):
        record = self._record(pk)
        return self._run_confirmed(
            record,
            "close_follow_up",
            lambda: services.close_follow_up(record, request.form.get("note", "")),
            _("The follow-up is closed."),
        )


def _audit_export(kind: str, task: SpotCheckTask, object_id) -> None:
    log_event(
        "export",
        kind,
        object_id,
        department_id=task.department_id,
        detail={"task": task.number},
    )
    db.session.commit()


def _parse_date(value) -> dt.date | None:
    try:
        return dt.date.fromisoformat((value or "").strip())
    except ValueError:
        raise DomainError(_("Dates are written YYYY-MM-DD.")) from None


class RectificationCaseView(AppModelView):
    """整改 cases: the task's departments and the responsible department see them."""

    route_base = "/rectifications"
    datamodel = ScopedInterface(RectificationCase, unscoped_relations=("department",))
    class_permission_name = "Rectification"
    exclude_route_methods = {"add", "delete", "download"}
    list_title = _l("Rectification cases")
    show_title = _l("Rectification case")
    edit_title = _l("Edit the rectification case")
    label_columns = {**LABELS, "status_label": _l("Rectification status")}
    list_columns = ["target", "task", "department", "deadline", "status_label", "closed_on"]
    show_columns = [
        "record",
        "target",
        "task",
        "department",
        "requirement",
        "deadline",
        "status_label",
        "closed_on",
        "closing_note",
    ]
    # Handing the case to another department is CaseWorkflowView.transfer, a recorded step.
    edit_columns = ["requirement", "deadline"]
    search_columns = ["target", "task", "department", "status", "deadline"]
    order_columns = ["deadline", "closed_on"]
    base_order = ("deadline", "asc")
    edit_form_extra_fields = {
        "requirement": TextAreaField(LABELS["requirement"], widget=BS3TextAreaFieldWidget())
    }
    show_template = "inspections/case_show.html"
    item_rule = services.check_case

    def render_template(self, template, **kwargs):
        if template == self.show_template and "pk" in kwargs:
            case = self.datamodel.get(kwargs["pk"])
            if case is not None:
                kwargs.update(
                    case=case,
                    closing_statuses=CLOSED_CASE_STATUSES,
                    statuses=CASE_STATUSES,
                    departments=db.session.scalars(
                        select(Department)
                        .where(Department.active.is_(True), Department.id != case.department_id)
                        .order_by(Department.sort_order, Department.id)
                    ).all(),
                )
        return super().render_template(template, **kwargs)


class CaseWorkflowView(WorkflowView):
    route_base = "/rectification-workflow"
    back_endpoint = "RectificationCaseView.show"
    class_permission_name = "Rectification"
    method_permission_name = {"reinspect": "write", "close": "write", "transfer": "write"}
    default_view = "close"

    def _case(self, pk) -> RectificationCase:
        return ensure_in_scope(db.session.get(RectificationCase, pk))

    @expose("/<int:pk>/reinspect", methods=["POST"])
    @has_access
    def reinspect(self, pk):
        case = self._case(pk)
        form = request.form
        return self._run(
            case,
            lambda: services.add_reinspection(
                case,
                _parse_date(form.get("date")),
                form.get("finding", ""),
                form.get("rectified") == "y",
            ),
            _("The re-inspection is recorded."),
        )

    @expose("/<int:pk>/close", methods=["POST"])
    @has_access
    def close(self, pk):
        case = self._case(pk)
        return self._run_confirmed(
            case,
            "close_case",
            lambda: services.close_case(
                case, request.form.get("status", ""), request.form.get("note", "")
            ),
            _("The rectification case is closed."),
        )

    @expose("/<int:pk>/transfer", methods=["POST"])
    @has_access
    def transfer(self, pk):
        case = self._case(pk)
        form = request.form

        def operation():
            text = (form.get("department_id") or "").strip()
            department_id = int(text) if text.isdigit() and is_row_id(int(text)) else None
            services.transfer_case(case, department_id, form.get("reason", ""))

        return self._run(case, operation, _("The case is handed over."))


class InspectionSummaryView(AppModelView):
    """检查小结: written by the task's inspectors, decided by the Leader; versions kept."""

    route_base = "/summaries"
    datamodel = ScopedInterface(InspectionSummary)
    class_permission_name = "InspectionSummary"
    exclude_route_methods = {"add", "delete", "download"}
    list_title = _l("Summary reports")
    show_title = _l("Summary report")
    edit_title = _l("Write the summary report")
    label_columns = LABELS
    list_columns = ["task", "status_label", "version", "approved_on"]
    show_columns = [
        "task",
        "status_label",
        "version",
        "check_period",
        "content",
        "situation",
        "opinions",
        "leader_comment",
        "approved_on",
    ]
    edit_columns = SUMMARY_FIELDS
    submit_required_columns = tuple(SUMMARY_FIELDS)
    search_columns = ["task", "status"]
    order_columns = ["version", "approved_on"]
    base_order = ("id", "desc")
    edit_form_extra_fields = {
        name: TextAreaField(LABELS[name], widget=BS3TextAreaFieldWidget())
        for name in ("check_period", "content", "situation", "opinions")
    }
    show_template = "inspections/summary_show.html"
    edit_template = "inspections/summary_edit.html"
    item_rule = services.check_summary_entry

    @expose("/edit/<pk>", methods=["GET", "POST"])
    @has_access
    def edit(self, pk):
        summary = self._load_scoped(pk)
        try:
            services.check_summary_entry(summary)
        except DomainError as exc:
            flash(str(exc), "danger")
            return redirect(url_for(".show", pk=summary.id))
        return super().edit(pk)

    def render_template(self, template, **kwargs):
        if template == self.edit_template:
            summary = self.datamodel.get((request.view_args or {}).get("pk"))
            kwargs["summary"] = summary
            if summary is not None:
                # The form names the task and its drawn targets (R13.1).
                log_confidential_view([summary.task_id], "summary form")
        if template == self.show_template and "pk" in kwargs:
            summary = self.datamodel.get(kwargs["pk"])
            if summary is not None:
                kwargs.update(
                    summary=summary,
                    can_write=services.is_group_member(services._actor(), summary.task_id),
                )
        return super().render_template(template, **kwargs)


class SummaryWorkflowView(WorkflowView):
    route_base = "/summary-workflow"
    back_endpoint = "InspectionSummaryView.show"
    class_permission_name = "InspectionSummary"
    method_permission_name = {
        "open": "write",
        "submit": "write",
        "approve": "approve",
        "return_summary": "approve",
        "document": "read",
        "print_page": "read",
    }
    default_view = "document"

    def _summary(self, pk) -> InspectionSummary:
        return ensure_in_scope(db.session.get(InspectionSummary, pk))

    @expose("/open/<int:task_id>", methods=["POST"])
    @has_access
    def open(self, task_id):
        task = db.session.get(SpotCheckTask, task_id)
        # Only the task's inspectors write its summary: for anybody else the task is missing
        # (a redirect to an existing summary would give its id away).
        if task is None or not services.is_group_member(services._actor(), task.id):
            abort(404)
        try:
            summary = services.open_summary(task)
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
            return redirect(url_for("MyAssignmentsView.index"))
        return redirect(url_for("InspectionSummaryView.show", pk=summary.id))

    @expose("/<int:pk>/submit", methods=["POST"])
    @has_access
    def submit(self, pk):
        summary = self._summary(pk)
        return self._run(
            summary,
            lambda: services.submit_summary(summary),
            _("The summary is submitted to the Leader."),
        )

    @expose("/<int:pk>/approve", methods=["POST"])
    @has_access
    def approve(self, pk):
        summary = self._summary(pk)
        return self._run_confirmed(
            summary,
            "approve_summary",
            lambda: services.decide_summary(summary, True, request.form.get("opinion", "")),
            _("The summary is approved."),
        )

    @expose("/<int:pk>/return", methods=["GET", "POST"])
    @has_access
    def return_summary(self, pk):
        summary = self._summary(pk)
        if request.method == "POST":
            return self._run(
                summary,
                lambda: services.decide_summary(summary, False, request.form.get("reason", "")),
                _("The summary is returned to the inspectors."),
            )
        return self.render_template(
            "directory/reason_form.html",
            title=_("Return the summary of %(number)s", number=summary.task.number),
            prompt=_("Comments for the inspectors"),
        )

    @expose("/<int:pk>/document.docx", methods=["GET"])
    @has_access
    def document(self, pk):
        summary = self._summary(pk)
        data = summary_document(summary)
        log_confidential_view([summary.task_id], "summary document")
        if summary.task.status not in PUBLISHED_TASK_STATUSES:
            # Unpublished results leave the system (R13.2).
            _audit_export("summary_document", summary.task, summary.id)
        names = task_file_names(summary.task, "检查报告", "report", "docx")
        return send_named(data, DOCX_MIMETYPE, names)

    @expose("/<int:pk>/print", methods=["GET"])
    @has_access
    def print_page(self, pk):
        """The report as an A4 page for the browser's print dialog (print or save as PDF)."""
        summary = self._summary(pk)
        data = summary_report_data(summary)
        log_confidential_view([summary.task_id], "summary print")
        return render_template(
            "inspections/summary_print.html",
            doc=data,
            date_text=chinese_date(data["date"]),
        )


class TaskResultsView(WorkflowView):
    """Publishing a task's results and archiving the task (R11.1, R10.4)."""

    route_base = "/task-results"
    back_endpoint = "SpotCheckTaskView.show"
    class_permission_name = "SpotCheckTask"
    method_permission_name = {"publish": "publish", "archive": "archive", "bundle": "archive"}
    default_view = "bundle"

    def _task(self, pk) -> SpotCheckTask:
        return ensure_in_scope(db.session.get(SpotCheckTask, pk))

    @expose("/<int:pk>/publish", methods=["POST"])
    @has_access
    def publish(self, pk):
        task = self._task(pk)
        return self._run_confirmed(
            task,
            "publish_results",
            lambda: services.publish_results(task),
            _("The results are published."),
        )

    @expose("/<int:pk>/archive", methods=["POST"])
    @has_access
    def archive(self, pk):
        task = self._task(pk)
        return self._run_confirmed(
            task, "archive_task", lambda: services.archive_task(task), _("The task is archived.")
        )

    @expose("/<int:pk>/bundle.zip", methods=["GET"])
    @has_access
    def bundle(self, pk):
        task = self._task(pk)
        if task.status != "archived":
            flash(_("The archive bundle exists once the task is archived."), "danger")
            return redirect(url_for("SpotCheckTaskView.show", pk=task.id))
        bundle = build_bundle(task)
        _audit_export("archive_bundle", task, task.id)  # evidence files and personal data
        return send_named(
            bundle, "application/zip", task_file_names(task, "归档包", "archive", "zip")
        )


# --- 行政处罚 (双公示) ------------------------------------------------------------------------

PENALTY_LABELS = {
    "record": _l("Inspection record"),
    "task": _l("Task"),
    "target": _l("Party (行政相对人)"),
    "target_display": _l("Party (行政相对人)"),
    "decision_number": _l("Decision number (行政处罚决定书文号)"),
    "decision_date": _l("Decision date"),
    "party_category": _l("Party category (行政相对人类别)"),
    "violation_type": _l("Type of violation (违法行为类型)"),
    "violation_facts": _l("Facts of the violation (违法事实)"),
    "legal_basis": _l("Legal basis of the penalty (处罚依据)"),
    "kinds": _l("Kinds of penalty (处罚类别)"),
    "content": _l("Content of the penalty (处罚内容)"),
    "fine_amount": _l("Fine (10,000 yuan)"),
    "confiscation_amount": _l("Confiscated amount (10,000 yuan)"),
    "licence": _l("Licence suspended or revoked, with its number"),
    "valid_until": _l("Penalty valid until (处罚有效期)"),
    "publicity_until": _l("Public until (公示截止期)"),
    "authority": _l("Penalty authority (处罚机关)"),
    "authority_uscc": _l("Penalty authority's unified social credit code"),
    "source_unit": _l("Data source unit (数据来源单位)"),
    "source_uscc": _l("Data source unit's unified social credit code"),
    "note": _l("Remarks (备注)"),
    "created_by": _l("Recorded by"),
    "created_on": _l("Recorded on"),
}
PENALTY_DESCRIPTIONS = {
    "kinds": _l("One or more kinds of 《行政处罚法》 art. 9."),
    "fine_amount": _l("In 10,000 yuan, at most 6 decimals; required with 罚款."),
    "confiscation_amount": _l(
        "In 10,000 yuan, at most 6 decimals; required with 没收违法所得 or 没收非法财物."
    ),
    "licence": _l("Required with 暂扣许可证件 or 吊销许可证件."),
    "valid_until": _l("2099-12-31 when the penalty has no time limit."),
    "publicity_until": _l(
        "By default 3 months after the decision for 警告 / 通报批评 only, else 1 year."
    ),
    "violation_type": _l("Required by the 信用中国 standard: the export warns when empty."),
}


class AmountField(StringField):
    """An amount in 万元 typed as text: the service parses it strictly (penalty_rules)."""

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return amount_text(self.data) if isinstance(self.data, Decimal) else (self.data or "")


def _penalty_form_fields() -> dict:
    return {
        "party_category": SelectField(
            PENALTY_LABELS["party_category"],
            choices=[(c, c) for c in PARTY_CATEGORIES],
            widget=Select2Widget(),
        ),
        "kinds": MultiChoiceField(
            PENALTY_LABELS["kinds"],
            choices=[(k, k) for k in PENALTY_KINDS],
            description=PENALTY_DESCRIPTIONS["kinds"],
        ),
        **{
            name: AmountField(PENALTY_LABELS[name], description=PENALTY_DESCRIPTIONS[name])
            for name in ("fine_amount", "confiscation_amount")
        },
        **{
            name: TextAreaField(PENALTY_LABELS[name], widget=BS3TextAreaFieldWidget())
            for name in ("violation_facts", "legal_basis", "content", "note")
        },
    }


class PenaltyView(AppModelView):
    """行政处罚: recorded from the record's follow-up (RecordWorkflowView.penalty), completed and
    corrected here, downloaded in the 双公示 layout (export). Never deleted."""

    route_base = "/penalties"
    datamodel = ScopedInterface(Penalty)
    class_permission_name = "Penalty"
    method_permission_name = {**VIEW_METHOD_PERMISSIONS, "export": "export"}
    exclude_route_methods = {"add", "delete", "download"}
    list_title = _l("Administrative penalties")
    show_title = _l("Administrative penalty")
    edit_title = _l("Edit the administrative penalty")
    label_columns = PENALTY_LABELS
    description_columns = PENALTY_DESCRIPTIONS
    list_columns = [
        "decision_number",
        "target",
        "task",
        "party_category",
        "kinds",
        "decision_date",
        "publicity_until",
    ]
    show_columns = [
        "record",
        "task",
        "target_display",
        *[name for name in PENALTY_FIELDS],
        "created_by",
        "created_on",
    ]
    edit_columns = PENALTY_FIELDS
    search_columns = ["decision_number", "target", "task", "party_category", "decision_date"]
    order_columns = ["decision_number", "decision_date", "publicity_until"]
    base_order = ("decision_date", "desc")
    edit_form_extra_fields = _penalty_form_fields()
    list_template = "inspections/penalty_list.html"
    formatters_columns = {
        "fine_amount": lambda v: amount_text(v) or "—",
        "confiscation_amount": lambda v: amount_text(v) or "—",
    }
    item_rule = services.check_penalty_edit

    def render_template(self, template, **kwargs):
        if template == self.list_template:
            kwargs["can_export"] = self.appbuilder.sm.has_access("can_export", "Penalty")
            kwargs["formats"] = penalty_export.FORMATS
        return super().render_template(template, **kwargs)

    @expose("/export")
    @has_access
    def export(self):
        """The penalties of the user's scope in the 双公示 layout: ?format=csv|xlsx,
        ?encoding=gb18030, ?from= / ?to= (YYYY-MM-DD) on the decision date."""
        args = request.args
        try:
            fmt = (args.get("format") or "csv").strip().lower()
            if fmt not in penalty_export.FORMATS:
                raise DomainError(_("Unknown format: use csv or xlsx."))
            if fmt == "csv":
                requested_encoding()
            date_from = _parse_date(args.get("from")) if args.get("from") else None
            date_to = _parse_date(args.get("to")) if args.get("to") else None
            if date_from and date_to and date_from > date_to:
                raise DomainError(_("The start date is after the end date."))
        except DomainError as exc:
            flash(str(exc), "danger")
            return redirect(url_for(".list"))
        export = penalty_export.build(
            db.session.scalars(penalty_export.penalties_query(date_from=date_from, date_to=date_to))
        )
        scope = departments_in_scope()
        # Personal data (a natural person's ID number) leaves the system (R13.2, X3).
        log_event(
            "export",
            "penalty",
            None,
            detail={
                "format": fmt,
                "rows": len(export.ids),
                "ids": export.ids,
                "departments": "all" if scope is ALL else sorted(scope),
                "from": date_from.isoformat() if date_from else None,
                "to": date_to.isoformat() if date_to else None,
            },
        )
        db.session.commit()
        lines = penalty_export.warning_lines(export)
        if lines:
            # Shown on the next page the user opens (the list, after the download).
            flash(
                _(
                    "%(count)d rows miss required fields of the standard; complete them "
                    "before filing: %(rows)s",
                    count=len(lines),
                    rows="；".join(lines),
                ),
                "warning",
            )
        name = penalty_export.file_name(fmt)
        if fmt == "xlsx":
            return xlsx_response(
                name,
                penalty_export.SHEET,
                penalty_export.HEADERS,
                export.rows,
                text_columns=penalty_export.TEXT_COLUMNS,
            )
        return csv_response(name, penalty_export.HEADERS, export.rows)
