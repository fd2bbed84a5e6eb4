"""Trends across rounds: pass rates per kind and open/overdue/escalated cases; an SVG chart."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from html import escape

from sqlalchemy import func, select

from services.cases.queries import in_overdue_states
from services.core.uow import UnitOfWork
from services.db.models import Case, Round
from services.registry.units import TARGET_KINDS
from services.reports.stats import RATED_KINDS, kind_stats, rate_settings
from states import OPEN_STATES

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


def trend_rows(uow: UnitOfWork, *, until: str | None = None, limit: int = 8) -> list[TrendRow]:
    """One row per round (oldest first), up to ``until`` and at most ``limit`` rounds."""
    query = select(Round).order_by(Round.period_start.desc())
    if until is not None:
        last = uow.session.scalar(select(Round.period_start).where(Round.code == until))
        if last is not None:
            query = query.where(Round.period_start <= last)
    round_list = list(reversed(uow.session.scalars(query.limit(limit)).all()))
    today = uow.clock.today()
    return [_row(uow, round_, today=today) for round_ in round_list]


def _count(uow: UnitOfWork, round_: Round, *conditions) -> int:
    query = select(func.count()).select_from(Case).where(Case.round_id == round_.id, *conditions)
    return uow.session.scalar(query) or 0


def _row(uow: UnitOfWork, round_: Round, *, today) -> TrendRow:
    stats = kind_stats(uow, round_, rates=rate_settings(uow, round_))
    return TrendRow(
        round_code=round_.code,
        rates={kind: stats[kind].rate for kind in RATED_KINDS},
        cases=_count(uow, round_),
        open=_count(uow, round_, Case.state.in_([str(s) for s in OPEN_STATES])),
        overdue=_count(uow, round_, in_overdue_states(), Case.deadline < today),
        escalated=_count(uow, round_, Case.escalation_level > 0),
    )


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
