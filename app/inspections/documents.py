"""Printable DOCX of a spot-check summary report (检查小结/检查报告), laid out after GB/T 9704
(党政机关公文格式) as far as a generated document reasonably can.

`summary_docx(doc)` takes plain data and returns the bytes of a .docx file; it needs only the
standard library, python-docx and app/core/text.py's date helper (no app, no database), so callers decide where the data
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
- 检查人员, then the seal area (盖章处): a dashed box at the signing position, four characters in
  from the right margin, framing the issuing body and the date ("2026年11月28日") that the seal
  presses down on, as GB/T 9704 places 印章; then 承办科室 (the section that did the work: a
  section does not issue documents, the bureau does).
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

from app.core.text import chinese_date, xml_safe

__all__ = ["plan_filing_docx", "seal_area", "summary_docx"]

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
SEAL_LABEL = "盖章处"
SEAL_WIDTH = Cm(6.0)
TEXT_WIDTH = Cm(15.6)
GREY = RGBColor(0x80, 0x80, 0x80)
SIZE_NOTE = Pt(10.5)  # 五号


# Font table entries: (font, alternate name or None, PANOSE classification).
_FONT_TABLE = (
    (XIAOBIAOSONG, SONG, "02010600030101010101"),
    (FANGSONG, FANGSONG_FALLBACK, "02010609060101010101"),
    (SONG, None, "02010600030101010101"),
    (FANGSONG_FALLBACK, None, "02010609060101010101"),
    (HEITI, None, "02010609060101010101"),
)


def summary_docx(doc: dict) -> bytes:
    """Render a summary report and return the .docx file as bytes.

    `doc` keys: issuer (the bureau), section (承办科室), title, number (文号), recipient, check_period, content, situation and
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

    report_date = doc.get("date")
    date_text = chinese_date(report_date) if isinstance(report_date, dt.date) else ""
    seal_area(document, issuer, date_text)
    section = _text(doc.get("section"))
    if section:
        p = _paragraph(document, before=Pt(28))
        _run(p, f"承办科室：{section}", FANGSONG, SIZE_BODY)

    _page_number_footer(document)
    _set_core_properties(document, doc, issuer)

    out = io.BytesIO()
    document.save(out)
    return _reproducible(out.getvalue(), _document_time(doc))


def seal_area(document, issuer: str, date_text: str) -> None:
    """盖章处: the issuing body and the date centred in a dashed box at the signing position
    (GB/T 9704: the date four characters in from the right margin, the seal pressing down on
    both). Three paragraphs with the same borders and indents, which Word and LibreOffice draw
    as one box; a small grey 盖章处 at its top says what the box is for."""
    right = 4 * SIZE_BODY
    left = TEXT_WIDTH - right - SEAL_WIDTH
    label = _paragraph(document, align=WD_ALIGN_PARAGRAPH.CENTER, before=Pt(42), line=Pt(20))
    _run(label, SEAL_LABEL, SONG, SIZE_NOTE, color=GREY)
    name = _paragraph(document, align=WD_ALIGN_PARAGRAPH.CENTER, before=Pt(14))
    _run(name, issuer, FANGSONG, SIZE_BODY)
    day = _paragraph(document, align=WD_ALIGN_PARAGRAPH.CENTER, after=Pt(20))
    _run(day, date_text, FANGSONG, SIZE_BODY)
    for p in (label, name, day):
        p.paragraph_format.left_indent = left
        p.paragraph_format.right_indent = right
        p.paragraph_format.keep_with_next = p is not day
        _box_border(p)


def _box_border(paragraph) -> None:
    """A dashed grey border on all four sides (consecutive paragraphs share one box)."""
    borders = OxmlElement("w:pBdr")
    for side in ("top", "left", "bottom", "right"):
        edge = OxmlElement(f"w:{side}")
        edge.set(qn("w:val"), "dashed")
        edge.set(qn("w:sz"), "8")
        edge.set(qn("w:space"), "4")
        edge.set(qn("w:color"), "808080")
        borders.append(edge)
    paragraph._p.get_or_add_pPr().insert_element_before(borders, *_PPR_AFTER_PBDR)


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


# -- the plan filing form (备案表) ----------------------------------------------------------------

FILING_FIELDS = (
    ("备案单位", "bureau"),
    ("承办科室", "section"),
    ("计划名称", "plan_title"),
    ("计划年度", "year"),
    ("发布日期", "published_on"),
    ("计划版本", "version"),
    ("抽查事项（行）数", "line_count"),
    ("备案文件SHA-256", "csv_sha256"),
)
FILING_LINE_WIDTHS = (Cm(1.0), Cm(3.6), Cm(2.6), Cm(1.8), Cm(1.8), Cm(2.6), Cm(2.2))
FILING_FIELD_WIDTHS = (Cm(3.8), Cm(11.8))


def plan_filing_docx(data: dict) -> bytes:
    """The 备案表 of an annual plan (app/disclosure/plan_export.filing_form_data) as DOCX: A4,
    the GB/T 9704 margins, title, a table of the filing's fields, the plan's lines, the filing
    body's seal area and the joint-meeting office's receipt box."""
    from app.disclosure.plan_export import FILING_LINE_COLUMNS

    document = Document()
    _set_up_page(document)
    _set_up_styles(document)
    _add_font_alternates(document)

    p = _paragraph(document, align=WD_ALIGN_PARAGRAPH.CENTER, line=None, after=Pt(18))
    _run(p, _text(data.get("title")), XIAOBIAOSONG, SIZE_TITLE)

    fields = document.add_table(rows=0, cols=2)
    _grid(document, fields, FILING_FIELD_WIDTHS)
    for label, key in FILING_FIELDS:
        value = data.get(key)
        cells = _row(fields, FILING_FIELD_WIDTHS).cells
        _cell_text(cells[0], label, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
        _cell_text(cells[1], EMPTY if value in (None, "") else value)

    caption = _paragraph(document, align=WD_ALIGN_PARAGRAPH.CENTER, before=Pt(12))
    caption.paragraph_format.keep_with_next = True
    _run(caption, "计划抽查事项", HEITI, SIZE_BODY)
    lines = document.add_table(rows=1, cols=len(FILING_LINE_COLUMNS))
    _grid(document, lines, FILING_LINE_WIDTHS)
    _header_row(lines, FILING_LINE_COLUMNS, FILING_LINE_WIDTHS)
    keys = ("no", "item_names", "scope", "ratios", "method", "period", "departments")
    for line in data.get("lines") or []:
        cells = _row(lines, FILING_LINE_WIDTHS).cells
        for index, (cell, key) in enumerate(zip(cells, keys, strict=True)):
            centred = WD_ALIGN_PARAGRAPH.CENTER if index == 0 else WD_ALIGN_PARAGRAPH.LEFT
            _cell_text(cell, line.get(key), align=centred)
    if not data.get("lines"):
        row = _row(lines, FILING_LINE_WIDTHS)
        _cell_text(row.cells[0].merge(row.cells[-1]), EMPTY, align=WD_ALIGN_PARAGRAPH.CENTER)

    p = _paragraph(document, before=Pt(12))
    _run(p, "填报人：　　　　　　　　联系电话：", FANGSONG, SIZE_BODY)
    seal_area(document, _text(data.get("bureau")), _text(data.get("date_text")))

    receipt = document.add_table(rows=1, cols=1)
    _grid(document, receipt, (TEXT_WIDTH,))
    cell = _set_widths(receipt.rows[0], (TEXT_WIDTH,)).cells[0]
    filed_on = _text(data.get("filed_on"))
    _cell_text(
        cell,
        f"{_text(data.get('receiver'))}接收意见：\n\n\n"
        f"接收人：　　　　　　　　接收日期：{filed_on or '　　年　　月　　日'}",
    )

    _page_number_footer(document)
    properties = {"title": data.get("title"), "date": data.get("date")}
    _set_core_properties(document, properties, _text(data.get("bureau")))
    out = io.BytesIO()
    document.save(out)
    return _reproducible(out.getvalue(), _document_time(properties))


def _grid(document, table, widths) -> None:
    """A fixed, centred, ruled table. Word lays out a fixed table from the cell widths,
    LibreOffice from the grid: the grid here, the cells row by row (_set_widths)."""
    table.style = document.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width


def _header_row(table, titles, widths) -> None:
    """The first row as a bold header, repeated at the top of every page the table runs onto."""
    header = _set_widths(table.rows[0], widths)
    header._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))
    for cell, title in zip(header.cells, titles, strict=True):
        _cell_text(cell, title, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)


def _row(table, widths):
    return _set_widths(table.add_row(), widths)


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
    _grid(document, table, TABLE_WIDTHS)
    _header_row(table, TABLE_COLUMNS, TABLE_WIDTHS)

    if not records:
        row = _set_widths(table.add_row())
        merged = row.cells[0].merge(row.cells[-1])
        _cell_text(merged, EMPTY, align=WD_ALIGN_PARAGRAPH.CENTER)
    for number, record in enumerate(records, start=1):
        record_date = record.get("date")
        if isinstance(record_date, dt.date):
            record_date = chinese_date(record_date)
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


def _set_widths(row, widths=TABLE_WIDTHS):
    """Width of each cell of a new row (before any merge: merging adds the widths up)."""
    for cell, width in zip(row.cells, widths, strict=True):
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
    return xml_safe(str(value))


def _lines(value) -> list[str]:
    """Non-empty lines, trimmed (full-width spaces too: the paragraph already indents)."""
    return [line.strip() for line in _text(value).splitlines() if line.strip()]
