"""Helpers for the bad-input corpus: what the database and the data folder hold, as counts."""

from __future__ import annotations

import io
import signal
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from openpyxl import Workbook
from sqlalchemy import func, select

from services.bootstrap import App
from services.db.models import Base


def footprint(app: App) -> dict[str, object]:
    """Rows per table and the files under the data folder: what 'writes nothing' compares."""
    with app.uow() as uow:
        rows = {
            table.name: uow.session.scalar(select(func.count()).select_from(table))
            for table in Base.metadata.sorted_tables
        }
    folder = Path(app.settings.data_dir)
    files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    return {"rows": rows, "files": files}


def xlsx(sheets: dict[str, list[list[object]]]) -> bytes:
    """A workbook with the given sheets (first row = headers), as bytes."""
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@contextmanager
def runaway_guard(seconds: float, what: str) -> Iterator[None]:
    """Fail instead of hanging when the block still runs after ``seconds`` (SIGALRM, main
    thread): a guard against a runaway, not a measure of speed."""

    def expired(signum, frame):
        raise TimeoutError(f"{what}: still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def far_cell_xlsx(cell: str = "XFD1048576") -> bytes:
    """A 5 KB workbook: a header and one value in ``cell``, its dimension declaring A1:cell."""
    book = Workbook()
    sheet = book.active
    sheet.title = "单位"
    sheet["A1"] = "单位代码"
    sheet[cell] = "x"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def with_member(book: bytes, name: str, size: int) -> bytes:
    """``book`` with one more member of ``size`` unzipped bytes (spaces: a zip bomb's member)."""
    out = io.BytesIO(book)
    with zipfile.ZipFile(out, "a", zipfile.ZIP_DEFLATED) as archive:
        with archive.open(name, "w", force_zip64=True) as member:
            for _ in range(size // (1 << 20)):
                member.write(b" " * (1 << 20))
    return out.getvalue()


def with_sheet_xml(book: bytes, rows: str, dimension: str | None) -> bytes:
    """``book`` with its first sheet's XML replaced: ``rows`` inside <sheetData>, and the
    <dimension> given (or none at all)."""
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    xml = (
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"{dim}<sheetData>{rows}</sheetData></worksheet>"
    )
    source, out = zipfile.ZipFile(io.BytesIO(book)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = xml.encode()
            archive.writestr(info.filename, data)
    return out.getvalue()


def inline_row(number: int, values: list[str]) -> str:
    """One <row> of inline strings in columns A, B, ..."""
    cells = "".join(
        f'<c r="{chr(65 + i)}{number}" t="inlineStr"><is><t>{v}</t></is></c>'
        for i, v in enumerate(values)
    )
    return f'<row r="{number}">{cells}</row>'


def multipart(fields: dict[str, str], files: list[tuple[str, str, bytes]]) -> tuple[bytes, str]:
    """A multipart form written by hand: file names go out raw (httpx would escape a line
    feed), as a script can send them. ``files`` holds (field, filename, bytes)."""
    boundary = "rectifycorpus"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    for field, filename, data in files:
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; '
            f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
        )
        parts.append(head.encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"
