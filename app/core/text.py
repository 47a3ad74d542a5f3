"""Text as users type, paste or upload it."""

import re

from flask_babel import lazy_gettext as _l

# C0 control characters other than tab, line feed and carriage return: nothing a user means to
# type, PostgreSQL refuses NUL outright, and they garble exports and printed documents.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
CONTROL_CHARACTERS = _l("Contains invisible control characters; type or paste it again.")


def has_control_characters(value) -> bool:
    return isinstance(value, str) and _CONTROL.search(value) is not None


def without_control_characters(value: str) -> str:
    return _CONTROL.sub("", value)
