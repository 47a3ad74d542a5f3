"""Department scope: which departments' rows a user may see.

A user sees the rows of their own departments and of every department below them in the tree.
Admin and JointOffice see all departments; so does a Leader who belongs to the bureau itself (the
root of the tree). Everybody else, anonymous included, sees nothing by default.

The rule is applied in one place, `ScopedInterface`, the datamodel of every scoped ModelView and
ModelRestApi: FAB loads rows for lists, show, edit, delete, actions and the REST API through the
datamodel, so a row out of scope is simply not found there (404), and FAB's `action_post`, which
ignores `base_filters`, cannot reach it either. Custom endpoints call `ensure_in_scope()`.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import abort, current_app, g, has_app_context, has_request_context
from flask_appbuilder.models.filters import BaseFilter, Filters
from flask_appbuilder.models.sqla.interface import SQLAInterface
from sqlalchemy import and_, false, func, inspect, literal, select

from app.core.models import MAX_ROW_ID, is_row_id
from app.extensions import db
from app.security import roles
from app.security.models import Department, user_department

ALL = None  # marker: no restriction


def current_actor():
    """The signed-in user of this request (session cookie or JWT), or None."""
    if not has_request_context():
        user = getattr(g, "user", None)
    else:
        user = current_app.appbuilder.sm.current_user
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user


def role_names(user) -> set[str]:
    if user is None:
        return set()
    return {r.name for r in user.roles}


def descendants(department_ids: Iterable[int], tree=None) -> set[int]:
    """The given departments and every department below them. `tree`: the (id, parent_id) of
    every department, when the caller has read them already."""
    rows = tree if tree is not None else db.session.execute(
        select(Department.id, Department.parent_id)
    ).all()
    children: dict[int, list[int]] = {}
    for dept_id, parent_id in rows:
        children.setdefault(parent_id, []).append(dept_id)
    result: set[int] = set()
    stack = list(department_ids)
    while stack:
        dept_id = stack.pop()
        if dept_id in result:
            continue
        result.add(dept_id)
        stack.extend(children.get(dept_id, ()))
    return result


def _compute_scope(user) -> set[int] | None:
    if user is None:
        return set()
    names = role_names(user)
    if names & roles.GLOBAL_SCOPE_ROLES:
        return ALL
    # One statement: the department tree, each department marked when it is the user's own.
    mine = user_department.c.user_id.is_not(None).label("mine")
    rows = db.session.execute(
        select(Department.id, Department.parent_id, mine).outerjoin(
            user_department,
            and_(
                user_department.c.department_id == Department.id,
                user_department.c.user_id == user.id,
            ),
        )
    ).all()
    own = {dept_id for dept_id, _parent, is_mine in rows if is_mine}
    if roles.LEADER in names and own:
        root_ids = {dept_id for dept_id, parent_id, _mine in rows if parent_id is None}
        if own & root_ids:
            return ALL
    return descendants(own, [(dept_id, parent_id) for dept_id, parent_id, _mine in rows])


def departments_in_scope(user=None) -> set[int] | None:
    """Department ids the user may see, or ALL (None). Cached for the request."""
    if user is None:
        user = current_actor()
    key = getattr(user, "id", None)
    # Per request, or per CLI command (an import checks the scope on every row).
    cache = g.setdefault("_department_scope", {}) if has_app_context() else {}
    if key not in cache:
        cache[key] = _compute_scope(user)
    return cache[key]


def sees_all(user=None) -> bool:
    return departments_in_scope(user) is ALL


def scope_clause(model, department_ids: set[int] | None):
    """SQL condition restricting `model` to the departments; None when unrestricted."""
    if department_ids is ALL:
        return None
    custom = getattr(model, "scope_clause", None)
    if custom is not None:
        return custom(department_ids) if department_ids else false()
    column = getattr(model, getattr(model, "__scope_column__", "department_id"))
    return column.in_(department_ids) if department_ids else false()


def role_clause(model, user):
    """Extra row condition a model sets for some roles (a model's `role_clause(user, names)`):
    e.g. an Inspector sees only their own declarations, JointOffice only published items."""
    hook = getattr(model, "role_clause", None)
    if hook is None or user is None:
        return None
    return hook(user, role_names(user))


def row_clause(model, user=None):
    """The whole row rule for the current user: department scope AND role clause (or None)."""
    user = user if user is not None else current_actor()
    clauses = [
        c
        for c in (scope_clause(model, departments_in_scope(user)), role_clause(model, user))
        if c is not None
    ]
    if not clauses:
        return None
    return and_(*clauses) if len(clauses) > 1 else clauses[0]


def in_scope(obj, user=None) -> bool:
    user = user if user is not None else current_actor()
    model = type(obj)
    custom_scope = hasattr(model, "scope_clause") and not hasattr(
        obj, "department_ids_for_scope"
    )
    if role_clause(model, user) is not None or (custom_scope and not sees_all(user)):
        # The rule is SQL only (a role rule, or a scope reached through another table):
        # evaluate it in the database, as lists do.
        pk = inspect(model).primary_key[0]
        found = db.session.scalar(
            select(pk).where(pk == getattr(obj, pk.key), row_clause(model, user))
        )
        return found is not None
    ids = departments_in_scope(user)
    if ids is ALL:
        return True
    check = getattr(obj, "department_ids_for_scope", None)
    if check is not None:
        return bool(set(check()) & ids)
    value = getattr(obj, getattr(type(obj), "__scope_column__", "department_id"))
    return value in ids


def ensure_in_scope(obj, user=None):
    """For custom endpoints: 404 (not 403, which would confirm the row exists) when out of scope."""
    if obj is None or not in_scope(obj, user):
        abort(404)
    return obj


class DepartmentScopeFilter(BaseFilter):
    """FAB filter restricting a query to the current user's departments.

    `column_name` is ignored in favour of the model's `__scope_column__` / `scope_clause` so that
    one declaration on the model serves the filter, `in_scope()` and the interface alike.
    """

    name = "Department scope"
    arg_name = "dept_scope"

    def apply(self, query, value):
        clause = row_clause(self.model)
        return query if clause is None else query.filter(clause)


class KnownFilters(Filters):
    """FAB's filters of a list, except that what a URL or a REST query says is kept within
    what the database accepts, on pages and in the REST API alike (both add through
    `_add_filter`):
    - a filter index the column does not have (`_flt_9_name=…`: FAB counts them per column)
      is ignored instead of a 500;
    - a number for an INTEGER column is kept within the column's range (PostgreSQL fails on
      comparing an int4 column with a larger number), and a word for it drops the filter;
    - a yes/no column gets True or False (FAB passes anything but "y" on as text, which
      PostgreSQL refuses to compare with a boolean: an unticked box was a 500);
    - text loses trailing backslashes (PostgreSQL refuses a LIKE pattern ending in one).
    Values given in code (base filters: None, booleans, objects) are left as they are."""

    def __init__(self, filter_converter, datamodel, search_columns=None, search_filters=None):
        super().__init__(filter_converter, datamodel, search_columns=search_columns)
        # FAB leaves the class's shared dict in place when there are no search columns, and
        # fails on search filters for a column it has none for.
        if not self.search_columns:
            self._search_filters = {}
        for column, extra in (search_filters or {}).items():
            self._search_filters[column] = [*self._search_filters.get(column, []), *extra]

    def add_filter_index(self, column_name, filter_instance_index, value):
        known = self._all_filters.get(column_name, [])
        if 0 <= filter_instance_index < len(known):
            super().add_filter_index(column_name, filter_instance_index, value)

    def _add_filter(self, filter_instance, values):
        column = filter_instance.column_name
        many = isinstance(values, list)
        typed = [_typed(self.datamodel, column, v) for v in (values if many else [values])]
        typed = [v for v in typed if v is not _DROP]
        if not typed:
            return
        super()._add_filter(filter_instance, typed if many else typed[0])


YES = {"y", "yes", "1", "true", "on", "是"}
_DROP = object()


def _typed(datamodel, column, value):
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return value
    if datamodel.is_integer(column):
        try:
            number = int(str(value).strip())
        except ValueError:
            return _DROP
        return min(max(number, -MAX_ROW_ID - 1), MAX_ROW_ID)
    if isinstance(value, int):
        return value
    if datamodel.is_boolean(column):
        return "y" if value.strip().lower() in YES else False
    if datamodel.is_string(column) or datamodel.is_text(column):
        return value.rstrip("\\")
    return value


class AppInterface(SQLAInterface):
    """FAB's SQLAInterface, except that
    - a related row named by a value no row's id can be (too large for the INTEGER id column,
      not a number) is simply not found: FAB would send the value to the database, where
      PostgreSQL fails on it (a filter in the URL, `_flt_0_department=…`);
    - a list's filters ignore filters that do not exist (KnownFilters)."""

    def query(
        self,
        filters=None,
        order_column="",
        order_direction="",
        page=None,
        page_size=None,
        select_columns=None,
        outer_default_load=False,
    ):
        """FAB's query, except that an unpaged one (the choices of a form's or a search form's
        select) is not counted by a statement of its own: every row is read, so the count is
        the number of rows read."""
        if page_size:
            return super().query(
                filters,
                order_column,
                order_direction,
                page,
                page_size,
                select_columns,
                outer_default_load,
            )
        if not (filters and filters.filters) and not order_column and not select_columns:
            # Every row of the model, unfiltered: the same answer wherever the page asks
            # (a role list's search select and each row's permissions in words).
            rows = self.every_row()
            return len(rows), rows
        query = self.apply_all(
            self.session.query(self.obj),
            filters,
            order_column,
            order_direction,
            None,
            None,
            select_columns,
            outer_default_load,
        )
        rows = query.all()
        if rows and not isinstance(rows[0], self.obj) and hasattr(rows[0], self.obj.__name__):
            rows = [getattr(row, self.obj.__name__) for row in rows]
        return len(rows), rows

    def every_row(self) -> list:
        """Every row the interface reads (its filters and scope applied), once per request."""
        from app.core.request_cache import per_request

        def read():
            query = self.apply_all(self.session.query(self.obj), None, "", "", None, None)
            return query.all()

        return per_request("every_row", (type(self), self.obj), read)

    def get_related_interface(self, col_name):
        """The interface of a relation's model, made once: FAB asks for it for every option of
        a select (its primary key) and every row of a list (a search select of 300 targets
        built 300 interfaces, each inspecting the model's mapper)."""
        cache = self.__dict__.setdefault("_related_interfaces", {})
        if col_name not in cache:
            cache[col_name] = self._new_related_interface(col_name)
        return cache[col_name]

    def _new_related_interface(self, col_name):
        return AppInterface(self.get_related_model(col_name), self._session)

    def get_related_obj(self, col_name, value):
        if not is_row_id(value):
            return None
        return super().get_related_obj(col_name, value)

    def get_filters(self, search_columns=None, search_filters=None):
        return KnownFilters(
            self.filter_converter_class,
            self,
            search_columns=search_columns or [],
            search_filters=search_filters,
        )


class ScopedInterface(AppInterface):
    """SQLAInterface that applies the department scope to every query it builds.

    Both `query()` (lists, REST list, counts) and `get()` (show, edit, delete, actions, REST item)
    pass through `apply_filters`, so this is the single choke point.
    """

    def apply_filters(self, query, filters):
        query = super().apply_filters(query, filters)
        return DepartmentScopeFilter("id", self).apply(query, None)

    # List pages set this (AppModelView): they count exactly up to LIST_EXACT_COUNT_LIMIT rows
    # and say "more than N" past it. The REST API keeps exact counts for its clients.
    capped_count = False

    def query_count(self, query, filters=None, select_columns=None):
        """The rows a list would show, counted under the same filters and scope.
        FAB counts `SELECT count(*) FROM (SELECT <every column, joined> ...)`, which reads
        every row in full on a million-target directory; the joins FAB adds for the list's
        columns are to-one outer joins and do not change the number of rows."""
        query = query.order_by(None).select_from(self.obj)
        inner = self.get_inner_filters(filters)
        limit = current_app.config.get("LIST_EXACT_COUNT_LIMIT") if self.capped_count else None
        if not limit:
            # count(*), not count(id): PostgreSQL may then answer from an index alone.
            return self.apply_filters(query.with_entities(func.count()), inner).scalar()
        rows = self.apply_filters(query.with_entities(literal(1)), inner).limit(limit + 1)
        counted = self.session.query(func.count()).select_from(rows.subquery()).scalar()
        return counted if counted <= limit else MoreThan(limit)

    def __init__(self, obj, session=None, unscoped_relations=()):
        super().__init__(obj, session)
        self.unscoped_relations = frozenset(unscoped_relations)

    def _new_related_interface(self, col_name):
        # Form dropdowns and search selects of related rows: scoped where the related model
        # declares a department (a Target's department, a Conflict's inspector), plain where it
        # is reference data (an Area) or where the view says any row may be chosen.
        model = self.get_related_model(col_name)
        if is_scoped_model(model) and col_name not in self.unscoped_relations:
            return ScopedInterface(model, self._session)
        return AppInterface(model, self._session)


def is_scoped_model(model) -> bool:
    return hasattr(model, "__scope_column__") or hasattr(model, "scope_clause")


class MoreThan(int):
    """A list's count past LIST_EXACT_COUNT_LIMIT: pagination reckons with the limit, the page
    prints "more than N records"."""

    def __html__(self):
        from flask_babel import format_decimal
        from flask_babel import gettext as _

        return _("more than %(n)s", n=format_decimal(int(self)))
