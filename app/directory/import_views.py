"""The bulk import page of 一单两库: upload a CSV or XLSX file of targets, inspectors or items,
see the counts or the row-numbered error table; download the templates."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _

from app.core.downloads import send_named
from app.directory.imports import (
    COLUMNS,
    KIND_LABELS,
    KINDS,
    MAX_ERRORS,
    SHEET_TITLES,
    column_note,
    import_file,
    template_csv,
    template_xlsx,
)
from app.extensions import db

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class DirectoryImportView(BaseView):
    route_base = "/directory-import"
    class_permission_name = "DirectoryImport"
    method_permission_name = {"form": "read", "template": "read", "upload": "write"}
    default_view = "form"

    def _page(self, kind: str, result=None, status: int = 200):
        return (
            self.render_template(
                "directory/import.html",
                kinds=KINDS,
                kind_labels=KIND_LABELS,
                chosen=kind,
                columns={k: [(c, column_note(c)) for c in COLUMNS[k]] for k in KINDS},
                result=result,
                max_errors=MAX_ERRORS,
            ),
            status,
        )

    @expose("/", methods=["GET"])
    @has_access
    def form(self):
        kind = request.args.get("kind", "targets")
        return self._page(kind if kind in KINDS else "targets")

    @expose("/", methods=["POST"])
    @has_access
    def upload(self):
        kind = request.form.get("kind", "")
        if kind not in KINDS:
            flash(_("Choose what the file contains."), "danger")
            return redirect(url_for(".form"))
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            flash(_("Choose a CSV or XLSX file to import."), "danger")
            return redirect(url_for(".form", kind=kind))
        try:
            result = import_file(kind, upload.stream, upload.filename)
        except Exception:
            db.session.rollback()
            raise
        if not result.ok:
            db.session.rollback()
            return self._page(kind, result)
        db.session.commit()
        flash(
            _(
                "%(file)s imported: %(rows)d rows, %(created)d created, %(updated)d updated.",
                file=result.filename,
                rows=result.rows,
                created=result.created,
                updated=result.updated,
            ),
            "success",
        )
        return redirect(url_for(".form", kind=kind))

    @expose("/template/<kind>.<fmt>")
    @has_access
    def template(self, kind, fmt):
        if kind not in KINDS or fmt not in ("csv", "xlsx"):
            abort(404)
        if fmt == "csv":
            data, mimetype = template_csv(kind), "text/csv; charset=utf-8"
        else:
            data, mimetype = template_xlsx(kind), XLSX_MIMETYPE
        names = (f"{SHEET_TITLES[kind]}导入模板.{fmt}", f"import-{kind}.{fmt}")
        return send_named(data, mimetype, names, max_age=0)
