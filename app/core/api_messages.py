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
    # FAB's own answers (flask_appbuilder/api/__init__.py and security/decorators.py).
    (r"Not found", _l("Not found")),
    (r"OK", _l("Deleted.")),
    (r"Not authorized", _l("Not signed in, or the sign-in has expired.")),
    (r"Forbidden", _l("You may not do this.")),
    (r"Arguments are not correct", _l("The request's arguments are not correct.")),
    (r"Could not process entity", _l("The data could not be processed.")),
    (r"Internal error|Fatal error", _l("The server failed. Try again or tell the administrator.")),
    (r"Request (payload )?is not JSON", _l("The request body is not JSON.")),
    (r"Database exception occurred: .*", _l("The database could not save these data.")),
    (r"Not a valid rison(/json)? argument", _l("The query parameter q is not valid rison.")),
    (
        r"Not a valid rison schema (?P<detail>.*)",
        _l("The query parameter q is not valid: %(detail)s"),
    ),
]
# The detail of a rison schema refusal (jsonschema's English): the parameter's problem.
_SCHEMA_PATTERNS = [
    (r"(?P<value>.*) is not of type '(?P<type>\w+)'", _l("%(value)s is not %(type)s.")),
    (r"(?P<value>.*) is less than the minimum of (?P<n>\S+)", _l("%(value)s is less than %(n)s.")),
    (
        r"(?P<value>.*) is greater than the maximum of (?P<n>\S+)",
        _l("%(value)s is more than %(n)s."),
    ),
    (r"(?P<value>.*) is not one of .*", _l("%(value)s is not one of the allowed values.")),
    (
        r"Additional properties are not allowed \((?P<value>.*) (was|were) unexpected\)",
        _l("Unknown parameter: %(value)s."),
    ),
]
_TYPES = {
    "object": _l("an object"),
    "integer": _l("a whole number"),
    "number": _l("a number"),
    "string": _l("text"),
    "array": _l("a list"),
    "boolean": _l("true or false"),
}
_OTHER_DETAIL = _l("see the API's documentation of q.")
_COMPILED = [(re.compile(f"^{pattern}$", re.S), message) for pattern, message in _PATTERNS]
_SCHEMA_COMPILED = [(re.compile(f"^{p}$", re.S), message) for p, message in _SCHEMA_PATTERNS]


def _matched(compiled, text: str):
    for pattern, message in compiled:
        match = pattern.match(text.strip())
        if match:
            return message, match.groupdict()
    return None, None


def _schema_detail(text: str) -> str:
    message, groups = _matched(_SCHEMA_COMPILED, text)
    if message is None:
        return str(_OTHER_DETAIL)
    if "type" in groups:
        groups["type"] = str(_TYPES.get(groups["type"], groups["type"]))
    return str(message) % groups


def translate(messages):
    """The same structure, every known English message replaced by ours."""
    if isinstance(messages, dict):
        return {key: translate(value) for key, value in messages.items()}
    if isinstance(messages, (list, tuple)):
        return [translate(value) for value in messages]
    if isinstance(messages, str):
        message, groups = _matched(_COMPILED, messages)
        if message is not None:
            if "detail" in groups:
                groups["detail"] = _schema_detail(groups["detail"])
            return str(message) % groups if groups else str(message)
    return messages
