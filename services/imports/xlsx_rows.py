"""A read-only sheet's rows of values, as ``sheet.iter_rows(values_only=True)`` gives them
after ``reset_dimensions()``, with inline strings read without openpyxl's rich-text objects.

openpyxl writes every text cell as an inline string (``<is><t>…</t></is>``), and its reader
builds a ``Text`` object per such cell: two thirds of the time to read a large registry. The
text is the same: the ``<t>`` of the cell and of its rich-text runs (``<r>``), phonetic runs
left out. Every other cell is read by openpyxl's own code.

A read-only sheet looks for its ``<dimension>`` when the workbook is opened, through
``iterparse``'s end events: the ``<sheetData>`` that tells it none is coming ends only after
the last row, so a sheet written without one (openpyxl's write-only mode) was parsed twice.
``_get_size`` below stops at the start of ``<sheetData>`` instead: the same dimensions, or
none, read from the sheet's head.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from openpyxl.utils.cell import coordinate_to_tuple
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.worksheet._reader import DATA_TAG, DIMENSION_TAG, INLINE_STRING, WorkSheetParser
from openpyxl.worksheet.dimensions import SheetDimension
from openpyxl.xml.constants import SHEET_MAIN_NS
from openpyxl.xml.functions import iterparse

_TEXT = f"{{{SHEET_MAIN_NS}}}t"
_RUN = f"{{{SHEET_MAIN_NS}}}r"


class _Parser(WorkSheetParser):
    def parse_cell(self, element):
        if element.get("t") != "inlineStr":
            return super().parse_cell(element)
        style_id = element.get("s", 0)
        coordinate = element.get("r")
        if coordinate:
            row, column = coordinate_to_tuple(coordinate)
            self.col_counter = column
        else:
            self.col_counter += 1
            row, column = self.row_counter, self.col_counter
        value, data_type = None, "inlineStr"
        child = element.find(INLINE_STRING)
        if child is not None:
            data_type, value = "s", _inline_text(child)
        return {
            "row": row,
            "column": column,
            "value": value,
            "data_type": data_type,
            "style_id": int(style_id) if style_id else 0,
        }


def _inline_text(node) -> str:
    plain, runs = None, []
    for part in node:
        if part.tag == _TEXT:
            plain = part.text
        elif part.tag == _RUN:
            text = part.find(_TEXT)
            if text is not None and text.text is not None:
                runs.append(text.text)
    return (plain or "") + "".join(runs)


def values(sheet) -> Iterator[tuple[Any, ...]]:
    """Each row's values from column A to its last cell; a missing row is an empty tuple."""
    book = sheet.parent
    counter = 1
    with sheet._get_source() as source:
        parser = _Parser(
            source,
            sheet._shared_strings,
            data_only=book.data_only,
            epoch=book.epoch,
            date_formats=book._date_formats,
            timedelta_formats=book._timedelta_formats,
        )
        for number, cells in parser.parse():
            while counter < number:
                counter += 1
                yield ()
            if counter <= number:
                counter += 1
                yield _row(cells)


def _row(cells: list[dict]) -> tuple[Any, ...]:
    if not cells:
        return ()
    out: list[Any] = [None] * cells[-1]["column"]
    for cell in cells:
        if cell["column"] >= 1:
            out[cell["column"] - 1] = cell["value"]
    return tuple(out)


def dimensions(source) -> tuple[int, int, int, int] | None:
    """The sheet's declared (min column, min row, max column, max row), read up to the start
    of its rows; None when it declares none (as ``WorkSheetParser.parse_dimensions``)."""
    for _event, element in iterparse(source, events=("start",)):
        if element.tag == DIMENSION_TAG:
            return SheetDimension.from_tree(element).boundaries
        if element.tag == DATA_TAG:
            return None
    return None


def _get_size(self) -> None:
    with self._get_source() as source:
        found = dimensions(source)
    if found is not None:
        self._min_column, self._min_row, self._max_column, self._max_row = found


if callable(getattr(ReadOnlyWorksheet, "_get_size", None)):  # else openpyxl's own, as it is
    ReadOnlyWorksheet._get_size = _get_size
