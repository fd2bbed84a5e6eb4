"""A small server-rendered SVG chart: pass rates (lines) and open cases (bars) per round."""

from __future__ import annotations

from markupsafe import Markup, escape

from services.dashboard import KIND_LABELS, RoundTrend

COLOURS = {"website": "#1f6feb", "column": "#2da44e", "new_media": "#bf8700"}
W, H, LEFT, RIGHT, TOP, BOTTOM = 640, 260, 48, 48, 20, 50


def trend_chart(trend: list[RoundTrend]) -> Markup:
    """合格率 per kind (left axis, 0–100 %) and open cases (right axis) across rounds."""
    if not trend:
        return Markup('<p class="muted">暂无检查轮次数据</p>')
    plot_w, plot_h = W - LEFT - RIGHT, H - TOP - BOTTOM
    step = plot_w / len(trend)
    most_open = max(t.open_cases for t in trend) or 1
    parts = [
        f'<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-label="合格率与未结案件趋势" '
        'xmlns="http://www.w3.org/2000/svg" font-size="11">'
    ]
    for pct in (0, 50, 100):
        y = TOP + plot_h * (1 - pct / 100)
        parts.append(
            f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{pct}%</text>'
        )
    parts.append(
        f'<text x="{W - RIGHT + 6}" y="{TOP + 4}" fill="#888">{most_open}</text>'
        f'<text x="{W - RIGHT + 6}" y="{TOP + plot_h + 4}" fill="#888">0</text>'
    )
    for i, t in enumerate(trend):
        x = LEFT + step * i + step / 2
        bar_h = plot_h * t.open_cases / most_open
        parts.append(
            f'<rect x="{x - step / 4:.1f}" y="{TOP + plot_h - bar_h:.1f}" width="{step / 2:.1f}" '
            f'height="{bar_h:.1f}" fill="#d0d7de"><title>{escape(t.round)} 未结案件 '
            f"{t.open_cases}</title></rect>"
            f'<text x="{x:.1f}" y="{H - BOTTOM + 16}" text-anchor="middle">{escape(t.round)}</text>'
        )
    for kind, colour in COLOURS.items():
        points = [
            (LEFT + step * i + step / 2, TOP + plot_h * (1 - float(t.rates[kind]) / 100), t)
            for i, t in enumerate(trend)
            if t.rates.get(kind) is not None
        ]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in points)
            parts.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>'
            )
        for x, y, t in points:
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"><title>'
                f"{escape(t.round)} {KIND_LABELS[kind]} {t.rates[kind]}%</title></circle>"
            )
    legend_x = LEFT
    for kind, colour in COLOURS.items():
        parts.append(
            f'<rect x="{legend_x}" y="{H - 18}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{legend_x + 14}" y="{H - 9}">{KIND_LABELS[kind]}合格率</text>'
        )
        legend_x += 130
    parts.append(
        f'<rect x="{legend_x}" y="{H - 18}" width="10" height="10" fill="#d0d7de"/>'
        f'<text x="{legend_x + 14}" y="{H - 9}">未结案件数</text></svg>'
    )
    return Markup("".join(parts))
