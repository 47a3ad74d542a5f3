"""REST resources `record`, `summary` and `rectification` with their workflow endpoints (POST on
the resource). Scope and the inspector's group rule apply as on the pages."""

from __future__ import annotations

import datetime as dt

from flask import request
from flask_appbuilder import expose
from flask_appbuilder.api import protect, safe
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge

from app.core import api_fields as f
from app.core.errors import DomainError
from app.extensions import db
from app.inspections import services
from app.inspections.models import (
    RECORD_ENTRY_COLUMNS,
    SUMMARY_FIELDS,
    InspectionRecord,
    InspectionSummary,
    Penalty,
    RectificationCase,
)
from app.inspections.penalty_rules import DATE_FIELDS, PENALTY_FIELDS
from app.inspections.views import ENTRY_ITEMS, LABELS, PENALTY_DESCRIPTIONS, PENALTY_LABELS
from app.security.base_views import API_METHOD_PERMISSIONS, AppModelRestApi, takes
from app.security.scope import ScopedInterface

# The 双公示 fields of a penalty in a request body (besides number, date and content), described
# as the penalty's form describes them.
PENALTY_BODY = {
    name: (
        "date" if name in DATE_FIELDS else "text",
        PENALTY_DESCRIPTIONS.get(name, PENALTY_LABELS[name]),
    )
    for name in PENALTY_FIELDS
    if name not in ("decision_number", "decision_date", "content")
}


def _date(value):
    if value in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise DomainError(_("Dates are written YYYY-MM-DD.")) from None


class InspectionRecordApi(AppModelRestApi):
    """`record`: read in scope; PUT by the group's inspectors while being entered;
    /<id>/submit, /<id>/review, /<id>/return {"comment"}, /<id>/evidence (multipart `file`,
    `note`), /<id>/penalty, /<id>/transfer, /<id>/close_follow_up."""

    resource_name = "record"
    label_columns = {**LABELS, "follow_up_closed": _l("Follow-up closed")}
    datamodel = ScopedInterface(InspectionRecord)
    class_permission_name = "InspectionRecord"
    include_route_methods = {
        "get",
        "get_list",
        "info",
        "put",
        "submit",
        "review",
        "return_record",
        "evidence",
        "penalty",
        "transfer",
        "close_follow_up",
    }
    method_permission_name = {
        **API_METHOD_PERMISSIONS,
        "submit": "write",
        "evidence": "write",
        "review": "review",
        "return_record": "review",
        "penalty": "follow_up",
        "transfer": "follow_up",
        "close_follow_up": "follow_up",
    }
    list_columns = [
        "id",
        "task.id",
        "task.number",
        "target.id",
        "target.name",
        "status",
        "inspection_date",
        "result_code",
        "result_detail",
        "follow_up",
        "follow_up_closed",
        "due_on",
    ]
    show_columns = [
        *list_columns,
        "method",
        "items.id",
        "items.name",
        "other_items",
        "situation",
        "problems",
        "opinions",
        "present_person",
        "submitted_on",
        "return_comment",
    ]
    edit_columns = RECORD_ENTRY_COLUMNS
    # `_info`'s item choices: the items of the tasks the user enters (as on the page).
    edit_query_rel_fields = ENTRY_ITEMS
    search_columns = [
        "task",
        "target",
        "status",
        "inspection_date",
        "result_code",
        "result_detail",
        "follow_up",
        "follow_up_closed",
        "due_on",
    ]
    order_columns = ["id", "status", "inspection_date", "result_code", "result_detail", "due_on"]
    item_rule = services.check_record_entry

    @expose("/<int:pk>/submit", methods=["POST"])
    @takes()
    @protect()
    @safe
    def submit(self, pk):
        """Submit the record (谁检查谁录入)."""
        return self.run_workflow(pk, lambda record, _b: services.submit_record(record))

    @expose("/<int:pk>/review", methods=["POST"])
    @takes()
    @protect()
    @safe
    def review(self, pk):
        """Accept the submitted record: ready to publish."""
        return self.run_workflow(pk, lambda record, _b: services.review_record(record))

    @expose("/<int:pk>/return", methods=["POST"])
    @takes(required=["opinion"], opinion=f.OPINION)
    @protect()
    @safe
    def return_record(self, pk):
        """Return the record to the inspectors: {"opinion"} (or the older "comment") required."""
        return self.run_workflow(
            pk, lambda record, body: services.return_record(record, body.opinion("comment"))
        )

    @expose("/<int:pk>/evidence", methods=["POST"])
    @takes(
        required=["file"],
        multipart=True,
        file=("file", _l("The file (photo, PDF, …).")),
        note=f.NOTE,
    )
    @protect()
    @safe
    def evidence(self, pk):
        """Attach evidence: multipart/form-data with `file` and optional `note`."""
        try:
            upload = request.files.get("file")
        except RequestEntityTooLarge:
            return self.response(413, message=_("The upload is too large."))

        def operation(record, _body):
            if upload is None or not upload.filename:
                raise DomainError(_("Choose a file to upload."))
            services.add_evidence(
                record, upload.stream, upload.filename, request.form.get("note", "")
            )

        return self.run_workflow(pk, operation)

    @expose("/<int:pk>/penalty", methods=["POST"])
    @takes(
        required=[
            "decision_number",
            "decision_date",
            "content",
            "violation_facts",
            "legal_basis",
            "kinds",
        ],
        decision_number=f.DECISION_NUMBER,
        decision_date=("date", _l("The decision's date.")),
        content=("text", _l("The content of the penalty.")),
        **PENALTY_BODY,
    )
    @protect()
    @safe
    def penalty(self, pk):
        """Record a penalty: {"decision_number", "decision_date", "content", "violation_facts",
        "legal_basis", "kinds", …} (the 双公示 fields; empty ones get their defaults)."""

        def operation(record, body):
            fields = {
                name: body.get(name)
                for name in PENALTY_FIELDS
                if name not in ("decision_number", "decision_date", "content")
                and body.get(name) is not None
            }
            return services.add_penalty(
                record,
                body.get("decision_number", ""),
                _date(body.get("decision_date")),
                body.get("content", ""),
                **fields,
            )

        return self.run_workflow(pk, operation, fields=PENALTY_FIELDS)

    @expose("/<int:pk>/transfer", methods=["POST"])
    @takes(
        required=["transfer_date", "organ", "description"],
        transfer_date=("date", _l("The transfer's date.")),
        organ=("text", _l("The receiving judicial organ.")),
        description=("text", _l("The case description.")),
    )
    @protect()
    @safe
    def transfer(self, pk):
        """Record a transfer to judicial organs: {"transfer_date", "organ", "description"}."""
        return self.run_workflow(
            pk,
            lambda record, body: services.add_transfer(
                record,
                _date(body.get("transfer_date")),
                body.get("organ", ""),
                body.get("description", ""),
            ),
        )

    @expose("/<int:pk>/close_follow_up", methods=["POST"])
    @takes(note=f.NOTE)
    @protect()
    @safe
    def close_follow_up(self, pk):
        """Close a 抄告相关部门 / 其他 follow-up: {"note"}."""
        return self.run_workflow(
            pk, lambda record, body: services.close_follow_up(record, body.get("note", ""))
        )


class InspectionSummaryApi(AppModelRestApi):
    """`summary`: PUT by the task's inspectors; /<id>/submit; /<id>/approve and /<id>/return
    {"comment"} by the Leader."""

    resource_name = "summary"
    label_columns = LABELS
    datamodel = ScopedInterface(InspectionSummary)
    class_permission_name = "InspectionSummary"
    include_route_methods = {"get", "get_list", "info", "put", "submit", "approve", "return_"}
    method_permission_name = {
        **API_METHOD_PERMISSIONS,
        "submit": "write",
        "approve": "approve",
        "return_": "approve",
    }
    list_columns = ["id", "task.id", "task.number", "status", "version", "approved_on"]
    show_columns = [
        *list_columns,
        "check_period",
        "content",
        "situation",
        "opinions",
        "leader_comment",
    ]
    edit_columns = SUMMARY_FIELDS
    search_columns = ["task", "status", "version", "approved_on"]
    order_columns = ["id", "status", "version", "approved_on"]
    item_rule = services.check_summary_entry

    @expose("/<int:pk>/submit", methods=["POST"])
    @takes()
    @protect()
    @safe
    def submit(self, pk):
        """Submit the summary to the Leader (a new version)."""
        return self.run_workflow(pk, lambda summary, _b: services.submit_summary(summary))

    @expose("/<int:pk>/approve", methods=["POST"])
    @takes(opinion=f.OPINION)
    @protect()
    @safe
    def approve(self, pk):
        """Approve the submitted version: {"opinion"} (意见, or the older "comment") optional."""
        return self.run_workflow(
            pk,
            lambda summary, body: services.decide_summary(summary, True, body.opinion("comment")),
        )

    @expose("/<int:pk>/return", methods=["POST"])
    @takes(required=["opinion"], opinion=f.OPINION)
    @protect()
    @safe
    def return_(self, pk):
        """Return the submitted version: {"opinion"} (意见, or the older "comment") required."""
        return self.run_workflow(
            pk,
            lambda summary, body: services.decide_summary(summary, False, body.opinion("comment")),
        )


class RectificationApi(AppModelRestApi):
    """`rectification`: POST {"record", "department", "requirement", "deadline"} opens a case
    from a record; /<id>/reinspect {"date", "finding", "rectified"}; /<id>/close {"status":
    rectified/inadequate/refused, "note"}; /<id>/transfer {"department_id", "reason"} hands it
    over to another department (the only way to: `department` is not an edit column)."""

    resource_name = "rectification"
    label_columns = LABELS
    datamodel = ScopedInterface(RectificationCase, unscoped_relations=("department",))
    class_permission_name = "Rectification"
    include_route_methods = {
        "get",
        "get_list",
        "info",
        "post",
        "put",
        "reinspect",
        "close",
        "transfer",
    }
    method_permission_name = {
        **API_METHOD_PERMISSIONS,
        "reinspect": "write",
        "close": "write",
        "transfer": "write",
    }
    list_columns = [
        "id",
        "record.id",
        "task.id",
        "target.id",
        "target.name",
        "department.id",
        "department.name",
        "deadline",
        "status",
        "closed_on",
    ]
    show_columns = [*list_columns, "requirement", "closing_note"]
    add_columns = ["record", "department", "requirement", "deadline"]
    edit_columns = ["requirement", "deadline"]
    search_columns = ["record", "task", "target", "department", "status", "deadline", "closed_on"]
    order_columns = ["id", "deadline", "status", "closed_on"]

    def pre_add(self, item):
        with db.session.no_autoflush:  # the new case is not in the session yet
            record = item.record
            if record is None:
                raise DomainError(_("Choose the inspection record."))
            if db.session.scalar(
                select(RectificationCase.id).where(RectificationCase.record_id == record.id)
            ):
                raise DomainError(_("This record has its rectification case already."))
            item.status = "in_progress"
            services.check_case(item)

    def pre_update(self, item):
        services.check_case(item)

    def post_add(self, item):
        services.refresh_follow_up(item.record)
        db.session.commit()

    @expose("/<int:pk>/reinspect", methods=["POST"])
    @takes(
        required=["date", "finding"],
        date=("date", _l("The re-inspection's date.")),
        finding=("text", _l("What the re-inspection found.")),
        rectified=("boolean", _l("Whether the problems are rectified.")),
    )
    @protect()
    @safe
    def reinspect(self, pk):
        """Record a re-inspection."""
        return self.run_workflow(
            pk,
            lambda case, body: services.add_reinspection(
                case,
                _date(body.get("date")),
                body.get("finding", ""),
                bool(body.get("rectified")),
            ),
        )

    @expose("/<int:pk>/close", methods=["POST"])
    @takes(
        required=["status"], status=("text", _l("rectified, inadequate or refused.")), note=f.NOTE
    )
    @protect()
    @safe
    def close(self, pk):
        """Close the case."""
        return self.run_workflow(
            pk,
            lambda case, body: services.close_case(
                case, body.get("status", ""), body.get("note", "")
            ),
        )

    @expose("/<int:pk>/transfer", methods=["POST"])
    @takes(
        required=["department_id", "reason"],
        department_id=("integer", _l("The id of the department that takes the case over.")),
        reason=f.REASON,
    )
    @protect()
    @safe
    def transfer(self, pk):
        """Hand the case over to another department: {"department_id", "reason"}."""
        return self.run_workflow(
            pk,
            lambda case, body: services.transfer_case(
                case, body.integer("department_id"), body.get("reason", "")
            ),
        )


# The rows a penalty belongs to, in its list and on its page.
_PENALTY_ROWS = ["id", "record.id", "task.id", "task.number", "target.id", "target.name"]


class PenaltyApi(AppModelRestApi):
    """`penalty`: read in scope; PUT completes or corrects the 双公示 fields (the same rules as
    when the penalty was recorded: POST /api/v1/record/<id>/penalty). Never deleted."""

    resource_name = "penalty"
    label_columns = PENALTY_LABELS
    datamodel = ScopedInterface(Penalty)
    class_permission_name = "Penalty"
    include_route_methods = {"get", "get_list", "info", "put"}
    method_permission_name = API_METHOD_PERMISSIONS
    list_columns = [
        *_PENALTY_ROWS,
        "decision_number",
        "decision_date",
        "party_category",
        "kinds",
        "publicity_until",
    ]
    show_columns = [*_PENALTY_ROWS, *PENALTY_FIELDS]
    edit_columns = PENALTY_FIELDS
    search_columns = [
        "task",
        "target",
        "decision_number",
        "decision_date",
        "party_category",
        "kinds",
        "publicity_until",
    ]
    order_columns = ["id", "decision_number", "decision_date", "publicity_until"]
    item_rule = services.check_penalty_edit
