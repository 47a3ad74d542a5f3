"""REST resource `blacklist` (DESIGN.md): entries in scope; POST a draft citing its evidence;
workflow endpoints POST /<id>/propose, /review, /approve, /reject, /remove, /publish, /dismiss.
Each transition is allowed to its role only (method permissions) and to the listing department's
people (services), and is audited."""

from __future__ import annotations

import datetime as dt

from flask_appbuilder import expose
from flask_appbuilder.api import protect, safe
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.core import api_fields as f
from app.core.errors import DomainError
from app.credit import services
from app.credit.models import BlacklistEntry
from app.credit.views import LABELS
from app.security.base_views import API_METHOD_PERMISSIONS, AppModelRestApi, takes
from app.security.scope import ScopedInterface


def _date(value):
    if value in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise DomainError(_("Dates are written YYYY-MM-DD.")) from None


class BlacklistApi(AppModelRestApi):
    """`blacklist`: POST {"case" | "penalty", "records", "basis", "department", "reasons"}
    adds a draft; /<id>/propose; /<id>/review {"passed": true|false, "comment"};
    /<id>/approve {"decision_number", "period_months", "decided_on"} lists (or, on a removal
    proposal, removes); /<id>/reject {"reason"}; /<id>/remove {"kind": repair|expired,
    "reason"}; /<id>/publish; /<id>/dismiss {"reason"}."""

    resource_name = "blacklist"
    label_columns = LABELS
    datamodel = ScopedInterface(BlacklistEntry)
    class_permission_name = "Blacklist"
    include_route_methods = {
        "get",
        "get_list",
        "info",
        "post",
        "put",
        "propose",
        "review",
        "approve",
        "reject",
        "remove",
        "publish",
        "dismiss",
    }
    method_permission_name = {
        **API_METHOD_PERMISSIONS,
        "propose": "propose",
        "review": "review",
        "dismiss": "review",
        "approve": "approve",
        "reject": "approve",
        "publish": "publish",
        "remove": "remove",
    }
    list_columns = [
        "id",
        "target.id",
        "target.name",
        "department.id",
        "department.name",
        "basis",
        "status",
        "listed_on",
        "expires_on",
        "published_on",
        "removed_on",
    ]
    show_columns = [
        *list_columns,
        "origin",
        "reasons",
        "case.id",
        "penalty.id",
        "records.id",
        "proposed_on",
        "review_comment",
        "decision_number",
        "period_months",
        "rejection_reason",
        "removal_kind",
        "removal_reason",
        "removal_decision_number",
        "removal_refusal",
    ]
    add_columns = ["case", "penalty", "records", "basis", "department", "reasons"]
    edit_columns = add_columns
    search_columns = ["status", "basis", "department", "target", "listed_on"]
    order_columns = ["id", "listed_on", "expires_on", "published_on"]
    item_rule = services.check_entry

    def pre_add(self, item):
        super().pre_add(item)
        services.note_created(item)

    @expose("/<int:pk>/propose", methods=["POST"])
    @takes()
    @protect()
    @safe
    def propose(self, pk):
        """Submit a draft or a suggestion for the department's review."""
        return self.run_workflow(pk, lambda entry, _b: services.propose(entry))

    @expose("/<int:pk>/review", methods=["POST"])
    @takes(
        required=["passed"],
        passed=("boolean", _l("true passes the proposal on, false returns it.")),
        comment=f.COMMENT,
    )
    @protect()
    @safe
    def review(self, pk):
        """The department's review: {"passed": true} passes it on, false returns it with
        {"comment"}."""
        return self.run_workflow(
            pk,
            lambda entry, body: services.review(
                entry, body.get("passed") is True, body.get("comment", "")
            ),
        )

    @expose("/<int:pk>/approve", methods=["POST"])
    @takes(
        decision_number=f.DECISION_NUMBER,
        period_months=("integer", _l("The listing period in months.")),
        decided_on=("date", _l("The decision's date.")),
        opinion=f.OPINION,
    )
    @protect()
    @safe
    def approve(self, pk):
        """The Leader's decision to list, or to remove on a removal proposal:
        {"decision_number", "period_months", "decided_on", "opinion" (意见, optional)}."""
        return self.run_workflow(
            pk,
            lambda entry, body: services.approve(
                entry,
                body.get("decision_number", ""),
                body.get("period_months"),
                _date(body.get("decided_on")),
                opinion=body.opinion(),
            ),
        )

    @expose("/<int:pk>/reject", methods=["POST"])
    @takes(required=["opinion"], opinion=f.OPINION)
    @protect()
    @safe
    def reject(self, pk):
        """The Leader refuses the listing or the removal: {"opinion"} (意见, required; the
        older {"reason"} is read too)."""
        return self.run_workflow(
            pk, lambda entry, body: services.reject(entry, body.opinion("reason"))
        )

    @expose("/<int:pk>/remove", methods=["POST"])
    @takes(
        required=["kind", "reason"],
        kind=("text", _l("repair (信用修复) or expired (期满移出).")),
        reason=f.REASON,
    )
    @protect()
    @safe
    def remove(self, pk):
        """Propose the removal: {"kind": "repair" (信用修复) | "expired" (期满移出), "reason"}."""
        return self.run_workflow(
            pk,
            lambda entry, body: services.propose_removal(
                entry, body.get("kind", ""), body.get("reason", "")
            ),
        )

    @expose("/<int:pk>/publish", methods=["POST"])
    @takes()
    @protect()
    @safe
    def publish(self, pk):
        """Publish the listing on /public/blacklist."""
        return self.run_workflow(pk, lambda entry, _b: services.publish(entry))

    @expose("/<int:pk>/dismiss", methods=["POST"])
    @takes(required=["reason"], reason=f.REASON)
    @protect()
    @safe
    def dismiss(self, pk):
        """Set a suggestion or draft aside: {"reason"}."""
        return self.run_workflow(
            pk, lambda entry, body: services.dismiss(entry, body.get("reason", ""))
        )
