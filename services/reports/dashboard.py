"""The supervisor dashboard's read model, live: counts, urgent cases, pass rates and trends.

No snapshot: a whole tree reads its live counters, a deeper scope counts its own cases, the
rates are SQL aggregates (``live_counts``, ``round_rates``). Every figure carries the case
list's filters (``Count.filters``: the query parameters of ``/cases``) whose list is exactly
that long, and the page says when it was counted (``as_of_text``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from services.cases.queries import CaseFilters, CaseRow, list_cases
from services.core.clock import zone_label
from services.core.uow import UnitOfWork
from services.db import counts
from services.db.models import Category, Round, Unit
from services.reports import live_counts, round_rates, trends
from services.reports.live_counts import CONTINUED, ESCALATED, ScopeCounts
from services.reports.round_rates import PassRate
from services.reports.trends import TrendRow, trend_svg
from services.rounds import rounds
from states import CaseState
from states.lifecycle import STATE_LABELS

__all__ = ["Count", "Dashboard", "PassRate", "dashboard", "pass_rates"]

#: Units in the table of open cases per unit.
UNIT_ROWS = 15


@dataclass(frozen=True)
class Count:
    """A figure and the case list it counts: ``/cases?`` + ``filters`` (query parameters)."""

    key: str
    label: str
    count: int
    filters: dict[str, str] = field(default_factory=dict)


@dataclass
class Dashboard:
    total: int
    open_total: int
    overdue_total: int
    escalated_total: int
    continued_total: int
    cards: list[Count]  # 案件总数, 未结案件, 已超期, 已升级督办, 已转入下一轮
    by_state: list[Count]
    by_category: list[Count]  # open cases
    by_unit: list[Count]  # open cases of the unit itself (not its subtree)
    by_round: list[Count]
    urgent: list[CaseRow]  # escalated first, then the most overdue
    current_round: str | None
    as_of: datetime
    as_of_text: str  # 数据截至 2021年7月19日 09:00（北京时间）
    pass_rates: list[PassRate] = field(default_factory=list)
    trend: list[TrendRow] = field(default_factory=list)
    trend_svg: str = ""

    def linked(self) -> list[Count]:
        """Every figure with a link, cards and table rows (what the truth tests walk)."""
        return [*self.cards, *self.by_state, *self.by_category, *self.by_unit, *self.by_round]


def as_of_text(moment: datetime, uow: UnitOfWork) -> str:
    """数据截至 2021年7月19日 09:00（北京时间）: the moment in the clock's zone, named."""
    tz = uow.clock.tz
    local = moment.astimezone(tz)
    return f"数据截至 {local.year}年{local.month}月{local.day}日 {local:%H:%M}（{zone_label(tz)}）"


def dashboard(
    uow: UnitOfWork, *, scope_path: str | None = None, urgent_limit: int = 15
) -> Dashboard:
    """Everything the dashboard shows, limited to the viewer's unit subtree, as of now."""
    now = uow.clock.now()
    scope_path = counts.narrowest(uow.session, scope_path)  # the only tree: every case
    scope = live_counts.read(uow, scope_path)
    states = scope.by_state()
    round_list = trends.recent_rounds(uow)
    figures = round_rates.kind_figures(uow, round_list)
    settings = {r.id: round_rates.settings_for(uow, r) for r in round_list}
    current = round_list[-1] if round_list else None
    trend = trends.rows_of(round_list, figures, settings, scope)
    return Dashboard(
        total=scope.total(),
        open_total=scope.open_total(),
        overdue_total=scope.overdue_total(),
        escalated_total=states.get(ESCALATED, 0),
        continued_total=states.get(CONTINUED, 0),
        cards=_cards(scope),
        by_state=[
            Count(str(s), STATE_LABELS[s], states.get(str(s), 0), {"state": str(s)})
            for s in CaseState
        ],
        by_category=_by_category(uow, scope),
        by_unit=_by_unit(uow, scope),
        by_round=_by_round(uow, scope),
        urgent=_urgent(uow, scope_path=scope_path, limit=urgent_limit),
        current_round=current.code if current else None,
        as_of=now,
        as_of_text=as_of_text(now, uow),
        pass_rates=(
            round_rates.pass_rates(figures[current.id], settings[current.id]) if current else []
        ),
        trend=trend,
        trend_svg=trend_svg(trend) if trend else "",
    )


def _cards(scope: ScopeCounts) -> list[Count]:
    states = scope.by_state()
    return [
        Count("total", "案件总数", scope.total()),
        Count("open", "未结案件", scope.open_total(), {"open": "1"}),
        Count("overdue", "已超期", scope.overdue_total(), {"overdue": "1"}),
        Count("escalated", "已升级督办", states.get(ESCALATED, 0), {"escalated": "1"}),
        Count("continued", "已转入下一轮", states.get(CONTINUED, 0), {"state": CONTINUED}),
    ]


def _by_category(uow: UnitOfWork, scope: ScopeCounts) -> list[Count]:
    counted = scope.open_by_category()
    names = dict(
        uow.session.execute(
            select(Category.code, Category.name).where(Category.code.in_(sorted(counted)))
        ).all()
    )
    ordered = sorted(counted.items(), key=lambda item: (-item[1], item[0]))
    return [
        Count(code, names.get(code, code), n, {"category": code, "open": "1"})
        for code, n in ordered
        if n
    ]


def _by_unit(uow: UnitOfWork, scope: ScopeCounts) -> list[Count]:
    counted = live_counts.open_by_unit(uow, scope, limit=UNIT_ROWS)
    names = dict(
        uow.session.execute(
            select(Unit.id, Unit.name).where(Unit.id.in_([unit_id for unit_id, _ in counted]))
        ).all()
    )
    return [
        Count(
            str(unit_id),
            names.get(unit_id, str(unit_id)),
            n,
            {"unit_id": str(unit_id), "open": "1"},
        )
        for unit_id, n in counted
    ]


def _by_round(uow: UnitOfWork, scope: ScopeCounts) -> list[Count]:
    counted = scope.by_round()
    rows = uow.session.execute(
        select(Round.id, Round.code)
        .where(Round.id.in_(sorted(counted)))
        .order_by(Round.period_start.desc(), Round.code.desc())
    ).all()
    return [
        Count(code, code, counted[round_id], {"round": code})
        for round_id, code in rows
        if counted[round_id]
    ]


def _urgent(uow: UnitOfWork, *, scope_path: str | None, limit: int) -> list[CaseRow]:
    """The escalated cases (most escalations first), then the overdue ones (oldest deadline)."""
    escalated = list_cases(
        uow,
        CaseFilters(
            escalated=True, scope_path=scope_path, sort="escalation", descending=True, limit=limit
        ),
    )
    overdue = list_cases(
        uow, CaseFilters(overdue=True, scope_path=scope_path, sort="deadline", limit=limit)
    )
    seen = {row.id for row in escalated}
    return (escalated + [row for row in overdue if row.id not in seen])[:limit]


def pass_rates(uow: UnitOfWork, *, round_code: str) -> list[PassRate]:
    """合格率 of a round per kind (websites, columns, new-media accounts), with the decimals,
    rule and 100% wording of the round's notice (its own options over its issuer's over the
    installation's: ``stats.rate_settings``), so the dashboard and the notice agree."""
    round_ = rounds.get_round(uow, round_code)
    figures = round_rates.kind_figures(uow, [round_])
    return round_rates.pass_rates(figures[round_.id], round_rates.settings_for(uow, round_))
