"""The bulk import page of 一单两库: upload a CSV or XLSX file of targets, inspectors or items;
the import runs as a background job (import_jobs.py) whose page shows its progress and then the
counts or the row-numbered error table; download the templates."""

from __future__ import annotations

from flask import abort, flash, g, jsonify, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _

from app.core.downloads import send_named
from app.directory import import_jobs
from app.directory.imports import (
    COLUMNS,
    KIND_LABELS,
    KINDS,
    MAX_ERRORS,
    SHEET_TITLES,
    column_note,
    template_csv,
    template_xlsx,
)

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class DirectoryImportView(BaseView):
    route_base = "/directory-import"
    class_permission_name = "DirectoryImport"
    method_permission_name = {
        "form": "read",
        "template": "read",
        "upload": "write",
        "job": "read",
        "job_status": "read",
    }
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
                jobs=import_jobs.recent_jobs(g.user),
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
            job = import_jobs.submit(kind, upload.stream, upload.filename, g.user)
        except import_jobs.JobRefused as refused:
            flash(str(refused), "danger")
            if refused.job is not None and import_jobs.visible_job(refused.job.id, g.user):
                return redirect(url_for(".job", pk=refused.job.id))
            return redirect(url_for(".form", kind=kind))
        return redirect(url_for(".job", pk=job.id))

    def _job_or_404(self, pk: int):
        job = import_jobs.visible_job(pk, g.user)
        if job is None:
            abort(404)
        return import_jobs.refresh(job)

    @expose("/job/<int:pk>")
    @has_access
    def job(self, pk):
        job = self._job_or_404(pk)
        checked, written = import_jobs.progress_of(job)
        return self.render_template(
            "directory/import_job.html",
            job=job,
            kind_labels=KIND_LABELS,
            checked=checked,
            written=written,
            result=import_jobs.report_of(job),
        )

    @expose("/job/<int:pk>/status")
    @has_access
    def job_status(self, pk):
        job = self._job_or_404(pk)
        checked, written = import_jobs.progress_of(job)
        response = jsonify(
            state=job.state,
            state_label=job.state_label,
            finished=job.finished,
            checked=checked,
            written=written,
        )
        response.headers["Cache-Control"] = "no-store"
        return response

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
