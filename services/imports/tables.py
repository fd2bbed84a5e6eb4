"""Reading import files into tables of text cells: CSV (UTF-8 or GBK/GB18030), XLSX, YAML rows."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from services.core.errors import ValidationFailed
from services.imports import sheet_limits
from services.imports.sheet_limits import CellBudget, SheetLimits

#: Tried in order; GB18030 is a superset of GBK and GB2312.
ENCODINGS = ("utf-8-sig", "gb18030")


@dataclass(frozen=True, slots=True)
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
    stem: str | None = None  # a CSV file's name without its suffix: named like a sheet

    @property
    def name(self) -> str | None:
        """What the table is called, to recognise it by: its sheet, or its CSV file's stem."""
        return self.sheet or self.stem

    @property
    def label(self) -> str:
        return f"{self.source}［{self.sheet}］" if self.sheet else self.source


def read_file(
    path: Path, *, label: str | None = None, limits: SheetLimits | None = None
) -> list[RawTable]:
    """Read a CSV or XLSX file into tables; raise ValidationFailed naming the file if it is not
    a readable file of a supported kind or passes a size limit (``sheet_limits.LIMITS``)."""
    label = label or path.name or str(path)
    limits = limits or sheet_limits.LIMITS
    _check_is_file(path, label)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx", ".xlsm"):
        raise ValidationFailed(
            [f"{label}：不支持的文件类型「{suffix or '无扩展名'}」（支持 .csv、.xlsx）"]
        )
    try:
        if suffix == ".csv":
            return [read_csv(path.read_bytes(), label=label, limits=limits)]
        return read_xlsx(path, label=label, limits=limits)
    except OSError as exc:  # removed, or made unreadable, since it was looked at
        raise ValidationFailed([f"「{label}」无法读取：{_reason(exc)}"]) from exc


def _check_is_file(path: Path, label: str) -> None:
    """A regular file this process may read: not a folder (``..``), a pipe or a missing name."""
    try:
        if path.is_dir():
            raise ValidationFailed(
                [f"「{label}」是文件夹，不是文件，请指定要导入的 CSV 或 XLSX 文件"]
            )
        if not path.exists():
            raise ValidationFailed([f"「{label}」不存在，请检查文件名和路径"])
        if not path.is_file():
            raise ValidationFailed([f"「{label}」不是普通文件（如管道或设备），无法导入"])
        with path.open("rb"):
            pass
    except OSError as exc:
        raise ValidationFailed([f"「{label}」无法读取：{_reason(exc)}"]) from exc


def _reason(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "没有读取权限"
    if isinstance(exc, FileNotFoundError):
        return "文件不存在"
    return f"读取出错（{exc.strerror or type(exc).__name__}）"


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


def read_csv(data: bytes, *, label: str, limits: SheetLimits | None = None) -> RawTable:
    """Parse CSV bytes; row numbers count records as a spreadsheet shows them (header = 1)."""
    text = decode(data, label=label)
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    budget = CellBudget(label=label, limits=limits or sheet_limits.LIMITS)
    records = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(records, None)
        if header is None or not any(cell.strip() for cell in header):
            raise ValidationFailed([f"{label}：第 1 行应为表头，但文件为空"])
        budget.take(None, 1, len(header))
        table = RawTable(
            source=label, sheet=None, headers=[h.strip() for h in header], stem=Path(label).stem
        )
        for number, record in enumerate(records, start=2):
            budget.take(None, number, len(record))
            _append(table, number, record)
    except csv.Error as exc:  # a cell over the csv module's limit (128 KB), a stray quote
        where, limit = records.line_num, csv.field_size_limit()
        raise ValidationFailed(
            [
                f"{label}：第 {where:,} 行无法按 CSV 读取（单元格超过 {limit:,} 个字符，或引号不成对）"
            ]
        ) from exc
    return table


def read_xlsx(path: Path, *, label: str, limits: SheetLimits | None = None) -> list[RawTable]:
    """Every non-empty sheet of a workbook, cached values rather than formulas; its size
    checked before a cell is read, and its cells counted as they are."""
    from services.imports import xlsx_rows  # openpyxl: loaded only when a workbook is read

    limits = limits or sheet_limits.LIMITS
    sheet_limits.check_archive(path, label=label, limits=limits)
    with xlsx_rows.open_workbook(path, label) as book:
        declared = [(s.title, *book.size(s)) for s in book.sheets]
        sheet_limits.check_dimensions(declared, label=label, limits=limits)
        budget = CellBudget(label=label, limits=limits)
        tables = [t for s in book.sheets if (t := _read_sheet(book, s, budget)) is not None]
    if not tables:
        raise ValidationFailed([f"{label}：工作簿中没有数据"])
    return tables


def _read_sheet(book, sheet, budget: CellBudget) -> RawTable | None:
    """One sheet's rows as written, not padded to its declared size (a wrong ``<dimension>``
    neither pads nor cuts them): the budget counts them. A sheet whose first row is blank
    or missing is no table."""
    rows = book.rows(sheet)
    first = next(rows, None)
    if first is None or first[0] != 1 or not any(cell_text(v) for v in first[1]):
        return None
    header_row = first[1]
    budget.take(sheet.title, 1, len(header_row))
    table = RawTable(
        source=book.label, sheet=sheet.title, headers=[cell_text(h) for h in header_row]
    )
    for number, values in rows:
        budget.take(sheet.title, number, len(values))
        _append(table, number, values)
    return table


def from_records(records: list[dict[str, Any]], *, source: str, sheet: str) -> RawTable:
    """A table from rows already keyed by header (a YAML section); row N is item N."""
    headers = list(dict.fromkeys(key for record in records for key in record))
    table = RawTable(source=source, sheet=sheet, headers=headers)
    for number, record in enumerate(records, start=1):
        table.rows.append(RawRow(number=number, cells=dict(record)))
    return table


def _append(table: RawTable, number: int, values: list[Any]) -> None:
    first = values[0] if values else None
    if not (first.__class__ is str and first.strip()) and not any(map(cell_text, values)):
        return  # blank rows are skipped but still counted, as Excel shows them
    headers = table.headers
    if len(values) <= len(headers) and "" not in headers:
        table.rows.append(RawRow(number=number, cells=dict(zip(headers, values, strict=False))))
        return
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
