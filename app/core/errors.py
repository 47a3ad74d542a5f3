"""Errors the user is told about: refused business rules (DomainError) and the error pages
(403, 404, ..., and 503 when the database cannot be reached), for pages and the REST API alike.
"""

from flask import current_app, g, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException


class DomainError(ValueError):
    """A business rule refused an operation. The message is for the user (translated); views
    flash it, the REST API answers 422 with it, the CLI prints it. Nothing is written."""


TITLES = {
    400: _l("The request could not be understood."),
    403: _l("You do not have permission to do this."),
    404: _l("The page or record does not exist, or you may not see it."),
    405: _l("This operation is not allowed here."),
    413: _l("The upload is too large."),
    429: _l("Too many attempts. Please wait a moment and try again."),
    500: _l("An internal error occurred. It has been logged; please try again later."),
}


def _specific(error, code):
    """What the user can do about the error, where the title alone does not say it."""
    from flask_wtf.csrf import CSRFError

    if isinstance(error, CSRFError):
        # A form left open too long (the token expired) or opened before signing in again.
        return _(
            "The page has expired or was opened in another session. Go back, reload the page "
            "and submit it again."
        )
    if code == 413:
        return _(
            "The upload is too large: files of at most %(mb)d MB are accepted.",
            mb=current_app.config.get("MAX_UPLOAD_MB", 20),
        )
    return TITLES.get(code, _("Error"))


def error_page(error):
    """The page (or, under /api/, the JSON) for an HTTP error; an exception may carry its own
    `user_message`."""
    from flask_login import current_user

    code = error.code if isinstance(error, HTTPException) else 500
    # Errors raised before FAB's before_request (a CSRF failure) leave g.user unset, and the
    # page's menu needs it.
    if not hasattr(g, "user"):
        g.user = current_user
    message = getattr(error, "user_message", None) or _specific(error, code)
    if request.path.startswith("/api/"):
        return {"message": str(message)}, code
    if request.path == "/public" or request.path.startswith("/public/"):
        # A visitor of the public pages (not signed in) stays in their layout: no staff menu.
        return render_template("public/error.html", message=message), code
    appbuilder = current_app.appbuilder
    return (
        render_template(
            "error.html",
            code=code,
            message=message,
            appbuilder=appbuilder,
            base_template=appbuilder.base_template,
        ),
        code,
    )


def database_unavailable(error):
    """The database went away (restart, network, a killed connection): the transaction is lost
    as a whole, so nothing was saved. Say so plainly, without the menu (rendering it needs the
    database); the next request gets a fresh connection (pool_pre_ping). Other database errors
    are a 500."""
    from app.core.locks import LOCK_CONFLICT, is_lock_conflict
    from app.extensions import db

    if is_lock_conflict(error):
        # Another request holds the lock (SQLite's "database is locked", a lock timeout, a
        # deadlock): nothing was saved, and trying again in a moment works.
        db.session.rollback()
        message = str(LOCK_CONFLICT)
        if request.path.startswith("/api/"):
            return {"message": message}, 409
        return render_template("public/error.html", message=message), 409
    if not (isinstance(error, (OperationalError, InterfaceError)) or error.connection_invalidated):
        return error_page(error)
    current_app.logger.warning("database unavailable: %s", error.__class__.__name__)
    try:
        db.session.rollback()
    except DBAPIError:
        pass
    db.session.remove()
    message = _(
        "The database cannot be reached at the moment. Nothing was saved: please try again in a minute."
    )
    if request.path.startswith("/api/"):
        return {"message": message}, 503
    return render_template("public/error.html", message=message), 503


def register_error_pages(app) -> None:
    for code in TITLES:
        app.register_error_handler(code, error_page)
    app.register_error_handler(DBAPIError, database_unavailable)
