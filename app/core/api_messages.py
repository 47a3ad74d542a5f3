"""marshmallow's and FAB's validation messages of the REST API in the interface language: they
are written in English in the libraries, outside any catalogue. `translate(messages)` maps the
messages FAB answers with ({"field": ["Not a valid date."]}) to ours, keeping the field names
(the API's contract) and passing unknown text through unchanged."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l

_PATTERNS = [
    (r"Missing data for required field\.", _l("Required.")),
    (r"Field may not be null\.", _l("May not be empty.")),
    (r"Unknown field\.", _l("Unknown field.")),
    (r"Longer than maximum length (?P<n>\d+)\.", _l("At most %(n)s characters.")),
    (r"Shorter than minimum length (?P<n>\d+)\.", _l("At least %(n)s characters.")),
    (r"Not a valid integer\.", _l("Not a whole number.")),
    (r"Not a valid number\.", _l("Not a number.")),
    (r"Number too large\.", _l("The number is too large.")),
    (r"Special numeric values \(nan or infinity\) are not permitted\.", _l("Not a number.")),
    (r"Not a valid date\.", _l("Not a date: write YYYY-MM-DD.")),
    (r"Not a valid datetime\.", _l("Not a date and time: write YYYY-MM-DD HH:MM:SS.")),
    (r"Not a valid boolean\.", _l("Not true or false.")),
    (r"Not a valid string\.", _l("Not text.")),
    (r"Not a valid utf-8 string\.", _l("Not text.")),
    (r"Not a valid list\.", _l("Not a list.")),
    (r"Not a valid mapping type\.", _l("Not an object.")),
    (r"Invalid (type|value|input type)\.", _l("Invalid value.")),
    (r"Must be one of: (?P<choices>.*)\.", _l("Must be one of: %(choices)s.")),
    (r"Not a valid choice\.?", _l("Not one of the choices.")),
    (r"(Related object|Record|Item) not found\.?", _l("No such record.")),
]
_COMPILED = [(re.compile(f"^{pattern}$"), message) for pattern, message in _PATTERNS]


def translate(messages):
    """The same structure, every known English message replaced by ours."""
    if isinstance(messages, dict):
        return {key: translate(value) for key, value in messages.items()}
    if isinstance(messages, (list, tuple)):
        return [translate(value) for value in messages]
    if isinstance(messages, str):
        for pattern, message in _COMPILED:
            match = pattern.match(messages.strip())
            if match:
                return str(message) % match.groupdict() if match.groupdict() else str(message)
    return messages
