"""A department-scoped model and its view/API that exist only in tests.

Department is the only scoped model the foundation has, and no role may write it within a
limited scope; the probe lets the tests prove the shared mechanism (ScopedInterface,
AppModelView, AppModelRestApi) on every path: list, show, edit, delete, actions, REST. It lives
in its own MetaData so that the migration check does not see it.
"""

from flask import flash, redirect
from flask_appbuilder.actions import action
from sqlalchemy import Column, Integer, MetaData, String
from sqlalchemy.orm import DeclarativeBase

from app.extensions import db
from app.security.base_views import VIEW_METHOD_PERMISSIONS, AppModelRestApi, AppModelView
from app.security.scope import ScopedInterface


class ProbeBase(DeclarativeBase):
    metadata = MetaData()


class ScopeProbe(ProbeBase):
    __tablename__ = "test_scope_probe"
    __scope_column__ = "department_id"

    id = Column(Integer, primary_key=True)
    name = Column(String(50), nullable=False)
    department_id = Column(Integer, nullable=False)
    marked = Column(Integer, nullable=False, default=0)

    def __str__(self):
        return self.name


class ScopeProbeView(AppModelView):
    route_base = "/probe"
    datamodel = ScopedInterface(ScopeProbe)
    class_permission_name = "ScopeProbe"
    method_permission_name = {**VIEW_METHOD_PERMISSIONS, "mark": "write"}
    list_columns = ["name", "department_id"]
    show_columns = ["name", "department_id", "marked"]
    add_columns = edit_columns = ["name", "department_id"]
    search_columns = ["name", "department_id"]
    order_columns = ["name"]

    @action("mark", "Mark", "Mark these?", "fa-check")
    def mark(self, items):
        items = items if isinstance(items, list) else [items]
        for item in items:
            item.marked += 1
        db.session.commit()
        flash("marked", "success")
        return redirect("/probe/list/")


class ScopeProbeApi(AppModelRestApi):
    resource_name = "probe"
    datamodel = ScopedInterface(ScopeProbe)
    class_permission_name = "ScopeProbe"
    list_columns = ["id", "name", "department_id"]
    show_columns = list_columns
    add_columns = edit_columns = ["name", "department_id"]
    search_columns = ["name", "department_id"]
    order_columns = ["id", "name"]


PROBE_ROLE_GRANTS = [[r"^ScopeProbe$", r"^can_(read|write)$"]]
