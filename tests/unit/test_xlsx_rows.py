"""A workbook's rows read by the import are the ones openpyxl reads, whether the workbook
was written with shared strings and a dimension (Excel, openpyxl's normal mode) or with
inline strings and none (openpyxl's write-only mode, the national bench's registry)."""

from __future__ import annotations

import zipfile
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from services.core.errors import ValidationFailed
from services.imports import xlsx_rows
from services.imports.tables import read_xlsx

ROWS = [
    ["代码", "名称", "数量", "日期", "启用", "备注"],
    ["a1", "甲单位", 3, date(2021, 7, 1), True, None],
    [],
    ["a2", " 乙 单位 ", 2.5, datetime(2021, 9, 30, 8, 30), False, "多行\n文字"],
    [None, None, None, None, None, "末列"],
]


def _write(path: Path, *, write_only: bool) -> Path:
    book = Workbook(write_only=write_only)
    if not write_only:
        book.remove(book.active)
    for title in ("单位", "第二页"):
        sheet = book.create_sheet(title)
        for row in ROWS:
            sheet.append(row)
    book.save(path)
    return path


@pytest.mark.parametrize("write_only", [True, False], ids=["inline", "shared"])
def test_rows_are_openpyxls_rows(tmp_path, write_only):
    path = _write(tmp_path / "book.xlsx", write_only=write_only)
    with xlsx_rows.open_workbook(path, "book.xlsx") as book:
        read = {s.title: dict(book.rows(s)) for s in book.sheets}
        sizes = {s.title: book.size(s) for s in book.sheets}
    full = load_workbook(path, data_only=True)  # the normal reader, not the read-only one
    for sheet in full.worksheets:
        rows = read[sheet.title]
        expected = [tuple(c.value for c in row) for row in sheet.iter_rows()]
        assert [
            tuple(rows.get(n, ())) + (None,) * (6 - len(rows.get(n, ()))) for n in (1, 2, 3, 4, 5)
        ] == expected
        assert sizes[sheet.title] == ((5, 6) if not write_only else (None, None))


def test_a_damaged_sheet_is_refused_naming_the_file(tmp_path):
    path = _write(tmp_path / "book.xlsx", write_only=True)
    damaged = tmp_path / "damaged.xlsx"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(damaged, "w") as out:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data[: len(data) // 2]  # cut off in the middle of its rows
            out.writestr(info.filename, data)

    with pytest.raises(ValidationFailed) as refused:
        read_xlsx(damaged, label="损坏.xlsx")

    assert refused.value.errors == ["损坏.xlsx：无法读取 Excel 文件（ParseError）"]


def test_a_workbook_reads_into_the_same_tables_either_way(tmp_path):
    inline = read_xlsx(_write(tmp_path / "a.xlsx", write_only=True), label="a.xlsx")
    shared = read_xlsx(_write(tmp_path / "b.xlsx", write_only=False), label="b.xlsx")

    assert [[(r.number, r.cells) for r in t.rows] for t in inline] == [
        [(r.number, r.cells) for r in t.rows] for t in shared
    ]
    assert [r.number for r in inline[0].rows] == [2, 4, 5]
    assert inline[0].rows[1].cells["日期"] == datetime(2021, 9, 30, 8, 30)
