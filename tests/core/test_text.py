"""Text as users type, paste or upload it: control characters are found, and uploaded file
names lose them (PostgreSQL cannot store a NUL) along with any path."""

from app.core.files import safe_display_name
from app.core.text import has_control_characters


def test_control_characters_but_not_tabs_and_line_breaks():
    assert has_control_characters("东胜\x00水务") and has_control_characters("bell\x07")
    assert not has_control_characters("第一行\r\n第二行\t制表")
    assert not has_control_characters(None) and not has_control_characters(42)


def test_an_uploaded_file_name_is_shown_without_path_or_control_characters():
    assert safe_display_name("C:\\Users\\王\\现场\x00照片\x07.png", "png") == "现场照片.png"
    assert safe_display_name("\x00", "png") == "file.png"
    assert safe_display_name("../../etc/passwd", "pdf") == "passwd"


def test_documents_write_dates_the_chinese_way():
    import datetime as dt

    from app.core.text import chinese_date, chinese_date_range, chinese_dates_in

    assert chinese_date(dt.date(2026, 12, 1)) == "2026年12月1日"
    assert chinese_date(dt.datetime(2026, 1, 5, 9, 30)) == "2026年1月5日"
    assert chinese_date("2026-03-09") == "2026年3月9日"
    assert chinese_date(None) == "" and chinese_date("") == ""
    # A range whose start and end are the same day is one date.
    day = dt.date(2026, 12, 1)
    assert chinese_date_range(day, day) == "2026年12月1日"
    assert chinese_date_range(day, dt.date(2026, 12, 20)) == "2026年12月1日至2026年12月20日"
    assert chinese_date_range(day, None) == "2026年12月1日"
    assert chinese_date_range(None, None) == ""
    # Text typed (or prefilled) with ISO dates reads as a document writes them.
    assert chinese_dates_in("2026-12-01 至 2026-12-01") == "2026年12月1日"
    assert chinese_dates_in("检查时间：2026-12-01至2026-12-05。") == (
        "检查时间：2026年12月1日至2026年12月5日。"
    )
    assert chinese_dates_in("2026年11月3日至11月20日") == "2026年11月3日至11月20日"
    assert chinese_dates_in("编号 2026-13-45") == "编号 2026-13-45"  # not a date: left alone
