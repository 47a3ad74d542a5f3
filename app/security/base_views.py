"""Base classes for every ModelView and ModelRestApi of the application.

Department-scoped ones set `datamodel = ScopedInterface(Model)`, which applies the scope to every
row FAB loads (see scope.py). These classes close the paths where FAB would still answer with
something other than a clean 404 for a row the user may not see.
"""

import json

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, ModelRestApi, ModelView, expose
from flask_appbuilder.api import BaseApi
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from sqlalchemy.exc import DataError, DBAPIError
from wtforms import BooleanField

from app.core.api_messages import translate
from app.core.errors import DomainError
from app.core.i18n import dash_if_empty, minute_text, relation_text, yes_no
from app.extensions import db

# Row ids are 64-bit integers on every database; a larger one names no row.
MAX_ROW_ID = 2**63 - 1

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


class AppModelView(ServiceRules, ModelView):
    method_permission_name = VIEW_METHOD_PERMISSIONS
    page_size = 25
    # {"column": [FilterClass, ...]}: search filters of our own next to FAB's for that column
    # (FAB's ModelView has no hook for them; its REST API has `search_filters`).
    extra_search_filters = None

    def _init_properties(self):
        super()._init_properties()
        if self.extra_search_filters:
            filters = self._filters
            for column, classes in self.extra_search_filters.items():
                # Ours first: FAB's URL arguments (_flt_<index>_<column>) take one digit only,
                # and FAB resolves the index in _all_filters, offers _search_filters in the form.
                ours = [cls(column, self.datamodel) for cls in classes]
                for table in (filters._search_filters, filters._all_filters):
                    table[column] = ours + list(table.get(column, []))

    def __init__(self, **kwargs):
        self._use_plain_checkboxes()
        super().__init__(**kwargs)
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
                        description=(self.description_columns or {}).get(column),
                        default=False,
                    )
            setattr(self, attr, extra)

    def _load_scoped(self, pk):
        item = self.datamodel.get(self._deserialize_pk_if_composite(pk))
        if item is None:
            abort(404)
        return item

    @expose("/action/<string:name>/<pk>", methods=["GET", "POST"])
    def action(self, name, pk):
        # FAB's version loads the row without base filters and crashes on an unknown action.
        if name not in self.actions:
            abort(404)
        self._load_scoped(pk)
        return super().action(name, pk)

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
        return super().action_post()

    @expose("/download/<string:filename>")
    @has_access
    def download(self, filename):
        # FAB serves any file of UPLOAD_FOLDER by name to whoever may download from any view;
        # evidence files are served by their own scoped endpoints instead.
        abort(404)


class AppModelRestApi(ServiceRules, ModelRestApi):
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
        super().__init__()

    # Business rules raise DomainError from pre_add / pre_update / pre_delete: answer 422 with
    # the rule's message instead of FAB's generic 500, and keep the transaction clean.
    def post_headless(self):
        return self._refusing_domain_errors(super().post_headless)

    def put_headless(self, pk):
        return self._refusing_domain_errors(super().put_headless, pk)

    def delete_headless(self, pk):
        return self._refusing_domain_errors(super().delete_headless, pk)

    def run_workflow(self, pk, operation):
        """A workflow endpoint: load the row in scope (404 otherwise), run
        `operation(row, json_body)`, commit and return the row; a refused rule is a 422 with
        its message and writes nothing."""
        obj = self.datamodel.get(pk)
        if obj is None:
            return self.response_404()
        body = request.get_json(silent=True) or {}
        try:
            operation(obj, body)
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            return self.response_422(message=str(exc))
        except DBAPIError as exc:
            return self._database_unavailable(exc)
        return self.response(200, result=self.show_model_schema.dump(obj))

    def _refusing_domain_errors(self, operation, *args):
        problem = self._bad_relation_values()
        if problem:
            return self.response_400(message=problem)
        try:
            return self._in_our_language(operation(*args))
        except DomainError as exc:
            db.session.rollback()
            return self.response_422(message=str(exc))
        except (OverflowError, DataError):
            # A value the database column cannot hold (too long, a number out of range): bad
            # input, not a server fault.
            db.session.rollback()
            return self.response_422(
                message=_("A value does not fit its field: too long, or a number out of range.")
            )
        except DBAPIError as exc:
            return self._database_unavailable(exc)

    @staticmethod
    def _in_our_language(response):
        """FAB answers invalid fields with marshmallow's English messages: translate them."""
        if response.status_code in (400, 422) and response.is_json:
            body = response.get_json(silent=True)
            if isinstance(body, dict) and "message" in body:
                body["message"] = translate(body["message"])
                response.set_data(json.dumps(body, ensure_ascii=False))
        return response

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
                v is None or _is_row_id(v) for v in values
            ):
                return _(
                    "%(field)s must name records by their ids.",
                    field=key,
                )
        return None

    def _database_unavailable(self, exc):
        """FAB's @safe would answer 500: a lost database connection is a 503 with the same
        message as on the pages (app/__init__.py), and nothing was saved."""
        from flask import current_app

        handler = current_app.error_handler_spec[None][None].get(DBAPIError)
        if handler is None:
            raise exc
        body, code = handler(exc)
        return self.response(code, **body)


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


def _is_row_id(value) -> bool:
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    return type(value) is int and 0 < value <= MAX_ROW_ID


__all__ = ["AppModelView", "AppModelRestApi", "BaseApi", "WorkflowView"]
