"""Strings that Flask-AppBuilder shows but its zh catalogue lacks, leaves empty or marks fuzzy.

Listing them here puts them into our own catalogue (translations/zh) when strings are extracted;
Flask-Babel merges our catalogue over FAB's, so ours wins. tests/test_translations.py fails when
FAB shows a string that neither catalogue translates.
"""

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

FAB_CATALOGUE_GAPS = [
    _l("Add"),
    _l("Edit"),
    _l("Delete"),
    _l("Show"),
    _l("Cancel"),
    _l("OK"),
    _l("Yes"),
    _l("No"),
    _l("True"),
    _l("False"),
    _l("Database Error"),
    _l("Not a valid choice"),
    _l("Contains (insensitive)"),
    _l("Start with"),
    _l("In"),
    _l("Not In"),
    _l("Either select a role or a group"),
    _l("List Groups"),
    _l("Edit User Information"),
    _l("User information changed"),
    _l("Groups"),
    _l("The user's password for authentication"),
    _l("It's not a good policy to remove a user, just make it inactive"),
    _l("User(s) exists in the role, cannot delete"),
    _l("Show Group"),
    _l("Add Group"),
    _l("Edit Group"),
    _l("User(s) exists in the group, cannot delete"),
    _l("Are you sure you want to delete this item?"),
    _l("Sign In with "),
    _l("OpenID"),
    _l("Enter your OpenID Username"),
    _l(
        "Must have at least two capital letters, one special character, two digits, three lower "
        "case letters and a minimal length of 10."
    ),
]


def yes_no(value) -> str:
    """Booleans in lists and detail pages: 是 / 否 rather than Python's True / False."""
    if value is None:
        return ""
    return gettext("Yes") if value else gettext("No")


def relation_text(value):
    """A related row or a list of them as people write it: "—" for none, "甲、乙" for several.
    A row that renders itself as HTML (a target with its blacklist badge) keeps its markup."""
    if value is None:
        return "—"
    if isinstance(value, (list, tuple, set)):
        return Markup("、").join(escape(v) for v in value) or "—"
    return escape(value)


def minute_text(value) -> str:
    """A date and time to the minute ("2026-11-28 05:51"), or "—"."""
    if value is None:
        return "—"
    return value.strftime("%Y-%m-%d %H:%M")


def dash_if_empty(value):
    """ "—" where FAB would print None or nothing; any other value unchanged."""
    return "—" if value is None or value == "" else value


BLANK_CHOICE = _l("(choose)")


def name_the_blank_choice() -> None:
    """FAB's select of an optional related row starts with a blank choice whose text is empty;
    WTForms 3.3 prints an empty option text as its value, `__None`. The blank choice reads
    （请选择） instead, in every form FAB builds and in ours."""
    from flask_appbuilder.fields import QuerySelectField

    if getattr(QuerySelectField, "_blank_named", False):
        return
    original = QuerySelectField.__init__

    def __init__(self, *args, blank_text="", **kwargs):
        original(self, *args, blank_text=blank_text or BLANK_CHOICE, **kwargs)

    QuerySelectField.__init__ = __init__
    QuerySelectField._blank_named = True
