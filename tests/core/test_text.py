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
