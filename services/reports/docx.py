"""The notice as DOCX in the official layout (GB/T 9704 conventions), with python-docx.

python-docx builds a document element by element (the template loaded, every run's fonts
looked up and set): ~0.1 s a notice. A notice only ever holds one paragraph per block, each
block kind laid out the same way, so ``render_docx`` lays out one paragraph of every kind once
with python-docx (``_python_docx``, the reference), keeps the serialized parts, and per notice
puts the escaped texts into those paragraphs: the same parts, byte for byte, in the same
order. A text the fast path cannot write as plain XML text (tabs, line breaks, leading or
trailing spaces, characters XML refuses) goes the python-docx way.
"""

from __future__ import annotations

import re
import struct
import time
import zipfile
import zlib
from dataclasses import dataclass
from functools import cache
from io import BytesIO

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from services.reports.notice import BLOCK_KINDS, Block, Notice


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
    texts = [notice.title, *(block.full_text for block in notice.blocks)]
    if not all(_plain(text) for text in texts):
        return _python_docx(notice.title, notice.blocks, s)
    skeleton = _skeleton(s)
    paragraphs = skeleton.paragraphs
    body = b"".join(_escaped(b.full_text).join(paragraphs[b.kind]) for b in notice.blocks)
    replaced = {
        _DOCUMENT: body.join(skeleton.document),
        _CORE: _escaped(notice.title).join(skeleton.core),
    }
    return _zipped(
        [
            (name, _deflated(replaced[name]) if name in replaced else part)
            for name, part in skeleton.parts
        ]
    )


#: Characters the fast path leaves to python-docx: tabs and breaks (it writes elements for
#: them), other controls and what XML refuses (lxml raises, as python-docx would).
_SPECIAL = re.compile("[\x00-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def _plain(text: str) -> bool:
    """Written as is: not empty (python-docx writes no text element then), no space at either
    end (it marks those ``xml:space``), nothing special."""
    return bool(text) and text == text.strip() and not _SPECIAL.search(text)


_DOCUMENT, _CORE = "word/document.xml", "docProps/core.xml"
_MARK = "\u2063MARK\u2063"  # a text no notice holds (INVISIBLE SEPARATOR around it)


def _escaped(text: str) -> bytes:
    """As lxml writes element text: &, < and > escaped, the rest in UTF-8."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").encode("utf-8")


@dataclass(frozen=True)
class _Member:
    """A part as a zip archive holds it: deflated as ``zipfile`` deflates (level 6, raw)."""

    data: bytes
    crc: int
    size: int


def _deflated(blob: bytes) -> _Member:
    compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    return _Member(compressor.compress(blob) + compressor.flush(), zlib.crc32(blob), len(blob))


def _zipped(members: list[tuple[str, _Member]]) -> bytes:
    """The archive ``zipfile.ZipFile(…, "w", ZIP_DEFLATED).writestr`` writes (same headers,
    now's timestamp), from members deflated beforehand: the template's parts are compressed
    once, not once per notice."""
    now = time.localtime(time.time())[:6]
    dostime = now[3] << 11 | now[4] << 5 | now[5] // 2
    dosdate = (now[0] - 1980) << 9 | now[1] << 5 | now[2]
    out, directory = BytesIO(), []
    for name, m in members:
        raw = name.encode("ascii")
        fields = (0, 8, dostime, dosdate, m.crc, len(m.data), m.size, len(raw), 0)
        directory.append((raw, fields, out.tell()))
        out.write(struct.pack("<4s2B4HL2L2H", b"PK\x03\x04", 20, 0, *fields) + raw + m.data)
    start = out.tell()
    for raw, fields, offset in directory:
        out.write(
            struct.pack(
                "<4s4B4HL2L5H2L", b"PK\x01\x02", 20, 3, 20, 0, *fields, 0, 0, 0, 0o600 << 16, offset
            )
            + raw
        )
    end = out.tell()
    count = len(directory)
    out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, end - start, start, 0))
    return out.getvalue()


@dataclass(frozen=True)
class _Skeleton:
    parts: tuple[tuple[str, _Member], ...]  # every part, in python-docx's order
    document: tuple[bytes, bytes]  # document.xml before and after the paragraphs
    core: tuple[bytes, bytes]  # core.xml before and after the title
    paragraphs: dict[str, tuple[bytes, bytes]]  # per block kind: before and after its text


@cache
def _skeleton(style: DocxStyle) -> _Skeleton:
    """One paragraph of each block kind laid out by python-docx, cut around its text."""
    mark = _MARK.encode("utf-8")
    blocks = tuple(Block(kind, _MARK) for kind in BLOCK_KINDS)
    content = _python_docx(_MARK, blocks, style)
    with zipfile.ZipFile(BytesIO(content)) as archive:
        parts = tuple((name, archive.read(name)) for name in archive.namelist())
    blobs = dict(parts)
    document = blobs[_DOCUMENT]
    start = document.index(b"<w:body>") + len(b"<w:body>")
    end = document.index(b"<w:sectPr")
    found = re.findall(rb"<w:p>.*?</w:p>", document[start:end])
    if len(found) != len(BLOCK_KINDS) or b"".join(found) != document[start:end]:
        raise RuntimeError("python-docx laid out the notice's paragraphs unexpectedly")
    paragraphs = {kind: tuple(p.split(mark)) for kind, p in zip(BLOCK_KINDS, found, strict=True)}
    core = tuple(blobs[_CORE].split(mark))
    if len(core) != 2 or any(len(p) != 2 for p in paragraphs.values()):
        raise RuntimeError("python-docx wrote the notice's texts unexpectedly")
    members = tuple((name, _deflated(blob)) for name, blob in parts)
    return _Skeleton(members, (document[:start], document[end:]), core, paragraphs)  # type: ignore[arg-type]


def _python_docx(title: str, blocks: tuple[Block, ...], s: DocxStyle) -> bytes:
    """The reference layout, element by element with python-docx."""
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    normal = document.styles["Normal"]
    normal.font.name = s.body_fallback
    normal.font.size = Pt(s.body_size)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), s.body_font)
    for block in blocks:
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
    document.core_properties.title = title
    buffer = BytesIO()
    document.save(buffer)
    return buffer.getvalue()
