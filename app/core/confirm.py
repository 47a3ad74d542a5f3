"""Irreversible steps ask first (issue 17, finding 4).

One mechanism for every page step that cannot be undone (a draw, a publication, a filing, a
Leader's final decision ...):

- the page's form carries `{{ confirm_step("publish_results") }}`, a `data-confirm` attribute
  with the step's message; `static/js/confirm_step.js` shows it in a dialog and, on 确定, sends
  the form with `confirm=1`;
- the view calls `confirmation_page(view, "publish_results", back_url)` after loading the row
  (so a row out of scope is still a 404): without `confirm=1` in the form it answers a page with
  the same message, the same fields and a 确定 button, and nothing is done. A form sent without
  JavaScript therefore never fires silently.

The REST API takes no confirm field: a client calling a workflow endpoint has decided already.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import request
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

# step → (what will happen, and that it cannot be undone). Shared by the dialog and the page.
STEPS = {
    "draw_targets": _l(
        "The targets are drawn now and the drawn list is recorded for good: a draw cannot be "
        "repeated or undone. Draw the targets?"
    ),
    "draw_inspectors": _l(
        "The inspectors are drawn now for every drawn target and the groups are recorded for "
        "good: a draw cannot be repeated or undone. Draw the inspectors?"
    ),
    "draw_commit": _l(
        "The pool and the commitment are frozen now and published in the public draw ledger: "
        "this cannot be withdrawn (an unfinished draw can only be cancelled, with its reason on "
        "record). Continue?"
    ),
    "draw_complete": _l(
        "The draw is made now with the entropy entered and its result is recorded for good: it "
        "cannot be repeated or undone. Draw?"
    ),
    "substitute": _l(
        "The inspector is replaced by the next one in the draw's ranking; the replacement and its "
        "reason stay on record and cannot be undone. Replace the inspector?"
    ),
    "supplement": _l(
        "A supplementary inspector draw (补充摇号) ranks today's roster at random now; the "
        "inspector drawn replaces this member, in the record and the public draw ledger, and it "
        "cannot be undone. Draw?"
    ),
    # Asked in the dialog only: a confirmation page cannot carry the chosen files again.
    "attach_evidence": _l(
        "The chosen files are attached to the record as evidence and cannot be deleted "
        "afterwards (R10.2: the evidence is kept as taken). Attach them?"
    ),
    "cancel_draw": _l(
        "The unfinished draw is cancelled; the cancellation and its reason stay visible in the "
        "draw ledger and cannot be undone."
    ),
    "publish_plan": _l(
        "The plan is published on the public website now and cannot be withdrawn (a later change "
        "is a recorded adjustment). Publish the plan?"
    ),
    "file_plan": _l(
        "The filing (备案) of exactly this plan with the joint-meeting office is recorded now, with "
        "today's date and the file's fingerprint; it cannot be undone. Record the filing?"
    ),
    "decide_task": _l(
        "The Leader's decision on this check outside the plan is recorded now with your opinion "
        "and cannot be changed. Record the decision?"
    ),
    "publish_results": _l(
        "After publication the inspection results appear on the public website and cannot be "
        "withdrawn; the draws' secrets are revealed. Publish the results?"
    ),
    "archive_task": _l(
        "After archiving nothing of this task can be changed any more, by anyone. Archive the task?"
    ),
    "approve_summary": _l(
        "The summary report is approved now as submitted; an approved summary cannot be returned "
        "or changed. Approve?"
    ),
    "blacklist_decision": _l(
        "The Leader's decision is recorded now with its document number and takes effect on the "
        "target at once (draws treat a listed target as special); it cannot be undone. Record the "
        "decision?"
    ),
    "blacklist_refuse": _l("The proposal is refused for good; this cannot be undone. Refuse?"),
    "blacklist_dismiss": _l(
        "The suggestion is set aside for good; this cannot be undone. Set it aside?"
    ),
    "blacklist_publish": _l(
        "The listing is published on the public blacklist now and cannot be withdrawn. Publish?"
    ),
    "publish_revision": _l(
        "The revision replaces the published item on the public list now; this cannot be "
        "undone. Publish the revision?"
    ),
    "retire_item": _l(
        "A retired item leaves the public item list and is no longer drawn; retiring cannot be "
        "undone."
    ),
    "close_case": _l(
        "The rectification case is closed with this outcome; this cannot be undone. Close it?"
    ),
    "close_follow_up": _l("The follow-up is closed for good; this cannot be undone. Close it?"),
    "review_mark": _l(
        "The entry is marked as reviewed with your note, and the marking is recorded in the audit "
        "log: a mark cannot be changed or removed. Mark it?"
    ),
    "review_mark_filtered": _l(
        "Every entry of this filter not yet reviewed (at most 500 at a time, the oldest first) is "
        "marked as reviewed with your note, and the marking is recorded in the audit log: marks "
        "cannot be changed or removed. Mark them?"
    ),
}


def confirm_message(step: str) -> str:
    return str(STEPS[step])


def confirm_step(step: str) -> Markup:
    """The form attribute that makes `static/js/confirm_step.js` ask first."""
    return Markup(' data-confirm="%s"') % escape(confirm_message(step))


def confirmed() -> bool:
    return request.form.get("confirm") == "1"


def _same_site(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    if parts.netloc and parts.netloc != request.host:
        return None
    if parts.scheme not in ("", "http", "https"):
        return None
    # A path of one leading "/" only: "//evil.example/x" or "/\\evil.example" is another site
    # to a browser (which also drops tabs and line breaks from a URL first).
    path = parts.path
    if any(ch in url for ch in "\t\r\n") or not path.startswith("/") or path[1:2] in ("/", "\\"):
        return None
    return path + (f"?{parts.query}" if parts.query else "")


def confirmation_page(view, step: str, back_url: str):
    """None once the step is confirmed; otherwise the confirmation page (nothing is done)."""
    if request.method != "POST" or confirmed():
        return None
    return asking_page(view, confirm_message(step), back_url)


def asking_page(view, message: str, back_url: str):
    """The confirmation page for `message`: the request's form fields again, with confirm=1,
    posted to the same URL (a FAB list action's `action` and `rowid`s too)."""
    fields = [
        (name, value)
        for name, value in request.form.items(multi=True)
        if name not in ("csrf_token", "confirm")
    ]
    return view.render_template(
        "core/confirm_step.html",
        message=message,
        action=request.full_path.rstrip("?"),
        fields=fields,
        back_url=_same_site(request.referrer) or back_url,
    )


def init_confirm(app) -> None:
    from app.core.decisions import decisions_of

    app.jinja_env.globals["confirm_step"] = confirm_step
    app.jinja_env.globals["decisions_of"] = decisions_of
