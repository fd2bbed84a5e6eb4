"""Tables as CSV or XLSX downloads: the one writer behind every spreadsheet the system hands out.

Every text cell passes the spreadsheet-injection guard, so a unit name or a description that
looks like a formula (``=HYPERLINK(...)``) is shown as text, never run.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from io import BytesIO, StringIO
from typing import TYPE_CHECKING

from services.core.plaintext import inert_for_spreadsheet

if TYPE_CHECKING:
    from openpyxl.cell import WriteOnlyCell

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: A column's width in characters: its longest cell's (a Chinese character counts two) plus
#: room for the header's filter button, within these bounds; a longer text runs on in its cell.
MIN_WIDTH, MAX_WIDTH, PADDING = 6, 60, 3


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """CSV in UTF-8 with a byte-order mark (so that Excel reads the Chinese text); dates as ISO."""
    buffer = StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_csv_cell(value) for value in row])
    return buffer.getvalue().encode("utf-8-sig")


def xlsx_bytes(header: Sequence[str], rows: Iterable[Sequence[object]], *, sheet: str) -> bytes:
    """One sheet: bold header row, frozen and with an autofilter; dates as dates; each column
    as wide as its content (:func:`column_widths`).

    The workbook is written as it goes (openpyxl's write-only mode): the rows are held as plain
    values (to measure them first), never as a sheet of cell objects.
    """
    # openpyxl takes a fifth of a second to import: only when a workbook is written (a CSV
    # download, a worker writing notices and CSV ledgers, does without it).
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    values = [[inert_for_spreadsheet(value) for value in row] for row in rows]
    workbook = Workbook(write_only=True)
    table = workbook.create_sheet(sheet[:31])
    table.freeze_panes = "A2"
    for number, width in enumerate(column_widths(header, values), start=1):
        table.column_dimensions[get_column_letter(number)].width = width
    table.append([_header_cell(table, name) for name in header])
    for row in values:
        table.append(row)
    table.auto_filter.ref = f"A1:{get_column_letter(max(len(header), 1))}{len(values) + 1}"
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def column_widths(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[int]:
    """Each column's width in characters: its widest cell, header included, plus padding, in
    ``[MIN_WIDTH, MAX_WIDTH]``."""
    widest = [text_width(name) for name in header]
    for row in rows:
        for number, value in enumerate(row[: len(widest)]):
            if widest[number] < MAX_WIDTH:
                widest[number] = max(widest[number], text_width(value))
    return [min(MAX_WIDTH, max(MIN_WIDTH, width + PADDING)) for width in widest]


def text_width(value: object) -> int:
    """How many columns a cell's text takes: a Chinese (wide) character two, a Latin one one.

    Counted from the UTF-8 length (three bytes for a CJK character, one for ASCII), which is
    fast on long exports; of a text of several lines, the longest line."""
    if value is None:
        return 0
    if isinstance(value, datetime):
        return 16  # 2021-07-29 09:00
    if isinstance(value, date):
        return 10
    text = str(value)
    if "\n" in text:
        return max(map(text_width, text.splitlines()), default=0)
    return (len(text) + len(text.encode("utf-8"))) // 2


def _header_cell(table, name: str) -> WriteOnlyCell:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font

    cell = WriteOnlyCell(table, value=name)
    cell.font = Font(bold=True)
    cell.alignment = Alignment(horizontal="center")
    return cell


def _csv_cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return inert_for_spreadsheet(value)
