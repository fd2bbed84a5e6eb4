"""Section 存在的主要问题: a round's problems grouped under headings, targets and units named.

The headings (themes) and the wording per target kind come from ``problem_wording``; the
round's options (``notice_settings``) choose themes, where descriptions go and when a long
list is summarised.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, StrictUndefined, Template

from services.db.models import Case, Category, Round, Target, Unit
from services.reports.files import TEMPLATES
from services.reports.lists import kinds_noun, listed, quoted
from services.reports.notice_reads import NoticeReads
from services.reports.problem_wording import (
    Composition,
    category_theme,
    load_config,
    own_heading,
    wording,
)
from services.reports.wording import cn_times
from states import NOTICE_LEVELS

_ENV = Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)


@lru_cache(maxsize=4096)
def _compiled(template: str) -> Template:
    """A wording template compiled once (every round's notice renders the same few)."""
    return _ENV.from_string(template)


@dataclass(frozen=True)
class ProblemItem:
    """One target named in a subsection, with every problem it has there."""

    target: str
    unit: str
    account: str
    entity: str
    categories: tuple[str, ...]
    case_ids: tuple[int, ...]
    history: str
    text: str
    kind: str = ""
    description: str = ""


@dataclass(frozen=True)
class ProblemSection:
    """One subsection of 存在的主要问题: categories sharing a heading (or a theme)."""

    heading: str
    categories: tuple[str, ...]
    items: tuple[ProblemItem, ...]
    text: str
    summarised: bool = False


@dataclass
class _Row:
    case: Case
    target: Target
    unit: Unit
    category: Category
    words: dict[str, Any]


def category_wording(
    code: str, *, path: Path | None = None, kind: str = "", category: Category | None = None
) -> dict[str, Any]:
    """The wording of a category (for a target kind): see ``problem_wording.wording``."""
    config = load_config(path or TEMPLATES / "notice_categories.yaml")
    if category is None:
        return {**config["_default"], **(config.get(code) or {})}
    return wording(config, category, kind)


def notice_history(city: int, province: int, county: int = 0) -> str:
    """已被省政府办公厅通报一次，被市政府办公室通报两次，被县政府办公室通报一次 (higher
    levels first; empty when never notified)."""
    times = {"province": province, "city": city, "county": county}
    parts = [f"被{NOTICE_LEVELS[level]}通报{cn_times(n)}" for level, n in times.items() if n]
    return f"已{'，'.join(parts)}" if parts else ""


def prior_notices(case: Case, later: Counter) -> tuple[int, int, int]:
    """(city, province, county) notices along the case's chain before this round's notice."""
    return tuple(  # type: ignore[return-value]
        max(getattr(case, f"notices_{level}") - later[(case.id, level)], 0)
        for level in ("city", "province", "county")
    )


def _rows(reads: NoticeReads, round_: Round, config: dict[str, Any]) -> list[_Row]:
    rows = [
        _Row(case, target, unit, category, wording(config, category, target.kind))
        for case, target, unit, category in reads.cases(round_)
    ]
    return [r for r in rows if r.words["in_problems"]]


def _headings(rows: list[_Row], composition: Composition) -> dict[int, tuple[int, str]]:
    """Each case's (rank, heading): a theme of the round's options first, in their order,
    then the category's theme or own heading in catalogue order (a theme only for a target
    its heading fits); an ``attach_to`` category joins its target's other category unless
    the options placed it."""
    placed = {r.case.id: composition.theme_of(r.category, r.target.kind) for r in rows}
    later = len(composition.themes)
    heading: dict[int, tuple[int, str]] = {}
    for r in rows:
        own = category_theme(r.category, r.target.kind) or own_heading(r.category, r.words)
        heading[r.case.id] = placed[r.case.id] or (later, own)
    for r in rows:
        hosts = r.words["attach_to"] or ()
        host = next(
            (o for o in rows if o.target.id == r.target.id and o.category.code in hosts), None
        )
        if host is not None and placed[r.case.id] is None:
            heading[r.case.id] = heading[host.case.id]
    return heading


def problem_sections(
    reads: NoticeReads,
    round_: Round,
    *,
    notice_day: date,
    quarter: str,
    settings: dict[str, Any] | None = None,
    template_dir: Path | None = None,
) -> list[ProblemSection]:
    """Subsections, one per heading that occurred in the round: the round's themes in their
    order, then the others in catalogue order (``reads``: the rows of its group of rounds)."""
    config = load_config((template_dir or TEMPLATES) / "notice_categories.yaml")
    composition = Composition.of(settings or {})
    rows = _rows(reads, round_, config)
    headings = _headings(rows, composition)
    later = reads.notices_since(round_, notice_day)
    grouped: dict[tuple[int, str], dict[int, list[_Row]]] = {}
    for r in rows:
        grouped.setdefault(headings[r.case.id], {}).setdefault(r.target.id, []).append(r)
    themed = {
        headings[r.case.id]
        for r in rows
        if composition.theme_of(r.category, r.target.kind)
        or category_theme(r.category, r.target.kind)
    }
    order = sorted(grouped, key=lambda key: key[0])  # stable: catalogue order within a rank
    return [
        _section(key[1], list(grouped[key].values()), later, quarter, composition, key in themed)
        for key in order
    ]


def _section(
    heading: str,
    targets: list[list[_Row]],
    later: Counter,
    quarter: str,
    composition: Composition,
    themed: bool = False,
) -> ProblemSection:
    words = targets[0][0].words
    elaboration = words["elaboration"]
    if themed and len({r.words["elaboration"] for rows in targets for r in rows}) > 1:
        elaboration = ""  # a theme over categories explained differently: no one explanation
    items = tuple(
        _item(rows, later=later, composition=composition, heading=heading) for rows in targets
    )
    summarised = composition.summary.applies(len(items))
    texts = _summary(targets, composition, heading) if summarised else [i.text for i in items]
    template = (words.get("summary_section") if summarised else None) or words["section"]
    text = _compiled(template).render(
        heading=heading, elaboration=elaboration, items=texts, quarter=quarter
    )
    codes = tuple(dict.fromkeys(r.category.code for rows in targets for r in rows))
    return ProblemSection(
        heading=heading, categories=codes, items=items, text=text, summarised=summarised
    )


def _summary(targets: list[list[_Row]], composition: Composition, heading: str) -> list[str]:
    """One clause per category, each naming only the targets that have it: “甲”“乙”等9个
    政务新媒体内容长期未更新；“丙”存在严重表述错误问题 (the first names and the count past the
    threshold), in the order the round's theme lists the categories, else the catalogue's.
    Alone under its own heading, a category without a phrase adds none (its heading says
    it); beside others or under a theme it is named: 存在<its name>问题 (``_phrase``). A
    category worded differently per target kind gives a clause per wording."""
    every = sorted(
        (r for rows in targets for r in rows),
        key=lambda r: (
            composition.rank_in_theme(r.category, r.target.kind),
            _rank(r.category),
            r.case.id,
        ),
    )
    by_category: dict[tuple[str, str], list[_Row]] = {}
    for r in every:
        group = by_category.setdefault((r.category.code, r.words["phrase"]), [])
        if all(o.target.id != r.target.id for o in group):
            group.append(r)
    groups = list(by_category.values())
    clauses = []
    for rows in groups:
        names = [quoted(_name(r), r.target.kind) for r in rows]
        noun = kinds_noun(r.target.kind for r in rows)
        phrase = _phrase(rows[0], heading)
        if not phrase and len(groups) > 1:
            phrase = f"存在{rows[0].category.name}问题"
        clauses.append(listed(names, summary=composition.summary, noun=noun) + phrase)
    return clauses


def _phrase(row: _Row, heading: str) -> str:
    """What a category adds after a target's name. Without a phrase of its own a category
    relies on its heading to say it (个别政府网站…存在严重表述错误，如：某专栏); under another
    heading (a theme) it is named: 存在<its name>问题."""
    phrase = str(row.words["phrase"] or "")
    if phrase or heading == own_heading(row.category, row.words):
        return phrase
    return f"存在{row.category.name}问题"


def _rank(category: Category) -> int:
    return category.sort_order if category.sort_order is not None else 100


def _name(row: _Row) -> str:
    if row.target.kind == "new_media":
        return row.target.account_name or row.target.name
    return row.target.name


def _item(
    rows: list[_Row], *, later: Counter, composition: Composition, heading: str
) -> ProblemItem:
    first = rows[0]
    phrases = _unique(_phrase(r, heading) for r in rows)
    counts = [prior_notices(r.case, later) for r in rows]
    city, province, county = (max(c[i] for c in counts) for i in range(3))
    history = notice_history(city, province, county)
    fields = {
        "target": first.target.name,
        "unit": first.unit.name,
        "account": first.target.account_name or first.target.name,
        "entity": first.target.registered_entity or first.unit.name,
    }
    description = "；".join(_unique((r.case.description or "").strip() for r in rows))
    shown = description if composition.description == "after_target" else ""
    template = first.words["item"]
    text = _compiled(template).render(**fields, phrases=phrases, history=history, description=shown)
    if shown and "description" not in template:  # an office's own item without the field
        text = f"{text}（{shown}）"
    return ProblemItem(
        **fields,
        categories=tuple(r.category.code for r in rows),
        case_ids=tuple(r.case.id for r in rows),
        history=history,
        text=text,
        kind=first.target.kind,
        description=description,
    )


def _unique(values: Iterable[str]) -> list[str]:
    return [v for v in dict.fromkeys(values) if v]
