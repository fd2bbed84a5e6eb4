"""The case counts of a viewer's scope, live: what the dashboard and the trends count.

A whole tree (or every tree: no scope) reads its live counters (``services.db.counts``, a
few hundred rows kept in the transaction of every write); a deeper scope (a county) counts
its own cases with grouped queries restricted to its units, which hold few cases. Overdue
depends on today, so it is never a counter: it is counted over the partial index of the
deadline states (``queries.in_overdue_states``). Each figure equals the length of the case
list its link names (``tests/integration/reports/test_dashboard_truth.py``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import case, func, select

from services.cases.queries import OPEN_STATE_VALUES, in_overdue_states
from services.core.uow import UnitOfWork
from services.db import bulk, counts
from services.db.counts import CountRow
from services.db.models import Case, Unit
from states import CaseState

ESCALATED = str(CaseState.ESCALATED)
CONTINUED = str(CaseState.CONTINUED)


@dataclass(frozen=True)
class ScopeCounts:
    """Cases of a scope per round, category, state and escalated-or-not, and overdue ones."""

    rows: list[CountRow]
    overdue: dict[int, int]  # overdue cases per round id
    unit_ids: frozenset[int] | None  # the scope's units; None: every unit
    whole_tree: bool  # read from the counters (a tree root or everything)

    def total(self) -> int:
        return sum(r.n for r in self.rows)

    def by_state(self) -> Counter[str]:
        result: Counter[str] = Counter()
        for r in self.rows:
            result[r.state] += r.n
        return result

    def open_total(self) -> int:
        return sum(r.n for r in self.rows if r.state in OPEN_STATE_VALUES)

    def by_round(self) -> Counter[int]:
        result: Counter[int] = Counter()
        for r in self.rows:
            result[r.round_id] += r.n
        return result

    def open_by_category(self) -> Counter[str]:
        result: Counter[str] = Counter()
        for r in self.rows:
            if r.state in OPEN_STATE_VALUES:
                result[r.category_code] += r.n
        return result

    def round_figures(self, round_id: int) -> tuple[int, int, int]:
        """A round's cases, open cases and cases ever escalated (escalation_level > 0)."""
        rows = [r for r in self.rows if r.round_id == round_id]
        return (
            sum(r.n for r in rows),
            sum(r.n for r in rows if r.state in OPEN_STATE_VALUES),
            sum(r.n for r in rows if r.escalated),
        )

    def overdue_total(self) -> int:
        return sum(self.overdue.values())


def read(uow: UnitOfWork, scope_path: str | None) -> ScopeCounts:
    """The counts of the scope (a unit's subtree by its path; None: every unit)."""
    whole_tree = counts.is_root_scope(scope_path)
    unit_ids = subtree_ids(uow, scope_path)
    if whole_tree:
        rows = [r for r in counts.read(uow.session, scope_path) if r.n]
    else:
        rows = _grouped(uow, unit_ids or frozenset())
    overdue = _overdue_by_round(uow, unit_ids, in_sql=not whole_tree)
    return ScopeCounts(rows=rows, overdue=overdue, unit_ids=unit_ids, whole_tree=whole_tree)


def subtree_ids(uow: UnitOfWork, scope_path: str | None) -> frozenset[int] | None:
    """Ids of the units under ``scope_path`` (itself included); None for no scope."""
    if scope_path is None:
        return None
    query = select(Unit.id).where(Unit.path.startswith(scope_path, autoescape=True))
    return frozenset(uow.session.scalars(query))


def _grouped(uow: UnitOfWork, unit_ids: Iterable[int]) -> list[CountRow]:
    """The counter rows of a deeper scope, counted now from its own units' cases."""
    ids = sorted(unit_ids)
    if not ids:
        return []
    escalated = case((Case.escalation_level > 0, True), else_=False)
    query = (
        select(Case.round_id, Case.category_code, Case.state, escalated, func.count())
        .where(bulk.ids_in(uow.session, Case.unit_id, ids))
        .group_by(Case.round_id, Case.category_code, Case.state, escalated)
    )
    return [
        CountRow(round_id, category, state, bool(flag), n)
        for round_id, category, state, flag, n in uow.session.execute(query)
    ]


def _overdue_by_round(
    uow: UnitOfWork, unit_ids: frozenset[int] | None, *, in_sql: bool
) -> dict[int, int]:
    """Overdue cases per round: through the partial deadline index; a deep scope restricts
    in SQL, a tree's (many units) is grouped per unit as well and kept here."""
    today = uow.clock.today()
    overdue = (in_overdue_states(), Case.deadline < today)
    if unit_ids is None:
        query = select(Case.round_id, func.count()).where(*overdue).group_by(Case.round_id)
        return dict(uow.session.execute(query).all())
    if in_sql:
        if not unit_ids:
            return {}
        query = (
            select(Case.round_id, func.count())
            .where(*overdue, bulk.ids_in(uow.session, Case.unit_id, sorted(unit_ids)))
            .group_by(Case.round_id)
        )
        return dict(uow.session.execute(query).all())
    query = (
        select(Case.round_id, Case.unit_id, func.count())
        .where(*overdue)
        .group_by(Case.round_id, Case.unit_id)
    )
    result: Counter[int] = Counter()
    for round_id, unit_id, n in uow.session.execute(query):
        if unit_id in unit_ids:
            result[round_id] += n
    return dict(result)


def open_by_unit(uow: UnitOfWork, scope: ScopeCounts, *, limit: int) -> list[tuple[int, int]]:
    """Open cases per own unit (most first, then unit id), at most ``limit`` units.

    Grouped by (state, unit), the order of the covering index ``ix_cases_state_unit``; a deep
    scope restricts to its units in SQL, a tree keeps its units' groups here."""
    query = (
        select(Case.unit_id, func.count())
        .where(Case.state.in_(OPEN_STATE_VALUES))
        .group_by(Case.state, Case.unit_id)
    )
    if scope.unit_ids is not None and not scope.whole_tree:
        if not scope.unit_ids:
            return []
        query = query.where(bulk.ids_in(uow.session, Case.unit_id, sorted(scope.unit_ids)))
    totals: Counter[int] = Counter()
    for unit_id, n in uow.session.execute(query):
        if scope.unit_ids is None or unit_id in scope.unit_ids:
            totals[unit_id] += n
    return sorted(totals.items(), key=lambda item: (-item[1], item[0]))[:limit]
