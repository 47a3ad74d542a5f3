from flask_appbuilder.exceptions import PasswordComplexityValidationError
from flask_babel import gettext as _

MIN_LENGTH = 10


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
