"""Tables as CSV or XLSX downloads: the one writer behind every spreadsheet the system hands out.

Every text cell passes the spreadsheet-injection guard, so a unit name or a description that
looks like a formula (``=HYPERLINK(...)``) is shown as text, never run.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from datetime import date
from io import BytesIO, StringIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from services.core.plaintext import inert_for_spreadsheet

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """CSV in UTF-8 with a byte-order mark (so that Excel reads the Chinese text); dates as ISO."""
    buffer = StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_csv_cell(value) for value in row])
    return buffer.getvalue().encode("utf-8-sig")


def xlsx_bytes(
    header: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    sheet: str,
    widths: Sequence[float] = (),
) -> bytes:
    """One sheet: bold header row, frozen and with an autofilter; dates as dates.

    ``widths`` are the first columns' widths in characters. The workbook is written as it
    goes (openpyxl's write-only mode), so a long case list does not sit in memory as cells.
    """
    workbook = Workbook(write_only=True)
    table = workbook.create_sheet(sheet[:31])
    table.freeze_panes = "A2"
    for number, width in enumerate(widths, start=1):
        table.column_dimensions[get_column_letter(number)].width = width
    table.append([_header_cell(table, name) for name in header])
    count = 0
    for row in rows:
        table.append([inert_for_spreadsheet(value) for value in row])
        count += 1
    table.auto_filter.ref = f"A1:{get_column_letter(max(len(header), 1))}{count + 1}"
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _header_cell(table, name: str) -> WriteOnlyCell:
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
