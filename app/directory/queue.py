"""The job queue of background imports: huey (a small, well-kept task queue) with its queue kept
in a database, so nothing but the databases we already run is needed on the intranet.

- PostgreSQL / MariaDB: huey's SqlStorage in the application's own database (tables huey_task,
  huey_schedule, huey_kv, huey_counter, created by our migrations); any number of app hosts and
  workers share it (rows are taken with FOR UPDATE SKIP LOCKED).
- SQLite: huey's SqliteStorage in a file of its own beside the database
  (instance/import-queue.db, or IMPORT_QUEUE_FILE): a running import holds the application
  database's write lock, and the next upload must still be able to queue its job.
- IMPORT_QUEUE=immediate (the tests): tasks run at once in the calling process.

The worker: `huey_consumer app.directory.queue.huey -w 1 -m 1` beside gunicorn, with the same
environment (DATABASE_URL, UPLOAD_FOLDER ...). See docs/operations.md.
"""

from __future__ import annotations

import os
from pathlib import Path

from huey import MemoryHuey, SqliteHuey
from huey.api import Huey
from huey.contrib.sql_huey import SqlStorage

from config import INSTANCE_DIR, database_url

QUEUE_NAME = "dsr-imports"
_TABLES = {
    "KV": "huey_kv",
    "Schedule": "huey_schedule",
    "Task": "huey_task",
    "Counter": "huey_counter",
}
_bound_app = None


class OurTablesSqlStorage(SqlStorage):
    """huey's SqlStorage with its tables named huey_* (its own names, e.g. `task`, are too
    general for a shared database) and created by our migrations, not at start."""

    def __init__(self, name="huey", database=None, **kwargs):
        super().__init__(name, database=database, create_tables=False, **kwargs)

    def create_models(self):
        models = super().create_models()
        for model in models:
            model._meta.set_table_name(_TABLES[model.__name__])
            model._meta.indexes = []
        return models


def peewee_url(sqlalchemy_url: str) -> str:
    """The SQLAlchemy URL of DATABASE_URL as peewee's db_url names the same database."""
    scheme, rest = sqlalchemy_url.split("://", 1)
    dialect = scheme.split("+", 1)[0]
    if dialect in ("postgresql", "postgres"):
        return f"psycopg3://{rest}"
    if dialect in ("mysql", "mariadb"):
        return f"mysql://{rest}"
    raise ValueError(f"no job queue for the database {dialect!r}")


def make_huey() -> Huey:
    mode = os.environ.get("IMPORT_QUEUE", "")
    if mode == "immediate":
        return MemoryHuey(QUEUE_NAME, immediate=True, results=False)
    url = database_url()
    if url.startswith("sqlite"):
        path = Path(os.environ.get("IMPORT_QUEUE_FILE", INSTANCE_DIR / "import-queue.db"))
        path.parent.mkdir(parents=True, exist_ok=True)
        queue = SqliteHuey(QUEUE_NAME, filename=str(path), results=False)
    else:
        queue = Huey(
            QUEUE_NAME, results=False, storage_class=OurTablesSqlStorage, database=peewee_url(url)
        )
    # No connection is kept open from here: gunicorn forks after loading the application.
    queue.storage.close()
    return queue


huey = make_huey()


def bind_app(app) -> None:
    """The application the tasks of this process run in (create_app() calls it)."""
    global _bound_app
    _bound_app = app


def _application():
    """The calling application when a task runs in its process (immediate mode: the tests, where
    several applications exist and the last one created is not always the caller), else the one
    this worker process made."""
    from flask import current_app, has_app_context

    if has_app_context():
        return current_app._get_current_object()
    if _bound_app is None:
        from app import create_app

        create_app()
    return _bound_app


@huey.task()
def run_import_job(job_id: int) -> None:
    from app.directory.import_jobs import execute

    with _application().app_context():
        execute(job_id)
