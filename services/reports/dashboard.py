"""The supervisor dashboard's read model: counts, urgent cases, pass rates and trends."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import Select, func, select

from services.cases.queries import (
    CaseFilters,
    CaseRow,
    in_overdue_states,
    list_cases,
)
from services.core.errors import ValidationFailed
from services.core.snapshots import SnapshotCache
from services.core.uow import UnitOfWork
from services.db.models import Case, Category, Round, Unit
from services.reports.stats import RateRule, RateSettings, rate_settings
from services.reports.trends import trend_rows, trend_svg
from services.rounds import rounds
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
    text: str = "—"  # as the round's notice writes it: 88.88%, 100%, 85%


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
    return query.join(Unit, Unit.id == Case.unit_id).where(
        Unit.path.startswith(scope_path, autoescape=True)
    )


def _counts(uow: UnitOfWork, query: Select) -> list[tuple]:
    return list(uow.session.execute(query))


def _open_by(
    uow: UnitOfWork, column, open_states: list[str], scope_path: str | None
) -> list[tuple]:
    """Open cases per value of ``column``, most first.

    Grouped by (state, column), the order of the covering index, so SQLite streams it
    instead of building a temporary b-tree; the states are summed here.
    """
    rows = _counts(
        uow,
        _scoped(
            select(column, func.count())
            .select_from(Case)
            .where(Case.state.in_(open_states))
            .group_by(Case.state, column),
            scope_path,
        ),
    )
    totals: dict = {}
    for key, n in rows:
        totals[key] = totals.get(key, 0) + n
    return sorted(totals.items(), key=lambda item: (-item[1], str(item[0])))


def _named(uow: UnitOfWork, rows: list[tuple], names: Select) -> list[tuple[str, int]]:
    keys = [key for key, _ in rows]
    label = dict(uow.session.execute(names.where(names.selected_columns[0].in_(keys))).all())
    return [(label.get(key, str(key)), n) for key, n in rows]


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
    # Grouped on the case's own columns (covering indexes), names looked up afterwards.
    categories = _named(
        uow,
        _open_by(uow, Case.category_code, open_states, scope_path),
        select(Category.code, Category.name),
    )
    units = _named(
        uow, _open_by(uow, Case.unit_id, open_states, scope_path)[:15], select(Unit.id, Unit.name)
    )
    round_rows = _named(
        uow,
        _counts(
            uow,
            _scoped(
                select(Case.round_id, func.count()).select_from(Case).group_by(Case.round_id),
                scope_path,
            ),
        ),
        select(Round.id, Round.code),
    )
    round_rows.sort(key=lambda row: row[0], reverse=True)
    overdue_total = uow.session.scalar(
        _scoped(
            select(func.count()).select_from(Case),
            scope_path,
        ).where(in_overdue_states(), Case.deadline < today)
    )
    urgent = _urgent(uow, scope_path=scope_path, limit=urgent_limit)
    current = uow.session.scalar(select(Round.code).order_by(Round.period_start.desc()).limit(1))
    board = Dashboard(
        total=sum(states.values()),
        open_total=sum(n for s, n in states.items() if s in open_states),
        overdue_total=overdue_total or 0,
        escalated_total=uow.session.scalar(
            _scoped(select(func.count()).select_from(Case), scope_path).where(
                Case.state == CaseState.ESCALATED
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


def _urgent(uow: UnitOfWork, *, scope_path: str | None, limit: int) -> list[CaseRow]:
    """The escalated cases (most escalations first), then the overdue ones (oldest deadline)."""
    escalated = list_cases(
        uow,
        CaseFilters(
            escalated=True,
            current_only=True,
            scope_path=scope_path,
            sort="escalation",
            descending=True,
            limit=limit,
        ),
    )
    overdue = list_cases(
        uow, CaseFilters(overdue=True, scope_path=scope_path, sort="deadline", limit=limit)
    )
    seen = {row.id for row in escalated}
    return (escalated + [row for row in overdue if row.id not in seen])[:limit]


def cached_dashboard(
    *, open_uow: Callable[[], UnitOfWork], scope_path: str | None, cache: SnapshotCache
) -> Dashboard:
    """The dashboard of a scope from the snapshot cache (computed in its own unit of work)."""

    def compute() -> Dashboard:
        with open_uow() as uow:
            return dashboard(uow, scope_path=scope_path)

    return cache.get(scope_path, compute)


def warm_dashboard(*, open_uow: Callable[[], UnitOfWork], cache: SnapshotCache) -> None:
    """Compute the city-wide dashboard in the background (at server start)."""

    def compute() -> Dashboard:
        with open_uow() as uow:
            return dashboard(uow, scope_path=None)

    cache.warm(None, compute)


def pass_rates(uow: UnitOfWork, *, round_code: str) -> list[PassRate]:
    """合格率 of a round per kind (websites, columns, new-media accounts), with the decimals,
    rule and 100% wording of the round's notice (its own options over its issuer's over the
    installation's: ``stats.rate_settings``), so the dashboard and the notice agree."""
    tallies = rounds.tally(uow, round_code)
    settings = _rate_settings(uow, round_code)
    out = []
    for kind, label in KIND_LABELS.items():
        t = tallies.get(kind)
        inspected, qualified = (t.inspected, t.qualified) if t else (0, 0)
        rule = settings.for_kind(kind)
        rate = rule.rate(qualified, inspected)
        text = rule.text(rate, all_qualified=inspected == qualified)
        out.append(PassRate(kind, label, inspected, qualified, rate, text))
    return out


def _rate_settings(uow: UnitOfWork, round_code: str) -> RateSettings:
    """The round's notice rate settings; a round stored with settings a later rule refuses
    (its notice names them) shows the installation's rule here rather than no dashboard."""
    try:
        return rate_settings(uow, rounds.get_round(uow, round_code))
    except ValidationFailed:
        base = RateRule(uow.settings.pass_rate_decimals, uow.settings.pass_rate_rule)
        return RateSettings(default=base)
