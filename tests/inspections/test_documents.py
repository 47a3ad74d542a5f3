"""The summary report DOCX (app.inspections.documents): read back with python-docx and checked
for what a reader of the printed report sees. Pure functions: no app, no database."""

from __future__ import annotations

import datetime as dt
import io

import docx
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml.ns import qn
from docx.shared import Cm, Length, Pt, RGBColor

from app.core.text import chinese_date
from app.inspections.documents import summary_docx

HEADINGS = ["一、检查时间", "二、检查内容", "三、现场检查情况", "四、处理意见和建议"]


def _doc(**overrides) -> dict:
    doc = {
        "issuer": "东胜区水利局",
        "title": "关于2026年度河道采砂双随机抽查的检查报告",
        "number": "东水双随机〔2026〕3号",
        "recipient": "局领导",
        "check_period": "2026年11月3日至11月20日",
        "content": "河道采砂许可执行情况、采砂现场管理情况",
        "situation": "共抽查采砂企业2家。\n\n  甲公司采砂范围符合许可。\n　　乙公司未设置公示牌。",
        "opinions": "责令乙公司限期整改。\n整改完成后组织复查。",
        "records": [
            {
                "target": "甲砂石有限公司",
                "date": "2026年11月5日",
                "result": "未发现问题",
                "follow_up": "无",
            },
            {
                "target": "乙建材有限公司",
                "date": dt.date(2026, 11, 6),
                "result": "未设置公示牌",
                "follow_up": "责令整改",
            },
        ],
        "inspectors": "张三、李四",
        "date": dt.date(2026, 11, 28),
        "version": 2,
        "status": "已批准",
    }
    doc.update(overrides)
    return doc


def _open(doc: dict) -> docx.document.Document:
    return docx.Document(io.BytesIO(summary_docx(doc)))


def _texts(document) -> list[str]:
    return [p.text for p in document.paragraphs]


def _paragraph(document, text: str):
    return next(p for p in document.paragraphs if p.text == text)


def _east_asia(run) -> str | None:
    return run._r.rPr.rFonts.get(qn("w:eastAsia"))


def test_chinese_date_has_no_leading_zeros():
    assert chinese_date(dt.date(2026, 1, 5)) == "2026年1月5日"
    assert chinese_date(dt.date(2026, 11, 28)) == "2026年11月28日"


def test_header_block_title_and_recipient():
    document = _open(_doc())
    texts = _texts(document)
    assert texts[:4] == [
        "东胜区水利局",
        "东水双随机〔2026〕3号",
        "关于2026年度河道采砂双随机抽查的检查报告",
        "局领导：",
    ]

    issuer = document.paragraphs[0]
    assert issuer.alignment == WD_ALIGN_PARAGRAPH.CENTER
    run = issuer.runs[0]
    assert run.bold and run.font.size == Pt(22)
    assert run.font.color.rgb == RGBColor(0xC0, 0x00, 0x00)
    assert _east_asia(run) == "方正小标宋简体"

    number = document.paragraphs[1]
    assert number.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert number.runs[0].font.size == Pt(16)
    # The red rule is the bottom border of the 文号 paragraph.
    bottom = number._p.pPr.find(f"{qn('w:pBdr')}/{qn('w:bottom')}")
    assert bottom is not None and bottom.get(qn("w:color")) == "C00000"

    title = document.paragraphs[2]
    assert title.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert title.runs[0].font.size == Pt(22)


def test_sections_in_order_with_each_line_as_a_paragraph():
    document = _open(_doc())
    texts = _texts(document)
    positions = [texts.index(h) for h in HEADINGS]
    assert positions == sorted(positions)

    situation = texts[positions[2] + 1 : positions[2] + 4]
    # Blank lines are dropped and leading (full-width) spaces trimmed: the indent is the style's.
    assert situation == ["共抽查采砂企业2家。", "甲公司采砂范围符合许可。", "乙公司未设置公示牌。"]
    assert texts[positions[3] + 1 : positions[3] + 3] == [
        "责令乙公司限期整改。",
        "整改完成后组织复查。",
    ]
    assert "检查人员：张三、李四" in texts

    heading = _paragraph(document, "三、现场检查情况")
    assert _east_asia(heading.runs[0]) == "黑体"
    assert heading.runs[0].font.size == Pt(16)


def test_body_text_is_fangsong_16pt_indented_two_characters_exactly_28pt():
    document = _open(_doc())
    body = _paragraph(document, "甲公司采砂范围符合许可。")
    fmt = body.paragraph_format
    assert fmt.line_spacing_rule == WD_LINE_SPACING.EXACTLY
    assert fmt.line_spacing == Pt(28)
    assert fmt.first_line_indent == Pt(32)
    assert body._p.pPr.ind.get(qn("w:firstLineChars")) == "200"
    run = body.runs[0]
    assert run.font.size == Pt(16)
    assert _east_asia(run) == "仿宋_GB2312"


def test_records_table_has_header_and_one_row_per_record_before_section_four():
    document = _open(_doc())
    [table] = document.tables
    rows = [[cell.text for cell in row.cells] for row in table.rows]
    assert rows == [
        ["序号", "检查对象", "检查日期", "检查结果", "后续处置"],
        ["1", "甲砂石有限公司", "2026年11月5日", "未发现问题", "无"],
        ["2", "乙建材有限公司", "2026年11月6日", "未设置公示牌", "责令整改"],
    ]
    assert table.style.name == "Table Grid"
    cell_run = table.rows[1].cells[1].paragraphs[0].runs[0]
    assert cell_run.font.size == Pt(12)
    assert _east_asia(cell_run) == "仿宋_GB2312"

    # In the body, the table comes after section 三 and its caption, before section 四.
    body = [
        child.xpath("string(.)") if child.tag == qn("w:p") else "<table>"
        for child in document.element.body.iterchildren()
        if child.tag in (qn("w:p"), qn("w:tbl"))
    ]
    table_at = body.index("<table>")
    assert body.index("三、现场检查情况") < body.index("检查对象及结果") < table_at
    assert table_at < body.index("四、处理意见和建议")


def test_empty_records_and_empty_strings():
    empty = dict.fromkeys(
        ["issuer", "title", "number", "recipient", "check_period", "content", "situation"]
        + ["opinions", "inspectors", "status"],
        "",
    )
    document = _open(_doc(**empty, records=[]))
    [table] = document.tables
    assert len(table.rows) == 2
    assert table.rows[1].cells[0].text == "（无）"
    texts = _texts(document)
    assert [texts[texts.index(h) + 1] for h in HEADINGS] == ["（无）"] * 4
    assert "局领导：" not in texts and "：" not in texts
    assert "检查人员：（无）" in texts


def _borders(paragraph) -> dict:
    found = paragraph._p.pPr.find(qn("w:pBdr"))
    if found is None:
        return {}
    return {edge.tag.split("}")[1]: edge.get(qn("w:val")) for edge in found}


def test_seal_area_frames_the_issuer_and_date_at_the_signing_position():
    document = _open(_doc(date=dt.date(2026, 1, 5), section="水资源管理科"))
    texts = _texts(document)
    assert "（印章）" not in texts  # no printed placeholder text for the seal
    at = texts.index("盖章处")
    assert texts[at : at + 3] == ["盖章处", "东胜区水利局", "2026年1月5日"]
    box = document.paragraphs[at : at + 3]
    # One dashed box (the same borders and indents on the three paragraphs), 6 cm wide,
    # four characters in from the right margin, where GB/T 9704 puts the signature.
    for paragraph in box:
        assert _borders(paragraph) == dict.fromkeys(("top", "left", "bottom", "right"), "dashed")
        assert paragraph.alignment == WD_ALIGN_PARAGRAPH.CENTER
        assert paragraph.paragraph_format.right_indent == 4 * Pt(16)
        width = Cm(15.6) - paragraph.paragraph_format.left_indent - 4 * Pt(16)
        assert round(Length(width).cm, 1) == 6.0
    assert box[0].runs[0].font.color.rgb == RGBColor(0x80, 0x80, 0x80)
    assert texts[-1] == "承办科室：水资源管理科"
    assert not _borders(document.paragraphs[-1])


def test_no_section_line_for_a_document_of_the_bureau_itself():
    texts = _texts(_open(_doc(section="")))
    assert not [t for t in texts if t.startswith("承办科室")]


def test_page_number_footer():
    document = _open(_doc())

    footer = document.sections[0].footer.paragraphs[0]
    assert footer.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert footer.text.startswith("— ") and footer.text.endswith(" —")
    instructions = [el.text.strip() for el in footer._p.iter(qn("w:instrText"))]
    assert instructions == ["PAGE"]


def test_page_is_a4_with_gbt_9704_margins():
    section = _open(_doc()).sections[0]

    def cm(length) -> float:  # DOCX stores twips: 21 cm comes back as 21.0005 cm
        return round(length.cm, 2)

    assert (cm(section.page_width), cm(section.page_height)) == (21.0, 29.7)
    assert cm(section.top_margin) == 3.7
    assert cm(section.bottom_margin) == 3.5
    assert cm(section.left_margin) == 2.8
    assert cm(section.right_margin) == 2.6


def test_core_properties():
    props = _open(_doc()).core_properties
    assert props.title == "关于2026年度河道采砂双随机抽查的检查报告"
    assert props.author == "东胜区水利局"
    assert props.revision == 2
    assert props.content_status == "已批准"


def test_user_text_is_literal_text():
    hostile = '<script>alert("x")</script> & <w:t>'
    document = _open(
        _doc(
            title=hostile,
            situation=f"{hostile}\n第二行",
            records=[{"target": hostile, "date": "", "result": "&amp;", "follow_up": ""}],
            inspectors="张三\x00\x0b",  # control characters XML cannot carry are dropped
        )
    )
    texts = _texts(document)
    assert texts[2] == hostile
    assert hostile in texts and "第二行" in texts
    row = [cell.text for cell in document.tables[0].rows[1].cells]
    assert row == ["1", hostile, "", "&amp;", ""]
    assert "检查人员：张三" in texts
    assert document.core_properties.title == hostile
