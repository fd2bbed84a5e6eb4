"""The notice as DOCX in the official layout (GB/T 9704 conventions), with python-docx."""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from services.reports.notice import Notice


@dataclass(frozen=True)
class DocxStyle:
    """Fonts and sizes; the title falls back to 宋体 where 方正小标宋 is not installed."""

    title_font: str = "方正小标宋简体"
    title_fallback: str = "宋体"
    body_font: str = "仿宋_GB2312"
    body_fallback: str = "仿宋"
    heading_font: str = "黑体"
    body_size: float = 16.0  # 三号
    title_size: float = 22.0  # 二号
    office_size: float = 26.0
    line_spacing: float = 28.0  # fixed, points


def _font(run, *, name: str, fallback: str, size: float, bold: bool = False) -> None:
    """East Asian text in ``name``; Latin text and digits in ``fallback`` (a common font)."""
    run.font.name = fallback
    run.font.size = Pt(size)
    run.font.bold = bold
    fonts = run._element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), name)
    fonts.set(qn("w:ascii"), fallback)
    fonts.set(qn("w:hAnsi"), fallback)


def render_docx(notice: Notice, *, style: DocxStyle | None = None) -> bytes:
    """The notice as a .docx file's bytes: the same paragraphs as the Markdown, in order."""
    s = style or DocxStyle()
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    normal = document.styles["Normal"]
    normal.font.name = s.body_fallback
    normal.font.size = Pt(s.body_size)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), s.body_font)
    for block in notice.blocks:
        paragraph = document.add_paragraph()
        fmt = paragraph.paragraph_format
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = Pt(s.line_spacing)
        fmt.space_before = fmt.space_after = Pt(0)
        run = paragraph.add_run(block.full_text)
        if block.kind in ("office", "title"):
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            size = s.office_size if block.kind == "office" else s.title_size
            fmt.line_spacing = Pt(size * 1.5)
            fmt.space_after = Pt(s.body_size)
            _font(run, name=s.title_font, fallback=s.title_fallback, size=size)
            if block.kind == "office":
                run.font.color.rgb = RGBColor(0xC0, 0, 0)
        elif block.kind == "doc_number":
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            fmt.space_after = Pt(s.body_size)
            _font(run, name=s.body_font, fallback=s.body_fallback, size=s.body_size)
        elif block.kind == "h1":
            fmt.first_line_indent = Pt(2 * s.body_size)
            _font(run, name=s.heading_font, fallback=s.heading_font, size=s.body_size)
        elif block.kind in ("signature", "date"):
            paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            fmt.right_indent = Pt(4 * s.body_size)
            if block.kind == "signature":
                fmt.space_before = Pt(2 * s.body_size)
            _font(run, name=s.body_font, fallback=s.body_fallback, size=s.body_size)
        elif block.kind == "issued":
            paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            fmt.space_before = Pt(2 * s.body_size)
            _font(run, name=s.body_font, fallback=s.body_fallback, size=14.0)
        else:
            if block.kind != "addressees":
                fmt.first_line_indent = Pt(2 * s.body_size)
            paragraph.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
            _font(run, name=s.body_font, fallback=s.body_fallback, size=s.body_size)
    document.core_properties.title = notice.title
    buffer = BytesIO()
    document.save(buffer)
    return buffer.getvalue()
