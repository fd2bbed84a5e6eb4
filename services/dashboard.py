"""The supervisor dashboard's read model: counts, urgent cases, pass rates and trends."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import Select, func, select

from services import rounds
from services.db.models import Case, Category, Round, Unit
from services.queries import OVERDUE_STATES, CaseFilters, CaseRow, list_cases, not_superseded
from services.reports.trends import trend_rows, trend_svg
from services.uow import UnitOfWork
from states import OPEN_STATES, CaseState
from states.lifecycle import STATE_LABELS

KIND_LABELS = {"website": "政府网站", "column": "信息公开专栏", "new_media": "政务新媒体"}


@dataclass(frozen=True)
class Count:
    key: str
    label: str
    count: int


@dataclass(frozen=True)
class PassRate:
    kind: str
    label: str
    inspected: int
    qualified: int
    rate: Decimal | None


@dataclass
class Dashboard:
    total: int
    open_total: int
    overdue_total: int
    escalated_total: int
    by_state: list[Count]
    by_category: list[Count]
    by_unit: list[Count]
    by_round: list[Count]
    urgent: list[CaseRow]  # escalated first, then the most overdue
    current_round: str | None
    pass_rates: list[PassRate] = field(default_factory=list)
    trend_svg: str = ""


def _scoped(query: Select, scope_path: str | None) -> Select:
    if scope_path is None:
        return query
    return query.join(Unit, Unit.id == Case.unit_id).where(Unit.path.startswith(scope_path))


def _counts(uow: UnitOfWork, query: Select) -> list[tuple]:
    return list(uow.session.execute(query))


def dashboard(
    uow: UnitOfWork, *, scope_path: str | None = None, urgent_limit: int = 15
) -> Dashboard:
    """Everything the dashboard shows, limited to the viewer's unit subtree."""
    today = uow.clock.today()
    open_states = [str(s) for s in OPEN_STATES]
    states = dict(
        _counts(
            uow,
            _scoped(
                select(Case.state, func.count()).select_from(Case).group_by(Case.state), scope_path
            ),
        )
    )
    categories = _counts(
        uow,
        _scoped(
            select(Category.name, func.count())
            .select_from(Case)
            .join(Category, Category.code == Case.category_code)
            .where(Case.state.in_(open_states))
            .group_by(Category.name)
            .order_by(func.count().desc()),
            scope_path,
        ),
    )
    unit_query = (
        select(Unit.name, func.count())
        .select_from(Case)
        .join(Unit, Unit.id == Case.unit_id)
        .where(Case.state.in_(open_states))
        .group_by(Unit.name)
        .order_by(func.count().desc())
        .limit(15)
    )
    if scope_path is not None:
        unit_query = unit_query.where(Unit.path.startswith(scope_path))
    units = _counts(uow, unit_query)
    round_rows = _counts(
        uow,
        _scoped(
            select(Round.code, func.count())
            .select_from(Case)
            .join(Round, Round.id == Case.round_id)
            .group_by(Round.code)
            .order_by(Round.code.desc()),
            scope_path,
        ),
    )
    overdue_total = uow.session.scalar(
        _scoped(
            select(func.count()).select_from(Case),
            scope_path,
        ).where(Case.state.in_(OVERDUE_STATES), Case.deadline < today, not_superseded())
    )
    escalated = list_cases(
        uow,
        CaseFilters(
            escalated=True,
            current_only=True,
            scope_path=scope_path,
            sort="escalation",
            descending=True,
            limit=urgent_limit,
        ),
    )
    overdue = list_cases(
        uow,
        CaseFilters(overdue=True, scope_path=scope_path, sort="deadline", limit=urgent_limit),
    )
    seen = {row.id for row in escalated}
    urgent = (escalated + [row for row in overdue if row.id not in seen])[:urgent_limit]
    current = uow.session.scalar(select(Round.code).order_by(Round.period_start.desc()).limit(1))
    board = Dashboard(
        total=sum(states.values()),
        open_total=sum(n for s, n in states.items() if s in open_states),
        overdue_total=overdue_total or 0,
        escalated_total=uow.session.scalar(
            _scoped(select(func.count()).select_from(Case), scope_path).where(
                Case.state == CaseState.ESCALATED, not_superseded()
            )
        )
        or 0,
        by_state=[Count(str(s), STATE_LABELS[s], states.get(str(s), 0)) for s in CaseState],
        by_category=[Count(name, name, n) for name, n in categories],
        by_unit=[Count(name, name, n) for name, n in units],
        by_round=[Count(code, code, n) for code, n in round_rows],
        urgent=urgent,
        current_round=current,
    )
    if current:
        board.pass_rates = pass_rates(uow, round_code=current)
    # The city-wide trend of the quarterly notice (aggregate figures, the same for every viewer).
    board.trend_svg = trend_svg(trend_rows(uow))
    return board


class SnapshotCache:
    """Keeps each scope's dashboard for ``ttl`` seconds, computed by one request at a time.

    The dashboard aggregates every case (a second or more at a million cases on SQLite);
    supervisors can live with figures up to ``ttl`` seconds old. ``ttl`` 0 turns it off.
    """

    def __init__(self, *, ttl: float):
        self.ttl = ttl
        self._entries: dict[str | None, tuple[float, Dashboard]] = {}
        self._locks: dict[str | None, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, key: str | None, compute: Callable[[], Dashboard]) -> Dashboard:
        if self.ttl <= 0:
            return compute()
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            entry = self._entries.get(key)
            if entry is None or time.monotonic() - entry[0] > self.ttl:
                entry = (time.monotonic(), compute())
                self._entries[key] = entry
            return entry[1]


def cached_dashboard(uow: UnitOfWork, *, scope_path: str | None, cache: SnapshotCache) -> Dashboard:
    """The dashboard of a scope, at most ``cache.ttl`` seconds old."""
    return cache.get(scope_path, lambda: dashboard(uow, scope_path=scope_path))


def pass_rates(uow: UnitOfWork, *, round_code: str) -> list[PassRate]:
    """合格率 of a round per kind (websites, columns, new-media accounts)."""
    tallies = rounds.tally(uow, round_code)
    settings = uow.settings
    out = []
    for kind, label in KIND_LABELS.items():
        t = tallies.get(kind)
        inspected, qualified = (t.inspected, t.qualified) if t else (0, 0)
        rate = rounds.pass_rate(
            qualified, inspected, decimals=settings.pass_rate_decimals, rule=settings.pass_rate_rule
        )
        out.append(PassRate(kind, label, inspected, qualified, rate))
    return out
