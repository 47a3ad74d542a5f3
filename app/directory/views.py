"""Pages of 一单两库: item list with revisions, inspector roster, target directory, conflicts."""

from __future__ import annotations

from flask import current_app, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.actions import action
from flask_appbuilder.api import protect, safe
from flask_appbuilder.fields import QuerySelectField
from flask_appbuilder.fieldwidgets import BS3TextAreaFieldWidget, Select2ManyWidget, Select2Widget
from flask_appbuilder.models.sqla.filters import FilterEqual
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import SelectField, SelectMultipleField, TextAreaField
from wtforms.validators import DataRequired, Optional

from app.core import api_fields as f
from app.core.confirm import confirm_message, confirmation_page
from app.core.errors import DomainError
from app.core.i18n import relation_text
from app.core.masking import mask_id_number, mask_person_name
from app.directory import services
from app.directory.filters import (
    FilterContainsTerm,
    FilterInspectedWithinMonths,
    FilterInspectorAccounts,
    FilterInspectorDrawable,
    FilterNotInspectedWithinMonths,
    FilterTargetDrawable,
)
from app.directory.labels import INSPECTOR_LABELS, LABELS
from app.directory.models import (
    CONFLICT_REASONS,
    GENDERS,
    INDUSTRIES,
    INSPECTION_METHODS,
    INSPECTOR_STATUSES,
    ITEM_CLASSES,
    ITEM_FIELDS,
    NATURAL_PERSON,
    REGISTRATION_STATUSES,
    RISK_CLASSES,
    SPECIAL_FLAGS,
    SPECIALTIES,
    TARGET_TYPES,
    Area,
    Conflict,
    InspectionItem,
    Inspector,
    ItemRevision,
    Target,
    blacklist_badge,
    join_multi,
    split_multi,
)
from app.extensions import db
from app.security.base_views import (
    API_METHOD_PERMISSIONS,
    VIEW_METHOD_PERMISSIONS,
    AppModelRestApi,
    AppModelView,
    takes,
)
from app.security.scope import (
    AppInterface,
    DepartmentScopeFilter,
    ScopedInterface,
    ensure_in_scope,
    in_scope,
    row_clause,
)

SCOPED_DEPARTMENTS = {"department": [["id", DepartmentScopeFilter, None]]}


def _select(choices, label_key, required=True):
    return SelectField(
        LABELS[label_key],
        choices=[("", "—")] + [(c, c) for c in choices]
        if not required
        else [(c, c) for c in choices],
        widget=Select2Widget(),
        validators=[DataRequired()] if required else [Optional()],
    )


class MultiChoiceField(SelectMultipleField):
    """A multi-select stored as one text column ("水资源、河湖管理"), searchable (select2)."""

    widget = Select2ManyWidget()

    def process_data(self, value):
        self.data = split_multi(value) if isinstance(value, str) else (value or [])

    def populate_obj(self, obj, name):
        setattr(obj, name, join_multi(self.data or []) or None)

    def pre_validate(self, form):
        pass  # unknown values are reported by the service rules with a clear message


def _multi(choices, label_key):
    return MultiChoiceField(
        LABELS[label_key], choices=[(c, c) for c in choices], widget=Select2ManyWidget()
    )


# --- areas -----------------------------------------------------------------------------------


class AreaView(AppModelView):
    route_base = "/areas"
    datamodel = AppInterface(Area)
    class_permission_name = "Area"
    list_title = _l("Areas (街道/镇)")
    show_title = add_title = edit_title = _l("Area")
    label_columns = LABELS
    list_columns = ["name", "kind", "sort_order", "active"]
    show_columns = add_columns = edit_columns = ["name", "kind", "sort_order", "active"]
    search_columns = ["name", "kind", "active"]
    order_columns = ["name", "kind", "sort_order", "active"]
    base_order = ("sort_order", "asc")
    add_form_extra_fields = edit_form_extra_fields = {"kind": _select(("街道", "镇"), "kind")}


# --- items -----------------------------------------------------------------------------------

ITEM_FORM_FIELDS = {
    "item_class": _select(ITEM_CLASSES, "item_class"),
    "method": _multi(INSPECTION_METHODS, "method"),
}


class InspectionItemView(AppModelView):
    route_base = "/items"
    datamodel = ScopedInterface(InspectionItem)
    class_permission_name = "InspectionItem"
    method_permission_name = {**VIEW_METHOD_PERMISSIONS, "publish": "publish"}
    list_title = _l("Inspection item list")
    show_title = _l("Inspection item")
    add_title = _l("Add inspection item (draft)")
    edit_title = _l("Edit draft item")
    label_columns = LABELS
    list_columns = [
        "code",
        "name",
        "category",
        "item_class",
        "sampling_ratio",
        "status_label",
        "version",
        "published_on",
        "department",
    ]
    show_columns = [
        *ITEM_FIELDS,
        "department",
        "status_label",
        "version",
        "published_on",
        "retired_on",
        "retire_reason",
        "revisions_html",
    ]
    add_columns = ["department", *ITEM_FIELDS]
    edit_columns = add_columns
    search_columns = ["code", "name", "category", "item_class", "status", "department", "method"]
    order_columns = ["code", "name", "published_on"]
    base_order = ("code", "asc")
    add_form_extra_fields = edit_form_extra_fields = ITEM_FORM_FIELDS
    add_form_query_rel_fields = edit_form_query_rel_fields = SCOPED_DEPARTMENTS
    item_rule = services.check_item_values
    delete_rule = services.check_item_deletable

    show_template = "directory/item_show.html"

    def pre_update(self, item):
        services.check_item_editable(item)

    def render_template(self, template, **kwargs):
        if template == self.show_template and "pk" in kwargs:
            kwargs["item"] = self.datamodel.get(kwargs["pk"])
        return super().render_template(template, **kwargs)

    @action(
        "publish",
        _l("Publish"),
        _l(
            "The selected drafts are published on the public item list now and cannot be "
            "withdrawn (a later change is a recorded revision). Publish them?"
        ),
        "fa-bullhorn",
    )
    def publish(self, items):
        items = items if isinstance(items, list) else [items]
        try:
            for item in items:
                services.publish_item(item)
        except DomainError as exc:
            db.session.rollback()
            flash(f"{item.code}：{exc}", "danger")
        else:
            db.session.commit()
            flash(_("%(n)d item(s) published.", n=len(items)), "success")
        return redirect(url_for(".list"))


class ItemRevisionView(AppModelView):
    route_base = "/item-revisions"
    datamodel = ScopedInterface(ItemRevision)
    class_permission_name = "ItemRevision"
    method_permission_name = {**VIEW_METHOD_PERMISSIONS, "publish_revision": "publish"}
    base_permissions = ["can_read", "can_publish"]
    list_title = _l("Item revisions")
    show_title = _l("Item revision")
    label_columns = LABELS
    list_columns = [
        "item",
        "version",
        "status_label",
        "reason",
        "created_by",
        "created_on",
        "published_on",
    ]
    show_columns = [
        "item",
        "version",
        "status_label",
        "reason",
        "changes_html",
        "created_by",
        "created_on",
        "published_by",
        "published_on",
        "decision_note",
    ]
    search_columns = ["item", "status", "reason"]
    order_columns = ["version", "reason", "created_on", "published_on"]
    base_order = ("created_on", "desc")

    @action(
        "publish_revision",
        _l("Publish revision"),
        _l(
            "The selected revisions replace the published items on the public list now; this "
            "cannot be undone. Publish them?"
        ),
        "fa-bullhorn",
    )
    def publish_revision(self, revisions):
        revisions = revisions if isinstance(revisions, list) else [revisions]
        try:
            for revision in revisions:
                services.publish_revision(revision)
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        else:
            db.session.commit()
            flash(_("%(n)d revision(s) published.", n=len(revisions)), "success")
        return redirect(url_for(".list"))


class ItemWorkflowView(BaseView):
    """Forms that need a reason: propose a revision, return a revision, retire an item."""

    route_base = "/item-workflow"
    class_permission_name = "InspectionItem"
    method_permission_name = {
        "revise": "write",
        "retire": "publish",
        "reject": "publish",
        "publish_revision": "publish",
    }
    default_view = "revise"

    def _item(self, pk) -> InspectionItem:
        return ensure_in_scope(db.session.get(InspectionItem, pk))

    @expose("/revise/<int:pk>", methods=["GET", "POST"])
    @has_access
    def revise(self, pk):
        item = self._item(pk)
        if request.method == "POST":
            values = {name: request.form.get(name, "") for name in ITEM_FIELDS}
            values["method"] = join_multi(request.form.getlist("method"))
            try:
                services.propose_revision(item, values, request.form.get("reason", ""))
            except DomainError as exc:
                db.session.rollback()
                flash(str(exc), "danger")
            else:
                db.session.commit()
                flash(_("The revision waits for a Leader's decision."), "success")
                return redirect(url_for("InspectionItemView.show", pk=item.id))
        return self.render_template(
            "directory/item_revise.html",
            item=item,
            values={**item.field_values(), **request.form.to_dict()},
            fields=ITEM_FIELDS,
            labels=LABELS,
            item_classes=ITEM_CLASSES,
            methods=INSPECTION_METHODS,
            chosen_methods=request.form.getlist("method") or split_multi(item.method),
        )

    @expose("/retire/<int:pk>", methods=["GET", "POST"])
    @has_access
    def retire(self, pk):
        item = self._item(pk)
        if request.method == "POST":
            try:
                services.retire_item(item, request.form.get("reason", ""))
            except DomainError as exc:
                db.session.rollback()
                flash(str(exc), "danger")
            else:
                db.session.commit()
                flash(_("The item is retired."), "success")
                return redirect(url_for("InspectionItemView.show", pk=item.id))
        return self.render_template(
            "directory/reason_form.html",
            title=_("Retire item %(code)s", code=item.code),
            prompt=_(
                "Why is the item retired? (e.g. the law changed or the power was transferred)"
            ),
            warning=confirm_message("retire_item"),
        )

    @expose("/publish-revision/<int:pk>", methods=["POST"])
    @has_access
    def publish_revision(self, pk):
        """The Leader publishes a pending revision from the item's page, with an optional 意见."""
        revision = ensure_in_scope(db.session.get(ItemRevision, pk))
        back = url_for("InspectionItemView.show", pk=revision.item_id)
        page = confirmation_page(self, "publish_revision", back)
        if page is not None:
            return page
        try:
            services.publish_revision(revision, opinion=request.form.get("opinion", ""))
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        else:
            db.session.commit()
            flash(_("%(n)d revision(s) published.", n=1), "success")
        return redirect(back)

    @expose("/reject/<int:pk>", methods=["GET", "POST"])
    @has_access
    def reject(self, pk):
        revision = ensure_in_scope(db.session.get(ItemRevision, pk))
        if request.method == "POST":
            try:
                services.reject_revision(revision, request.form.get("reason", ""))
            except DomainError as exc:
                db.session.rollback()
                flash(str(exc), "danger")
            else:
                db.session.commit()
                flash(_("The revision was returned."), "success")
                return redirect(url_for("ItemRevisionView.show", pk=revision.id))
        return self.render_template(
            "directory/reason_form.html",
            title=_(
                "Return revision v%(version)d of %(code)s",
                version=revision.version,
                code=revision.item.code,
            ),
            prompt=_("Why is the revision returned?"),
        )


class InspectionItemApi(AppModelRestApi):
    """`item` resource, with the workflow as POST endpoints (the same services as the pages):
    /<id>/publish, /<id>/revise, /<id>/retire, /<id>/revision/publish, /<id>/revision/reject."""

    resource_name = "item"
    datamodel = ScopedInterface(InspectionItem)
    class_permission_name = "InspectionItem"
    method_permission_name = {
        **API_METHOD_PERMISSIONS,
        "publish": "publish",
        "retire": "publish",
        "publish_revision": "publish",
        "reject_revision": "publish",
        "revise": "write",
    }
    list_columns = [
        "id",
        "code",
        "name",
        "category",
        "item_class",
        "method",
        "sampling_ratio",
        "frequency",
        "status",
        "version",
        "published_on",
        "department.id",
        "department.name",
    ]
    show_columns = [
        *list_columns,
        "target_type",
        "inspecting_body",
        "legal_basis",
        "remarks",
        "retired_on",
        "retire_reason",
    ]
    add_columns = ["department", *ITEM_FIELDS]
    edit_columns = list(ITEM_FIELDS)
    label_columns = LABELS
    search_columns = ["code", "name", "category", "status", "department"]
    order_columns = ["code", "name", "published_on"]
    item_rule = services.check_item_values
    delete_rule = services.check_item_deletable

    def pre_update(self, item):
        services.check_item_editable(item)

    @expose("/<int:pk>/publish", methods=["POST"])
    @takes(reason=f.NOTE)
    @protect()
    @safe
    def publish(self, pk):
        """First publication of a draft (Leader)."""
        return self.run_workflow(
            pk, lambda item, body: services.publish_item(item, body.get("reason"))
        )

    @expose("/<int:pk>/revise", methods=["POST"])
    @takes(
        required=["reason"],
        reason=(
            "text",
            _l("The reason; the other fields are the item's new values, named as in PUT."),
        ),
    )
    @protect()
    @safe
    def revise(self, pk):
        """Propose a revision: {"reason": "...", "<field>": new value, ...} (Operator)."""
        return self.run_workflow(
            pk,
            lambda item, body: services.propose_revision(
                item, {k: v for k, v in body.items() if k in ITEM_FIELDS}, body.get("reason", "")
            ),
        )

    @expose("/<int:pk>/retire", methods=["POST"])
    @takes(required=["reason"], reason=f.REASON)
    @protect()
    @safe
    def retire(self, pk):
        """Retire a published item: {"reason": "..."} (Leader)."""
        return self.run_workflow(
            pk, lambda item, body: services.retire_item(item, body.get("reason", ""))
        )

    @expose("/<int:pk>/revision/publish", methods=["POST"])
    @takes(opinion=f.OPINION)
    @protect()
    @safe
    def publish_revision(self, pk):
        """Publish the item's pending revision (Leader): {"opinion"} (意见) optional."""
        return self.run_workflow(
            pk,
            lambda item, body: services.publish_revision(_pending(item), opinion=body.opinion()),
        )

    @expose("/<int:pk>/revision/reject", methods=["POST"])
    @takes(required=["opinion"], opinion=f.OPINION)
    @protect()
    @safe
    def reject_revision(self, pk):
        """Return the item's pending revision: {"opinion": "..."} (意见, required; the older
        {"note"} is read too) (Leader)."""
        return self.run_workflow(
            pk, lambda item, body: services.reject_revision(_pending(item), body.opinion("note"))
        )


def _pending(item):
    revision = item.pending_revision
    if revision is None:
        raise DomainError(_("No revision of this item is waiting for a decision."))
    return revision


# --- inspectors ------------------------------------------------------------------------------


INSPECTOR_FORM_FIELDS = {
    "gender": _select(GENDERS, "gender", required=False),
    "status": _select(INSPECTOR_STATUSES, "status"),
    "specialties": _multi(SPECIALTIES, "specialties"),
}


class InspectorView(AppModelView):
    route_base = "/inspectors"
    datamodel = ScopedInterface(Inspector)
    class_permission_name = "Inspector"
    list_title = _l("Inspector roster")
    show_title = _l("Inspector")
    add_title = _l("Add inspector")
    edit_title = _l("Edit inspector")
    label_columns = INSPECTOR_LABELS
    list_columns = [
        "name",
        "department",
        "post",
        "certificate_no",
        "certificate_expiry",
        "status",
        "specialties",
        "phone_masked",
        "drawable_html",
    ]
    show_columns = [
        "name",
        "gender",
        "department",
        "post",
        "certificate_no",
        "certificate_expiry",
        "status",
        "specialties",
        "phone_masked",
        "id_number_masked",
        "user",
        "drawable_html",
        "history_html",
    ]
    add_columns = [
        "name",
        "gender",
        "department",
        "post",
        "certificate_no",
        "certificate_expiry",
        "status",
        "specialties",
        "phone",
        "id_number",
        "user",
    ]
    edit_columns = add_columns
    search_columns = [
        "name",
        "department",
        "post",
        "certificate_no",
        "certificate_expiry",
        "status",
        "specialties",
    ]
    extra_search_filters = {
        "status": [FilterInspectorDrawable],
        "specialties": [FilterContainsTerm],
    }
    order_columns = ["name", "certificate_expiry", "status"]
    base_order = ("name", "asc")
    add_form_extra_fields = edit_form_extra_fields = INSPECTOR_FORM_FIELDS
    add_form_query_rel_fields = edit_form_query_rel_fields = {
        **SCOPED_DEPARTMENTS,
        "user": [["id", FilterInspectorAccounts, None]],
    }
    item_rule = services.check_inspector
    delete_rule = services.check_inspector_deletable


class InspectorApi(AppModelRestApi):
    resource_name = "inspector"
    datamodel = ScopedInterface(Inspector)
    class_permission_name = "Inspector"
    list_columns = [
        "id",
        "name",
        "gender",
        "department.id",
        "department.name",
        "post",
        "certificate_no",
        "certificate_expiry",
        "status",
        "specialties",
        "phone_masked",
        "drawable",
    ]
    show_columns = [*list_columns, "id_number_masked", "user.username"]
    add_columns = [
        "name",
        "gender",
        "department",
        "post",
        "certificate_no",
        "certificate_expiry",
        "status",
        "specialties",
        "phone",
        "id_number",
    ]
    edit_columns = add_columns
    label_columns = LABELS
    search_columns = ["name", "department", "certificate_no", "status", "specialties"]
    order_columns = ["name", "certificate_expiry"]
    item_rule = services.check_inspector
    delete_rule = services.check_inspector_deletable


# --- targets ---------------------------------------------------------------------------------

# The columns a target is entered with, on the page and in the REST API alike.
TARGET_FORM_COLUMNS = [
    "target_type",
    "name",
    "uscc",
    "id_number",
    "legal_representative",
    "contact_person",
    "contact_phone",
    "address",
    "area",
    "industry",
    "registration_status",
    "risk_class",
    "flags",
    "items",
    "last_inspected_on",
    "department",
    "remarks",
]

TARGET_FORM_FIELDS = {
    "target_type": _select(TARGET_TYPES, "target_type"),
    "industry": _select(INDUSTRIES, "industry", required=False),
    "registration_status": _select(REGISTRATION_STATUSES, "registration_status"),
    "risk_class": _select(RISK_CLASSES, "risk_class"),
    "flags": _multi(SPECIAL_FLAGS, "flags"),
}


class TargetView(AppModelView):
    route_base = "/targets"
    datamodel = ScopedInterface(Target)
    class_permission_name = "Target"
    list_title = _l("Target directory")
    show_title = _l("Target")
    add_title = _l("Add target")
    edit_title = _l("Edit target")
    label_columns = {**LABELS, "target_type": _l("Type")}
    list_columns = [
        "name",
        "target_type",
        "identifier_display",
        "area",
        "industry",
        "risk_class",
        "flags",
        "listed_on",
        "registration_status",
        "last_inspected_on",
        "department",
    ]
    show_columns = [
        "name",
        "target_type",
        "identifier_display",
        "legal_representative",
        "contact_person",
        "contact_phone_masked",
        "address",
        "area",
        "industry",
        "registration_status",
        "risk_class",
        "flags",
        "listed_on",
        "credit_record_html",
        "items",
        "last_inspected_on",
        "department",
        "remarks",
        "drawable_html",
        "history_html",
    ]
    add_columns = TARGET_FORM_COLUMNS
    edit_columns = add_columns
    search_columns = [
        "name",
        "target_type",
        "uscc",
        "area",
        "industry",
        "risk_class",
        "flags",
        "items",
        "registration_status",
        "last_inspected_on",
        "department",
    ]
    extra_search_filters = {
        "last_inspected_on": [FilterInspectedWithinMonths, FilterNotInspectedWithinMonths],
        "registration_status": [FilterTargetDrawable],
        "flags": [FilterContainsTerm],
    }
    order_columns = ["name", "risk_class", "last_inspected_on"]
    base_order = ("name", "asc")
    add_form_extra_fields = edit_form_extra_fields = TARGET_FORM_FIELDS
    add_form_query_rel_fields = edit_form_query_rel_fields = {
        **SCOPED_DEPARTMENTS,
        "items": [["status", FilterEqual, "published"]],
    }
    item_rule = services.check_target
    delete_rule = services.check_target_deletable
    formatters_columns = {"items": relation_text, "listed_on": blacklist_badge}


class TargetApi(AppModelRestApi):
    resource_name = "target"
    datamodel = ScopedInterface(Target)
    class_permission_name = "Target"
    list_columns = [
        "id",
        "name",
        "target_type",
        "uscc",
        "area.name",
        "industry",
        "risk_class",
        "flags",
        "registration_status",
        "last_inspected_on",
        "department.id",
        "department.name",
    ]
    show_columns = [
        *list_columns,
        "legal_representative",
        "contact_person",
        "contact_phone_masked",
        "address",
        "remarks",
        "identifier_display",
    ]
    add_columns = TARGET_FORM_COLUMNS
    edit_columns = add_columns
    label_columns = LABELS
    search_columns = [
        "name",
        "target_type",
        "uscc",
        "area",
        "industry",
        "risk_class",
        "registration_status",
        "department",
    ]
    order_columns = ["name", "risk_class", "last_inspected_on"]
    item_rule = services.check_target
    delete_rule = services.check_target_deletable


# --- conflicts -------------------------------------------------------------------------------


def _reads_directory() -> bool:
    return current_app.appbuilder.sm.has_access("can_read", "Target")


def conflict_targets():
    """The targets a conflict may name. Whoever keeps the directory (Operators, Leaders) may
    name any target of the directory: an interest is declared whoever is in charge of the
    target (joint tasks draw inspectors across departments). An Inspector, who does not read
    the directory, chooses among the targets of their own departments only."""
    query = db.session.query(Target).order_by(Target.name, Target.id)
    if not _reads_directory():
        clause = row_clause(Target)
        if clause is not None:
            query = query.filter(clause)
    return query


def conflict_target_label(target) -> str:
    """A target as a conflict form offers it: a natural person's name and ID number masked
    (as in lists) unless the user reads that target's own page, where they are shown."""
    if target.target_type != NATURAL_PERSON or (_reads_directory() and in_scope(target)):
        return str(target)
    masked = mask_id_number(target.id_number)
    name = mask_person_name(target.name)
    return f"{name}（{masked}）" if masked else name


CONFLICT_TARGET_FIELD = QuerySelectField(
    LABELS["target"],
    query_func=conflict_targets,
    get_pk_func=lambda target: target.id,
    get_label=conflict_target_label,
    allow_blank=False,
    validators=[DataRequired()],
    widget=Select2Widget(),
)


class ConflictView(AppModelView):
    route_base = "/conflicts"
    datamodel = ScopedInterface(Conflict, unscoped_relations=("target",))
    class_permission_name = "Conflict"
    list_title = _l("Conflicts of interest (回避)")
    show_title = _l("Conflict of interest")
    add_title = _l("Declare a conflict of interest")
    edit_title = _l("Edit conflict of interest")
    label_columns = LABELS
    list_columns = ["inspector", "target", "reason", "valid_from", "valid_until"]
    show_columns = [
        "inspector",
        "target",
        "reason",
        "detail",
        "valid_from",
        "valid_until",
        "created_by",
        "created_on",
    ]
    add_columns = ["inspector", "target", "reason", "detail", "valid_from", "valid_until"]
    edit_columns = add_columns
    search_columns = ["inspector", "target", "reason", "valid_from", "valid_until"]
    order_columns = ["reason", "valid_from", "valid_until"]
    base_order = ("valid_from", "desc")
    add_form_extra_fields = edit_form_extra_fields = {
        "target": CONFLICT_TARGET_FIELD,
        "reason": _select(CONFLICT_REASONS, "reason"),
        "detail": TextAreaField(LABELS["detail"], widget=BS3TextAreaFieldWidget()),
    }
    add_form_query_rel_fields = edit_form_query_rel_fields = {
        "inspector": [["id", DepartmentScopeFilter, None]],
    }
    item_rule = services.check_conflict


class ConflictApi(AppModelRestApi):
    resource_name = "conflict"
    datamodel = ScopedInterface(Conflict)
    class_permission_name = "Conflict"
    list_columns = [
        "id",
        "inspector.id",
        "inspector.name",
        "target.id",
        "target.name",
        "reason",
        "valid_from",
        "valid_until",
    ]
    show_columns = [*list_columns, "detail"]
    add_columns = ["inspector", "target", "reason", "detail", "valid_from", "valid_until"]
    edit_columns = add_columns
    label_columns = LABELS
    search_columns = ["inspector", "target", "reason"]
    order_columns = ["id", "reason", "valid_from", "valid_until"]
    related_labels = {"target": conflict_target_label}
    item_rule = services.check_conflict
