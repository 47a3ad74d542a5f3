import doctest

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core import masking
from app.core.masking import mask_id_number, mask_person_name, mask_phone


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13812341234", "138****1234"),
        (" 138-1234-1234 ", "138****1234"),
        ("+8613812341234", "+86138****1234"),
        ("008613812341234", "0086138****1234"),
        ("0477-8581234", "047****1234"),  # area code + 7-digit landline
        ("047785812345", "047*****2345"),
        ("4008123456", "400****456"),
        ("858123456", "858***456"),
        ("85812345", "858***45"),
        ("8581234", "85***34"),
        ("12345", "***45"),
        ("110", "**0"),
        ("1", "*"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_phone(phone, masked):
    assert mask_phone(phone) == masked


@pytest.mark.parametrize(
    ("id_number", "masked"),
    [
        ("150602199001011234", "1506**********1234"),
        ("11010519491231002x", "1101**********002X"),
        ("150602900101123", "1506*******1123"),  # old 15-digit number
        ("E12345678", "*******78"),  # passport
        ("1234", "***4"),
        ("1", "*"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_id_number(id_number, masked):
    assert mask_id_number(id_number) == masked


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三", "张*"),
        ("李小龙", "李**"),
        ("欧阳修", "欧阳*"),
        ("欧阳娜娜", "欧阳**"),
        ("司马相如", "司马**"),
        ("诸葛亮", "诸葛*"),
        ("单于飞", "单于*"),
        ("欧阳", "欧*"),  # two characters: surname + given name
        ("王", "*"),
        (" 张三 ", "张*"),
        ("阿依古丽·买买提", "阿***·***"),
        ("巴特尔", "巴**"),
        ("John Smith", "J*** *****"),
        ("Jean-Luc O'Neil", "J***-*** *'****"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_person_name(name, masked):
    assert mask_person_name(name) == masked


@given(st.text(alphabet="0123456789", max_size=20))
def test_mask_phone_keeps_length_and_hides_at_least_three(phone):
    masked = mask_phone(phone)
    assert len(masked) == len(phone)
    if len(phone) >= 5:
        assert masked.count("*") >= 3


@given(st.text(alphabet="0123456789X", min_size=1, max_size=20))
def test_mask_id_number_keeps_length_and_hides_something(id_number):
    masked = mask_id_number(id_number)
    assert len(masked) == len(id_number)
    assert "*" in masked


def test_compound_surnames_are_two_characters():
    assert all(len(s) == 2 for s in masking.COMPOUND_SURNAMES)
    assert {"欧阳", "司马", "上官", "诸葛", "单于", "万俟"} <= masking.COMPOUND_SURNAMES


def test_doctests():
    result = doctest.testmod(masking)
    assert result.failed == 0
    assert result.attempted > 0
