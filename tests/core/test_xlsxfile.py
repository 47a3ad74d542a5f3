"""The one XLSX writer (app/core/xlsxfile.py), read back with openpyxl as Excel would open it:
numbers and dates typed, the header bold and frozen, widths fitted (CJK counts double), the
sheet named in Chinese, formula cells still neutralised (as quote-prefixed strings)."""

from __future__ import annotations

import datetime as dt
import io

from openpyxl import load_workbook

from app.core.xlsxfile import display_width, sheet_title, write_xlsx

HEADERS = ["序号", "年度", "检查对象名称", "检查日期", "备注", "统一社会信用代码"]
ROWS = [
    [1, 2026, "东胜区某某水务有限责任公司", "2026-12-01", "=HYPERLINK(\"http://x\")", "91150602MA0N000001"],
    [2, 2026, "乙公司", dt.date(2026, 1, 5), "45%", "911506020000000002"],
    [3, 2027, "丙", "", None, ""],
]


def _sheet(**kwargs):
    out = io.BytesIO()
    write_xlsx(out, "抽查结果", HEADERS, ROWS, **kwargs)
    out.seek(0)
    book = load_workbook(out)
    return book, book.worksheets[0]


def test_numbers_and_dates_are_typed_text_stays_text():
    _book, ws = _sheet(text_columns=[5])
    first = [c.value for c in ws[2]]
    assert first[0] == 1 and isinstance(first[0], int)
    assert first[1] == 2026 and isinstance(first[1], int)
    assert ws["D2"].is_date and ws["D2"].value.date() == dt.date(2026, 12, 1)
    assert ws["D3"].is_date and ws["D3"].value.date() == dt.date(2026, 1, 5)
    assert ws["D2"].number_format == "yyyy-mm-dd"
    assert ws["E3"].value == "45%" and ws["E3"].data_type == "s"
    # An empty date stays empty; None stays an empty cell.
    assert ws["D4"].value in (None, "") and ws["E4"].value is None
    # An identifier column keeps its digits as text.
    assert ws["F2"].value == "91150602MA0N000001" and ws["F3"].value == "911506020000000002"
    assert ws["F3"].data_type == "s" and ws["F3"].number_format == "@"


def test_formula_cells_are_neutralised():
    """Text, never a formula, shown as typed: a string cell with Excel's quote prefix (what
    Excel stores for a text typed as '=…), so no visible `'` and still text when edited."""
    _book, ws = _sheet()
    assert ws["E2"].value == "=HYPERLINK(\"http://x\")"
    assert ws["E2"].data_type == "s" and ws["E2"].quotePrefix
    # An ordinary text has no quote prefix.
    assert ws["F2"].data_type == "s" and not ws["F2"].quotePrefix


def test_header_is_bold_and_frozen_and_the_sheet_named_in_chinese():
    book, ws = _sheet()
    assert book.sheetnames == ["抽查结果"]
    assert [c.value for c in ws[1]] == HEADERS
    assert all(c.font.bold for c in ws[1])
    assert ws.freeze_panes == "A2"


def test_widths_fit_the_content_with_cjk_counting_double():
    _book, ws = _sheet()
    widths = {letter: ws.column_dimensions[letter].width for letter in "ABCDEF"}
    # 东胜区某某水务有限责任公司: 13 CJK characters, 26 units, plus a margin.
    assert 26 <= widths["C"] <= 30
    assert widths["A"] < 10 and widths["D"] >= 12
    assert len(set(widths.values())) > 2  # not every column the same default width


def test_display_width_and_sheet_title():
    assert display_width("ABC") == 3 and display_width("水利局") == 6
    assert display_width("第一行\n很长的第二行") == 12
    assert display_width("（）") == 4  # full-width punctuation
    assert sheet_title("抽查结果-东水双随机〔2026〕3号") == "抽查结果-东水双随机〔2026〕3号"
    assert sheet_title("a/b[c]:d*?") == "abcd"
    assert len(sheet_title("很" * 40)) == 31 and sheet_title("") == "Sheet1"


def test_choices_give_a_drop_down_and_text_columns_a_text_format_in_an_empty_template():
    out = io.BytesIO()
    write_xlsx(out, "检查对象名录", ["名称", "证件号码", "风险等级"], [], text_columns=[1],
               choices={2: ["A", "B"]})
    out.seek(0)
    ws = load_workbook(out).worksheets[0]
    assert ws.column_dimensions["B"].number_format == "@"
    [validation] = ws.data_validations.dataValidation
    assert validation.formula1 == '"A,B"' and "C2" in str(validation.sqref)
