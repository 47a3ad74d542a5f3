"""Bulk imports as background jobs (issue 18): the upload page stores the file, records an
`ImportJob` and returns at once; a worker process (`huey_consumer`, app/directory/queue.py) runs
the import with the uploader's department scope, in one transaction, and the job's page shows its
progress and then the same report the synchronous page showed (the counts, or the row-numbered
errors). The CLI (`flask import …`) stays synchronous. A file in an office's own layout is
kept first for its preview (`store_upload`, "preview-" files, removed after a day when no one
confirms them) and queued by `submit_stored` with the header as the user confirmed it
(`options`: the mapping and the values for all rows, import_views.py).

- State: 排队中 (queued) → 进行中 (running) → 已完成 (done) or 失败 (failed: a refused file, with its
  error table, or a worker that died or raised, with the reason). Nothing is half-written: the
  rows and the job's 已完成 are committed together; anything else rolls the rows back.
- One job at a time per department and kind: `active_key` ("<department>:<kind>") is set while a
  job is queued or running and unique in the database, so a second upload is refused whatever
  the number of app processes.
- Progress (rows checked, rows written) and the heartbeat are written beside the import's own
  transaction: through a second database connection on PostgreSQL and MariaDB, and, on SQLite
  (where the import holds the only write lock), into a small JSON file next to the uploaded file
  (`UPLOAD_FOLDER/import-jobs/<id>.progress.json`, replaced atomically).
- Lease: a running job whose heartbeat is older than IMPORT_JOB_LEASE_SECONDS is marked 失败 by the
  next look at it (its page, its status, the next upload of its department), with the reason; a
  job queued longer than IMPORT_JOB_QUEUE_TIMEOUT_SECONDS (no worker running) too. A worker that
  finishes after its job was given up commits nothing (the final update is conditional).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import secrets
from pathlib import Path
from typing import BinaryIO

from flask import current_app, g, has_request_context, request
from flask_appbuilder import Model
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import relationship

from app.extensions import db
from app.security.models import user_department

log = logging.getLogger(__name__)

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
ACTIVE_STATES = (QUEUED, RUNNING)
STATE_LABELS = {
    QUEUED: _l("Queued"),
    RUNNING: _l("In progress"),
    DONE: _l("Completed"),
    FAILED: _l("Failed"),
}
CHUNK = 1 << 20


class ImportJob(Model):
    __tablename__ = "import_job"
    # Scoped like every department's row (write scope, the security tests); who may read a job
    # is `visible_clause`: this scope, and the uploader.
    __scope_column__ = "department_id"

    id = Column(Integer, primary_key=True)
    department_id = Column(Integer, ForeignKey("department.id"), nullable=True)
    kind = Column(String(20), nullable=False)
    filename = Column(String(255), nullable=False)
    sha256 = Column(String(64), nullable=False)
    stored_name = Column(String(80), nullable=False)
    user_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False)
    state = Column(String(10), nullable=False, default=QUEUED)
    # "<department id>:<kind>" while queued or running, NULL afterwards: unique, so that one
    # department runs one import of a kind at a time (NULLs do not collide on any database).
    active_key = Column(String(40), nullable=True, unique=True)
    rows_checked = Column(Integer, nullable=False, default=0)
    rows_written = Column(Integer, nullable=False, default=0)
    report = Column(Text, nullable=True)  # JSON: the ImportResult
    # JSON {"map": {source header: field}, "set": {field: value}}: the header as the user
    # confirmed it on the preview (app/directory/imports/mapping.py), or NULL
    options = Column(Text, nullable=True)
    error = Column(Text, nullable=True)  # why the job failed
    created_on = Column(DateTime, nullable=False)
    started_on = Column(DateTime, nullable=True)
    finished_on = Column(DateTime, nullable=True)
    heartbeat_on = Column(DateTime, nullable=True)

    department = relationship("Department")
    user = relationship("User")

    @property
    def state_label(self) -> str:
        return str(STATE_LABELS.get(self.state, self.state))

    @property
    def finished(self) -> bool:
        return self.state not in ACTIVE_STATES


# The queue's tables when huey keeps it in the application's database (PostgreSQL, MariaDB):
# huey's SqlStorage models under our names (app/directory/queue.py), owned by our migrations.
def _keyed_table(name: str, value_type) -> Table:
    return Table(
        name,
        Model.metadata,
        Column("queue", String(255), primary_key=True),
        Column("key", String(255), primary_key=True),
        Column("value", value_type, nullable=False),
    )


def _queued_table(name: str, *columns) -> Table:
    return Table(
        name,
        Model.metadata,
        Column("id", Integer, primary_key=True),
        Column("queue", String(255), nullable=False),
        Column("data", LargeBinary, nullable=False),
        *columns,
    )


HUEY_TABLES = (
    _keyed_table("huey_kv", LargeBinary),
    _queued_table("huey_schedule", Column("timestamp", BigInteger, nullable=False, index=True)),
    _queued_table("huey_task", Column("priority", Float, nullable=False)),
    _keyed_table("huey_counter", Integer),
)


class JobRefused(Exception):
    """The upload cannot be queued; the message is for the user."""

    def __init__(self, message: str, job: ImportJob | None = None):
        super().__init__(message)
        self.job = job


# --- settings and files ---------------------------------------------------------------------


def _now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


def lease_seconds() -> int:
    return int(current_app.config.get("IMPORT_JOB_LEASE_SECONDS", 60))


def queue_timeout_seconds() -> int:
    return int(current_app.config.get("IMPORT_JOB_QUEUE_TIMEOUT_SECONDS", 3600))


def job_folder() -> Path:
    folder = Path(current_app.config["UPLOAD_FOLDER"]) / "import-jobs"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def uses_progress_file() -> bool:
    return db.engine.dialect.name == "sqlite"


def _progress_path(job_id: int) -> Path:
    return job_folder() / f"{job_id}.progress.json"


def _read_progress_file(job_id: int) -> dict | None:
    try:
        return json.loads(_progress_path(job_id).read_text("utf-8"))
    except (OSError, ValueError):
        return None


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


# --- who sees a job -------------------------------------------------------------------------


def _home_department(user) -> int | None:
    return db.session.scalar(
        select(user_department.c.department_id)
        .where(user_department.c.user_id == user.id)
        .order_by(user_department.c.department_id)
        .limit(1)
    )


def visible_clause(user):
    """The jobs a user may see: their own, and those of the departments in their scope."""
    from app.security.scope import departments_in_scope

    scope = departments_in_scope(user)
    if scope is None:
        return None
    own = ImportJob.user_id == user.id
    return own | ImportJob.department_id.in_(scope) if scope else own


def visible_job(job_id: int, user) -> ImportJob | None:
    query = select(ImportJob).where(ImportJob.id == job_id)
    clause = visible_clause(user)
    if clause is not None:
        query = query.where(clause)
    return db.session.scalar(query)


def recent_jobs(user, limit: int = 10) -> list[ImportJob]:
    query = select(ImportJob).order_by(ImportJob.id.desc()).limit(limit)
    clause = visible_clause(user)
    if clause is not None:
        query = query.where(clause)
    jobs = list(db.session.scalars(query))
    for job in jobs:
        refresh(job)
    return jobs


# --- the web side: queue a file, look at a job ----------------------------------------------


def store_upload(stream: BinaryIO, filename: str, prefix: str = "") -> tuple[str, str]:
    """Keep an uploaded file in the job folder: (stored name, SHA-256). Files of previews
    left without a decision (prefix "preview-") are removed after a day."""
    if prefix:
        limit = dt.datetime.now().timestamp() - 86400
        for old in job_folder().glob(f"{prefix}*"):
            try:
                if old.stat().st_mtime < limit:
                    old.unlink()
            except OSError:
                pass
    stored_name = f"{prefix}{secrets.token_hex(16)}{Path(filename).suffix.lower()[:10]}"
    path = job_folder() / stored_name
    digest = hashlib.sha256()
    with path.open("wb") as out:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
            out.write(chunk)
    return stored_name, digest.hexdigest()


def submit(kind: str, stream: BinaryIO, filename: str, user, options=None) -> ImportJob:
    """Keep the file and queue its import; JobRefused when the department runs one already."""
    _refuse_if_running(kind, user)
    stored_name, sha256 = store_upload(stream, filename)
    return submit_stored(kind, stored_name, sha256, filename, user, options)


def _refuse_if_running(kind: str, user) -> None:
    running = db.session.scalar(select(ImportJob).where(ImportJob.active_key == _key(kind, user)))
    if running is not None:
        refresh(running)
        if not running.finished:
            raise JobRefused(_refusal(running), running)


def _key(kind: str, user) -> str:
    department_id = _home_department(user)
    return f"{department_id if department_id is not None else 'u' + str(user.id)}:{kind}"


def _with_address(options) -> dict:
    """The job's options with the uploader's address: the worker's audit rows name it, not
    the command line (the worker runs outside any request)."""
    options = dict(options or {})
    if has_request_context():
        options["ip"] = request.remote_addr
    return options


def submit_stored(
    kind: str, stored_name: str, sha256: str, filename: str, user, options=None
) -> ImportJob:
    """Queue the import of a file kept by store_upload, with the header as the user confirmed
    it (`options`: {"map": ..., "set": ...}, app/directory/imports/mapping.py). The file is
    the job's from now on (removed when the job ends or is refused)."""
    department_id = _home_department(user)
    key = _key(kind, user)
    path = job_folder() / stored_name
    try:
        _refuse_if_running(kind, user)
    except JobRefused:
        _remove(path)
        raise
    job = ImportJob(
        department_id=department_id,
        kind=kind,
        filename=filename[:255],
        sha256=sha256,
        options=json.dumps(_with_address(options), ensure_ascii=False),
        stored_name=stored_name,
        user_id=user.id,
        state=QUEUED,
        active_key=key,
        created_on=_now(),
    )
    db.session.add(job)
    try:
        db.session.commit()
    except IntegrityError:
        # Another upload of the department won the race between the check and the insert.
        db.session.rollback()
        _remove(path)
        running = db.session.scalar(select(ImportJob).where(ImportJob.active_key == key))
        raise JobRefused(_refusal(running), running) from None
    except OperationalError:
        # SQLite: another department's import holds the database's only write lock.
        db.session.rollback()
        _remove(path)
        raise JobRefused(
            _("The database is busy writing another import: upload the file again in a while.")
        ) from None
    from app.directory.queue import run_import_job

    try:
        run_import_job(job.id)
    except Exception:
        log.exception("import job %s could not be queued", job.id)
        db.session.rollback()
        _fail(job.id, _("The import could not be queued: the job queue is not reachable."))
        db.session.commit()
        db.session.refresh(job)
    return job


def _refusal(job: ImportJob | None) -> str:
    if job is None:
        return _("Another import of your department is running: wait until it has finished.")
    from app.core.audit.wording import person_name
    from app.directory.imports import KIND_LABELS

    return _(
        "Another import of %(kind)s for your department is %(state)s (%(file)s, uploaded by "
        "%(user)s at %(time)s): wait until it has finished, then upload the file again.",
        kind=KIND_LABELS.get(job.kind, job.kind),
        state=job.state_label,
        file=job.filename,
        user=person_name(job.user) if job.user else "—",
        time=job.created_on.strftime("%H:%M"),
    )


def progress_of(job: ImportJob) -> tuple[int, int]:
    """Rows checked and written as the worker last said."""
    if job.state == RUNNING and uses_progress_file():
        side = _read_progress_file(job.id)
        if side:
            return int(side.get("checked", 0)), int(side.get("written", 0))
    return job.rows_checked or 0, job.rows_written or 0


def _heartbeat_of(job: ImportJob) -> dt.datetime | None:
    beat = job.heartbeat_on
    if uses_progress_file():
        side = _read_progress_file(job.id)
        if side and side.get("heartbeat"):
            side_beat = dt.datetime.fromisoformat(side["heartbeat"])
            beat = max(beat, side_beat) if beat else side_beat
    return beat


def refresh(job: ImportJob) -> ImportJob:
    """Mark a job whose worker is gone (no heartbeat within the lease) or that no worker took
    up as 失败, committed at once. A job that is fine is left as it is."""
    if job.finished:
        return job
    now = _now()
    reason = None
    if job.state == RUNNING:
        beat = _heartbeat_of(job) or job.started_on or job.created_on
        if (now - beat).total_seconds() > lease_seconds():
            reason = _(
                "The worker running this import stopped (no sign of life for more than "
                "%(n)d seconds). Nothing was written: upload the file again.",
                n=lease_seconds(),
            )
    elif (now - job.created_on).total_seconds() > queue_timeout_seconds():
        reason = _(
            "No import worker took this job up within %(n)d minutes. Nothing was written: ask "
            "the system administrator to start the import worker, then upload the file again.",
            n=queue_timeout_seconds() // 60,
        )
    if reason is None:
        return job
    job_id = job.id
    try:
        if _fail(job_id, reason, expected=job.state):
            db.session.commit()
            _remove(job_folder() / job.stored_name)
            _remove(_progress_path(job_id))
        else:
            db.session.rollback()
    except OperationalError:
        # SQLite: the worker holds the write lock, so it is alive after all.
        db.session.rollback()
    db.session.refresh(job)
    return job


def _fail(job_id: int, reason: str, *, expected: str | None = None, report=None) -> bool:
    query = update(ImportJob).where(ImportJob.id == job_id)
    query = query.where(
        ImportJob.state == expected if expected else ImportJob.state.in_(ACTIVE_STATES)
    )
    values = {
        "state": FAILED,
        "active_key": None,
        "error": reason,
        "finished_on": _now(),
    }
    if report is not None:
        values["report"] = report
    return db.session.execute(query.values(**values)).rowcount == 1


# --- the report -----------------------------------------------------------------------------


def report_json(result) -> str:
    return json.dumps(
        {
            "kind": result.kind,
            "filename": result.filename,
            "sha256": result.sha256,
            "rows": result.rows,
            "created": result.created,
            "updated": result.updated,
            "error_count": result.error_count,
            "errors": [[e.row, e.column, e.reason] for e in result.errors],
            "notices": list(result.notices),
        },
        ensure_ascii=False,
    )


def report_of(job: ImportJob):
    """The job's ImportResult (for the page's counts or error table), or None."""
    if not job.report:
        return None
    from app.directory.imports import ImportResult, RowError

    data = json.loads(job.report)
    return ImportResult(
        kind=data["kind"],
        filename=data["filename"],
        sha256=data.get("sha256"),
        rows=data["rows"],
        created=data["created"],
        updated=data["updated"],
        errors=[RowError(*e) for e in data["errors"]],
        error_count=data["error_count"],
        notices=data.get("notices", []),
    )


# --- the worker side ------------------------------------------------------------------------


class _Progress:
    """Rows checked/written and the heartbeat, beside the import's transaction."""

    def __init__(self, job_id: int):
        self.job_id = job_id
        self.to_file = uses_progress_file()
        self.connection = None if self.to_file else db.engine.connect()

    def __call__(self, checked: int, written: int) -> None:
        now = _now()
        if self.to_file:
            path = _progress_path(self.job_id)
            temporary = path.with_suffix(".tmp")
            temporary.write_text(
                json.dumps({"checked": checked, "written": written, "heartbeat": now.isoformat()}),
                "utf-8",
            )
            os.replace(temporary, path)
            return
        self.connection.execute(
            update(ImportJob.__table__)
            .where(ImportJob.__table__.c.id == self.job_id)
            .values(rows_checked=checked, rows_written=written, heartbeat_on=now)
        )
        self.connection.commit()

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
        _remove(_progress_path(self.job_id))


def execute(job_id: int) -> None:
    """Run one queued job (in the worker, inside an application context)."""
    from app.directory.imports import import_file, record_refusal

    claimed = db.session.execute(
        update(ImportJob)
        .where(ImportJob.id == job_id, ImportJob.state == QUEUED)
        .values(state=RUNNING, started_on=_now(), heartbeat_on=_now())
    ).rowcount
    db.session.commit()
    if claimed != 1:
        return  # given up already, or taken by another worker
    job = db.session.get(ImportJob, job_id)
    path = job_folder() / job.stored_name
    kind, filename, job_sha256 = job.kind, job.filename, job.sha256
    options = json.loads(job.options) if job.options else {}
    previous_user = g.get("user")
    g.user = job.user
    g.audit_ip = options.get("ip")  # the uploader's address on the job's audit rows
    g.pop("_department_scope", None)
    progress = _Progress(job_id)
    try:
        try:
            with path.open("rb") as stream:
                result = import_file(
                    kind,
                    stream,
                    filename,
                    progress=progress,
                    mapping=options.get("map"),
                    fixed=options.get("set"),
                )
        except FileNotFoundError:
            db.session.rollback()
            _fail(job_id, _("The uploaded file is no longer on the server: upload it again."))
            db.session.commit()
            return
        except Exception:
            log.exception("import job %s failed", job_id)
            db.session.rollback()
            _fail(
                job_id,
                _(
                    "The import stopped on an internal error. Nothing was written: upload the "
                    "file again, and tell the system administrator if it happens again."
                ),
            )
            db.session.commit()
            return
        report = report_json(result)
        written = result.created + result.updated
        if result.ok:
            done = db.session.execute(
                update(ImportJob)
                .where(ImportJob.id == job_id, ImportJob.state == RUNNING)
                .values(
                    state=DONE,
                    active_key=None,
                    rows_checked=result.rows,
                    rows_written=written,
                    report=report,
                    finished_on=_now(),
                    heartbeat_on=_now(),
                )
            ).rowcount
            if done == 1:
                db.session.commit()
            else:
                db.session.rollback()  # the job was given up meanwhile: write nothing
            return
        db.session.rollback()
        result.sha256 = result.sha256 or job_sha256  # a file refused before it was read
        record_refusal(kind, filename, result)
        db.session.execute(
            update(ImportJob)
            .where(ImportJob.id == job_id)
            .values(rows_checked=result.rows, rows_written=0)
        )
        _fail(
            job_id,
            _(
                "Nothing was imported from %(file)s: %(n)d error(s).",
                file=filename,
                n=result.error_count,
            ),
            report=report,
        )
        db.session.commit()
    finally:
        progress.close()
        _remove(path)
        g.user = previous_user
        g.pop("audit_ip", None)
        g.pop("_department_scope", None)
