import datetime
import doctest
import re
from pathlib import Path

import flask
import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.mofile import write_mo
from flask_babel import Babel
from hypothesis import given
from hypothesis import strategies as st

from app.core import identifiers
from app.core.identifiers import (
    USCC,
    CitizenID,
    InvalidCitizenID,
    InvalidIdentifier,
    InvalidUSCC,
)

DIGITS = "0123456789"
TODAY = datetime.date.today()


def substitute(code, pos, char):
    """Replace the character at 1-based position pos."""
    return code[: pos - 1] + char + code[pos:]


def raised(func, code):
    with pytest.raises(InvalidIdentifier) as info:
        func(code)
    return info.value


def foreign_chars(allowed):
    """Single characters that stay one character after compaction and are
    not in `allowed` (so they must be reported at their own position)."""
    tricky = "IOSVZiosvz_*./#０１Ａ中ßİ\x00"  # excluded letters, full-width, etc.
    return st.one_of(
        st.sampled_from(tricky),
        st.characters(codec="utf-8"),
    ).filter(lambda c: len(USCC.compact(c)) == 1 and USCC.compact(c) not in allowed)


# ---------------------------------------------------------------------------
# Unified social credit code
# ---------------------------------------------------------------------------

# Real-format codes; the synthetic ones had their check character computed
# once and hard-coded. Covers codes starting with a digit, N, Y and A
# (registration authorities that a too-strict check would reject).
VALID_USCCS = [
    "91350100M000100Y43",
    "91110000600037341L",
    "91110108551385082Q",
    "N2150602MA0000001G",
    "Y1150602MA0A1B2C3A",
    "A1150602MA0000007J",
    "51150602MJY000001F",
    "111500000115100017",
]


@pytest.mark.parametrize("code", VALID_USCCS)
def test_uscc_known_valid(code):
    assert USCC.validate(code) == code
    assert USCC.is_valid(code)
    assert USCC.calc_check_digit(code[:17]) == code[17]


def test_uscc_weights_match_standard():
    assert USCC.WEIGHTS == (
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    )  # fmt: skip
    assert len(USCC.ALPHABET) == 31
    assert not set("IOSVZ") & set(USCC.ALPHABET)


def test_uscc_compact_and_format():
    assert USCC.compact(" 9135-0100 m000100y43 ") == "91350100M000100Y43"
    assert USCC.validate("9135 0100 m000 100y 43") == "91350100M000100Y43"
    assert USCC.format("9135-0100-M000-100Y-43") == "91350100M000100Y43"


@pytest.mark.parametrize("code", ["", None, "91350100M000100Y4", "91350100M000100Y433"])
def test_uscc_wrong_length(code):
    exc = raised(USCC.validate, code)
    assert isinstance(exc, InvalidUSCC)
    assert exc.position is None
    assert str(len(USCC.compact(code))) in str(exc)
    assert not USCC.is_valid(code)


@pytest.mark.parametrize(
    ("code", "position"),
    [
        ("91350100M000100Y4O", 18),
        ("I1350100M000100Y43", 1),
        ("913501S0M000100Y43", 7),
        ("91350100M000100V43", 16),
        ("9135010０M000100Y43", 8),  # full-width zero
        ("91350100M00Z1O0Y43", 12),  # first bad position wins
    ],
)
def test_uscc_bad_character(code, position):
    exc = raised(USCC.validate, code)
    assert isinstance(exc, InvalidUSCC)
    assert exc.position == position


def test_uscc_bad_check_character():
    exc = raised(USCC.validate, "91350100M000100Y42")
    assert exc.position == 18
    assert "“3”" in str(exc)
    assert "“2”" in str(exc)


def test_uscc_every_single_substitution_fails():
    code = "91350100M000100Y43"
    count = 0
    for pos in range(1, 19):
        for char in USCC.ALPHABET:
            if char == code[pos - 1]:
                continue
            exc = raised(USCC.validate, substitute(code, pos, char))
            assert exc.position == 18, (pos, char)
            count += 1
    assert count == 18 * 30


@st.composite
def valid_usccs(draw):
    body = draw(st.text(alphabet=USCC.ALPHABET, min_size=17, max_size=17))
    return body + USCC.calc_check_digit(body)


@given(valid_usccs())
def test_uscc_random_valid(code):
    assert USCC.validate(code) == code
    assert USCC.validate(code.lower()) == code


@given(valid_usccs(), st.data())
def test_uscc_single_substitution_detected(code, data):
    pos = data.draw(st.integers(min_value=1, max_value=18), label="position")
    original = code[pos - 1]
    others = [c for c in USCC.ALPHABET if c != original]
    char = data.draw(
        st.one_of(
            st.sampled_from(others),
            st.sampled_from([c.lower() for c in others if c.isalpha()]),
            foreign_chars(USCC.ALPHABET),
        ),
        label="replacement",
    )
    exc = raised(USCC.validate, substitute(code, pos, char))
    assert isinstance(exc, InvalidUSCC)
    if USCC.compact(char) in USCC.ALPHABET:
        assert exc.position == 18  # a valid character: only the checksum fails
    else:
        assert exc.position == pos


# ---------------------------------------------------------------------------
# Citizen identity number
# ---------------------------------------------------------------------------


def test_citizen_id_standard_example():
    # The example number from GB 11643-1999 itself.
    assert CitizenID.validate("11010519491231002X") == "11010519491231002X"
    assert CitizenID.validate("11010519491231002x") == "11010519491231002X"
    assert CitizenID.validate("110105 19491231 002x") == "11010519491231002X"
    assert CitizenID.format("110105-19491231-002x") == "11010519491231002X"
    assert CitizenID.calc_check_digit("11010519491231002") == "X"
    assert CitizenID.birth_date("11010519491231002x") == datetime.date(1949, 12, 31)


def test_citizen_id_weights_match_standard():
    assert CitizenID.WEIGHTS == (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def with_check(body17):
    return body17 + CitizenID.calc_check_digit(body17)


@pytest.mark.parametrize(
    "code",
    [
        with_check("15060219900101123"),
        with_check("15060220000229001"),  # leap day
        with_check("15060219000101001"),  # earliest allowed year
        with_check("150602" + TODAY.strftime("%Y%m%d") + "001"),
    ],
)
def test_citizen_id_valid(code):
    assert CitizenID.validate(code) == code
    assert CitizenID.is_valid(code)


@pytest.mark.parametrize("code", ["", None, "150602900101123", "11010519491231002X1"])
def test_citizen_id_wrong_length(code):
    # 15-digit numbers of the 1984 scheme are not accepted any more.
    exc = raised(CitizenID.validate, code)
    assert isinstance(exc, InvalidCitizenID)
    assert exc.position is None
    assert str(len(CitizenID.compact(code))) in str(exc)


@pytest.mark.parametrize(
    ("code", "position"),
    [
        ("X1010519491231002X", 1),
        ("1101051949123100X2", 17),
        ("11010519491231002Y", 18),
        ("110105194912310０2X", 16),  # full-width zero
        ("11010519A9123100XX", 9),
    ],
)
def test_citizen_id_bad_character(code, position):
    exc = raised(CitizenID.validate, code)
    assert exc.position == position


TOMORROW = TODAY + datetime.timedelta(days=1)


@pytest.mark.parametrize(
    "date_text",
    [
        "19490231",  # no such day
        "19491301",  # no such month
        "19000229",  # 1900 was not a leap year
        "18991231",  # before 1900
        "00000000",
        TOMORROW.strftime("%Y%m%d"),  # in the future
    ],
)
def test_citizen_id_bad_birth_date(date_text):
    code = with_check("110105" + date_text + "002")
    exc = raised(CitizenID.validate, code)
    assert isinstance(exc, InvalidCitizenID)
    assert exc.position == 7
    assert date_text in str(exc)
    with pytest.raises(InvalidCitizenID):
        CitizenID.birth_date(code)


def test_citizen_id_bad_check_character():
    exc = raised(CitizenID.validate, "110105194912310021")
    assert exc.position == 18
    assert "“X”" in str(exc)
    assert "“1”" in str(exc)


def date_text_is_valid(text):
    # Independent of the implementation: strptime rather than date().
    try:
        born = datetime.datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        return False
    return datetime.date(1900, 1, 1) <= born <= datetime.date.today()


def allowed_at(pos):
    return DIGITS + "X" if pos == 18 else DIGITS


def expected_position(changed, pos, char):
    """Position validate() must report after changing position pos."""
    if CitizenID.compact(char) not in allowed_at(pos):
        return pos
    if 7 <= pos <= 14 and not date_text_is_valid(changed[6:14]):
        return 7  # the birth date error names the start of the date field
    return 18


def test_citizen_id_every_single_substitution_fails():
    code = "11010519491231002X"
    count = 0
    for pos in range(1, 19):
        for char in allowed_at(pos):
            if char == code[pos - 1]:
                continue
            changed = substitute(code, pos, char)
            exc = raised(CitizenID.validate, changed)
            assert exc.position == expected_position(changed, pos, char)
            count += 1
    assert count == 17 * 9 + 10


@st.composite
def valid_citizen_ids(draw):
    area = draw(st.text(alphabet=DIGITS, min_size=6, max_size=6))
    born = draw(st.dates(min_value=datetime.date(1900, 1, 1), max_value=TODAY))
    sequence = draw(st.text(alphabet=DIGITS, min_size=3, max_size=3))
    return with_check(area + born.strftime("%Y%m%d") + sequence)


@given(valid_citizen_ids())
def test_citizen_id_random_valid(code):
    assert CitizenID.validate(code) == code
    assert CitizenID.validate(code.lower()) == code
    assert CitizenID.birth_date(code).strftime("%Y%m%d") == code[6:14]


@given(valid_citizen_ids(), st.data())
def test_citizen_id_single_substitution_detected(code, data):
    pos = data.draw(st.integers(min_value=1, max_value=18), label="position")
    original = code[pos - 1]
    others = [c for c in allowed_at(pos) if c != original]
    if original != "X" and pos == 18:
        others.append("x")
    char = data.draw(
        st.one_of(st.sampled_from(others), foreign_chars(allowed_at(pos))),
        label="replacement",
    )
    changed = substitute(code, pos, char)
    exc = raised(CitizenID.validate, changed)
    assert isinstance(exc, InvalidCitizenID)
    position = expected_position(CitizenID.compact(changed), pos, char)
    assert exc.position == position
    if position == 7:
        assert 7 <= pos <= 14


# ---------------------------------------------------------------------------
# Messages
# ---------------------------------------------------------------------------

ERRORS = [
    (USCC.validate, "91350100M000100Y4"),
    (USCC.validate, "91350I00M000100Y43"),
    (USCC.validate, "91350100M000100Y42"),
    (CitizenID.validate, "11010519491231002"),
    (CitizenID.validate, "11010519491231002Y"),
    (CitizenID.validate, "110105194902310021"),
    (CitizenID.validate, "110105194912310021"),
]


def mentioned_number(exc):
    return exc.position if exc.position is not None else 17  # the length


def test_messages_mention_position_in_flask_app():
    app = flask.Flask(__name__)
    Babel(app)
    # Raised outside any app context: the message is lazy, rendered later.
    errors = [raised(func, code) for func, code in ERRORS]
    with app.test_request_context():
        for exc in errors:
            text = str(exc)
            assert re.search(rf"\b{mentioned_number(exc)}\b", text), text
            assert "%(" not in text


# Suggested zh translations; also proves the placeholders line up.
ZH = {
    "A unified social credit code must have 18 characters, not %(length)d": (
        "统一社会信用代码应为 18 位，实际为 %(length)d 位"
    ),
    "Character %(pos)d (“%(char)s”) is not allowed in a unified social credit code": (
        "第 %(pos)d 位字符“%(char)s”不是统一社会信用代码允许使用的字符"
    ),
    "The check character (position %(pos)d) of the unified social credit code "
    "is “%(actual)s” but should be “%(expected)s”": (
        "统一社会信用代码第 %(pos)d 位校验码为“%(actual)s”，应为“%(expected)s”"
    ),
    "A citizen ID number must have 18 characters, not %(length)d": (
        "公民身份号码应为 18 位，实际为 %(length)d 位"
    ),
    "Character %(pos)d (“%(char)s”) is not allowed in a citizen ID number": (
        "公民身份号码第 %(pos)d 位字符“%(char)s”不是允许使用的字符"
    ),
    "Positions %(start)d–%(end)d (“%(date)s”) of the citizen ID number are not "
    "a valid date of birth": (
        "公民身份号码第 %(start)d–%(end)d 位（“%(date)s”）不是有效的出生日期"
    ),
    "The check character (position %(pos)d) of the citizen ID number is "
    "“%(actual)s” but should be “%(expected)s”": (
        "公民身份号码第 %(pos)d 位校验码为“%(actual)s”，应为“%(expected)s”"
    ),
}


def extracted_msgids():
    path = Path(identifiers.__file__)
    found = extract_from_file("python", path, keywords={"_l": None})
    return [message for _lineno, message, _comments, _context in found]


def test_msgids_are_literal_and_use_named_placeholders():
    msgids = extracted_msgids()
    source = Path(identifiers.__file__).read_text(encoding="utf-8")
    # Every _l() call has a literal msgid that pybabel (-k _l) can extract.
    assert len(msgids) == source.count("_l(")
    for msgid in msgids:
        assert re.findall(r"%(?!\(\w+\)[sd])", msgid) == [], msgid
    assert set(msgids) == set(ZH)


def test_messages_translate(tmp_path):
    catalog = Catalog(locale="zh")
    for msgid, msgstr in ZH.items():
        catalog.add(msgid, msgstr)
    mo_dir = tmp_path / "zh" / "LC_MESSAGES"
    mo_dir.mkdir(parents=True)
    with open(mo_dir / "messages.mo", "wb") as mo_file:
        write_mo(mo_file, catalog)

    app = flask.Flask(__name__)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(tmp_path)
    Babel(app, locale_selector=lambda: "zh")
    errors = [raised(func, code) for func, code in ERRORS]
    with app.test_request_context():
        for exc in errors:
            text = str(exc)
            assert "位" in text, text  # translated
            assert re.search(rf"\b{mentioned_number(exc)}\b", text), text
    # Outside the app the English msgid is used.
    assert "position 18" in str(errors[2])


def test_exception_hierarchy():
    exc = raised(USCC.validate, "91350100M000100Y42")
    assert isinstance(exc, ValueError)
    assert exc.message == str(exc)
    assert not issubclass(InvalidUSCC, InvalidCitizenID)
    assert not USCC.is_valid("11010519491231002X")
    assert not CitizenID.is_valid("91350100M000100Y43")


def test_doctests():
    result = doctest.testmod(identifiers)
    assert result.failed == 0
    assert result.attempted > 0
