"""The notice as Markdown or printable HTML, through Jinja2 templates the office can edit."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from services.reports.files import TEMPLATES
from services.reports.notice import Notice
from services.reports.stats import RATED_KINDS
from services.reports.trends import TrendRow, trend_svg


@cache
def _environment(template_dir: Path) -> Environment:
    """Compiled once per folder; a template edited on disk is recompiled (auto_reload)."""
    return Environment(
        loader=FileSystemLoader(template_dir),
        undefined=StrictUndefined,
        autoescape=select_autoescape(["html", "html.j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_markdown(notice: Notice, *, template_dir: Path = TEMPLATES) -> str:
    """The notice as Markdown: title and chapters as headings, one paragraph per block."""
    text = _environment(template_dir).get_template("notice.md.j2").render(notice=notice)
    return text.strip() + "\n"


def render_html(
    notice: Notice, *, trends: list[TrendRow] | None = None, template_dir: Path = TEMPLATES
) -> str:
    """A printable A4 page; with ``trends``, an appendix with a table and an inline SVG chart."""
    return (
        _environment(template_dir)
        .get_template("notice.html.j2")
        .render(
            notice=notice,
            trends=trends or [],
            chart=trend_svg(trends) if trends else "",
            kinds=RATED_KINDS,
        )
    )
