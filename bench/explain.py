"""EXPLAIN of the hot paths: every statement a path runs, captured and explained on PostgreSQL.

``python -m bench.explain DATABASE_URL`` on a generated database (``rectify gen``) prints each
path's statements with their plans and timings; ``plans(app)`` returns them for tests.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from datetime import date

from sqlalchemy import event

from services.bootstrap import App, build_app
from services.cases import queries
from services.core.settings import Settings
from services.reports import dashboard
from services.rounds import rechecks, sweeps

AS_OF_DAY = "2021-10-20"


def hot_paths() -> dict[str, Callable]:
    """The page loads and flow selections that run most, each given a unit of work."""
    first_state = queries.CaseFilters(state="notified", round_code="2021Q3")
    return {
        "case_list_first_page": lambda uow: queries.page_cases(uow, queries.CaseFilters()),
        "case_list_state_round": lambda uow: queries.page_cases(uow, first_state),
        "case_list_overdue": lambda uow: queries.page_cases(
            uow, queries.CaseFilters(overdue=True, sort="deadline")
        ),
        "case_list_unit_subtree": lambda uow: queries.page_cases(
            uow, queries.CaseFilters(unit_code="c2", current_only=True)
        ),
        "dashboard": lambda uow: dashboard.dashboard(uow),
        "overdue_sweep_selection": sweeps.overdue_ids,
        "recheck_selection": lambda uow: rechecks.candidate_ids(uow, round_code="2021Q4"),
    }


@contextmanager
def captured(app: App):
    """The statements (text, parameters) the engine runs inside the block."""
    seen: list[tuple[str, object]] = []

    def listen(conn, cursor, statement, parameters, context, executemany):
        if not executemany and statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(app.engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(app.engine, "before_cursor_execute", listen)


def plans(
    app: App, *, analyze: bool = False, only: tuple[str, ...] = ()
) -> dict[str, list[tuple[str, str, float]]]:
    """Per hot path: (statement, plan text, the path's own milliseconds) for each SELECT."""
    out: dict[str, list[tuple[str, str, float]]] = {}
    for name, path in hot_paths().items():
        if only and name not in only:
            continue
        with captured(app) as seen, app.uow() as uow:
            started = time.perf_counter()
            path(uow)
            ms = (time.perf_counter() - started) * 1000
        explained = []
        sqlite = app.engine.dialect.name == "sqlite"
        option = "(ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON)" if analyze else "(COSTS OFF)"
        prefix = "EXPLAIN QUERY PLAN" if sqlite else f"EXPLAIN {option}"
        with app.engine.connect() as conn:
            for statement, parameters in seen:
                rows = conn.exec_driver_sql(f"{prefix} {statement}", parameters).all()
                lines = [str(r[-1]) for r in rows] if sqlite else [r[0] for r in rows]
                explained.append((statement, "\n".join(lines), ms))
        out[name] = explained
    return out


def main(url: str) -> None:
    app = build_app(Settings(database_url=url), as_of=date.fromisoformat(AS_OF_DAY))
    try:
        for name, items in plans(app, analyze=True).items():
            print(f"\n######## {name}: {items[0][2] if items else 0:.1f} ms")
            for statement, plan, _ in items:
                print("----", " ".join(statement.split())[:300])
                print(plan)
    finally:
        app.close()


if __name__ == "__main__":
    main(sys.argv[1])
