"""Base classes for every ModelView and ModelRestApi of the application.

Department-scoped ones set `datamodel = ScopedInterface(Model)`, which applies the scope to every
row FAB loads (see scope.py). These classes close the paths where FAB would still answer with
something other than a clean 404 for a row the user may not see.
"""

import logging

from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, ModelRestApi, ModelView, expose
from flask_appbuilder.api import BaseApi
from flask_appbuilder.exceptions import (
    DatabaseException,
    FABException,
    InvalidColumnFilterFABException,
    InvalidOperationFilterFABException,
    InvalidOrderByColumnFABException,
)
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.security.decorators import has_access
from flask_appbuilder.urltools import (
    get_filter_args,
    get_order_args,
    get_page_args,
    get_page_size_args,
)
from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, SQLAlchemyError
from wtforms import BooleanField

from app.core.api_messages import translate
from app.core.audit.wording import COMMON_FIELD_LABELS
from app.core.errors import DomainError, database_unavailable
from app.core.i18n import dash_if_empty, minute_text, relation_text, yes_no
from app.core.models import MAX_ROW_ID, is_row_id
from app.core.request_checks import MAX_PAGE, json_strings
from app.core.text import (
    CONTROL_CHARACTERS,
    has_control_characters,
    without_control_characters,
)
from app.extensions import db

log = logging.getLogger(__name__)

DOES_NOT_FIT = _l("A value does not fit its field: too long, or a number out of range.")
REFUSED_BY_CONSTRAINT = _l(
    "Not saved: it would repeat a record that must be unique, or it refers to a record that no "
    "longer exists."
)

# An @action's permission is its bare name unless mapped here: views with actions extend this
# map ({**VIEW_METHOD_PERMISSIONS, "approve": "approve"}) so that roles name them as can_<x>.
VIEW_METHOD_PERMISSIONS = {
    "list": "read",
    "show": "read",
    "download": "read",
    "add": "write",
    "edit": "write",
    "delete": "write",
}
API_METHOD_PERMISSIONS = {
    "get": "read",
    "get_list": "read",
    "info": "read",
    "post": "write",
    "put": "write",
    "delete": "write",
}


class ServiceRules:
    """A resource's view and API apply the same rules, functions of its services module:
    `item_rule(item)` before add and edit, `delete_rule(item)` before delete; each raises
    DomainError with a message for the user. The view flashes it, the API answers 422."""

    item_rule = None
    delete_rule = None

    def pre_add(self, item):
        self._apply_rule("item_rule", item)

    def pre_update(self, item):
        self._apply_rule("item_rule", item)

    def pre_delete(self, item):
        self._apply_rule("delete_rule", item)

    def _apply_rule(self, name, item):
        rule = getattr(type(self), name)  # through the class: a plain function, not a method
        if rule is not None:
            rule(item)


class DeclaredColumns:
    """Search (filter) and sort columns: what the class declares, never FAB's default of every
    column of the model. A filter or a sort on a column the user is not shown is an oracle on
    it (a prefix filter on a draw's secret answers count 1 or 0): every view and API declares
    `search_columns` and `order_columns` from what it shows, `[]` for none, or fails to start."""

    def _require_declared_columns(self):
        for attr in ("search_columns", "order_columns"):
            if getattr(type(self), attr, None) is None:
                raise TypeError(
                    f"{type(self).__name__} must declare {attr} (from the columns it shows; "
                    "[] for none)"
                )

    def _init_properties(self):
        self._require_declared_columns()
        search = list(type(self).search_columns)
        order = list(type(self).order_columns)
        super()._init_properties()
        # FAB reads an empty declaration as "every column": put the declaration back.
        self.search_columns = search
        self.order_columns = order
        search_filters = getattr(self, "search_filters", None)
        if search_filters is not None:
            self._filters = self.datamodel.get_filters(
                search_columns=search, search_filters=search_filters
            )
        else:
            self._filters = self.datamodel.get_filters(search)


class ShownInRows(BaseFilter):
    """Rows of a related model that some row of `parent` the user may see points at (through
    `foreign_key`): what a list's search select offers. A JointOffice list of published records
    offers the tasks and targets of those records, not every task's name and every target."""

    name = "shown in the list"
    arg_name = "shown_in"
    parent = None
    foreign_key = None

    def apply(self, query, value):
        from app.security.scope import row_clause

        inner = select(self.foreign_key)
        clause = row_clause(self.parent)
        if clause is not None:
            inner = inner.where(clause)
        pk = getattr(self.model, self.datamodel.get_pk_name())
        return query.filter(pk.in_(inner))


def shown_in_rows(parent, foreign_key):
    return type("ShownInRows", (ShownInRows,), {"parent": parent, "foreign_key": foreign_key})


class GuardedActions(DeclaredColumns):
    """Actions, downloads and list sorting of a ModelView, closed where FAB leaves them open:
    FAB's action endpoints load rows without the view's filters and answer 500 to an unknown
    action name; its `download/<filename>` serves any file of UPLOAD_FOLDER by name; it sorts
    by whatever column name the URL gives (`_oc_<View>=…`), a 500 for one it does not know."""

    def _get_list_widget(self, filters, order_column="", order_direction="", **kwargs):
        if order_column and order_column not in self.order_columns:
            order_column, order_direction = "", ""
        return super()._get_list_widget(
            filters, order_column=order_column, order_direction=order_direction, **kwargs
        )

    def _load_scoped(self, pk):
        item = self.datamodel.get(self._deserialize_pk_if_composite(pk), self._base_filters)
        if item is None:
            abort(404)
        return item

    # Actions that can be undone and need no confirmation; every other action (a draw, a
    # publication, a Leader's approval) is irreversible and runs only with confirm=1, which
    # FAB's confirmation dialog sends (static/js/confirm_step.js); without it the answer is
    # app/core/confirm.py's confirmation page and nothing is done.
    reversible_actions: frozenset[str] = frozenset()

    def _asks_first(self, name):
        from app.core.confirm import asking_page, confirmed

        if name in self.reversible_actions or (request.method == "POST" and confirmed()):
            return None
        permission = self.get_action_permission_name(name)
        if not self.appbuilder.sm.has_access(permission, self.class_permission_name):
            return None  # FAB answers the missing permission as before
        message = str(self.actions[name].confirmation or "") or str(self.actions[name].text)
        return asking_page(self, message, url_for(".list"))

    @expose("/action/<string:name>/<pk>", methods=["GET", "POST"])
    def action(self, name, pk):
        # FAB's version loads the row without base filters and crashes on an unknown action.
        if name not in self.actions:
            abort(404)
        self._load_scoped(pk)
        return self._asks_first(name) or super().action(name, pk)

    @expose("/action_post", methods=["POST"])
    def action_post(self):
        name = request.form.get("action", "")
        if name not in self.actions:
            abort(404)
        pks = request.form.getlist("rowid")
        if not pks:
            abort(400)
        for pk in pks:
            self._load_scoped(pk)
        return self._asks_first(name) or super().action_post()

    @expose("/download/<string:filename>")
    @has_access
    def download(self, filename):
        # FAB serves any file of UPLOAD_FOLDER by name to whoever may download from any view;
        # evidence files are served by their own scoped endpoints instead.
        abort(404)


class KeepsFormOnRefusal:
    """Add and edit as FAB's ModelView does them, except that a save refused by a rule or by
    the database shows the form again with what the user typed and the reason (FAB redirects
    to an empty form), and that a database refusal is explained in Chinese, not as raw SQL."""

    def _add(self):
        if request.method != "POST":
            return super()._add()
        get_filter_args(self._filters, disallow_if_not_in_search=False)
        exclude_cols = self._filters.get_relation_cols()
        form = self.add_form.refresh()
        self._fill_form_exclude_cols(exclude_cols, form)
        # Control characters first: a uniqueness check would send them to the database.
        if not _control_characters_refused(form) and form.validate():
            self.process_form(form, True)
            item = self.datamodel.obj()
            if self._save(
                form,
                item,
                self.pre_add,
                self.datamodel.add,
                self.post_add,
                self.add_row_message,
            ):
                return None
        return self._get_add_widget(form=form, exclude_cols=exclude_cols)

    def _edit(self, pk):
        if request.method != "POST":
            return super()._edit(pk)
        pages, page_sizes, orders = get_page_args(), get_page_size_args(), get_order_args()
        get_filter_args(self._filters, disallow_if_not_in_search=False)
        exclude_cols = self._filters.get_relation_cols()
        item = self.datamodel.get(pk, self._base_filters)
        if not item:
            abort(404)
        pk = self.datamodel.get_pk_value(item)
        form = self.edit_form.refresh(request.form)
        self._fill_form_exclude_cols(exclude_cols, form)
        form._id = pk  # FAB's unique validators skip the row itself
        if not _control_characters_refused(form) and form.validate():
            self.process_form(form, False)
            if self._save(
                form,
                item,
                self.pre_update,
                self.datamodel.edit,
                self.post_update,
                self.edit_row_message,
            ):
                return None
        widgets = self._get_edit_widget(form=form, exclude_cols=exclude_cols)
        return self._get_related_views_widgets(
            item, filters={}, orders=orders, pages=pages, page_sizes=page_sizes, widgets=widgets
        )

    def _save(self, form, item, rule, write, after, saved_message) -> bool:
        """Fill `item` from the form, apply the rule, write; True when saved. A refusal is
        flashed and rolled back (nothing of it is written); a lost database is left to the
        503 handler."""
        try:
            form.populate_obj(item)
            rule(item)
            write(item)
        except Exception as exc:
            db.session.rollback()
            flash(_refusal_message(exc), "danger")
            return False
        after(item)
        flash(saved_message, "success")
        g.saved_row_pk = self.datamodel.get_pk_value(item)
        return True


class LandsOnSavedRow:
    """After a save the user is on the row they saved: its detail page (or its form where the
    view has none). FAB goes back one step in the session's page history instead, which after
    two forms opened one after the other is the other row's form: the next inspection was
    typed into another company's record. `saved_row_url` is the one place a view changes it."""

    def post_add_redirect(self):
        return redirect(self._saved_row_target())

    def post_edit_redirect(self):
        return redirect(self._saved_row_target())

    def _saved_row_target(self) -> str:
        pk = g.pop("saved_row_pk", None)
        if pk is None:
            pk = (request.view_args or {}).get("pk")
        if pk is None:
            return url_for(f"{self.endpoint}.list")
        return self.saved_row_url(pk)

    def saved_row_url(self, pk) -> str:
        for route in ("show", "edit"):
            if route in self._exposed_routes() and self._may_open(route):
                return url_for(f"{self.endpoint}.{route}", pk=pk)
        return url_for(f"{self.endpoint}.list")

    def _exposed_routes(self) -> set[str]:
        routes = {"show", "edit", "list"}
        if self.include_route_methods is not None:
            routes &= set(self.include_route_methods)
        return routes - set(self.exclude_route_methods or ())

    def _may_open(self, route: str) -> bool:
        permission = (self.method_permission_name or {}).get(route, route)
        return self.appbuilder.sm.has_access(f"can_{permission}", self.class_permission_name)


def _control_characters_refused(form) -> bool:
    """Marks every text field holding a control character; True when there was one."""
    refused = False
    for field in form:
        values = field.data if isinstance(field.data, list) else [field.data]
        if any(has_control_characters(v) for v in values):
            field.errors = [*field.errors, str(CONTROL_CHARACTERS)]
            refused = True
    return refused


def _refusal_message(exc: Exception) -> str:
    """What the user is told when a form's save is refused; a lost database connection (or a
    bug) is raised on, to the 503 (or 500) page."""
    cause = exc.__cause__ if isinstance(exc, DatabaseException) and exc.__cause__ else exc
    if isinstance(cause, DomainError):
        return str(cause)
    if isinstance(cause, IntegrityError):
        return str(REFUSED_BY_CONSTRAINT)
    if isinstance(cause, (DataError, OverflowError)):
        return str(DOES_NOT_FIT)
    if isinstance(cause, (DBAPIError, SQLAlchemyError)) or not isinstance(cause, ValueError):
        raise cause
    # FAB flashes whatever the form or a rule raises; ValueErrors of ours carry a message.
    log.warning("save refused: %r", cause)
    return str(cause)


class AppModelView(ServiceRules, GuardedActions, LandsOnSavedRow, KeepsFormOnRefusal, ModelView):
    method_permission_name = VIEW_METHOD_PERMISSIONS
    page_size = 25
    # {"column": [FilterClass, ...]}: search filters of our own next to FAB's for that column
    # (FAB's ModelView has no hook for them; its REST API has `search_filters`).
    extra_search_filters = None
    # Fields a row needs only before it is submitted (提交前必填): their labels on the edit form
    # carry a mark of their own (layout.html, static/js/form_widgets.js).
    submit_required_columns: tuple[str, ...] = ()

    def render_template(self, template, **kwargs):
        kwargs.setdefault("submit_required", list(self.submit_required_columns))
        return super().render_template(template, **kwargs)

    def _init_properties(self):
        super()._init_properties()
        self._search_selects_shown_in_rows()
        if self.extra_search_filters:
            filters = self._filters
            for column, classes in self.extra_search_filters.items():
                # Ours first: FAB's URL arguments (_flt_<index>_<column>) take one digit only,
                # and FAB resolves the index in _all_filters, offers _search_filters in the form.
                ours = [cls(column, self.datamodel) for cls in classes]
                for table in (filters._search_filters, filters._all_filters):
                    table[column] = ours + list(table.get(column, []))

    def _search_selects_shown_in_rows(self):
        """The search form's select of a to-one relation lists the related rows that the
        user's own rows of this list point at, nothing the list would not show."""
        fields = dict(self.search_form_query_rel_fields or {})
        mapper = sa_inspect(self.datamodel.obj)
        for column in self.search_columns:
            relation = mapper.relationships.get(column)
            if relation is None or relation.direction.name != "MANYTOONE" or column in fields:
                continue
            if len(relation.local_columns) != 1:
                continue
            (foreign_key,) = relation.local_columns
            fields[column] = [["id", shown_in_rows(self.datamodel.obj, foreign_key), None]]
        self.search_form_query_rel_fields = fields

    def __init__(self, **kwargs):
        self._use_plain_checkboxes()
        super().__init__(**kwargs)
        if hasattr(self.datamodel, "capped_count"):
            self.datamodel.capped_count = True
        for column in set(self.list_columns) | set(self.show_columns):
            if self.datamodel.is_boolean(column):
                # 是 / 否 instead of True / False in lists and detail pages.
                self.formatters_columns.setdefault(column, yes_no)
            elif column in self.datamodel.list_properties and self.datamodel.is_datetime(column):
                # "2026-11-28 05:51", not Python's microseconds.
                self.formatters_columns.setdefault(column, minute_text)
            elif column in self.datamodel.list_properties and self.datamodel.is_relation(column):
                # "—" for no parent, "甲、乙" for several, instead of None and ['甲', '乙'].
                self.formatters_columns.setdefault(column, relation_text)
            else:
                self.formatters_columns.setdefault(column, dash_if_empty)

    # R13.1: lists and detail pages of rows that name drawn targets log the tasks they name
    # (app/draws/confidential.py); the model declares it, the view needs nothing.
    def _get_list_widget(self, filters, **kwargs):
        widgets = super()._get_list_widget(filters, **kwargs)
        from app.draws.confidential import log_rows_viewed

        pks = widgets["list"].template_args.get("pks") or []
        log_rows_viewed(self.datamodel.obj, pks, "list")
        return widgets

    def _get_show_widget(self, pk, item, **kwargs):
        from app.draws.confidential import log_rows_viewed

        log_rows_viewed(self.datamodel.obj, [pk], "page")
        return super()._get_show_widget(pk, item, **kwargs)

    def _use_plain_checkboxes(self):
        """FAB makes the field of a NOT NULL boolean column required, and a required checkbox
        only validates when ticked: "inactive" or "not a workday" could never be saved."""
        for attr in ("add_form_extra_fields", "edit_form_extra_fields"):
            columns = self.add_columns if attr.startswith("add") else self.edit_columns
            extra = dict(getattr(self, attr, None) or {})
            for column in columns or ():
                if column not in extra and self.datamodel.is_boolean(column):
                    extra[column] = BooleanField(
                        (self.label_columns or {}).get(column, column),
                        description=(self.description_columns or {}).get(column, ""),
                        default=False,
                    )
            setattr(self, attr, extra)


def translated_response(code, **kwargs):
    """FAB's `BaseApi.response` with its message in the interface language: FAB writes its own
    (not found, bad rison, refusals, invalid bodies) in English, outside any catalogue."""
    if "message" in kwargs:
        kwargs["message"] = translate(kwargs["message"])
    return BaseApi.response(code, **kwargs)


class AppModelRestApi(ServiceRules, DeclaredColumns, ModelRestApi):
    """REST resource: explicit columns always (FAB would otherwise dump created_by/changed_by
    with password hashes), JWT or browser session."""

    method_permission_name = API_METHOD_PERMISSIONS
    allow_browser_login = True
    page_size = 25
    max_page_size = 100

    def __init__(self):
        # FAB's defaults are "every column": the password hash through created_by on reads, any
        # column (a status, an approval) on writes. Every resource says what it exposes.
        required = ["list_columns", "show_columns"]
        routes = self.include_route_methods
        if routes is None or "post" in routes:
            required.append("add_columns")
        if routes is None or "put" in routes:
            required.append("edit_columns")
        for attr in required:
            if not getattr(self, attr, None):
                raise TypeError(f"{type(self).__name__} must declare {attr}")
        # FAB adds the labels it makes up ("Parent Id") to this dict, a view's to its own (which
        # an API may share): ours are those the code gives.
        self.label_columns = {
            key: label
            for key, label in (self.label_columns or {}).items()
            if not (isinstance(label, str) and label == self._prettify_column(key))
        }
        super().__init__()

    response = staticmethod(translated_response)

    # Labels FAB would make up in English from the column name ("Department Id", "Id"): a
    # dotted column is its relation's label and the related column's ("部门名称"); FAB's own
    # only for a column nobody labelled (tests/api/test_chinese.py finds those).
    def _gen_labels_columns(self, list_columns):
        for column in list_columns:
            if not self.label_columns.get(column):
                label = self._column_label(column)
                self.label_columns[column] = label or self._prettify_column(column)

    def _column_label(self, column: str):
        # A column the pages show through a property of its text ("status" as "status_label").
        if column in COMMON_LABELS or f"{column}_label" in self.label_columns:
            return COMMON_LABELS.get(column) or self.label_columns[f"{column}_label"]
        *relations, name = column.split(".")
        label = self.label_columns.get(name) or COMMON_LABELS.get(name)
        if label is None or not all(self._relation_label(r) for r in relations):
            return None
        if not relations:
            return label

        def joined():
            text = str(label)
            for relation in reversed(relations):
                text = _(
                    "%(relation)s %(column)s", relation=self._relation_label(relation), column=text
                )
            return text

        return LazyString(joined)

    def _relation_label(self, relation: str):
        return (
            self.label_columns.get(relation)
            or COMMON_LABELS.get(relation)
            or COMMON_LABELS.get(f"{relation}_id")
        )

    def operation_helper(self, path=None, operations=None, methods=None, func=None, **kwargs):
        super().operation_helper(path=path, operations=operations, methods=methods, func=func)
        takes_spec = getattr(func, "_takes", None)
        if takes_spec is not None and "POST" in methods:
            operations["post"] = {
                **workflow_operation(takes_spec),
                "security": [{"jwt": []}],
            }

    # Titles: those of the pages over the same rows (FAB: "List Annual Plan").
    def _init_titles(self):
        pass

    def _page_titles(self) -> dict:
        model = self.datamodel.obj
        for view in self.appbuilder.baseviews:
            if isinstance(view, ModelView) and getattr(view.datamodel, "obj", None) is model:
                # FAB's made-up titles are plain English text, ours lazy strings.
                titles = {
                    key: getattr(view, key, None)
                    for key in ("list_title", "show_title", "add_title", "edit_title")
                }
                titles = {k: str(v) for k, v in titles.items() if not isinstance(v, str)}
                if "list_title" in titles and "show_title" in titles:
                    what = titles["show_title"]
                    titles.setdefault("add_title", _("Add: %(what)s", what=what))
                    titles.setdefault("edit_title", _("Edit: %(what)s", what=what))
                    return titles
        # No page with titles of ours: FAB's (tests/api/test_chinese.py finds those).
        return {
            "list_title": f"List {self._prettify_name(model.__name__)}",
            "show_title": f"Show {self._prettify_name(model.__name__)}",
            "add_title": f"Add {self._prettify_name(model.__name__)}",
            "edit_title": f"Edit {self._prettify_name(model.__name__)}",
        }

    def merge_list_title(self, response, **kwargs):
        response["list_title"] = self._page_titles()["list_title"]

    def merge_show_title(self, response, **kwargs):
        response["show_title"] = self._page_titles()["show_title"]

    def merge_add_title(self, response, **kwargs):
        response["add_title"] = self._page_titles()["add_title"]

    def merge_edit_title(self, response, **kwargs):
        response["edit_title"] = self._page_titles()["edit_title"]

    # Filters and sorts: the declared columns only, refused in Chinese (FAB: in English, and
    # with no declared order_columns it sorts by any column, a dotted relation's too).
    def _handle_order_args(self, rison_args):
        column = rison_args.get("order_column", "")
        if column and column not in self.order_columns:
            raise InvalidOrderByColumnFABException(
                str(_("This list cannot be sorted by %(column)s.", column=column))
            )
        return super()._handle_order_args(rison_args)

    def _handle_filters_args(self, rison_args):
        try:
            return super()._handle_filters_args(rison_args)
        except (InvalidColumnFilterFABException, InvalidOperationFilterFABException):
            raise FABException(str(CANNOT_FILTER)) from None

    # `_info`: the form fields and their choices of related rows only for a user who may use
    # that form (POST / PUT exposed and permitted); the choices are those the user may see
    # (the related interface applies department scope and role rule). Descriptions and labels
    # never go through gettext("") (the catalogue's header).
    related_labels: dict = {}

    def _may(self, method: str) -> bool:
        routes = self.include_route_methods
        if routes is not None and method not in routes:
            return False
        if method in (self.exclude_route_methods or ()):
            return False
        permission = self.method_permission_name.get(method, method)
        return self.appbuilder.sm.has_access(f"can_{permission}", self.class_permission_name)

    def info_headless(self, **kwargs):
        payload = {}
        rison_args = kwargs.get("rison", {})
        self.set_response_key_mappings(payload, self.info, rison_args, **rison_args)
        return self.response(200, **payload)

    def set_response_key_mappings(self, response, func, rison_args, **kwargs):
        # FAB's decorators bind its own merge functions: call ours by name instead.
        keys = rison_args.get("keys") or None
        for key, merge in getattr(func, "_response_key_func_mappings", {}).items():
            if keys is None or key in keys:
                getattr(self, merge.__name__)(response, **kwargs)

    def merge_add_field_info(self, response, **kwargs):
        if not self._may("post"):
            response["add_columns"] = []
            return
        super().merge_add_field_info(response, **kwargs)

    def merge_edit_field_info(self, response, **kwargs):
        if not self._may("put"):
            response["edit_columns"] = []
            return
        super().merge_edit_field_info(response, **kwargs)

    def _description_columns_json(self, cols=None):
        cols = cols or []
        return {
            key: _translated(value)
            for key, value in self.description_columns.items()
            if key in cols
        }

    def _get_field_info(self, field, filter_rel_field, page=None, page_size=None):
        info = super()._get_field_info(field, filter_rel_field, page=page, page_size=page_size)
        info["label"] = _translated(self.label_columns.get(field.name))
        info["description"] = _translated(self.description_columns.get(field.name))
        if "validate" in info:
            # FAB writes each validator's repr ("<Length(min=None, max=60, …)>"): program
            # text. What a client can use of it, in the interface language, or nothing.
            texts = [validator_text(v) for v in _validators(field)]
            info["validate"] = [t for t in texts if t]
            if not info["validate"]:
                del info["validate"]
        return info

    def _get_list_related_field(self, field, filter_rel_field, page=None, page_size=None):
        label = self.related_labels.get(field.name)
        if label is None:
            return super()._get_list_related_field(
                field, filter_rel_field, page=page, page_size=page_size
            )
        datamodel = self.datamodel.get_related_interface(field.name)
        filters = datamodel.get_filters(datamodel.get_search_columns_list())
        if filter_rel_field:
            filters = filters.add_filter_list(filter_rel_field)
        page, page_size = self._sanitize_page_args(page, page_size)
        count, rows = datamodel.query(filters, "", "", page=page, page_size=page_size)
        return count, [{"id": datamodel.get_pk_value(r), "value": label(r)} for r in rows]

    # Business rules raise DomainError from pre_add / pre_update / pre_delete: answer 422 with
    # the rule's message instead of FAB's generic 500, and keep the transaction clean.
    def post_headless(self):
        return self._refusing_domain_errors(super().post_headless)

    def put_headless(self, pk):
        return self._refusing_domain_errors(super().put_headless, pk)

    def delete_headless(self, pk):
        return self._refusing_domain_errors(super().delete_headless, pk)

    # R13.1, as on pages: items and lists of rows that name drawn targets log their tasks.
    def get_headless(self, pk, **kwargs):
        response = super().get_headless(pk, **kwargs)
        if response.status_code == 200:
            from app.draws.confidential import log_rows_viewed

            log_rows_viewed(self.datamodel.obj, [pk], "api")
        return response

    def pre_get_list(self, data):
        super().pre_get_list(data)
        from app.draws.confidential import log_rows_viewed

        log_rows_viewed(self.datamodel.obj, data.get("ids") or [], "api list")

    def _sanitize_page_args(self, page, page_size):
        # FAB passes a negative page on to the database as a negative OFFSET (PostgreSQL
        # refuses it: a 500); a page past any real list stays within the OFFSET's range.
        page, page_size = super()._sanitize_page_args(page, page_size)
        if page is not None:
            page = min(max(page, 0), MAX_PAGE)
        return page, page_size

    def run_workflow(self, pk, operation, fields=None):
        """A workflow endpoint: load the row in scope (404 otherwise), run
        `operation(row, json_body)`, commit and return the row; a refused rule is a 422 with
        its message and writes nothing. With `fields` (the names the body may hold), any other
        name is a 400 as on PUT: {"message": {"name": ["未知字段。"]}}."""
        obj = self.datamodel.get(pk)
        if obj is None:
            return self.response_404()
        body, refused = self.workflow_body()
        if refused is not None:
            return refused
        if fields is not None:
            unknown = [key for key in body if key not in fields]
            if unknown:
                return self.response_400(message={key: [str(UNKNOWN_FIELD)] for key in unknown})
        try:
            operation(obj, body)
            db.session.commit()
        except WrongType as exc:
            db.session.rollback()
            return self.response_400(message=str(exc))
        except DomainError as exc:
            db.session.rollback()
            return self.response_422(message=str(exc))
        except (OverflowError, DataError):
            db.session.rollback()
            return self.response_422(message=str(DOES_NOT_FIT))
        except DBAPIError as exc:
            return self._database_unavailable(exc)
        return self.response(200, result=self.show_model_schema.dump(obj))

    def workflow_body(self):
        """(WorkflowBody, None) for a usable JSON body (none at all is an empty one), or
        (None, a 400 response)."""
        problem = self._control_characters()
        if problem:
            return None, self.response_400(message=problem)
        body = request.get_json(silent=True)
        if body is None and request.is_json and request.get_data().strip():
            return None, self.response_400(message=str(NOT_JSON))
        if body is None:
            body = {}
        if not isinstance(body, dict) or not all(map(_scalar, body.values())):
            return None, self.response_400(message=str(NOT_A_WORKFLOW_BODY))
        return WorkflowBody(body), None

    def _refusing_domain_errors(self, operation, *args):
        problem = self._bad_relation_values() or self._control_characters()
        if problem:
            return self.response_400(message=problem)
        try:
            return operation(*args)
        except DomainError as exc:
            db.session.rollback()
            return self.response_422(message=str(exc))
        except (OverflowError, DataError):
            # A value the database column cannot hold (too long, a number out of range): bad
            # input, not a server fault.
            db.session.rollback()
            return self.response_422(message=str(DOES_NOT_FIT))
        except DBAPIError as exc:
            return self._database_unavailable(exc)

    def _bad_relation_values(self) -> str | None:
        """FAB looks related rows up with whatever the JSON holds and fails with a 500 on an
        object or a fraction where an id belongs: a related row is named by its id (a list of
        ids for many), anything else is a 400 with a message."""
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return None
        for key, value in body.items():
            if not isinstance(key, str) or not self.datamodel.is_relation(key):
                continue
            many = self.datamodel.is_relation_many_to_many(
                key
            ) or self.datamodel.is_relation_one_to_many(key)
            values = value if many and isinstance(value, list) else [value]
            if (many and not isinstance(value, list)) or not all(
                v is None or is_row_id(v) for v in values
            ):
                return _(
                    "%(field)s must name records by their ids.",
                    field=key,
                )
            # FAB makes a new, empty related row for an id it does not find (the insert then
            # fails: a 500), and a row out of the user's scope must look the same as a
            # missing one: both are "no such record", through the same related interface
            # (scoped unless the resource says otherwise) that the forms' choices use.
            related = self.datamodel.get_related_interface(key)
            for v in values:
                if v is not None and related.get(v) is None:
                    return _("%(field)s: no record %(id)s.", field=key, id=v)
        return None

    @staticmethod
    def _control_characters() -> str | None:
        body = request.get_json(silent=True)
        if isinstance(body, dict):
            for key, value in body.items():
                if any(map(has_control_characters, json_strings({key: value}))):
                    return f"{without_control_characters(str(key))}: {CONTROL_CHARACTERS}"
        return None

    def _database_unavailable(self, exc):
        """FAB's @safe would answer 500: a lost database connection is a 503 with the same
        message as on the pages, and nothing was saved."""
        body, code = database_unavailable(exc)
        return self.response(code, **body)


# Labels of the columns many resources show, for those a resource does not label itself.
COMMON_LABELS = {
    **COMMON_FIELD_LABELS,
    "id": _l("ID"),
    "task.number": _l("Task number"),
    "drawable": _l("Drawable"),
}

CANNOT_FILTER = _l("This list cannot be filtered that way: filter on the columns it shows.")


def _translated(text) -> str:
    """A label or description in the interface language; "" for none (gettext("") would
    answer the catalogue's header)."""
    text = str(text or "")
    return _(text) if text else ""


def _validators(field) -> list:
    validate = field.validate
    if not validate:
        return []
    return list(validate) if isinstance(validate, (list, tuple)) else [validate]


def validator_text(validator) -> str:
    """A marshmallow validator as `_info` tells it: "最多 60 个字符", "0 至 100"; "" for
    those it cannot say simply (their refusal says it when it happens)."""
    from marshmallow import validate

    if isinstance(validator, validate.Length):
        if validator.equal is not None:
            return _("Exactly %(n)s characters.", n=validator.equal)
        if validator.min and validator.max is not None:
            return _("%(min)s to %(max)s characters.", min=validator.min, max=validator.max)
        if validator.max is not None:
            return _("At most %(n)s characters.", n=validator.max)
        if validator.min:
            return _("At least %(n)s characters.", n=validator.min)
    if isinstance(validator, validate.Range):
        if validator.min is not None and validator.max is not None:
            return _("From %(min)s to %(max)s.", min=validator.min, max=validator.max)
        if validator.min is not None:
            return _("At least %(n)s.", n=validator.min)
        if validator.max is not None:
            return _("At most %(n)s.", n=validator.max)
    if isinstance(validator, validate.OneOf):
        return _("Must be one of: %(choices)s.", choices="、".join(map(str, validator.choices)))
    return ""


NOT_JSON = _l("The request body is not JSON.")
UNKNOWN_FIELD = _l("Unknown field.")
NOT_A_WORKFLOW_BODY = _l("Send a JSON object whose values are text, numbers, true/false or null.")


_JSON_TYPES = {
    "text": {"type": "string"},
    "date": {"type": "string", "format": "date"},
    "integer": {"type": "integer"},
    "boolean": {"type": "boolean"},
    "file": {"type": "string", "format": "binary"},
}
WORKFLOW_TAKES_NOTHING = _l("Takes no body (an empty JSON object is accepted).")
WORKFLOW_ANSWER = _l("The record after the step, as GET /<id> shows it.")


def takes(*, required=(), multipart=False, **fields):
    """Declares a workflow endpoint's body for /api/v1/_openapi: `name=(kind, description)`
    with kind text / date / integer / boolean / file; none at all: it takes no body."""

    def declare(function):
        function._takes = (fields, tuple(required), multipart)
        return function

    return declare


def workflow_operation(takes_spec) -> dict:
    """The OpenAPI operation of a workflow endpoint declared with `takes`."""
    fields, required, multipart = takes_spec
    errors = {
        code: {"$ref": f"#/components/responses/{code}"} for code in (400, 401, 403, 404, 422)
    }
    operation = {
        "responses": {
            "200": {
                "description": str(WORKFLOW_ANSWER),
                "content": {
                    "application/json": {
                        "schema": {"type": "object", "properties": {"result": {"type": "object"}}}
                    }
                },
            },
            **errors,
        }
    }
    if not fields:
        operation["description"] = str(WORKFLOW_TAKES_NOTHING)
        operation["x-takes-no-body"] = True
        return operation
    properties = {
        name: {**_JSON_TYPES[kind], "description": str(description)}
        for name, (kind, description) in fields.items()
    }
    schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    media = "multipart/form-data" if multipart else "application/json"
    operation["requestBody"] = {"required": bool(required), "content": {media: {"schema": schema}}}
    return operation


def _scalar(value) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


class WrongType(DomainError):
    """A workflow body's field of the wrong type: a 400 with its name."""


class WorkflowBody(dict):
    """The JSON object sent to a workflow endpoint. `get(key, "")` is text (anything else
    there is a WrongType); `integer(key)` a whole number (0 when absent)."""

    def get(self, key, default=None):
        value = super().get(key, default)
        if isinstance(default, str) and value is not None and not isinstance(value, str):
            raise WrongType(_("%(field)s must be text.", field=key))
        return value

    def opinion(self, legacy: str = "") -> str:
        """A Leader's 意见 (opinion): `opinion`, or the endpoint's older field name
        (`comment`, `note`, `reason`) that clients already send."""
        value = self.get("opinion", "")
        if not (value or "").strip() and legacy:
            value = self.get(legacy, "")
        return value or ""

    def integer(self, key) -> int:
        value = super().get(key)
        if value in (None, ""):
            return 0
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise WrongType(_("%(field)s must be a whole number.", field=key))
        try:
            return int(value)
        except ValueError:
            raise WrongType(_("%(field)s must be a whole number.", field=key)) from None


def form_integer(name: str, default: int, label) -> int:
    """A whole number from the submitted page form (`default` when empty), within the range of
    an INTEGER column; otherwise a DomainError in Chinese naming the field by its label."""
    text = (request.form.get(name) or "").strip()
    if not text:
        return default
    try:
        number = int(text)
    except ValueError:
        number = None
    if number is None or not -MAX_ROW_ID - 1 <= number <= MAX_ROW_ID:
        raise DomainError(_("%(field)s must be a whole number.", field=label))
    return number


class WorkflowView(BaseView):
    """The page side of a resource's workflow endpoints: run a service operation, commit, flash
    the outcome (a refused rule writes nothing and says why) and go back to the row's page
    (`back_endpoint`)."""

    back_endpoint = ""

    def _run(self, obj, operation, success):
        try:
            operation()
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        else:
            flash(success, "success")
        return redirect(url_for(self.back_endpoint, pk=obj.id))

    def _run_confirmed(self, obj, step, operation, success):
        """`_run` for a step that cannot be undone: asked first (app/core/confirm.py)."""
        from app.core.confirm import confirmation_page

        page = confirmation_page(self, step, url_for(self.back_endpoint, pk=obj.id))
        return page if page is not None else self._run(obj, operation, success)


__all__ = [
    "AppModelView",
    "AppModelRestApi",
    "BaseApi",
    "GuardedActions",
    "KeepsFormOnRefusal",
    "WorkflowBody",
    "WorkflowView",
    "WrongType",
    "form_integer",
    "takes",
    "translated_response",
]
