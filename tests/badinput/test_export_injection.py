"""Text that looks like a spreadsheet formula is exported as text, never as a live formula."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from services.reports.exports import ledger_download
from tests.builders import a_case, a_round, a_target, a_unit

FORMULAS = [
    '=HYPERLINK("http://evil.example/","点击查看")',
    "+1+1",
    "-2+3",
    "@SUM(1,2)",
    "=cmd|' /C calc'!A0",
]


def test_formula_like_names_and_descriptions_are_plain_text_in_the_ledger(app):
    with app.uow() as uow:
        a_round(uow, "2021Q2")
        a_unit(uow, "evil", name=FORMULAS[0])
        for text in FORMULAS:
            a_case(
                uow, target_code=a_target(uow, unit_code="evil", name=text).code, description=text
            )
        uow.commit()

    with app.uow() as uow:
        book = load_workbook(io.BytesIO(ledger_download(uow, "2021Q2", fmt="xlsx").content))
        text = ledger_download(uow, "2021Q2", fmt="csv").content.decode("utf-8-sig")
    cells = [c for row in book.active.iter_rows(min_row=2) for c in row]
    records = list(csv.reader(io.StringIO(text)))[1:]

    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    assert all(not str(v).startswith(("=", "+", "-", "@")) for r in records for v in r if v)
    shown = {str(c.value) for c in cells}
    assert all(f"'{text}" in shown for text in FORMULAS)  # kept, readable, inert
