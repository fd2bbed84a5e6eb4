"""A workbook's rows read by the import are the ones openpyxl reads, whether the workbook
was written with shared strings and a dimension (Excel, openpyxl's normal mode) or with
inline strings and none (openpyxl's write-only mode, the national bench's registry)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.worksheet._reader import WorkSheetParser

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
    book = load_workbook(path, read_only=True, data_only=True)
    try:
        read = {s.title: list(xlsx_rows.values(s)) for s in book.worksheets}
        for sheet in book.worksheets:
            with sheet._get_source() as source, sheet._get_source() as again:
                assert xlsx_rows.dimensions(source) == WorkSheetParser(again, []).parse_dimensions()
    finally:
        book.close()
    full = load_workbook(path, data_only=True)  # the normal reader, not the read-only one
    expected = {
        s.title: [tuple(c.value for c in row) for row in s.iter_rows()] for s in full.worksheets
    }
    for title, rows in read.items():
        assert [tuple(r) + (None,) * (6 - len(r)) for r in rows] == expected[title]


def test_a_workbook_reads_into_the_same_tables_either_way(tmp_path):
    inline = read_xlsx(_write(tmp_path / "a.xlsx", write_only=True), label="a.xlsx")
    shared = read_xlsx(_write(tmp_path / "b.xlsx", write_only=False), label="b.xlsx")

    assert [[(r.number, r.cells) for r in t.rows] for t in inline] == [
        [(r.number, r.cells) for r in t.rows] for t in shared
    ]
    assert [r.number for r in inline[0].rows] == [2, 4, 5]
    assert inline[0].rows[1].cells["日期"] == datetime(2021, 9, 30, 8, 30)
