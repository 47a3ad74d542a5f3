"""Masking of personal data shown in lists and on public pages.

Each function takes a raw value (None allowed) and returns a display string
with the identifying middle part replaced by ``*``; empty input gives "".
Masking errs on the side of hiding too much: unusual inputs keep fewer
characters, never more.

>>> mask_phone('13812341234')
'138****1234'
>>> mask_id_number('150602199001011234')
'1506**********1234'
>>> mask_person_name('欧阳娜娜')
'欧阳**'
"""

MASK = "*"

# Chinese compound surnames (复姓), kept whole when the name has 3+ characters.
_COMPOUND_SURNAMES_TEXT = """
欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 轩辕
令狐 独孤 南宫 西门 端木 呼延 澹台 万俟 闻人 申屠 钟离 拓跋 赫连 单于
司空 司寇 公羊 公冶 宗政 濮阳 淳于 太叔 仲孙 鲜于 闾丘 亓官 子车 颛孙
巫马 公西 漆雕 乐正 壤驷 公良 夹谷 宰父 谷梁 段干 百里 东郭 南门 羊舌
微生 梁丘 左丘 东门 第五 太史 贺兰 完颜 叱干 哥舒 即墨 公输
"""
COMPOUND_SURNAMES = frozenset(_COMPOUND_SURNAMES_TEXT.split())

# Kept as-is inside names: word separators, including the middle dot used
# in transliterated minority and foreign names (e.g. 阿依古丽·买买提).
_NAME_SEPARATORS = frozenset(" ·•・.-'’")


def _compact(value):
    return "".join(str(value or "").split()).replace("-", "")


def _keep_ends(text, head, tail):
    # Shows text[:head] and text[-tail:], one star per hidden character.
    hidden = len(text) - head - tail
    return text[:head] + MASK * hidden + (text[-tail:] if tail else "")


def mask_phone(phone):
    """Mask a phone number, keeping the first 3 and the last 2-4 characters.

    Whitespace and hyphens are dropped first. An 11-digit mobile number keeps
    3 + 4; shorter numbers keep fewer characters so that at least 3 are
    hidden (numbers of 4 or fewer characters show only the last one).
    A leading ``+86`` / ``0086`` is kept and the rest masked as a national
    number.

    >>> mask_phone('13812341234')
    '138****1234'
    >>> mask_phone('138 1234 1234')
    '138****1234'
    >>> mask_phone('+86 138 1234 1234')
    '+86138****1234'
    >>> mask_phone('0477-8581234')
    '047****1234'
    >>> mask_phone('85812345')
    '858***45'
    >>> mask_phone('8581234')
    '85***34'
    >>> mask_phone('12345')
    '***45'
    >>> mask_phone('110')
    '**0'
    >>> mask_phone(None)
    ''
    """
    number = _compact(phone)
    for prefix in ("+86", "0086"):
        if number.startswith(prefix) and len(number) > len(prefix):
            return prefix + mask_phone(number[len(prefix) :])
    n = len(number)
    if n >= 11:
        return _keep_ends(number, 3, 4)
    if n >= 9:
        return _keep_ends(number, 3, 3)
    if n == 8:
        return _keep_ends(number, 3, 2)
    if n >= 5:
        return _keep_ends(number, n - 5, 2)
    return _keep_ends(number, 0, 1 if n > 1 else 0)


def mask_id_number(id_number):
    """Mask an ID document number, keeping the first 4 and the last 4.

    The first 4 digits of a citizen ID only name the province and city.

    Numbers shorter than 12 characters (passports, other documents) keep
    only the last 2, and very short ones (4 or fewer) only the last 1.

    >>> mask_id_number('150602199001011234')
    '1506**********1234'
    >>> mask_id_number('15060219900101123x')
    '1506**********123X'
    >>> mask_id_number('E12345678')
    '*******78'
    >>> mask_id_number('1234')
    '***4'
    >>> mask_id_number('')
    ''
    """
    number = _compact(id_number).upper()
    n = len(number)
    if n >= 12:
        return _keep_ends(number, 4, 4)
    if n > 4:
        return _keep_ends(number, 0, 2)
    return _keep_ends(number, 0, 1 if n > 1 else 0)


def _is_cjk(char):
    return (
        "\u3400" <= char <= "\u4dbf"  # extension A
        or "\u4e00" <= char <= "\u9fff"  # unified ideographs
        or "\uf900" <= char <= "\ufaff"  # compatibility ideographs
        or "\U00020000" <= char <= "\U0003134f"  # extensions B-G (rare names)
    )


def _mask_chars(text):
    return "".join(c if c in _NAME_SEPARATORS else MASK for c in text)


def mask_person_name(name):
    """Mask a person's name, keeping only the surname (or initial).

    Chinese names keep the surname (two characters for a compound surname
    when the name has at least three characters, since a two-character name
    is surname + given name); every other character becomes one star. A
    single character is masked completely. Latin-script names keep the first
    letter and mask the other letters, keeping spaces and punctuation.

    >>> mask_person_name('张三')
    '张*'
    >>> mask_person_name('欧阳修')
    '欧阳*'
    >>> mask_person_name('欧阳娜娜')
    '欧阳**'
    >>> mask_person_name('王')
    '*'
    >>> mask_person_name('阿依古丽·买买提')
    '阿***·***'
    >>> mask_person_name('John Smith')
    'J*** *****'
    >>> mask_person_name(None)
    ''
    """
    name = (name or "").strip()
    if not name:
        return ""
    if _is_cjk(name[0]):
        if len(name) == 1:
            return MASK
        keep = 2 if len(name) >= 3 and name[:2] in COMPOUND_SURNAMES else 1
        return name[:keep] + _mask_chars(name[keep:])
    # Latin script (or anything else): keep the initial, mask letters and
    # digits, keep separators so the name's shape stays readable.
    return name[0] + "".join(MASK if c.isalnum() else c for c in name[1:])


# --- The same rule in PostgreSQL (the COPY exports, app/core/csvfile.copy_chunks) ---------------
#
# Character for character what mask_person_name returns, tested against it with arbitrary text
# (tests/core/test_masking_sql.py). Python's own character classes are spelled out as code-point
# ranges (str.strip's whitespace, str.isalnum), so the database's locale plays no part.


def _pg_char(cp):
    return f"\\u{cp:04x}" if cp <= 0xFFFF else f"\\U{cp:08x}"


def _pg_class(ranges, negate=False):
    body = "".join(_pg_char(a) if a == b else f"{_pg_char(a)}-{_pg_char(b)}" for a, b in ranges)
    return f"[{'^' if negate else ''}{body}]"


def _ranges(test):
    found, start = [], None
    for cp in range(0x110000):
        inside = not (0xD800 <= cp <= 0xDFFF) and test(chr(cp))
        if inside and start is None:
            start = cp
        elif not inside and start is not None:
            found.append((start, cp - 1))
            start = None
    if start is not None:
        found.append((start, 0x10FFFF))
    return found


_PG_PATTERNS = {}


def _pg_patterns():
    if not _PG_PATTERNS:
        spaces = "".join(
            chr(a) + "".join(chr(c) for c in range(a + 1, b + 1)) for a, b in _ranges(str.isspace)
        )
        _PG_PATTERNS.update(
            spaces=spaces,
            cjk=_pg_class(
                [(0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x3134F)]
            ),
            not_separator=_pg_class(
                [(ord(c), ord(c)) for c in sorted(_NAME_SEPARATORS)], negate=True
            ),
            alnum=_pg_class(_ranges(str.isalnum)),
        )
    return _PG_PATTERNS


def pg_mask_person_name(name):
    """mask_person_name as a PostgreSQL expression of the text expression `name` (SQLAlchemy).
    NULL or blank gives NULL (an empty cell). A name without whitespace around it (nearly all)
    is masked as it is, without trimming; a name without separators (nearly all) becomes its
    stars without a regular expression."""
    from sqlalchemy import Integer, Text, case, func, literal

    patterns = _pg_patterns()
    spaces = sorted({ord(c) for c in patterns["spaces"]})
    padded = func.ascii(name).in_(spaces) | func.ascii(func.right(name, 1), type_=Integer).in_(
        spaces
    )
    trimmed = func.btrim(name, literal(patterns["spaces"], Text), type_=Text)
    return case((padded, _pg_mask_trimmed(trimmed)), else_=_pg_mask_trimmed(name))


def _pg_mask_trimmed(text):
    from sqlalchemy import Text, case, func, literal

    patterns = _pg_patterns()
    separators = literal("".join(sorted(_NAME_SEPARATORS)), Text)
    length = func.char_length(text)
    keep = case(
        ((length >= 3) & func.left(text, 2).in_(sorted(COMPOUND_SURNAMES)), 2), else_=1
    )
    rest = func.substr(text, keep + 1, type_=Text)
    chinese_rest = case(
        (
            func.translate(rest, separators, "") == rest,
            func.repeat(MASK, func.char_length(rest), type_=Text),
        ),
        else_=func.regexp_replace(rest, patterns["not_separator"], MASK, "g", type_=Text),
    )
    chinese = case(
        (length == 1, literal(MASK, Text)),
        else_=func.left(text, keep, type_=Text).concat(chinese_rest),
    )
    latin = func.left(text, 1, type_=Text).concat(
        func.regexp_replace(func.substr(text, 2), patterns["alnum"], MASK, "g", type_=Text)
    )
    return case(
        (text == "", None),
        (func.left(text, 1).regexp_match("^" + patterns["cjk"]), chinese),
        else_=latin,
    )
