"""How big an import file may be, checked before its cells are read and while they are.

A workbook of 5 KB can declare a sheet of 17 billion cells (one value at XFD1048576) or unzip to
gigabytes; both would keep a core busy for hours. So, in this order, each refusal naming the
file (and sheet) and the limit passed:

1. the zip's members: how many, and their declared uncompressed sizes together (a zip bomb;
   ``zipfile`` never inflates a member past its declared size, so the sum bounds the work);
2. the number of sheets the workbook lists, counted in its own XML before openpyxl opens them;
3. each sheet's declared dimension (``<dimension ref="A1:K434001"/>``): rows, columns, and
   rows × columns over the whole file;
4. while reading (a dimension may be missing or lie): each row's number, the widest row and the
   cells met, stopping at the first one over.

The national registry (40,000 units and 434,000 pages in one workbook: about 5.1 million cells,
344 MB unzipped as openpyxl writes it) fits with room to spare; see the README's import section.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from xml.etree.ElementTree import ParseError, fromstring, iterparse

from services.core.errors import ValidationFailed

MB = 1024 * 1024


@dataclass(frozen=True)
class SheetLimits:
    max_sheets: int = 50
    max_rows: int = 1_048_576  # per sheet: Excel's own maximum; cells bound a file, not rows
    max_columns: int = 200  # per sheet: the widest table has about 15
    max_cells: int = 10_000_000  # per file, empty cells inside the used range included
    max_unzipped: int = 500 * MB  # per workbook, all members together
    max_members: int = 10_000  # per workbook


#: The limits every import uses (tests replace it with smaller ones).
LIMITS = SheetLimits()

_ADVICE = "，未导入；请删除多余的行、列或工作表，或拆分成几个文件后再导入"


def _refuse(message: str) -> ValidationFailed:
    return ValidationFailed([message + _ADVICE])


def check_archive(path, *, label: str, limits: SheetLimits) -> None:
    """Refuse a workbook whose zip is too large unpacked or lists too many sheets.

    A file that is not a zip at all passes: openpyxl's refusal names it as unreadable.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            if len(members) > limits.max_members:
                raise _refuse(
                    f"文件「{label}」包含 {len(members):,} 个压缩成员，"
                    f"超过 {limits.max_members:,} 个的上限"
                )
            unzipped = sum(member.file_size for member in members)
            if unzipped > limits.max_unzipped:
                raise _refuse(
                    f"文件「{label}」解压后共 {unzipped / MB:,.0f} MB，超过 "
                    f"{limits.max_unzipped // MB:,} MB 的上限（可能是压缩炸弹）"
                )
            sheets = _count_sheets(archive, stop_after=limits.max_sheets)
    except (zipfile.BadZipFile, OSError, ParseError, KeyError, EOFError, ValueError):
        return
    if sheets > limits.max_sheets:
        raise _refuse(f"文件「{label}」的工作表超过 {limits.max_sheets:,} 个的上限")


def _count_sheets(archive: zipfile.ZipFile, *, stop_after: int) -> int:
    """The sheets the workbook part lists (found through its content type), up to one more
    than ``stop_after``."""
    part = "xl/workbook.xml"
    for override in fromstring(archive.read("[Content_Types].xml")):
        if override.get("ContentType", "").endswith(".main+xml") and override.get("PartName"):
            part = override.get("PartName").lstrip("/")
            break
    count = 0
    with archive.open(part) as source:
        for _event, element in iterparse(source):
            if element.tag.rsplit("}", 1)[-1] == "sheet":
                count += 1
                if count > stop_after:
                    break
            element.clear()
    return count


def check_dimensions(
    sheets: list[tuple[str, int | None, int | None]], *, label: str, limits: SheetLimits
) -> None:
    """Refuse a workbook whose sheets declare more rows, columns or cells than the limits.

    ``sheets`` holds (title, max_row, max_column) as each sheet declares them (None: unsized).
    """
    cells = 0
    for title, rows, columns in sheets:
        where = f"文件「{label}」的工作表「{title}」"
        if rows is not None and rows > limits.max_rows:
            raise _refuse(f"{where}声明了 {rows:,} 行，超过 {limits.max_rows:,} 行的上限")
        if columns is not None and columns > limits.max_columns:
            raise _refuse(f"{where}声明了 {columns:,} 列，超过 {limits.max_columns:,} 列的上限")
        cells += (rows or 0) * (columns or 0)
        if cells > limits.max_cells:
            raise _refuse(
                f"{where}声明的范围到 {rows:,} 行 × {columns:,} 列，使文件的单元格超过 "
                f"{limits.max_cells:,} 个的上限"
            )


class CellBudget:
    """Rows and cells of one file, counted as they are read; refused at the first one over."""

    def __init__(self, *, label: str, limits: SheetLimits):
        self.label = label
        self.limits = limits
        self.cells = 0

    def take(self, sheet: str | None, number: int, width: int) -> None:
        """Count row ``number`` (as the spreadsheet numbers it) of ``width`` cells."""
        where = f"文件「{self.label}」" + (f"的工作表「{sheet}」" if sheet else "")
        limits = self.limits
        if number > limits.max_rows:
            raise _refuse(f"{where}超过 {limits.max_rows:,} 行的上限")
        if width > limits.max_columns:
            raise _refuse(
                f"{where}第 {number:,} 行有 {width:,} 列，超过 {limits.max_columns:,} 列的上限"
            )
        self.cells += width
        if self.cells > limits.max_cells:
            raise _refuse(
                f"{where}读到第 {number:,} 行时，文件的单元格已超过 {limits.max_cells:,} 个的上限"
            )
