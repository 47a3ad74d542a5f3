"""Text as users type, paste or upload it."""

import datetime as dt
import re

from flask_babel import lazy_gettext as _l

# C0 control characters other than tab, line feed and carriage return: nothing a user means to
# type, PostgreSQL refuses NUL outright, and they garble exports and printed documents.
# Also Unicode noncharacters (U+FDD0–U+FDEF and the last two code points of every plane, such as
# U+FFFE and U+FFFF) and lone surrogates (a JSON "\\udfff"): no text means them, XML (XLSX, DOCX)
# cannot hold them and a lone surrogate cannot even be encoded as UTF-8 for the database.
_NONCHARACTERS = "\ufdd0-\ufdef" + "".join(
    f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(17)
)
_CONTROL = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff{_NONCHARACTERS}]")
# What XML 1.0 cannot hold at all (tab, LF and CR it can): an export writes text without it.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
CONTROL_CHARACTERS = _l("Contains invisible control characters; type or paste it again.")


def has_control_characters(value) -> bool:
    return isinstance(value, str) and _CONTROL.search(value) is not None


_SURROGATE = re.compile("[\ud800-\udfff]")


def has_lone_surrogates(value) -> bool:
    return isinstance(value, str) and _SURROGATE.search(value) is not None


def without_control_characters(value: str) -> str:
    return _CONTROL.sub("", value)


def xml_safe(value):
    """`value` with every character XML 1.0 cannot hold removed (a row saved before such
    characters were refused must not break an export); anything not text as it is."""
    return _NOT_XML.sub("", value) if isinstance(value, str) else value


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
