"""Checks every request passes before any view runs."""

from flask import request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import BadRequest

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
