import datetime as dt

from flask import abort, flash, g, redirect, request, stream_with_context, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.core.audit import review, wording
from app.core.audit.models import AuditLog
from app.core.errors import DomainError
from app.core.request_checks import MAX_PAGE
from app.extensions import db
from app.security.base_views import AppModelView
from app.security.scope import ScopedInterface


class AuditLogView(AppModelView):
    """Read-only: no add, edit, delete or action is exposed, for anybody."""

    route_base = "/audit"
    datamodel = ScopedInterface(AuditLog)
    class_permission_name = "AuditLog"
    base_permissions = ["can_read"]
    list_title = _l("Audit log")
    show_title = _l("Audit log entry")
    label_columns = {
        "seq": _l("No."),
        "created_at": _l("Time"),
        "username": _l("User"),
        "username_label": _l("User"),
        "ip_label": _l("IP address"),
        "roles": _l("Roles"),
        "roles_shown": _l("Roles"),
        "ip": _l("IP address"),
        "action": _l("Action"),
        "action_label": _l("Action"),
        "object_type": _l("Object type"),
        "object_type_label": _l("Object type"),
        "object_id": _l("Object id"),
        "department_id": _l("Department"),
        "changes_html": _l("Changes"),
        "detail": _l("Details"),
        "detail_shown": _l("Details"),
        "prev_hash": _l("Hash of the previous entry"),
        "row_hash": _l("Hash of this entry"),
    }
    list_columns = [
        "seq",
        "created_at",
        "username_label",
        "ip_label",
        "action_label",
        "object_type_label",
        "object_id",
    ]
    show_columns = [
        "seq",
        "created_at",
        "username_label",
        "roles_shown",
        "ip_label",
        "action_label",
        "object_type_label",
        "object_id",
        "changes_html",
        "detail_shown",
        "prev_hash",
        "row_hash",
    ]
    search_columns = ["created_at", "username", "ip", "action", "object_type", "object_id"]
    order_columns = ["seq", "created_at"]
    base_order = ("seq", "desc")


class AuditReviewView(BaseView):
    """审计审阅: the audit administrator's review of everyone's audit log (app/core/audit/
    review.py): filters, security events flagged, CSV export, marks 已审阅 with a note. Reads
    and marks only: nothing here changes an audit row or a mark, and there is no REST API."""

    route_base = "/audit-review"
    class_permission_name = "AuditReview"
    method_permission_name = {
        "index": "read",
        "export": "read",
        "mark": "review",
        "mark_filtered": "review",
    }
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        try:
            chosen = review.ReviewFilter.from_args(request.args)
        except DomainError as exc:
            return self._page(review.ReviewFilter(), error=str(exc)), 400
        return self._page(chosen, number=_page_number())

    def _page(self, chosen, number=1, error=None):
        total = review.count(chosen) if error is None else 0
        rows = review.page(chosen, number) if total else []
        return self.render_template(
            "core/audit_review.html",
            values=request.args,
            chosen=chosen,
            rows=[(entry, mark, review.flagged(entry)) for entry, mark in rows],
            total=total,
            number=number,
            pages=max(1, -(-total // review.PAGE_SIZE)),
            error=error,
            actions=_choices(wording.ACTION_LABELS),
            object_types=_choices(wording.OBJECT_TYPE_LABELS),
            reviewer_name=lambda mark: wording.actor_name(mark.reviewer_id, mark.reviewer_username),
            bulk_limit=review.BULK_LIMIT,
            note_max=review.NOTE_MAX,
        )

    @expose("/export.csv")
    @has_access
    def export(self):
        from app.disclosure.exports import csv_response, requested_encoding

        try:
            chosen = review.ReviewFilter.from_args(request.args)
            requested_encoding()
        except DomainError as exc:
            flash(str(exc), "danger")
            return redirect(url_for(".index"))
        up_to = review.head_seq()
        rows = review.count(chosen, up_to)
        review.log_export(chosen, rows, up_to, request.args.get("encoding") or "utf-8")
        db.session.commit()
        name = f"审计日志审阅-{dt.date.today().isoformat()}.csv"
        headers = [str(h) for h in review.EXPORT_HEADERS]
        return csv_response(name, headers, stream_with_context(review.export_rows(chosen, up_to)))

    @expose("/mark/<int:seq>", methods=["POST"])
    @has_access
    def mark(self, seq):
        if seq > MAX_SEQ or not review.exists(seq):
            abort(404)
        note = request.form.get("note")
        return self._marking(
            "review_mark",
            lambda: review.check_note(note),
            lambda _checked: review.mark(seq, note, g.user),
            lambda _done: _("Audit entry No. %(seq)s is marked as reviewed.", seq=seq),
        )

    @expose("/mark-filtered", methods=["POST"])
    @has_access
    def mark_filtered(self):
        note = request.form.get("note")

        def checked():
            review.check_note(note)
            return review.ReviewFilter.from_args(request.form)

        return self._marking(
            "review_mark_filtered",
            checked,
            lambda chosen: review.mark_filtered(chosen, note, g.user),
            lambda done: _(
                "%(marked)s entries are marked as reviewed; %(left)s of this filter are not "
                "reviewed yet.",
                marked=done[0],
                left=done[1],
            ),
        )

    def _marking(self, step, check, operation, message):
        """A marking: the input checked first (a refusal is flashed), then asked (it cannot be
        undone: app/core/confirm.py), done and committed; back to the page of the filter."""
        from app.core.confirm import confirmation_page

        back = self._back()
        try:
            checked = check()
        except DomainError as exc:
            flash(str(exc), "danger")
            return redirect(back)
        page = confirmation_page(self, step, back)
        if page is not None:
            return page
        try:
            done = operation(checked)
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        else:
            flash(message(done), "success")
        return redirect(back)

    @staticmethod
    def _back() -> str:
        """The review page with the filter the form was sent from (a bad one: no filter)."""
        try:
            chosen = review.ReviewFilter.from_args(request.form)
        except DomainError:
            return url_for(".index")
        return url_for(".index", **chosen.args())


MAX_SEQ = 2**63 - 1  # BIGINT: a larger number in the URL names no entry


def _choices(labels: dict) -> list[tuple[str, str]]:
    """[(code, label)] of a select, by label."""
    return sorted(((code, str(label)) for code, label in labels.items()), key=lambda c: c[1])


def _page_number() -> int:
    try:
        number = int(request.args.get("page") or 1)
    except ValueError:
        return 1
    return min(max(number, 1), MAX_PAGE)
