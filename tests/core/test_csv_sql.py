"""The COPY exports' SQL (PostgreSQL) does what the Python writer does, character for
character: `pg_mask_person_name` is `mask_person_name`, `sql_cell` is `neutralise` (with NULL
for an empty cell), for arbitrary text. The other databases export through Python only."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Text, literal, select

from app.core.csvfile import neutralise, sql_cell
from app.core.masking import COMPOUND_SURNAMES, mask_person_name, pg_mask_person_name

# Text PostgreSQL can hold (no NUL, no lone surrogate), leaning on what the rules look at:
# CJK (also outside the BMP), compound surnames, name separators, whitespace of every kind,
# letters and digits of other scripts, formula starts and control characters.
_INTERESTING = (
    "张欧阳司马王·•・.-'’ 　\t\n\r\x0b\x1c\x85\xa0\u2028\u3000=+@-\x01\x1b\x7f\x9f"
    'AzéßΩЖ٣५Ⅻ½²𝟘𠮷𪚥\U0003134f\U00031350䶵鿿豈龎\u0301\ufeff\u200b,"€'
)
_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from(_INTERESTING),
        st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    ),
    max_size=12,
)
_NAMES = st.one_of(
    _TEXT,
    st.builds(lambda s, rest: s + rest, st.sampled_from(sorted(COMPOUND_SURNAMES)), _TEXT),
)
_FIXTURES = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture
def pg(app):
    from app.extensions import db

    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("the COPY path is PostgreSQL's")
        with db.engine.connect() as connection:
            yield connection


def _values(connection, make, texts):
    columns = [make(literal(t, Text)).label(f"c{i}") for i, t in enumerate(texts)]
    return list(connection.execute(select(*columns)).one())


@_FIXTURES
@given(st.lists(_NAMES, min_size=1, max_size=20))
def test_masking_in_sql_is_the_python_masking(pg, names):
    found = _values(pg, pg_mask_person_name, names)
    assert [value or "" for value in found] == [mask_person_name(n) for n in names]


@_FIXTURES
@given(st.lists(_TEXT, min_size=1, max_size=20))
def test_neutralising_in_sql_is_the_python_neutralising(pg, cells):
    found = _values(pg, sql_cell, cells)
    assert [value or "" for value in found] == [neutralise(c) for c in cells]
    assert None not in found or "" in cells  # an empty cell is NULL: COPY writes it as nothing


@pytest.mark.parametrize(
    "name, masked",
    [
        ("张三", "张*"),
        ("欧阳娜娜", "欧阳**"),
        ("欧阳", "欧*"),
        ("王", "*"),
        ("  王五 ", "王*"),
        ("阿依古丽·买买提", "阿***·***"),
        ("John Smith", "J*** *****"),
        ("𠮷野家", "𠮷**"),
        ("", None),
        ("　", None),
    ],
)
def test_masking_in_sql_examples(pg, name, masked):
    assert _values(pg, pg_mask_person_name, [name]) == [masked]
