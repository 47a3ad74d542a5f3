"""Validation of Chinese identifiers, in the style of python-stdnum.

Two identifiers, one section each, with the same verbs:

* :class:`USCC` -- unified social credit code (统一社会信用代码,
  GB 32100-2015), identifies inspected enterprises and organisations;
* :class:`CitizenID` -- citizen identity number (公民身份号码, GB 11643-1999),
  identifies natural persons (inspectors, legal representatives).

Both live in one module, so each section is a class used as a namespace
(``USCC.validate(code)``) instead of a stdnum-style module of its own.

The verbs:

* ``compact(code)`` removes whitespace and hyphens and upper-cases letters;
* ``calc_check_digit(body17)`` returns the check character for 17 characters;
* ``validate(code)`` returns the compacted code or raises an
  :class:`InvalidIdentifier` subclass that names the offending position;
* ``is_valid(code)`` returns a bool;
* ``format(code)`` returns the presentation form (the compacted code).

Checks run in a fixed order -- length, characters (first bad position),
birth date (citizen ID only), check character -- so the reported position
is the most useful one to show next to a form field.

>>> USCC.validate('91350100 M000100Y43')
'91350100M000100Y43'
>>> CitizenID.validate('11010519491231002x')
'11010519491231002X'
>>> try:
...     USCC.validate('91350100M000100Y42')
... except InvalidUSCC as exc:
...     print(exc.position, exc)
18 The check character (position 18) of the unified social credit code is “2” but should be “3”
"""

import datetime

from flask_babel import lazy_gettext as _l


class InvalidIdentifier(ValueError):
    """An identifier failed validation.

    ``position`` is the 1-based position of the offending character in the
    compacted code (None when the code as a whole is wrong, e.g. its length);
    ``message`` is a lazily translated string, so the exception can be raised
    outside a request and still render in the user's language later.
    """

    def __init__(self, message, position=None):
        super().__init__(message)
        self.message = message
        self.position = position

    def __str__(self):
        return str(self.message)


class InvalidUSCC(InvalidIdentifier):
    """A unified social credit code failed validation."""


class InvalidCitizenID(InvalidIdentifier):
    """A citizen identity number failed validation."""


def _compact(code):
    # Only ASCII is upper-cased: str.upper() can turn one character into
    # several (e.g. "ß" -> "SS"), which would shift the reported positions.
    # Non-ASCII characters are never valid anyway and get reported as such.
    code = "".join((code or "").split()).replace("-", "")
    if code.isascii():
        return code.upper()
    return "".join(c.upper() if c.isascii() else c for c in code)


# ---------------------------------------------------------------------------
# Unified social credit code (统一社会信用代码), GB 32100-2015
# ---------------------------------------------------------------------------


class USCC:
    """Unified social credit code: 18 characters, the last a mod-31 check.

    Only length, alphabet and check character are verified: the registration
    authority and organisation type codes (positions 1-2) keep growing, so
    restricting them would reject real codes.

    >>> USCC.compact('9135 0100-m000 100y43')
    '91350100M000100Y43'
    >>> USCC.calc_check_digit('91350100M000100Y4')
    '3'
    >>> USCC.is_valid('91350100M000100Y43')
    True
    >>> USCC.is_valid('91350100M000100Y4O')
    False
    >>> try:
    ...     USCC.validate('91350I00M000100Y43')
    ... except InvalidUSCC as exc:
    ...     print(exc.position, exc)
    6 Character 6 (“I”) is not allowed in a unified social credit code
    >>> try:
    ...     USCC.validate('91350100M000100Y4')
    ... except InvalidUSCC as exc:
    ...     print(exc.position, exc)
    None A unified social credit code must have 18 characters, not 17
    """

    # I, O, S, V and Z are left out of the standard's alphabet to avoid
    # confusion with 1, 0, 5, U and 2; a character's value is its index.
    ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    # w_i = 3^(i-1) mod 31
    WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
    LENGTH = 18

    @staticmethod
    def compact(code):
        """Remove whitespace and hyphens, upper-case letters."""
        return _compact(code)

    @staticmethod
    def calc_check_digit(body17):
        """Return the check character (position 18) for the first 17."""
        values = _USCC_VALUES
        if len(body17) != len(USCC.WEIGHTS) or not set(body17) <= values.keys():
            raise ValueError(f"not 17 characters of the USCC alphabet: {body17!r}")
        total = sum(values[c] * w for c, w in zip(body17, USCC.WEIGHTS, strict=True))
        return USCC.ALPHABET[(31 - total % 31) % 31]

    @staticmethod
    def validate(code):
        """Return the compacted code, or raise :class:`InvalidUSCC`."""
        code = USCC.compact(code)
        if len(code) != USCC.LENGTH:
            raise InvalidUSCC(
                _l(
                    "A unified social credit code must have 18 characters, not %(length)d",
                    length=len(code),
                )
            )
        if not set(code) <= _USCC_VALUES.keys():
            for pos, char in enumerate(code, start=1):
                if char not in USCC.ALPHABET:
                    raise InvalidUSCC(
                        _l(
                            "Character %(pos)d (“%(char)s”) is not allowed in a "
                            "unified social credit code",
                            pos=pos,
                            char=char,
                        ),
                        position=pos,
                    )
        expected = USCC.calc_check_digit(code[:17])
        if code[17] != expected:
            raise InvalidUSCC(
                _l(
                    "The check character (position %(pos)d) of the unified "
                    "social credit code is “%(actual)s” but should be "
                    "“%(expected)s”",
                    pos=18,
                    actual=code[17],
                    expected=expected,
                ),
                position=18,
            )
        return code

    @staticmethod
    def is_valid(code):
        """Return whether the code is a valid unified social credit code."""
        try:
            return bool(USCC.validate(code))
        except InvalidUSCC:
            return False

    @staticmethod
    def format(code):
        """Return the code for display (compacted; there are no separators)."""
        return USCC.compact(code)


# A character's value in the check-character sum (its index in the alphabet), for the hot path.
_USCC_VALUES = {char: value for value, char in enumerate(USCC.ALPHABET)}


# ---------------------------------------------------------------------------
# Citizen identity number (公民身份号码), GB 11643-1999
# ---------------------------------------------------------------------------


class CitizenID:
    """Citizen identity number: 6-digit area, 8-digit birth date, 3-digit
    sequence and a mod-11 check character (0-9 or X).

    The area code is not checked: codes get retired and reassigned, and
    people keep the number they were issued.

    >>> CitizenID.calc_check_digit('11010519491231002')
    'X'
    >>> CitizenID.is_valid('11010519491231002X')
    True
    >>> CitizenID.birth_date('11010519491231002X')
    datetime.date(1949, 12, 31)
    >>> try:
    ...     CitizenID.validate('110105194902310021')
    ... except InvalidCitizenID as exc:
    ...     print(exc.position, exc)
    7 Positions 7–14 (“19490231”) of the citizen ID number are not a valid date of birth
    """

    DIGITS = "0123456789"
    CHECK_CHARS = "10X98765432"  # indexed by the weighted sum mod 11
    # w_i = 2^(18-i) mod 11
    WEIGHTS = tuple(pow(2, 18 - i, 11) for i in range(1, 18))
    LENGTH = 18
    BIRTH_DATE_START = 7  # 1-based positions 7-14 hold YYYYMMDD
    BIRTH_DATE_END = 14
    EARLIEST_BIRTH_YEAR = 1900

    @staticmethod
    def compact(code):
        """Remove whitespace and hyphens, upper-case letters (x -> X)."""
        return _compact(code)

    @staticmethod
    def calc_check_digit(body17):
        """Return the check character (position 18) for the first 17 digits."""
        total = sum(int(c) * w for c, w in zip(body17, CitizenID.WEIGHTS, strict=True))
        return CitizenID.CHECK_CHARS[total % 11]

    @staticmethod
    def _parse_birth_date(code):
        # None when not a real date, before 1900 or in the future.
        text = code[CitizenID.BIRTH_DATE_START - 1 : CitizenID.BIRTH_DATE_END]
        try:
            date = datetime.date(int(text[:4]), int(text[4:6]), int(text[6:]))
        except ValueError:
            return None
        if date.year < CitizenID.EARLIEST_BIRTH_YEAR:
            return None
        if date > datetime.date.today():
            return None
        return date

    @staticmethod
    def validate(code):
        """Return the compacted code, or raise :class:`InvalidCitizenID`."""
        code = CitizenID.compact(code)
        if len(code) != CitizenID.LENGTH:
            raise InvalidCitizenID(
                _l(
                    "A citizen ID number must have 18 characters, not %(length)d",
                    length=len(code),
                )
            )
        for pos, char in enumerate(code, start=1):
            allowed = CitizenID.DIGITS + ("X" if pos == 18 else "")
            if char not in allowed:
                raise InvalidCitizenID(
                    _l(
                        "Character %(pos)d (“%(char)s”) is not allowed in a citizen ID number",
                        pos=pos,
                        char=char,
                    ),
                    position=pos,
                )
        if CitizenID._parse_birth_date(code) is None:
            start, end = CitizenID.BIRTH_DATE_START, CitizenID.BIRTH_DATE_END
            raise InvalidCitizenID(
                _l(
                    "Positions %(start)d–%(end)d (“%(date)s”) of the citizen "
                    "ID number are not a valid date of birth",
                    start=start,
                    end=end,
                    date=code[start - 1 : end],
                ),
                position=start,
            )
        expected = CitizenID.calc_check_digit(code[:17])
        if code[17] != expected:
            raise InvalidCitizenID(
                _l(
                    "The check character (position %(pos)d) of the citizen "
                    "ID number is “%(actual)s” but should be “%(expected)s”",
                    pos=18,
                    actual=code[17],
                    expected=expected,
                ),
                position=18,
            )
        return code

    @staticmethod
    def is_valid(code):
        """Return whether the code is a valid citizen identity number."""
        try:
            return bool(CitizenID.validate(code))
        except InvalidCitizenID:
            return False

    @staticmethod
    def birth_date(code):
        """Return the date of birth of a valid number as a datetime.date.

        Raises :class:`InvalidCitizenID` if the number is not valid.
        """
        return CitizenID._parse_birth_date(CitizenID.validate(code))

    @staticmethod
    def format(code):
        """Return the number for display (compacted; there are no separators)."""
        return CitizenID.compact(code)
