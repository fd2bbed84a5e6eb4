"""Trends across rounds: pass rates per kind and open/overdue/escalated cases; an SVG chart.

Live: the cases from the scope's counts (``live_counts``), the rates from SQL aggregates
(``round_rates``), so the trend reads the same figures as the dashboard beside it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from html import escape

from sqlalchemy import select

from services.core.uow import UnitOfWork
from services.db.models import Round
from services.registry.units import TARGET_KINDS
from services.reports import live_counts, round_rates
from services.reports.live_counts import ScopeCounts
from services.reports.stats import RATED_KINDS, RateSettings

COLOURS = {"website": "#c0392b", "column": "#2471a3", "new_media": "#1e8449"}
COUNT_COLOURS = {"open": "#7f8c8d", "overdue": "#e67e22", "escalated": "#8e44ad"}
COUNT_LABELS = {"open": "未办结", "overdue": "已超期", "escalated": "曾升级"}


@dataclass(frozen=True)
class TrendRow:
    round_code: str
    rates: dict[str, Decimal | None]
    cases: int
    open: int
    overdue: int
    escalated: int


def recent_rounds(uow: UnitOfWork, *, until: str | None = None, limit: int = 8) -> list[Round]:
    """The rounds of the trend (oldest first): up to ``until``, at most ``limit``."""
    query = select(Round).order_by(Round.period_start.desc())
    if until is not None:
        last = uow.session.scalar(select(Round.period_start).where(Round.code == until))
        if last is not None:
            query = query.where(Round.period_start <= last)
    return list(reversed(uow.session.scalars(query.limit(limit)).all()))


def trend_rows(
    uow: UnitOfWork, *, until: str | None = None, limit: int = 8, scope_path: str | None = None
) -> list[TrendRow]:
    """One row per round (oldest first), up to ``until`` and at most ``limit`` rounds: pass
    rates as each round's notice writes them, cases of the scope (None: every unit)."""
    round_list = recent_rounds(uow, until=until, limit=limit)
    figures = round_rates.kind_figures(uow, round_list)
    settings = {r.id: round_rates.settings_for(uow, r) for r in round_list}
    return rows_of(round_list, figures, settings, live_counts.read(uow, scope_path))


def rows_of(
    round_list: list[Round],
    figures: dict[int, round_rates.Figures],
    settings: dict[int, RateSettings],
    scope: ScopeCounts,
) -> list[TrendRow]:
    """The trend's rows from figures already counted (the dashboard counts them once)."""
    rows = []
    for round_ in round_list:
        cases, open_, escalated = scope.round_figures(round_.id)
        rates = {
            kind: settings[round_.id].for_kind(kind).rate(qualified, inspected)
            for kind, (inspected, qualified) in figures[round_.id].items()
            if kind in RATED_KINDS
        }
        rows.append(
            TrendRow(
                round_code=round_.code,
                rates=rates,
                cases=cases,
                open=open_,
                overdue=scope.overdue.get(round_.id, 0),
                escalated=escalated,
            )
        )
    return rows


def trend_svg(rows: list[TrendRow], *, width: int = 640) -> str:
    """Two panels, server-rendered: pass rates as lines, case counts as grouped bars.

    Sized by the page's stylesheet (``svg.chart``), not a ``style`` attribute: the web app's
    content policy refuses inline styles."""
    panel, gap = 200, 40
    height = 2 * panel + gap + 20
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="100%" viewBox="0 0 {width} {height}" '
        'class="chart" role="img" aria-label="合格率与案件趋势" '
        'font-family="sans-serif" font-size="11">'
    ]
    parts += _rate_panel(rows, top=0, width=width, height=panel)
    parts += _count_panel(rows, top=panel + gap, width=width, height=panel)
    parts.append("</svg>")
    return "\n".join(parts)


def _x_positions(count: int, *, left: int, right: int) -> list[float]:
    if count == 1:
        return [(left + right) / 2]
    step = (right - left) / (count - 1)
    return [left + i * step for i in range(count)]


def _rate_panel(rows: list[TrendRow], *, top: int, width: int, height: int) -> list[str]:
    left, right, inner_top, bottom = 50, width - 130, top + 20, top + height - 25
    values = [float(v) for r in rows for v in r.rates.values() if v is not None]
    low = min([*values, 100.0]) // 10 * 10
    low = max(min(low, 90.0), 0.0)

    def y(value: float) -> float:
        return bottom - (value - low) / (100 - low) * (bottom - inner_top)

    out = [f'<text x="{left}" y="{top + 12}" font-weight="bold">合格率（%）</text>']
    for tick in range(int(low), 101, 5 if 100 - low <= 20 else 10):
        out.append(
            f'<line x1="{left}" x2="{right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="#ddd"/>'
            f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick}</text>'
        )
    xs = _x_positions(len(rows), left=left + 20, right=right - 20)
    for x, row in zip(xs, rows, strict=True):
        out.append(
            f'<text x="{x:.1f}" y="{bottom + 16}" text-anchor="middle">{escape(row.round_code)}</text>'
        )
    for i, kind in enumerate(RATED_KINDS):
        points = [
            (x, y(float(row.rates[kind])))
            for x, row in zip(xs, rows, strict=True)
            if row.rates[kind] is not None
        ]
        colour = COLOURS[kind]
        if len(points) > 1:
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
            out.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>'
            )
        out += [f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{colour}"/>' for px, py in points]
        ly = inner_top + 16 * i
        out.append(
            f'<rect x="{right + 15}" y="{ly}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{right + 30}" y="{ly + 9}">{TARGET_KINDS[kind]}</text>'
        )
    return out


def _count_panel(rows: list[TrendRow], *, top: int, width: int, height: int) -> list[str]:
    left, right, inner_top, bottom = 50, width - 130, top + 20, top + height - 25
    peak = max([1, *(getattr(r, k) for r in rows for k in COUNT_LABELS)])
    out = [f'<text x="{left}" y="{top + 12}" font-weight="bold">案件数（件）</text>']
    out.append(f'<line x1="{left}" x2="{right}" y1="{bottom}" y2="{bottom}" stroke="#999"/>')
    slot = (right - left) / max(len(rows), 1)
    bar = min(18.0, slot / 4)
    for i, row in enumerate(rows):
        centre = left + slot * (i + 0.5)
        out.append(
            f'<text x="{centre:.1f}" y="{bottom + 16}" text-anchor="middle">'
            f"{escape(row.round_code)}</text>"
        )
        for j, key in enumerate(COUNT_LABELS):
            value = getattr(row, key)
            h = value / peak * (bottom - inner_top)
            x = centre + (j - 1.5) * bar
            out.append(
                f'<rect x="{x:.1f}" y="{bottom - h:.1f}" width="{bar - 2:.1f}" height="{h:.1f}" '
                f'fill="{COUNT_COLOURS[key]}"><title>{row.round_code} {COUNT_LABELS[key]} '
                f"{value}</title></rect>"
                f'<text x="{x + (bar - 2) / 2:.1f}" y="{bottom - h - 3:.1f}" '
                f'text-anchor="middle" font-size="9">{value}</text>'
            )
    for j, (key, label) in enumerate(COUNT_LABELS.items()):
        ly = inner_top + 16 * j
        out.append(
            f'<rect x="{right + 15}" y="{ly}" width="10" height="10" fill="{COUNT_COLOURS[key]}"/>'
            f'<text x="{right + 30}" y="{ly + 9}">{label}</text>'
        )
    return out
