"""The case list's pages and the overdue sweep's selection read the cases through indexes.

On PostgreSQL every one of them; on SQLite the filtered list pages and the sweep (SQLite walks
the table in id order for an unfiltered first page, and stops after one page).
"""

from __future__ import annotations

import re
from datetime import date

from bench.explain import AS_OF_DAY, plans
from bench.generate import generate
from services.bootstrap import build_app

PATHS = {
    "postgresql": (
        "case_list_first_page",
        "case_list_state_round",
        "case_list_overdue",
        "overdue_sweep_selection",
    ),
    "sqlite": ("case_list_state_round", "case_list_overdue", "overdue_sweep_selection"),
}


def _whole_table_scans(plan: str) -> list[str]:
    """Plan lines reading every row of ``cases`` (PostgreSQL or SQLite wording)."""
    pattern = r"Seq Scan on cases\b|^SCAN cases$"
    return [line for line in plan.splitlines() if re.search(pattern, line.strip())]


def test_list_pages_and_the_sweep_selection_never_scan_the_whole_case_table(app):
    generate(app.engine, units=200, cases=40_000, seed=11)
    later = build_app(app.settings, as_of=date.fromisoformat(AS_OF_DAY))
    paths = PATHS[app.engine.dialect.name]
    try:
        found = plans(later, only=paths)
    finally:
        later.close()
    assert set(found) == set(paths) and all(found.values())
    scans = {
        name: [line for _, plan, _ in items for line in _whole_table_scans(plan)]
        for name, items in found.items()
    }
    assert {name: lines for name, lines in scans.items() if lines} == {}
