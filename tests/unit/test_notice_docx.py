"""A notice's DOCX holds the very parts python-docx lays out, whatever its texts hold: the
quick path (paragraphs laid out once) and python-docx element by element agree part by part."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from io import BytesIO

import pytest

from services.reports import docx
from services.reports.notice import BLOCK_KINDS, Block

TEXTS = [
    "通报正文",
    "A & B <c> \"d\" 'e'",
    "尾随全角空格\u3000",
    " 前导空格",
    "制表\t符",
    "换\n行",
    "😀",
]


@dataclass(frozen=True)
class _Notice:
    title: str
    blocks: tuple[Block, ...]


def parts(content: bytes) -> list[tuple[str, int, bytes]]:
    with zipfile.ZipFile(BytesIO(content)) as archive:
        assert archive.testzip() is None
        return [(i.filename, i.compress_type, archive.read(i)) for i in archive.infolist()]


@pytest.mark.parametrize("text", TEXTS)
def test_every_block_kind_is_written_as_python_docx_writes_it(text):
    blocks = tuple(Block(kind, text, "一、" if kind == "h1" else "") for kind in BLOCK_KINDS)
    notice = _Notice(title=f"标题{text}", blocks=(Block("office", "某县人民政府办公室"), *blocks))

    quick = docx.render_docx(notice)  # type: ignore[arg-type]
    reference = docx._python_docx(notice.title, notice.blocks, docx.DocxStyle())

    assert parts(quick) == parts(reference)
