"""R13.1: every answer that names a drawn target (or an inspector assignment) of an unpublished
task leaves one `view_confidential` row in the audit log, whatever the route.

One place decides and writes:
- a model whose pages name drawn targets declares it: `__names_drawn_targets__ = True`, the
  task found through its `task_id` column or a classmethod `drawn_task_ids(ids)` returning a
  SELECT of task ids for the given row ids;
- `AppModelView` (lists and show pages) and `AppModelRestApi` (lists and items) call
  `log_rows_viewed` for every answer of such a model, so a new view of one logs by itself;
- custom pages (the task page, prints and DOCX, my-assignments, the credit record) call
  `log_confidential_view(task_ids, what)` with the tasks they name.
Rows are collected during the request and written after it, in one transaction, only when the
answer succeeded (`write_pending`, an after_request hook). Tasks already published, and tasks
never drawn, are not confidential and log nothing."""

from __future__ import annotations

from flask import g, has_request_context, request
from sqlalchemy import inspect, select

from app.extensions import db

_PENDING = "_confidential_views"


def drawn_task_ids(model, ids) -> set[int]:
    """The tasks the rows `ids` of `model` name drawn targets of (empty for other models)."""
    # Page routes give the primary key as text: PostgreSQL refuses to compare it with INTEGER.
    ids = [int(i) for i in ids if i is not None and str(i).isdigit()]
    if not ids or not getattr(model, "__names_drawn_targets__", False):
        return set()
    hook = getattr(model, "drawn_task_ids", None)
    if hook is not None:
        query = hook(ids)
    else:
        pk = inspect(model).primary_key[0]
        query = select(model.task_id).where(pk.in_(ids))
    return {t for t in db.session.scalars(query) if t is not None}


def log_confidential_view(task_ids, what: str) -> None:
    """Remember that this answer names the drawn lists of these tasks (ids or tasks)."""
    ids = {getattr(t, "id", t) for t in task_ids if t is not None}
    if not ids or not has_request_context():
        return
    pending = g.setdefault(_PENDING, {})
    for task_id in ids:
        pending.setdefault(int(task_id), what)


def log_rows_viewed(model, ids, what: str) -> None:
    log_confidential_view(drawn_task_ids(model, ids), what)


def write_pending(response):
    """after_request: one view_confidential row per unpublished drawn task the answer named."""
    pending = g.pop(_PENDING, None)
    if not pending or response.status_code >= 400:
        return response
    from app.core.audit import log_event
    from app.draws.models import Draw
    from app.planning.models import PUBLISHED_TASK_STATUSES, SpotCheckTask

    try:
        tasks = db.session.scalars(
            select(SpotCheckTask)
            .where(
                SpotCheckTask.id.in_(pending),
                SpotCheckTask.status.not_in(PUBLISHED_TASK_STATUSES),
                SpotCheckTask.id.in_(select(Draw.task_id)),
            )
            .order_by(SpotCheckTask.id)
        ).all()
        for task in tasks:
            log_event(
                "view_confidential",
                "spot_check_task",
                task.id,
                department_id=task.department_id,
                detail={"what": pending[task.id], "task": task.number, "path": request.path},
            )
        if tasks:
            db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return response
