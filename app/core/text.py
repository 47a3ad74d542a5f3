"""Text as users type, paste or upload it."""

import datetime as dt
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


# --- dates as documents write them ----------------------------------------------------------


def chinese_date(value) -> str:
    """`date(2026, 12, 1)` -> "2026年12月1日" (no leading zeros, as 公文 dates are written). A
    datetime counts as its day; an ISO text ("2026-12-01") is read first; None gives ""."""
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value.strip()[:10])
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        value = value.date()
    if not isinstance(value, dt.date):
        return ""
    return f"{value.year}年{value.month}月{value.day}日"


def chinese_date_range(start, end) -> str:
    """A period as documents write it: "2026年12月1日至2026年12月20日", one date when start and
    end are the same day, the one given when the other is missing."""
    first, last = chinese_date(start), chinese_date(end)
    if not first or not last or first == last:
        return first or last
    return f"{first}至{last}"


_ISO_RANGE = re.compile(r"(\d{4}-\d{2}-\d{2})(?:\s*(?:至|到|—|–|~|～)\s*(\d{4}-\d{2}-\d{2}))?")


def chinese_dates_in(text: str) -> str:
    """`text` with its ISO dates and ranges written as documents write them: "2026-12-01 至
    2026-12-01" -> "2026年12月1日", "2026-12-01 至 2026-12-05" -> "2026年12月1日至2026年12月5日"
    (a summary typed, or prefilled, before the system wrote dates that way)."""

    def rewrite(match: re.Match) -> str:
        start, end = match.group(1), match.group(2) or match.group(1)
        try:
            dt.date.fromisoformat(start), dt.date.fromisoformat(end)
        except ValueError:
            return match.group(0)
        return chinese_date_range(start, end)

    return _ISO_RANGE.sub(rewrite, text or "")
