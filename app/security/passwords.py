"""The password rule: at least 10 characters with letters and digits, and not the user's own
username. FAB's complexity hook sees the password alone, so the username part is a form
validator on each of the three forms that set a password (user add, reset mine, reset a user's).
"""

from flask import g, request
from flask_appbuilder.exceptions import PasswordComplexityValidationError
from flask_appbuilder.fieldwidgets import BS3PasswordFieldWidget
from flask_appbuilder.security.forms import ResetPasswordForm
from flask_appbuilder.validators import PasswordComplexityValidator
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import PasswordField
from wtforms.validators import DataRequired, EqualTo, ValidationError

MIN_LENGTH = 10
# A username this short inside a password is a coincidence, not a weakness: only equality counts.
SHORT_USERNAME = 4


def validate_password(password: str) -> None:
    """At least 10 characters with letters and digits: what the bureau's IT rules ask for,
    explained in Chinese (FAB's default rule and message are English-only)."""
    password = password or ""
    if (
        len(password) < MIN_LENGTH
        or not any(c.isalpha() for c in password)
        or not any(c.isdigit() for c in password)
    ):
        raise PasswordComplexityValidationError(
            _(
                "The password must have at least %(n)d characters, with letters and digits.",
                n=MIN_LENGTH,
            )
        )


def names_user(password: str, username: str | None) -> bool:
    """True when the password is the username, or contains it (ignoring case)."""
    password = (password or "").casefold()
    username = (username or "").strip().casefold()
    if not username:
        return False
    if len(username) < SHORT_USERNAME:
        return password == username
    return username in password


class NotTheUsername:
    """WTForms validator; `username_of(form)` says whose password the form sets."""

    def __init__(self, username_of):
        self.username_of = username_of

    def __call__(self, form, field):
        if names_user(field.data, self.username_of(form)):
            raise ValidationError(_("The password must not contain the username."))


def _typed_username(form):
    return form.username.data if hasattr(form, "username") else None


def _signed_in_username(form):
    return getattr(g.user, "username", None)


def user_named_in_request():
    """The user whose password ResetPasswordView sets: the one ?pk= names, or None."""
    from app.core.models import MAX_ROW_ID
    from app.extensions import db
    from app.security.models import User

    pk = request.args.get("pk", "")
    if not pk.isdigit() or int(pk) > MAX_ROW_ID:
        return None
    return db.session.get(User, int(pk))


def _username_of_pk_argument(form):
    user = user_named_in_request()
    return user.username if user is not None else None


def password_field(username_of, description, *more_validators):
    return PasswordField(
        _l("Password"),
        description=description,
        validators=[
            DataRequired(),
            PasswordComplexityValidator(),
            NotTheUsername(username_of),
            *more_validators,
        ],
        widget=BS3PasswordFieldWidget(),
    )


RULE_TEXT = _l(
    "At least 10 characters with letters and digits; it must not contain the username."
)

NEW_USER_PASSWORD = password_field(_typed_username, RULE_TEXT)


def _is_current_password(form, field):
    """A session left open (or taken over) must not be enough to change the password and so
    lock the owner out: the current one is asked for."""
    from werkzeug.security import check_password_hash

    stored = getattr(g.user, "password", None) or ""
    if not check_password_hash(stored, field.data or ""):
        raise ValidationError(_("This is not your current password."))


def _not_the_current_password(form, field):
    """A forced change (an expired password, one set by the administrator) must change it."""
    from werkzeug.security import check_password_hash

    stored = getattr(g.user, "password", None) or ""
    if field.data and check_password_hash(stored, field.data):
        raise ValidationError(_("The new password must differ from the current one."))


class ResetMyPasswordForm(ResetPasswordForm):
    # In this order on the page: current, new, new again.
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(), _is_current_password],
        widget=BS3PasswordFieldWidget(),
    )
    password = password_field(_signed_in_username, RULE_TEXT, _not_the_current_password)
    conf_password = PasswordField(
        _l("Confirm Password"),
        description=_l("Please rewrite the password to confirm"),
        validators=[EqualTo("password", message=_l("Passwords must match"))],
        widget=BS3PasswordFieldWidget(),
    )


class ResetUserPasswordForm(ResetPasswordForm):
    password = password_field(_username_of_pk_argument, RULE_TEXT)
