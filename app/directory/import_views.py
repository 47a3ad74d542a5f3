"""The bulk import page of 一单两库: upload a CSV or XLSX file of targets, inspectors or items;
the import runs as a background job (import_jobs.py) whose page shows its progress and then the
counts or the row-numbered error table; download the templates.

A file whose header is not our template's exactly (an office's own list: 淄博's, 南昌's) opens
the preview first (issue 19): how each column of the file is read (a select per column to
change it, or 忽略), "为所有行填写" for the required fields the file lacks, the first rows as
they will be read (generated 事项编码 included); nothing is written until 确认导入 queues the job
with that mapping. A file with our template's header is queued at once, as before (the upload
returns the job's page: the browser tests of the jobs rely on it)."""

from __future__ import annotations

import re

from flask import abort, flash, g, jsonify, redirect, request, session, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from sqlalchemy import select

from app.core.audit.wording import person_name
from app.core.downloads import send_named
from app.core.uploads import TableFile, UploadError
from app.directory import import_jobs
from app.directory.imports import (
    COLUMNS,
    IMPORTERS,
    KIND_LABELS,
    KINDS,
    MAX_ERRORS,
    SHEET_TITLES,
    column_note,
    template_csv,
    template_xlsx,
)
from app.directory.imports.mapping import (
    IGNORE,
    all_columns,
    is_template_header,
    normalise_header,
)
from app.directory.imports.remembered import remembered_mapping
from app.directory.imports.validation import _blank, split_ratio_frequency
from app.extensions import db
from app.security.models import Department, user_department
from app.security.scope import departments_in_scope

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PREVIEW_KEY = "directory_import_preview"
PREVIEW_ROWS = 10
# A value for all rows (为所有行填写): the preview keeps them in the session cookie, which a
# browser drops over 4 KB (the preview would then stop following the form without a word).
MAX_FIXED_LENGTH = 100
_STORED_RE = re.compile(r"^preview-[0-9a-f]{32}(\.[a-z0-9]{1,9})?$")


def _header_row(path) -> list | None:
    """The file's first non-empty row, or None when it cannot be read (the job says why)."""
    try:
        with path.open("rb") as stream:
            rows = TableFile(stream).rows()
            try:
                for _number, values in rows:
                    if not all(_blank(v) for v in values):
                        return list(values)
            finally:
                rows.close()
    except (UploadError, OSError, ValueError):
        return None
    return None


def _own_single_department(user):
    """The code of the user's department when they have exactly one."""
    rows = db.session.execute(
        select(Department.code)
        .join(user_department, user_department.c.department_id == Department.id)
        .where(user_department.c.user_id == user.id)
    ).all()
    return rows[0][0] if len(rows) == 1 else None


def _scope_departments(user) -> list:
    query = select(Department).order_by(Department.sort_order, Department.id)
    scope = departments_in_scope(user)
    if scope is not None:
        query = query.where(Department.id.in_(scope or [-1]))
    return list(db.session.scalars(query))


class _FormRefused(Exception):
    """The preview's form asks for what the page does not offer (the message says what)."""


class DirectoryImportView(BaseView):
    route_base = "/directory-import"
    class_permission_name = "DirectoryImport"
    method_permission_name = {
        "form": "read",
        "template": "read",
        "upload": "write",
        "job": "read",
        "job_status": "read",
        "preview": "write",
        "repreview": "write",
        "confirm": "write",
        "cancel_preview": "write",
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
                person_name=person_name,
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
        stored_name, sha256 = import_jobs.store_upload(upload.stream, upload.filename, "preview-")
        path = import_jobs.job_folder() / stored_name
        header = _header_row(path)
        if header is not None and not is_template_header(COLUMNS[kind], header):
            # An office's own header: the preview first, nothing queued yet.
            self._drop_preview()
            session[PREVIEW_KEY] = {
                "kind": kind,
                "filename": upload.filename[:255],
                "stored": stored_name,
                "sha256": sha256,
                "map": {
                    name: attr
                    for name, attr in remembered_mapping(kind, g.user).items()
                    if name in {normalise_header(v) for v in header}
                },
                "set": {},
            }
            return redirect(url_for(".preview"))
        return self._queue(kind, stored_name, sha256, upload.filename, None)

    def _queue(self, kind, stored_name, sha256, filename, options):
        try:
            job = import_jobs.submit_stored(kind, stored_name, sha256, filename, g.user, options)
        except import_jobs.JobRefused as refused:
            flash(str(refused), "danger")
            if refused.job is not None and import_jobs.visible_job(refused.job.id, g.user):
                return redirect(url_for(".job", pk=refused.job.id))
            return redirect(url_for(".form", kind=kind))
        return redirect(url_for(".job", pk=job.id))

    # --- the preview of an office's own header ---

    def _pending(self):
        pending = session.get(PREVIEW_KEY)
        if (
            not isinstance(pending, dict)
            or pending.get("kind") not in KINDS
            or not _STORED_RE.match(str(pending.get("stored", "")))
            or not (import_jobs.job_folder() / pending["stored"]).exists()
        ):
            return None
        return pending

    def _drop_preview(self, remove_file: bool = True) -> None:
        pending = session.pop(PREVIEW_KEY, None)
        if remove_file and isinstance(pending, dict):
            stored = str(pending.get("stored", ""))
            if _STORED_RE.match(stored):
                path = import_jobs.job_folder() / stored
                if path.exists():
                    path.unlink()

    def _options_from_form(self, pending) -> dict:
        """The mapping (normalised source header -> field or 忽略) and the values for all rows
        as the preview's form sends them; unknown mapped fields are left out. A value for a
        field the page did not offer, or longer than MAX_FIXED_LENGTH, is refused
        (_FormRefused, in Chinese)."""
        kind = pending["kind"]
        columns = all_columns(IMPORTERS[kind].columns, kind)
        fields = {column.attr for column in columns}
        headers = {column.attr: column.header for column in columns}
        offered = set(pending.get("offer") or ()) & fields
        for key in request.form:
            if key.startswith("set-") and request.form.get(key, "").strip():
                attr = key[len("set-") :]
                if attr not in offered:
                    raise _FormRefused(
                        _(
                            "The form fills in a field this page does not ask for: nothing "
                            "was changed."
                        )
                    )
                if len(request.form[key].strip()) > MAX_FIXED_LENGTH:
                    raise _FormRefused(
                        _(
                            "%(field)s: at most %(max)d characters. Nothing was changed.",
                            field=headers[attr],
                            max=MAX_FIXED_LENGTH,
                        )
                    )
        header = _header_row(import_jobs.job_folder() / pending["stored"]) or []
        mapping = {}
        for index, value in enumerate(header):
            name = normalise_header(value)
            chosen = request.form.get(f"map-{index}")
            if name and chosen is not None and (chosen == IGNORE or chosen in fields):
                mapping[name] = chosen
        fixed = {}
        for attr in offered:
            value = request.form.get(f"set-{attr}", "").strip()
            if value:
                fixed[attr] = value
        mapped = {attr for name, attr in mapping.items() if attr}
        fixed = {attr: value for attr, value in fixed.items() if attr not in mapped}
        return {"map": mapping, "set": fixed}

    def _preview_page(self, pending, status: int = 200, problem: str | None = None):
        kind = pending["kind"]
        importer_class = IMPORTERS[kind]
        columns = all_columns(importer_class.columns, kind)
        path = import_jobs.job_folder() / pending["stored"]
        fixed = dict(pending.get("set") or {})
        header = _header_row(path) or []
        department = next(c for c in columns if c.attr == "department_id")
        # The department defaults to the user's own when they have exactly one.
        single = _own_single_department(g.user)
        with path.open("rb") as stream:
            importer = importer_class(pending.get("map"), fixed)
            plan, rows, result = importer.preview(stream, pending["filename"], PREVIEW_ROWS)
        if (
            plan is not None
            and department.header in plan.missing
            and single is not None
            and "department_id" not in fixed
        ):
            fixed["department_id"] = single
            with path.open("rb") as stream:
                importer = importer_class(pending.get("map"), fixed)
                plan, rows, result = importer.preview(stream, pending["filename"], PREVIEW_ROWS)
        db.session.rollback()  # a preview writes nothing
        chosen = {index: column.attr for index, column in (plan.read if plan else [])}
        fill = []
        if plan is not None:
            # The required fields the file lacks, and those filled in already (a USCC or a
            # citizen ID is never the same for all rows: a file lacking both is refused).
            wanted = {*plan.missing, *(c.header for c in columns if c.attr in plan.fixed)}
            fill = [c for c in columns if c.header in wanted]
        # What the next post of this page may fill in (_options_from_form).
        offer = sorted(c.attr for c in fill)
        if pending.get("offer") != offer:
            pending["offer"] = offer
            session[PREVIEW_KEY] = pending
        shown = [c for c in columns if c.type != "ratio_frequency"]
        missing = set(plan.missing) if plan is not None else set()
        # The fields the page asks for below are not repeated as errors of the header and of
        # each row.
        header_errors = [
            e for e in result.errors if not (missing and e.row is not None and e.column == "—")
        ]
        rows = [
            (number, values, [(c, r) for c, r in errors if c not in missing])
            for number, values, errors in rows
        ]
        unsplit = []
        if plan is not None and "ratio_and_frequency" in plan.sources:
            index = next(i for i, c in plan.read if c.attr == "ratio_and_frequency")
            unsplit = self._unsplit_rows(path, index, [number for number, _v, _e in rows])
        return (
            self.render_template(
                "directory/import_preview.html",
                kind=kind,
                kind_labels=KIND_LABELS,
                pending=pending,
                header=[
                    (index, value.strip() if isinstance(value, str) else str(value or ""))
                    for index, value in enumerate(header)
                ],
                chosen=chosen,
                columns=columns,
                plan=plan,
                rows=rows,
                result=result,
                header_errors=header_errors,
                missing=[c for c in columns if c.header in missing],
                fill=fill,
                fixed=fixed,
                shown=shown,
                generated="code" in IMPORTERS[kind].generated
                and plan is not None
                and "code" not in plan.sources
                and "code" not in plan.fixed,
                departments=_scope_departments(g.user),
                problem=problem,
                unsplit=unsplit,
                preview_rows=PREVIEW_ROWS,
                max_fixed_length=MAX_FIXED_LENGTH,
            ),
            status,
        )

    @staticmethod
    def _unsplit_rows(path, index: int, numbers: list[int]) -> list[int]:
        """The previewed rows whose 抽查比例和频次 has no clear pattern (kept whole as 抽查频次)."""
        wanted, found = set(numbers), []
        if not wanted:
            return found
        last = max(wanted)
        with path.open("rb") as stream:
            lines = TableFile(stream).rows()
            try:
                for number, values in lines:
                    if number in wanted and index < len(values) and not _blank(values[index]):
                        if not split_ratio_frequency(str(values[index]))[2]:
                            found.append(number)
                    if number >= last:  # a row after the last shown is not read (nor refused)
                        break
            finally:
                lines.close()
        return found

    @expose("/preview", methods=["GET"])
    @has_access
    def preview(self):
        pending = self._pending()
        if pending is None:
            return self._expired()
        return self._preview_page(pending)[0]

    @staticmethod
    def _expired():
        flash(_("The preview has expired: upload the file again."), "warning")
        return redirect(url_for(".form"))

    def _pending_from_form(self):
        """The pending preview with the form's mapping and values, or None; _FormRefused
        leaves the session's preview as it was."""
        pending = self._pending()
        if pending is not None:
            pending.update(self._options_from_form(pending))
            session[PREVIEW_KEY] = pending
        return pending

    def _posted_preview(self):
        """(pending preview with the form's values, None) or (None, the page answering a
        refused form or an expired preview)."""
        try:
            pending = self._pending_from_form()
        except _FormRefused as refused:
            return None, self._preview_page(self._pending(), 400, str(refused))
        if pending is None:
            return None, self._expired()
        return pending, None

    @expose("/preview", methods=["POST"])
    @has_access
    def repreview(self):
        pending, answer = self._posted_preview()
        return answer or self._preview_page(pending)

    @expose("/preview/confirm", methods=["POST"])
    @has_access
    def confirm(self):
        pending, answer = self._posted_preview()
        if answer is not None:
            return answer
        kind = pending["kind"]
        with (import_jobs.job_folder() / pending["stored"]).open("rb") as stream:
            plan, _rows, result = IMPORTERS[kind](pending["map"], pending["set"]).preview(
                stream, pending["filename"], 0
            )
        db.session.rollback()
        department = pending["set"].get("department_id")
        if department and department not in {d.code for d in _scope_departments(g.user)}:
            # The form offers the departments in scope only; a value sent by hand is refused
            # here rather than by the job after it was queued.
            return self._preview_page(
                pending,
                400,
                _(
                    "Nothing was imported: %(value)s is not a department you may import for. "
                    "Choose one of the list.",
                    value=department,
                ),
            )
        if plan is None or plan.errors or plan.missing or not result.ok:
            return self._preview_page(
                pending,
                400,
                _(
                    "Nothing was imported: the header still lacks required fields or has a "
                    "problem (see above)."
                ),
            )
        self._drop_preview(remove_file=False)
        options = {"map": pending["map"], "set": pending["set"]}
        return self._queue(kind, pending["stored"], pending["sha256"], pending["filename"], options)

    @expose("/preview/cancel", methods=["POST"])
    @has_access
    def cancel_preview(self):
        pending = self._pending()
        kind = pending["kind"] if pending else "targets"
        self._drop_preview()
        return redirect(url_for(".form", kind=kind))

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
            person_name=person_name,
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
