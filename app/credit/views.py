"""Pages of the blacklist and the credit record. Thin: every rule is in app/credit/services.py."""

from __future__ import annotations

import datetime as dt

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.fieldwidgets import BS3TextAreaFieldWidget
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import SelectField, TextAreaField

from app.core.errors import DomainError
from app.credit import services
from app.credit.models import BASES, MAX_PERIOD_MONTHS, REMOVAL_KINDS, BlacklistEntry
from app.directory.models import Target
from app.extensions import db
from app.inspections.models import BLACKLIST_GROUNDS, InspectionRecord, Penalty, RectificationCase
from app.security.base_views import VIEW_METHOD_PERMISSIONS, AppModelView, WorkflowView
from app.security.scope import ScopedInterface, ensure_in_scope

LABELS = {
    "target": _l("Target"),
    "target_html": _l("Target"),
    "department": _l("Listing department"),
    "basis": _l("Basis"),
    "basis_label": _l("Basis"),
    "reasons": _l("Reasons"),
    "status_label": _l("Status"),
    "origin_label": _l("Proposed by way of"),
    "case": _l("Rectification case cited"),
    "penalty": _l("Penalty cited"),
    "records": _l("Inspection records cited"),
    "evidence_text": _l("Evidence"),
    "proposed_on": _l("Proposed on"),
    "proposed_by": _l("Proposed by"),
    "reviewed_by": _l("Reviewed by"),
    "review_comment": _l("Review comment"),
    "decided_by": _l("Decided by"),
    "decision_number": _l("Decision number (文号)"),
    "rejection_reason": _l("Reasons for not listing"),
    "listed_on": _l("Listed on"),
    "period_months": _l("Listing period (months)"),
    "expires_on": _l("Listing period ends"),
    "published_on": _l("Published on"),
    "removal_kind_label": _l("Removal"),
    "removal_reason": _l("Reasons for removal"),
    "removal_decision_number": _l("Removal decision number"),
    "removal_refusal": _l("Reasons the removal was refused"),
    "removed_on": _l("Removed on"),
}


class FilterValueIn(BaseFilter):
    """A dropdown's rows restricted to column values (query_rel_fields)."""

    name = "In"
    arg_name = "vin"

    def apply(self, query, value):
        return query.filter(getattr(self.model, self.column_name).in_(value))


class BlacklistView(AppModelView):
    """Blacklist entries in scope. A draft is added from its evidence (a case closed as
    拒不整改 / 整改不到位, or a penalty); the target is the evidence's. Nothing is ever deleted."""

    route_base = "/blacklist"
    datamodel = ScopedInterface(BlacklistEntry)
    class_permission_name = "Blacklist"
    exclude_route_methods = {"delete", "download"}
    list_title = _l("Dishonesty blacklist")
    show_title = _l("Blacklist entry")
    add_title = _l("Propose a blacklist listing")
    edit_title = _l("Edit the blacklist proposal")
    label_columns = LABELS
    list_columns = [
        "target_html",
        "basis_label",
        "status_label",
        "department",
        "listed_on",
        "expires_on",
        "published_on",
        "removed_on",
    ]
    show_columns = [
        "target_html",
        "department",
        "basis_label",
        "status_label",
        "origin_label",
        "reasons",
        "evidence_text",
        "proposed_on",
        "proposed_by",
        "reviewed_by",
        "review_comment",
        "decided_by",
        "decision_number",
        "rejection_reason",
        "listed_on",
        "period_months",
        "expires_on",
        "published_on",
        "removal_kind_label",
        "removal_reason",
        "removal_decision_number",
        "removal_refusal",
        "removed_on",
    ]
    add_columns = ["case", "penalty", "basis", "department", "reasons"]
    edit_columns = add_columns
    search_columns = ["status", "basis", "department", "listed_on", "expires_on", "published_on"]
    order_columns = ["listed_on", "expires_on", "published_on", "removed_on"]
    base_order = ("id", "desc")
    add_form_extra_fields = edit_form_extra_fields = {
        "basis": SelectField(LABELS["basis"], choices=list(BASES.items())),
        "reasons": TextAreaField(LABELS["reasons"], widget=BS3TextAreaFieldWidget()),
    }
    add_form_query_rel_fields = edit_form_query_rel_fields = {
        "case": [["status", FilterValueIn, BLACKLIST_GROUNDS]],
    }
    description_columns = {
        "case": _l("For 拒不整改 / 整改不到位: the case closed with that outcome."),
        "penalty": _l("For 受到行政处罚: the penalty decision."),
        "reasons": _l("Required before the proposal is submitted."),
    }
    show_template = "credit/entry_show.html"
    item_rule = services.check_entry

    def pre_add(self, item):
        super().pre_add(item)
        services.note_created(item)

    def render_template(self, template, **kwargs):
        if template == self.show_template and "pk" in kwargs:
            entry = self.datamodel.get(kwargs["pk"])
            if entry is not None:
                kwargs.update(
                    entry=entry,
                    removal_kinds=REMOVAL_KINDS,
                    max_period=MAX_PERIOD_MONTHS,
                    today=dt.date.today(),
                )
        return super().render_template(template, **kwargs)


class BlacklistWorkflowView(WorkflowView):
    """The steps of an entry; a refused rule writes nothing and says why."""

    route_base = "/blacklist-workflow"
    back_endpoint = "BlacklistView.show"
    class_permission_name = "Blacklist"
    method_permission_name = {
        **VIEW_METHOD_PERMISSIONS,
        "open": "write",
        "propose": "propose",
        "dismiss": "review",
        "review": "review",
        "approve": "approve",
        "reject": "approve",
        "publish": "publish",
        "remove": "remove",
    }
    default_view = "propose"

    def _entry(self, pk) -> BlacklistEntry:
        return ensure_in_scope(db.session.get(BlacklistEntry, pk))

    @expose("/open/<kind>/<int:pk>", methods=["POST"])
    @has_access
    def open(self, kind, pk):
        """A proposal started from a case, a penalty or an inspection record."""
        model = {"case": RectificationCase, "penalty": Penalty, "record": InspectionRecord}.get(
            kind
        )
        if model is None:
            abort(404)
        source = ensure_in_scope(db.session.get(model, pk))
        try:
            entry = services.open_from(kind, source)
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
            return redirect(request.referrer or url_for("BlacklistView.list"))
        return redirect(url_for("BlacklistView.show", pk=entry.id))

    @expose("/<int:pk>/propose", methods=["POST"])
    @has_access
    def propose(self, pk):
        entry = self._entry(pk)
        return self._run(
            entry, lambda: services.propose(entry), _("The proposal is submitted for review.")
        )

    @expose("/<int:pk>/dismiss", methods=["POST"])
    @has_access
    def dismiss(self, pk):
        entry = self._entry(pk)
        return self._run_confirmed(
            entry,
            "blacklist_dismiss",
            lambda: services.dismiss(entry, request.form.get("reason", "")),
            _("The suggestion is set aside."),
        )

    @expose("/<int:pk>/review", methods=["POST"])
    @has_access
    def review(self, pk):
        entry = self._entry(pk)
        passed = request.form.get("decision") == "pass"
        return self._run(
            entry,
            lambda: services.review(entry, passed, request.form.get("comment", "")),
            _("The review is recorded."),
        )

    @expose("/<int:pk>/approve", methods=["POST"])
    @has_access
    def approve(self, pk):
        entry = self._entry(pk)
        form = request.form
        return self._run_confirmed(
            entry,
            "blacklist_decision",
            lambda: services.approve(
                entry,
                form.get("decision_number", ""),
                form.get("period_months"),
                _parse_date(form.get("decided_on")),
                opinion=form.get("opinion", ""),
            ),
            _("The decision is recorded."),
        )

    @expose("/<int:pk>/reject", methods=["POST"])
    @has_access
    def reject(self, pk):
        entry = self._entry(pk)
        return self._run_confirmed(
            entry,
            "blacklist_refuse",
            lambda: services.reject(entry, request.form.get("reason", "")),
            _("The refusal is recorded."),
        )

    @expose("/<int:pk>/publish", methods=["POST"])
    @has_access
    def publish(self, pk):
        entry = self._entry(pk)
        return self._run_confirmed(
            entry,
            "blacklist_publish",
            lambda: services.publish(entry),
            _("The listing is published on the public blacklist."),
        )

    @expose("/<int:pk>/remove", methods=["POST"])
    @has_access
    def remove(self, pk):
        entry = self._entry(pk)
        return self._run(
            entry,
            lambda: services.propose_removal(
                entry, request.form.get("kind", ""), request.form.get("reason", "")
            ),
            _("The removal is proposed to the Leader."),
        )


def _parse_date(value) -> dt.date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise DomainError(_("Dates are written YYYY-MM-DD.")) from None


class CreditRecordView(BaseView):
    """信用记录: a target's inspection results, rectification, penalties, listings and removals
    in time order, for the staff whose scope holds the target."""

    route_base = "/credit"
    class_permission_name = "CreditRecord"
    method_permission_name = {"target": "read"}
    default_view = "target"

    @expose("/target/<int:pk>")
    @has_access
    def target(self, pk):
        target = ensure_in_scope(db.session.get(Target, pk))
        entries = db.session.scalars(
            db.select(BlacklistEntry)
            .where(BlacklistEntry.target_id == target.id)
            .order_by(BlacklistEntry.id.desc())
        ).all()
        events = services.credit_events(target)
        from app.draws.confidential import log_rows_viewed

        records = [e["link"][1] for e in events if e["link"] and e["link"][0] == "record"]
        log_rows_viewed(InspectionRecord, records, "credit record")
        log_rows_viewed(BlacklistEntry, [e.id for e in entries], "credit record")
        return self.render_template(
            "credit/credit_record.html",
            target=target,
            events=events,
            entries=entries,
        )
