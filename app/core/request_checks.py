"""Checks every request passes before any view runs."""

import re

from flask import abort, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import BadRequest

from app.core.models import MAX_ROW_ID
from app.core.text import has_lone_surrogates

NUL_MESSAGE = _l(
    "The request contains an invisible control character (NUL); type or paste the text again."
)


class NulCharacter(BadRequest):
    """A NUL character in a URL argument or a form field: PostgreSQL cannot hold or compare
    it (a search or a uniqueness check would fail in the database), and no user means it."""

    user_message = NUL_MESSAGE


def refuse_nul_characters():
    for values in (request.args, request.form):
        for _key, value in values.items(multi=True):
            if "\x00" in value:
                raise NulCharacter()


def refuse_impossible_row_ids():
    """A row id in the path (FAB's `<pk>` routes take it as text) beyond the id columns' range
    names no row: 404, before PostgreSQL would fail on comparing it."""
    for key, value in (request.view_args or {}).items():
        if key != "pk" and not key.endswith("_id"):
            continue
        text = str(value)
        if text.lstrip("-").isdigit() and abs(int(text)) > MAX_ROW_ID:
            abort(404)


# FAB's paging arguments on its pages (page_<View>=N, psize_<View>=N): it converts them with
# int() and hands them to the database, so a word is a 500 and a negative number a negative
# OFFSET (a 500 on PostgreSQL). No page of ours makes such links.
_PAGING = re.compile(r"^(page|psize)_\w+$")
MAX_PAGE = 10**9
MAX_PAGE_SIZE = 100  # FAB's page size menu offers 25 to 100


def refuse_bad_paging():
    for key, value in request.args.items(multi=True):
        match = _PAGING.match(key)
        if match is None:
            continue
        text = value.strip()
        low, high = (0, MAX_PAGE) if match.group(1) == "page" else (1, MAX_PAGE_SIZE)
        if not text.isdigit() or not low <= int(text) <= high:
            abort(400)


DEEP_JSON_MESSAGE = _l("The JSON body is nested too deeply to be read.")


class DeepJson(BadRequest):
    """Python's json parser recurses once per nesting level: a body of ten thousand `[` raises
    RecursionError, which neither Werkzeug nor FAB expects (a 500)."""

    user_message = DEEP_JSON_MESSAGE


# No body of ours nests more than two levels (an object holding a list of ids); code that walks
# a parsed body recursively (marshmallow, FAB) must never meet thousands of levels either.
MAX_JSON_DEPTH = 32


class DeepQuery(BadRequest):
    """The REST API's `q` argument (Rison): prison recurses per level too, and FAB catches
    only its ParserException."""

    user_message = _l("The q argument is nested too deeply to be read.")


def refuse_deep_json():
    """Parse a JSON body once, before any view: deeper than MAX_JSON_DEPTH is a 400; the parsed
    body is cached for the view (a malformed body stays for the view to answer, as before).
    The same for the REST API's Rison `q` argument."""
    query = request.args.get("q") if request.path.startswith("/api/") else None
    if query:
        import prison

        try:
            parsed = prison.loads(query)
        except RecursionError:
            raise DeepQuery() from None
        except Exception:  # noqa: BLE001  (malformed: FAB answers it as before)
            parsed = None
        if json_depth(parsed) > MAX_JSON_DEPTH:
            raise DeepQuery()
    if not request.is_json:
        return
    try:
        body = request.get_json(silent=True)
    except RecursionError:
        raise DeepJson() from None
    if json_depth(body) > MAX_JSON_DEPTH:
        raise DeepJson()
    if any(has_lone_surrogates(text) for text in json_strings(body)):
        raise LoneSurrogates()


class LoneSurrogates(BadRequest):
    """A JSON body may spell half of a UTF-16 pair ("\\udfff"): no text holds it and it cannot
    be encoded for the database or a response (a 500). Refused anywhere in the body, keys too,
    before any view. (Control characters and noncharacters in a field's value are refused by
    the REST API with the field's name: AppModelRestApi._control_characters.)"""

    user_message = _l(
        "The request contains characters that are not text (a lone surrogate); type or paste "
        "the text again."
    )


def json_strings(value):
    """Every key and text value of a parsed JSON value, at any depth, without recursion."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            yield node
        elif isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def json_depth(value) -> int:
    """Nesting depth of a parsed JSON value (a scalar is 0), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = (
            node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        )
        if children is None:
            continue
        deepest = max(deepest, depth)
        if depth > MAX_JSON_DEPTH:
            break
        stack.extend((child, depth + 1) for child in children)
    return deepest
