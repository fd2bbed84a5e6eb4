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
    # Whitespace or invisible characters before the formula, which spreadsheets drop.
    "\t=cmd|' /C calc'!A0",
    "\r=cmd|' /C calc'!A0",
    " =1+1",
    "\n@SUM(1)",
    "\u200b=1+1",
    # Full-width forms (decided: guarded too, see services.core.plaintext).
    "＝1+1",
    "＋1+1",
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
    assert [v for r in records for v in r if _formula_like(v)] == []
    assert [str(c.value) for c in cells if _formula_like(str(c.value))] == []
    shown = {str(c.value) for c in cells}
    assert [text for text in FORMULAS if f"'{text}" not in shown] == []  # kept, readable, inert
    in_csv = {v for r in records for v in r}
    assert [text for text in FORMULAS if f"'{text}" not in in_csv] == []


def _formula_like(value: str) -> bool:
    """A formula character first once whitespace and invisible characters are dropped."""
    kept = "".join(c for c in value if not (c.isspace() or c in "\u200b\ufeff"))
    return kept.startswith(("=", "+", "-", "@", "＝", "＋", "－", "＠"))
