"""Printable DOCX of a spot-check summary report (检查小结/检查报告), laid out after GB/T 9704
(党政机关公文格式) as far as a generated document reasonably can.

`summary_docx(doc)` takes plain data and returns the bytes of a .docx file; it needs only the
standard library and python-docx (no Flask, no database), so callers decide where the data
comes from and how the file is served or archived.

Layout, top to bottom:
- A4, margins top 3.7 cm, bottom 3.5 cm, left 2.8 cm, right 2.6 cm.
- Issuer (发文机关标志): centred, red (C00000), bold, 方正小标宋简体 22 pt; then the 文号
  centred in 仿宋_GB2312 16 pt (三号), with the red rule (a paragraph bottom border) under it,
  as GB/T 9704 places the 发文字号 above the separator line.
- Title centred, 方正小标宋简体 22 pt (二号); recipient line "局领导：".
- Sections 一、检查时间 / 二、检查内容 / 三、现场检查情况 (followed by the table 检查对象及结果:
  序号/检查对象/检查日期/检查结果/后续处置) / 四、处理意见和建议. Headings 黑体 16 pt, body
  仿宋_GB2312 16 pt, first line indented two characters, line spacing exactly 28 pt; every
  non-empty line of a multi-line field is its own paragraph.
- 检查人员, then the issuer and the date ("2026年11月28日") right-aligned, then a right-aligned
  "（印章）" placeholder for the seal.
- Footer: the page number centred as "— 1 —" (a PAGE field, so Word fills in each page).

Chinese fonts need the `w:eastAsia` attribute of `w:rFonts`; python-docx's `font.name` sets
only the Latin slots, so every run goes through `_set_font`. The 方正 and _GB2312 fonts are
often missing on office PCs: the font table names 宋体/仿宋 as their alternates (`w:altName`)
and GB2312 as their charset, which is what Word uses to substitute a missing font.

Empty fields render as "（无）" (an empty record list as one "（无）" row under the table
header). User text is only ever set as run text, which python-docx escapes; characters that
XML 1.0 cannot carry (control characters) are dropped rather than failing the export.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterable

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.oxml import serialize_part_xml
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Cm, Pt, RGBColor

__all__ = ["format_chinese_date", "summary_docx"]

# Fonts (GB/T 9704: 标题 2号小标宋, 正文 3号仿宋, 一级标题 黑体, 页码 4号半角宋体).
XIAOBIAOSONG = "方正小标宋简体"
SONG = "宋体"
FANGSONG = "仿宋_GB2312"
FANGSONG_FALLBACK = "仿宋"
HEITI = "黑体"

SIZE_TITLE = Pt(22)  # 二号
SIZE_BODY = Pt(16)  # 三号
SIZE_PAGE_NUMBER = Pt(14)  # 四号
SIZE_TABLE = Pt(12)  # 小四
LINE_EXACT = Pt(28)
RED = RGBColor(0xC0, 0x00, 0x00)

HEADINGS = ("一、检查时间", "二、检查内容", "三、现场检查情况", "四、处理意见和建议")
TABLE_CAPTION = "检查对象及结果"
TABLE_COLUMNS = ("序号", "检查对象", "检查日期", "检查结果", "后续处置")
# Sum is the text width: 21.0 cm - 2.8 cm - 2.6 cm = 15.6 cm.
TABLE_WIDTHS = (Cm(1.2), Cm(4.2), Cm(3.0), Cm(3.6), Cm(3.6))
EMPTY = "（无）"
SEAL = "（印章）"

# Everything XML 1.0 cannot hold: C0 controls except tab/newline/CR, surrogates, U+FFFE/U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

# Font table entries: (font, alternate name or None, PANOSE classification).
_FONT_TABLE = (
    (XIAOBIAOSONG, SONG, "02010600030101010101"),
    (FANGSONG, FANGSONG_FALLBACK, "02010609060101010101"),
    (SONG, None, "02010600030101010101"),
    (FANGSONG_FALLBACK, None, "02010609060101010101"),
    (HEITI, None, "02010609060101010101"),
)


def format_chinese_date(d: dt.date) -> str:
    """`date(2026, 11, 28)` -> "2026年11月28日" (no leading zeros, as 公文 dates are written)."""
    return f"{d.year}年{d.month}月{d.day}日"


def summary_docx(doc: dict) -> bytes:
    """Render a summary report and return the .docx file as bytes.

    `doc` keys: issuer, title, number (文号), recipient, check_period, content, situation and
    opinions (multi-line), inspectors (str); records (list of dicts with target, date (str or
    date), result, follow_up); date (`datetime.date` of the report); version (int) and status
    (str), which go into the document properties (revision, content status), not the page.
    Missing keys and None count as empty.
    """
    document = Document()
    _set_up_page(document)
    _set_up_styles(document)
    _add_font_alternates(document)

    issuer = _text(doc.get("issuer"))

    # 版头: issuer, 文号, red rule.
    p = _paragraph(document, align=WD_ALIGN_PARAGRAPH.CENTER, line=None, after=Pt(28))
    _run(p, issuer, XIAOBIAOSONG, SIZE_TITLE, bold=True, color=RED)
    p = _paragraph(document, align=WD_ALIGN_PARAGRAPH.CENTER, after=Pt(6))
    _run(p, _text(doc.get("number")), FANGSONG, SIZE_BODY)
    _bottom_border(p, color="C00000", size_eighths=12)

    # Title and recipient.
    p = _paragraph(
        document, align=WD_ALIGN_PARAGRAPH.CENTER, line=None, before=Pt(28), after=Pt(28)
    )
    _run(p, _text(doc.get("title")), XIAOBIAOSONG, SIZE_TITLE)
    recipient = _text(doc.get("recipient"))
    if recipient:
        _run(_paragraph(document), f"{recipient}：", FANGSONG, SIZE_BODY)

    # 正文.
    _heading(document, HEADINGS[0])
    _body_lines(document, doc.get("check_period"))
    _heading(document, HEADINGS[1])
    _body_lines(document, doc.get("content"))
    _heading(document, HEADINGS[2])
    _body_lines(document, doc.get("situation"))
    _records_table(document, doc.get("records") or [])
    _heading(document, HEADINGS[3])
    _body_lines(document, doc.get("opinions"))

    inspectors = _text(doc.get("inspectors")) or EMPTY
    _run(_paragraph(document, indent=True), f"检查人员：{inspectors}", FANGSONG, SIZE_BODY)

    # Signature block; GB/T 9704 puts the 成文日期 four characters in from the right margin.
    report_date = doc.get("date")
    date_text = format_chinese_date(report_date) if isinstance(report_date, dt.date) else ""
    right_indent = 4 * SIZE_BODY
    p = _paragraph(document, align=WD_ALIGN_PARAGRAPH.RIGHT, before=Pt(56), right=right_indent)
    _run(p, issuer, FANGSONG, SIZE_BODY)
    p = _paragraph(document, align=WD_ALIGN_PARAGRAPH.RIGHT, right=right_indent)
    _run(p, date_text, FANGSONG, SIZE_BODY)
    p = _paragraph(document, align=WD_ALIGN_PARAGRAPH.RIGHT, before=Pt(28), right=right_indent)
    _run(p, SEAL, FANGSONG, SIZE_BODY)

    _page_number_footer(document)
    _set_core_properties(document, doc, issuer)

    out = io.BytesIO()
    document.save(out)
    return _reproducible(out.getvalue(), _document_time(doc))


def _document_time(doc: dict) -> dt.datetime:
    """The report's date (noon, UTC) when it has one: the same report gives the same bytes, so
    an archive bundle built again has the same SHA-256 for it. Otherwise now."""
    day = doc.get("date")
    if isinstance(day, dt.date):
        return dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.UTC)
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _reproducible(data: bytes, when: dt.datetime) -> bytes:
    """The package again with every member stamped `when` (python-docx stamps them with the
    time of saving)."""
    stamp = (max(when.year, 1980), when.month, when.day, when.hour, when.minute, when.second)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for member in source.infolist():
            info = zipfile.ZipInfo(member.filename, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = member.external_attr
            target.writestr(info, source.read(member.filename))
    return out.getvalue()


# -- page, styles, fonts -----------------------------------------------------------------------


def _set_up_page(document) -> None:
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width = Cm(21.0)
    section.page_height = Cm(29.7)
    section.top_margin = Cm(3.7)
    section.bottom_margin = Cm(3.5)
    section.left_margin = Cm(2.8)
    section.right_margin = Cm(2.6)


def _set_up_styles(document) -> None:
    """Make the defaults Chinese: the template's theme fonts would otherwise win over the
    explicit names on runs in some viewers, and its 10 pt space after every paragraph would
    break the 28 pt line grid."""
    styles = document.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    if defaults is not None:
        r_fonts = defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}/{qn('w:rFonts')}")
        if r_fonts is not None:
            for attr in ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme"):
                r_fonts.attrib.pop(qn(f"w:{attr}"), None)
    normal = document.styles["Normal"]
    _set_font(normal.font, normal.element.get_or_add_rPr(), FANGSONG, SIZE_BODY)
    r_pr = normal.element.get_or_add_rPr()
    lang = r_pr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        r_pr.insert_element_before(lang, "w:eastAsianLayout", "w:specVanish", "w:oMath")
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")
    normal.paragraph_format.space_before = Pt(0)
    normal.paragraph_format.space_after = Pt(0)


def _add_font_alternates(document) -> None:
    """Declare the Chinese fonts in the font table with a fallback and the GB2312 charset, so a
    PC without 方正小标宋简体 or 仿宋_GB2312 shows 宋体/仿宋 rather than a Latin font."""
    try:
        part = document.part.part_related_by(RT.FONT_TABLE)
    except KeyError:
        return
    fonts = parse_xml(part.blob)
    for name, alternate, panose in _FONT_TABLE:
        for existing in fonts.findall(qn("w:font")):
            if existing.get(qn("w:name")) == name:
                fonts.remove(existing)
        alt = f'<w:altName w:val="{alternate}"/>' if alternate else ""
        fonts.append(
            parse_xml(
                f'<w:font {nsdecls("w")} w:name="{name}">{alt}'
                f'<w:panose1 w:val="{panose}"/><w:charset w:val="86"/>'
                '<w:family w:val="roman"/><w:pitch w:val="variable"/></w:font>'
            )
        )
    # python-docx keeps the font table as a plain blob part, which has no public setter.
    part._blob = serialize_part_xml(fonts)


def _set_font(font, r_pr, name: str, size, bold: bool = False, color: RGBColor | None = None):
    """Set `name` for Latin and East Asian text alike (`w:eastAsia` is what Chinese uses)."""
    font.name = name
    font.size = size
    font.bold = bold or None  # None: no w:b element rather than w:b="0"
    if color is not None:
        font.color.rgb = color
    r_pr.get_or_add_rFonts().set(qn("w:eastAsia"), name)


# -- paragraphs and runs -----------------------------------------------------------------------


def _paragraph(
    container,
    *,
    align=WD_ALIGN_PARAGRAPH.LEFT,
    indent: bool = False,
    line=LINE_EXACT,
    before=Pt(0),
    after=Pt(0),
    right=None,
):
    """A paragraph with explicit spacing (the layout must not depend on the template).
    `line=None` means single spacing, for the 22 pt lines that an exact 28 pt would clip."""
    p = container.add_paragraph()
    fmt = p.paragraph_format
    fmt.alignment = align
    fmt.space_before = before
    fmt.space_after = after
    if line is None:
        fmt.line_spacing_rule = WD_LINE_SPACING.SINGLE
    else:
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = line
    if right is not None:
        fmt.right_indent = right
    if indent:
        fmt.first_line_indent = 2 * SIZE_BODY
        # Word measures the indent in characters when firstLineChars is present (200 = 2 chars).
        p._p.get_or_add_pPr().get_or_add_ind().set(qn("w:firstLineChars"), "200")
    return p


def _run(paragraph, text: str, font_name: str, size, *, bold=False, color=None):
    run = paragraph.add_run(_text(text))
    _set_font(run.font, run._r.get_or_add_rPr(), font_name, size, bold, color)
    return run


def _heading(container, text: str) -> None:
    p = _paragraph(container, indent=True)
    p.paragraph_format.keep_with_next = True
    _run(p, text, HEITI, SIZE_BODY)


def _body_lines(container, value) -> None:
    lines = _lines(value) or [EMPTY]
    for line in lines:
        _run(_paragraph(container, indent=True), line, FANGSONG, SIZE_BODY)


def _bottom_border(paragraph, *, color: str, size_eighths: int) -> None:
    p_pr = paragraph._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    bottom.set(qn("w:val"), "single")
    bottom.set(qn("w:sz"), str(size_eighths))  # eighths of a point
    bottom.set(qn("w:space"), "1")
    bottom.set(qn("w:color"), color)
    borders.append(bottom)
    # pBdr has a fixed place in pPr's child sequence; insert it before whatever follows it.
    p_pr.insert_element_before(borders, *_PPR_AFTER_PBDR)


# Children of w:pPr that come after w:pBdr (ECMA-376 order) and may already be present.
_PPR_AFTER_PBDR = (
    "w:shd",
    "w:tabs",
    "w:suppressAutoHyphens",
    "w:kinsoku",
    "w:wordWrap",
    "w:overflowPunct",
    "w:topLinePunct",
    "w:autoSpaceDE",
    "w:autoSpaceDN",
    "w:bidi",
    "w:adjustRightInd",
    "w:snapToGrid",
    "w:spacing",
    "w:ind",
    "w:contextualSpacing",
    "w:mirrorIndents",
    "w:suppressOverlap",
    "w:jc",
    "w:textDirection",
    "w:textAlignment",
    "w:textboxTightWrap",
    "w:outlineLvl",
    "w:divId",
    "w:cnfStyle",
    "w:rPr",
    "w:sectPr",
    "w:pPrChange",
)


# -- table -------------------------------------------------------------------------------------


def _records_table(document, records: Iterable[dict]) -> None:
    records = list(records)
    caption = _paragraph(document, align=WD_ALIGN_PARAGRAPH.CENTER, before=Pt(6))
    caption.paragraph_format.keep_with_next = True
    _run(caption, TABLE_CAPTION, HEITI, SIZE_BODY)

    table = document.add_table(rows=1, cols=len(TABLE_COLUMNS))
    table.style = document.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    # Word lays out a fixed table from the cell widths, LibreOffice from the grid: set both.
    for column, width in zip(table.columns, TABLE_WIDTHS, strict=True):
        column.width = width

    header = table.rows[0]
    _set_widths(header)
    # Repeat the header row at the top of every page the table runs onto.
    header._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))
    for cell, title in zip(header.cells, TABLE_COLUMNS, strict=True):
        _cell_text(cell, title, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)

    if not records:
        row = _set_widths(table.add_row())
        merged = row.cells[0].merge(row.cells[-1])
        _cell_text(merged, EMPTY, align=WD_ALIGN_PARAGRAPH.CENTER)
    for number, record in enumerate(records, start=1):
        record_date = record.get("date")
        if isinstance(record_date, dt.date):
            record_date = format_chinese_date(record_date)
        values = (
            str(number),
            record.get("target"),
            record_date,
            record.get("result"),
            record.get("follow_up"),
        )
        cells = _set_widths(table.add_row()).cells
        for index, (cell, value) in enumerate(zip(cells, values, strict=True)):
            centred = index in (0, 2)
            align = WD_ALIGN_PARAGRAPH.CENTER if centred else WD_ALIGN_PARAGRAPH.LEFT
            _cell_text(cell, value, align=align)

    # Space between the table and the next heading (a table cannot carry space after).
    _paragraph(document, line=Pt(14))


def _set_widths(row):
    """Width of each cell of a new row (before any merge: merging adds the widths up)."""
    for cell, width in zip(row.cells, TABLE_WIDTHS, strict=True):
        cell.width = width
    return row


def _cell_text(cell, value, *, bold=False, align=WD_ALIGN_PARAGRAPH.LEFT) -> None:
    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    lines = _lines(value) or [""]
    paragraph = cell.paragraphs[0]
    for index, line in enumerate(lines):
        if index:
            paragraph = cell.add_paragraph()
        fmt = paragraph.paragraph_format
        fmt.alignment = align
        fmt.space_before = Pt(0)
        fmt.space_after = Pt(0)
        fmt.line_spacing_rule = WD_LINE_SPACING.SINGLE
        _run(paragraph, line, FANGSONG, SIZE_TABLE, bold=bold)


# -- footer and properties ---------------------------------------------------------------------


def _page_number_footer(document) -> None:
    footer = document.sections[0].footer
    footer.is_linked_to_previous = False
    p = footer.paragraphs[0]
    p.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(p, "— ", SONG, SIZE_PAGE_NUMBER)
    # PAGE as a complex field: begin, instruction, separate, cached result, end. The cached "1"
    # is shown only until the viewer updates the field on each page.
    _field_char(_run(p, "", SONG, SIZE_PAGE_NUMBER), "begin")
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = " PAGE "
    _run(p, "", SONG, SIZE_PAGE_NUMBER)._r.append(instr)
    _field_char(_run(p, "", SONG, SIZE_PAGE_NUMBER), "separate")
    _run(p, "1", SONG, SIZE_PAGE_NUMBER)
    _field_char(_run(p, "", SONG, SIZE_PAGE_NUMBER), "end")
    _run(p, " —", SONG, SIZE_PAGE_NUMBER)


def _field_char(run, kind: str) -> None:
    char = OxmlElement("w:fldChar")
    char.set(qn("w:fldCharType"), kind)
    run._r.append(char)


def _set_core_properties(document, doc: dict, issuer: str) -> None:
    props = document.core_properties
    props.title = _text(doc.get("title"))
    props.author = issuer
    props.last_modified_by = issuer
    props.comments = ""  # the template says "generated by python-docx"
    props.language = "zh-CN"
    props.content_status = _text(doc.get("status"))
    version = doc.get("version")
    if isinstance(version, int) and version > 0:
        props.revision = version
    when = _document_time(doc)
    props.created = when
    props.modified = when


# -- text --------------------------------------------------------------------------------------


def _text(value) -> str:
    """`value` as text XML can carry; None becomes ""."""
    if value is None:
        return ""
    return _NOT_XML.sub("", str(value))


def _lines(value) -> list[str]:
    """Non-empty lines, trimmed (full-width spaces too: the paragraph already indents)."""
    return [line.strip() for line in _text(value).splitlines() if line.strip()]
