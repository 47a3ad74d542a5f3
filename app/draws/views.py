"""Draw pages and REST resources: run a task's draws, show and verify them, draw substitutes."""

from __future__ import annotations

from flask import Response, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.api import protect, safe
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.core import api_fields as f
from app.core.confirm import confirm_message, confirmation_page
from app.core.downloads import attach
from app.core.errors import DomainError
from app.draws import services
from app.draws.confidential import log_confidential_view
from app.draws.models import SUBSTITUTION_REASONS, Assignment, Draw
from app.extensions import db
from app.planning.models import SpotCheckTask
from app.security.base_views import (
    API_METHOD_PERMISSIONS,
    AppModelRestApi,
    AppModelView,
    form_integer,
    takes,
)
from app.security.scope import ScopedInterface, ensure_in_scope

LABELS = {
    "task": _l("Task"),
    "kind_label": _l("Kind"),
    "status_label": _l("Status"),
    "mode": _l("Mode"),
    "mode_label": _l("Mode"),
    "witnesses": _l("Witnesses (监督人)"),
    "pool_size": _l("Pool size"),
    "pool_hash": _l("Pool hash"),
    "commitment": _l("Commitment"),
    "record_hash": _l("Record hash"),
    "drawn_at": _l("Drawn at"),
    "created_by": _l("Drawn by"),
    "cancel_reason": _l("Reason for cancelling"),
}


def _log_confidential_view(draw: Draw, what: str) -> None:
    """R13: every view and export of an unpublished draw leaves an audit row."""
    log_confidential_view([draw.task_id], what)


class DrawView(AppModelView):
    """Read-only: a draw is never edited or deleted, by anybody."""

    route_base = "/draws"
    datamodel = ScopedInterface(Draw)
    class_permission_name = "Draw"
    base_permissions = ["can_read"]
    list_title = _l("Draws (摇号)")
    show_title = _l("Draw")
    label_columns = LABELS
    list_columns = ["task", "kind_label", "status_label", "pool_size", "drawn_at", "created_by"]
    show_columns = [
        "task",
        "kind_label",
        "status_label",
        "cancel_reason",
        "mode_label",
        "witnesses",
        "pool_size",
        "pool_hash",
        "commitment",
        "record_hash",
        "drawn_at",
        "created_by",
    ]
    search_columns = ["task", "kind", "status"]
    order_columns = ["pool_size", "drawn_at"]
    base_order = ("id", "desc")
    show_template = "draws/draw_show.html"

    def render_template(self, template, **kwargs):
        if template == self.show_template and "pk" in kwargs:
            draw = self.datamodel.get(kwargs["pk"])
            if draw is not None:
                _log_confidential_view(draw, "page")
                kwargs.update(
                    draw=draw,
                    result=draw.result_data(),
                    reasons=SUBSTITUTION_REASONS,
                    assignments=_assignments(draw),
                    used_up=services.used_up_members(draw),
                )
        return super().render_template(template, **kwargs)


def _assignments(draw: Draw):
    if draw.kind != "inspector":
        return []
    return db.session.scalars(
        select(Assignment)
        .where(Assignment.draw_id == draw.id)
        .order_by(Assignment.target_id, Assignment.position, Assignment.id)
    ).all()


class TaskDrawView(BaseView):
    """Run a task's draws (one step, or two steps with witnesses), substitutes, verification."""

    route_base = "/task-draw"
    class_permission_name = "Draw"
    method_permission_name = {
        "draw_targets": "draw",
        "draw_inspectors": "draw",
        "witnessed": "draw",
        "substitute": "draw",
        # 补充摇号 is a Leader's (separation of duties: the Operator edits the roster), under
        # the Leader's permission to correct a draw, as a cancellation.
        "supplement": "cancel",
        "cancel": "cancel",
        "verify": "read",
        "record_json": "read",
        "site_record": "read",
    }
    default_view = "verify"

    def _task(self, pk) -> SpotCheckTask:
        return ensure_in_scope(db.session.get(SpotCheckTask, pk))

    def _draw(self, pk) -> Draw:
        return ensure_in_scope(db.session.get(Draw, pk))

    def _ask_first(self, step, task, kind="target"):
        # A draw the timing rule refuses is refused at once: nobody is asked to confirm a step
        # that cannot be done.
        not_open = services.target_draw_not_open(task) if kind == "target" else None
        if not_open:
            flash(not_open, "danger")
            return redirect(url_for("SpotCheckTaskView.show", pk=task.id))
        return confirmation_page(self, step, url_for("SpotCheckTaskView.show", pk=task.id))

    def _one_step(self, task, kind):
        try:
            # A one-step draw whose commitment is on record but whose completion failed (the
            # database went away in between) is completed now, never committed anew: nobody
            # can get a second secret by provoking failures.
            draw = db.session.scalar(
                select(Draw).where(
                    Draw.task_id == task.id,
                    Draw.kind == kind,
                    Draw.status == "committed",
                    Draw.mode == "one_step",
                )
            )
            if draw is None:
                draw = services.start_draw(task, kind)
                db.session.commit()  # the commitment is on record before any result exists
            services.complete_draw(draw)
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
            return redirect(url_for("SpotCheckTaskView.show", pk=task.id))
        flash(_("Draw completed."), "success")
        return redirect(url_for("DrawView.show", pk=draw.id))

    @expose("/<int:pk>/targets", methods=["POST"])
    @has_access
    def draw_targets(self, pk):
        task = self._task(pk)
        return self._ask_first("draw_targets", task) or self._one_step(task, "target")

    @expose("/<int:pk>/inspectors", methods=["POST"])
    @has_access
    def draw_inspectors(self, pk):
        task = self._task(pk)
        return self._ask_first("draw_inspectors", task, "inspector") or self._one_step(
            task, "inspector"
        )

    @expose("/<int:pk>/witnessed", methods=["GET", "POST"])
    @has_access
    def witnessed(self, pk):
        """Step 1 freezes the pool, writes the commitment to the public draw ledger and shows
        its entry to the witnesses; step 2 takes the entropy they chose (or the declared
        public source's result, once it is out) and draws. `?kind=inspector` for the
        inspector draw."""
        task = self._task(pk)
        kind = "inspector" if request.args.get("kind") == "inspector" else "target"
        draw = db.session.scalar(
            select(Draw).where(
                Draw.task_id == task.id, Draw.kind == kind, Draw.status == "committed"
            )
        )
        if request.method == "POST":
            page = self._ask_first("draw_commit" if draw is None else "draw_complete", task, kind)
            if page is not None:
                return page
            try:
                if draw is None:
                    source = (request.form.get("entropy_source") or "").strip()
                    draw = services.start_draw(
                        task,
                        kind,
                        request.form.get("witnesses"),
                        mode="public" if source else "witnessed",
                        entropy_source=source,
                    )
                    db.session.commit()
                else:
                    services.complete_draw(draw, request.form.get("entropy"))
                    db.session.commit()
                    flash(_("Draw completed."), "success")
                    return redirect(url_for("DrawView.show", pk=draw.id))
            except DomainError as exc:
                db.session.rollback()
                flash(str(exc), "danger")
        from app.draws import ledger

        commit = ledger.entry_of(draw.uid, "commit") if draw is not None else None
        not_open = services.target_draw_not_open(task) if kind == "target" else None
        return self.render_template(
            "draws/witnessed.html",
            task=task,
            draw=draw,
            kind=kind,
            commit=commit,
            not_open=not_open,
        )

    def _replace(self, pk, operation, step="substitute", done=None):
        draw = self._draw(pk)
        page = confirmation_page(self, step, url_for("DrawView.show", pk=draw.id))
        if page is not None:
            return page
        try:
            replacement = operation(
                draw,
                form_integer("target_id", 0, _("Target")),
                form_integer("inspector_id", 0, _("Inspector")),
                request.form.get("reason", ""),
                request.form.get("note", ""),
            )
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        else:
            name = replacement.inspector.name
            message = done(name) if done else _("%(name)s replaces the inspector.", name=name)
            flash(message, "success")
        return redirect(url_for("DrawView.show", pk=draw.id))

    @expose("/draw/<int:pk>/substitute", methods=["POST"])
    @has_access
    def substitute(self, pk):
        return self._replace(pk, services.substitute_inspector)

    @expose("/draw/<int:pk>/supplement", methods=["POST"])
    @has_access
    def supplement(self, pk):
        """补充摇号: the ranking is used up; draw the substitute from today's roster."""
        return self._replace(
            pk,
            services.supplementary_draw,
            "supplement",
            lambda name: _(
                "Supplementary draw (补充摇号): %(name)s replaces the inspector.", name=name
            ),
        )

    @expose("/draw/<int:pk>/cancel", methods=["GET", "POST"])
    @has_access
    def cancel(self, pk):
        draw = self._draw(pk)
        if request.method == "POST":
            try:
                services.cancel_draw(draw, request.form.get("reason", ""))
                db.session.commit()
            except DomainError as exc:
                db.session.rollback()
                flash(str(exc), "danger")
            else:
                flash(_("The draw is cancelled; the task can be drawn again."), "success")
                return redirect(url_for("DrawView.show", pk=draw.id))
        return self.render_template(
            "directory/reason_form.html",
            title=_("Cancel the unfinished draw of %(number)s", number=draw.task.number),
            prompt=_("Why is the draw cancelled?"),
            warning=confirm_message("cancel_draw"),
        )

    @expose("/draw/<int:pk>/verify", methods=["GET"])
    @has_access
    def verify(self, pk):
        draw = self._draw(pk)
        problems = services.verify_draw(draw) if draw.status == "done" else [_("Not completed.")]
        if problems:
            for problem in problems:
                flash(problem, "danger")
        else:
            flash(_("VALID: every hash and the selection were recomputed and match."), "success")
        return redirect(url_for("DrawView.show", pk=draw.id))

    @expose("/draw/<int:pk>/record.json", methods=["GET"])
    @has_access
    def record_json(self, pk):
        draw = self._draw(pk)
        _log_confidential_view(draw, "record export")
        return attach(
            Response(services.record_json(draw), mimetype="application/json"),
            *draw.download_names(),
        )

    @expose("/draw/<int:pk>/site-record", methods=["GET"])
    @has_access
    def site_record(self, pk):
        """摇号现场记录: the A4 page the witnesses and the operator sign (issue 16 item 8)."""
        from app.draws.site_record import site_record_html

        draw = self._draw(pk)
        _log_confidential_view(draw, "site record")
        return site_record_html(draw)


class MyAssignmentsView(BaseView):
    """An inspector's own targets: only theirs, never the whole list (R13, R3.2)."""

    route_base = "/my-assignments"
    class_permission_name = "MyAssignments"
    method_permission_name = {"index": "read"}
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        from app.directory.models import Inspector

        rows = db.session.scalars(
            select(Assignment)
            .join(Inspector, Inspector.id == Assignment.inspector_id)
            .where(Inspector.user_id == g.user.id, Assignment.active.is_(True))
            .order_by(Assignment.task_id, Assignment.target_id)
        ).all()
        from app.inspections.services import work_of

        drawn, records, summaries = work_of(rows)
        log_confidential_view({row.task_id for row in rows}, "my assignments")
        return self.render_template(
            "draws/my_assignments.html",
            rows=rows,
            drawn=drawn,
            records=records,
            summaries=summaries,
        )


class DrawApi(AppModelRestApi):
    """`draw` resource: read-only rows, the verifiable record, substitutes."""

    resource_name = "draw"
    datamodel = ScopedInterface(Draw)
    class_permission_name = "Draw"
    include_route_methods = {"get", "get_list", "info", "record", "substitute", "supplement"}
    method_permission_name = {
        **API_METHOD_PERMISSIONS,
        "record": "read",
        "substitute": "draw",
        "supplement": "cancel",  # a Leader's, as on the page
    }
    list_columns = [
        "id",
        "uid",
        "task.id",
        "task.number",
        "kind",
        "status",
        "pool_size",
        "pool_hash",
        "commitment",
        "record_hash",
        "drawn_at",
    ]
    show_columns = [*list_columns, "mode", "witnesses"]
    label_columns = {**LABELS, "uid": _l("Draw number")}
    # Never the secret, pool, result or witness entropy: a filter or sort on them answers
    # whether a guess is right (issue 15).
    search_columns = ["uid", "task", "kind", "status", "mode", "drawn_at"]
    order_columns = ["id", "kind", "status", "pool_size", "drawn_at"]

    def get_headless(self, pk, **kwargs):
        draw = self.datamodel.get(pk)
        if draw is not None:
            _log_confidential_view(draw, "api")
        return super().get_headless(pk, **kwargs)

    @expose("/<int:pk>/record", methods=["GET"])
    @protect()
    @safe
    def record(self, pk):
        """The verifiable JSON record; `server_secret` only once the results are published."""
        draw = self.datamodel.get(pk)
        if draw is None:
            return self.response_404()
        _log_confidential_view(draw, "api record")
        return self.response(200, result=services.record(draw))

    @expose("/<int:pk>/substitute", methods=["POST"])
    @takes(**f.REPLACEMENT)
    @protect()
    @safe
    def substitute(self, pk):
        """递补抽取: {"target_id", "inspector_id", "reason": 病假/公务冲突/回避/其他, "note"}."""

        return self._replace(pk, services.substitute_inspector)

    @expose("/<int:pk>/supplement", methods=["POST"])
    @takes(**f.REPLACEMENT)
    @protect()
    @safe
    def supplement(self, pk):
        """补充摇号, when the draw's ranking has nobody left for the target: the substitute is
        drawn from today's roster (docs/draw-protocol.md §12a). The same body as substitute."""
        return self._replace(pk, services.supplementary_draw)

    def _replace(self, pk, replace):
        def operation(draw, body):
            replace(
                draw,
                body.integer("target_id"),
                body.integer("inspector_id"),
                body.get("reason", ""),
                body.get("note", ""),
            )

        return self.run_workflow(pk, operation)
