"""Helpers for the bad-input corpus: what the database and the data folder hold, as counts."""

from __future__ import annotations

import io
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
