"""An XLSX workbook's sheets read row by row from their XML, values as openpyxl reads them
(cached values rather than formulas, ``data_only``).

openpyxl reads the workbook's own parts here (its manifest, sheet list, shared strings and
number formats); the sheets are streamed below instead of through its read-only worksheets,
which cost three times as much on a large registry: a ``Text`` object per inline string (the
text cell openpyxl's write-only mode writes), a dictionary per cell, and a whole extra parse of
a sheet written without a ``<dimension>`` when the workbook is opened. A sheet's declared size
is read from its head only, up to the start of its rows.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError, fromstring, iterparse

from openpyxl.reader.excel import ExcelReader
from openpyxl.styles.stylesheet import Stylesheet
from openpyxl.utils.cell import column_index_from_string, range_boundaries
from openpyxl.utils.datetime import from_excel, from_ISO8601
from openpyxl.xml.constants import ARC_STYLE, SHEET_MAIN_NS

from services.core.errors import ValidationFailed

_NS = f"{{{SHEET_MAIN_NS}}}"
_ROW, _VALUE, _INLINE, _TEXT, _RUN = (_NS + tag for tag in ("row", "v", "is", "t", "r"))
_DIMENSION, _DATA = _NS + "dimension", _NS + "sheetData"
_DIGITS = "0123456789"
#: What a damaged workbook raises while it is read (openpyxl raises many types when it opens).
_DAMAGED = (ParseError, ValueError, KeyError, IndexError, TypeError, zipfile.BadZipFile, EOFError)


@dataclass(frozen=True)
class Sheet:
    title: str
    part: str  # the sheet's XML in the archive


class Workbook:
    """A workbook open for reading (``with open_workbook(path, label) as book``)."""

    def __init__(self, reader: ExcelReader, label: str):
        self.label = label
        self._archive = reader.archive
        self._strings = reader.shared_strings
        self._epoch = reader.wb.epoch
        self._dates: set[int] = set()
        self._durations: set[int] = set()
        if ARC_STYLE in reader.valid_files:
            styles = Stylesheet.from_tree(fromstring(self._archive.read(ARC_STYLE)))
            if styles.cell_styles:  # else openpyxl's defaults: no date formats
                self._dates, self._durations = styles.date_formats, styles.timedelta_formats
        self.sheets = [
            Sheet(sheet.name, rel.target)
            for sheet, rel in reader.parser.find_sheets()
            if rel.target in reader.valid_files and "chartsheet" not in rel.Type
        ]
        self._columns: dict[str, int] = {}

    def size(self, sheet: Sheet) -> tuple[int | None, int | None]:
        """The sheet's declared (last row, last column); (None, None) when it declares none."""
        try:
            return self._size(sheet)
        except _DAMAGED as exc:
            raise _refused(self.label, exc) from exc

    def rows(self, sheet: Sheet) -> Iterator[tuple[int, list[Any]]]:
        """(row number, values from column A to the row's last cell) of each row written in
        the sheet, in order; rows without a ``<row>`` element are not given."""
        try:
            yield from self._rows(sheet)
        except _DAMAGED as exc:
            raise _refused(self.label, exc) from exc

    def _size(self, sheet: Sheet) -> tuple[int | None, int | None]:
        with self._archive.open(sheet.part) as source:
            for _event, element in iterparse(source, events=("start",)):
                if element.tag == _DIMENSION:
                    _, _, columns, rows = range_boundaries(element.get("ref", ""))
                    return rows, columns
                if element.tag == _DATA:
                    break
        return None, None

    def _rows(self, sheet: Sheet) -> Iterator[tuple[int, list[Any]]]:
        number = 0
        with self._archive.open(sheet.part) as source:
            for _event, element in iterparse(source):
                if element.tag != _ROW:
                    continue
                written = element.get("r")
                number = _row_number(written) if written else number + 1
                yield number, self._values(element)
                element.clear()

    def _values(self, row) -> list[Any]:
        values: list[Any] = []
        column = 0
        columns = self._columns
        for cell in row:
            ref = cell.get("r")
            if ref is None:
                column += 1
            else:
                column = columns.get(ref.rstrip(_DIGITS)) or self._column(ref)
            if cell.get("t") == "inlineStr":  # openpyxl's write-only mode: every text cell
                child = cell.find(_INLINE)
                if child is None:
                    value = None
                elif len(child) == 1 and (plain := child[0]).tag == _TEXT:  # no runs
                    value = plain.text or ""
                else:
                    value = _inline_text(child)
            else:
                value = self._value(cell)
            if column == len(values) + 1:
                values.append(value)
            else:
                if column > len(values):
                    values.extend([None] * (column - len(values)))
                values[column - 1] = value
        return values

    def _column(self, ref: str) -> int:
        letters = ref.rstrip(_DIGITS)
        if len(letters) == len(ref):
            raise ValueError(f"invalid cell reference {ref!r}")
        found = self._columns[letters] = column_index_from_string(letters)
        return found

    def _value(self, cell) -> Any:
        kind = cell.get("t", "n")
        text = cell.findtext(_VALUE) or None
        if text is None:
            return None
        if kind == "n":
            number = float(text) if "." in text or "e" in text or "E" in text else int(text)
            style = int(cell.get("s") or 0)
            if style not in self._dates:
                return number
            try:
                return from_excel(number, self._epoch, timedelta=style in self._durations)
            except (OverflowError, ValueError):
                return "#VALUE!"  # a date out of range: an error cell, as openpyxl reads it
        if kind == "s":
            return self._strings[int(text)]
        if kind == "b":
            return bool(int(text))
        if kind == "d":
            return from_ISO8601(text)
        return text  # "str" (a formula's text) and "e" (an error such as #N/A)


def _row_number(written: str) -> int:
    try:
        return int(written)
    except ValueError:
        number = float(written)
        if not number.is_integer():
            raise
        return int(number)


def _inline_text(node) -> str:
    """The text of an inline string: its ``<t>`` and its rich-text runs', phonetic runs left out."""
    plain, runs = None, []
    for part in node:
        if part.tag == _TEXT:
            plain = part.text
        elif part.tag == _RUN:
            text = part.find(_TEXT)
            if text is not None and text.text is not None:
                runs.append(text.text)
    return (plain or "") + "".join(runs)


@contextmanager
def open_workbook(path: Path, label: str) -> Iterator[Workbook]:
    """The workbook at ``path``, closed afterwards; a file that cannot be read as a workbook
    is refused naming it (``label``), as are its sheets' rows when they cannot be read."""
    try:
        reader = ExcelReader(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise _refused(label, exc) from exc
    try:
        try:
            reader.read_manifest()
            reader.read_strings()
            reader.read_workbook()
            book = Workbook(reader, label)
        except Exception as exc:
            raise _refused(label, exc) from exc
        yield book
    finally:
        reader.archive.close()


def _refused(label: str, exc: BaseException) -> ValidationFailed:
    return ValidationFailed([f"{label}：无法读取 Excel 文件（{type(exc).__name__}）"])
