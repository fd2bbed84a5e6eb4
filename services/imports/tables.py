"""Reading import files into tables of text cells: CSV (UTF-8 or GBK/GB18030), XLSX, YAML rows."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from services.core.errors import ValidationFailed

#: Tried in order; GB18030 is a superset of GBK and GB2312.
ENCODINGS = ("utf-8-sig", "gb18030")


@dataclass(frozen=True)
class RawRow:
    """One data row as the user sees it: its spreadsheet row number and its cells by header."""

    number: int
    cells: dict[str, Any]


@dataclass
class RawTable:
    """A sheet, CSV file or YAML section: where it came from, its headers and its rows."""

    source: str  # file name as the user gave it
    sheet: str | None  # sheet or section name, None for a CSV file
    headers: list[str]
    rows: list[RawRow] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.source}［{self.sheet}］" if self.sheet else self.source


def read_file(path: Path, *, label: str | None = None) -> list[RawTable]:
    """Read a CSV or XLSX file into tables; raise ValidationFailed naming the file if unreadable."""
    label = label or path.name
    if not path.is_file():
        raise ValidationFailed([f"{label}：文件不存在"])
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return [read_csv(path.read_bytes(), label=label)]
    if suffix in (".xlsx", ".xlsm"):
        return read_xlsx(path, label=label)
    raise ValidationFailed(
        [f"{label}：不支持的文件类型「{suffix or '无扩展名'}」（支持 .csv、.xlsx）"]
    )


def decode(data: bytes, *, label: str) -> str:
    """Decode CSV bytes as UTF-8 (with or without BOM), else GBK/GB18030."""
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationFailed(
        [f"{label}：无法识别文件编码（支持 UTF-8 和 GBK/GB18030），请另存为 UTF-8"]
    )


def read_csv(data: bytes, *, label: str) -> RawTable:
    """Parse CSV bytes; row numbers count records as a spreadsheet shows them (header = 1)."""
    text = decode(data, label=label)
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    if not records or not any(cell.strip() for cell in records[0]):
        raise ValidationFailed([f"{label}：第 1 行应为表头，但文件为空"])
    headers = [h.strip() for h in records[0]]
    table = RawTable(source=label, sheet=None, headers=headers)
    for offset, record in enumerate(records[1:], start=2):
        _append(table, offset, record)
    return table


def read_xlsx(path: Path, *, label: str) -> list[RawTable]:
    """Every non-empty sheet of a workbook, read-only, cached values rather than formulas."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise ValidationFailed([f"{label}：无法读取 Excel 文件（{type(exc).__name__}）"]) from exc
    tables = []
    try:
        for sheet in workbook.worksheets:
            rows = sheet.iter_rows(values_only=True)
            header_row = next(rows, None)
            if header_row is None or not any(cell_text(v) for v in header_row):
                continue
            headers = [cell_text(h) for h in header_row]
            table = RawTable(source=label, sheet=sheet.title, headers=headers)
            for number, values in enumerate(rows, start=2):
                _append(table, number, list(values))
            tables.append(table)
    finally:
        workbook.close()
    if not tables:
        raise ValidationFailed([f"{label}：工作簿中没有数据"])
    return tables


def from_records(records: list[dict[str, Any]], *, source: str, sheet: str) -> RawTable:
    """A table from rows already keyed by header (a YAML section); row N is item N."""
    headers = list(dict.fromkeys(key for record in records for key in record))
    table = RawTable(source=source, sheet=sheet, headers=headers)
    for number, record in enumerate(records, start=1):
        table.rows.append(RawRow(number=number, cells=dict(record)))
    return table


def _append(table: RawTable, number: int, values: list[Any]) -> None:
    if not any(cell_text(v) for v in values):
        return  # blank rows are skipped but still counted, as Excel shows them
    cells = {}
    for index, value in enumerate(values):
        header = table.headers[index] if index < len(table.headers) else ""
        if header:
            cells[header] = value
        elif cell_text(value):
            cells[f"第{index + 1}列"] = value  # a value under no header: reported as unknown
    table.rows.append(RawRow(number=number, cells=cells))


def cell_text(value: Any) -> str:
    """A cell as trimmed text: whole numbers without '.0', dates as YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()
