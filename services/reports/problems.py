"""Section 二 of the notice: a round's problems grouped by category, targets and units named."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from jinja2 import Environment, StrictUndefined
from sqlalchemy import select

from services.core.uow import UnitOfWork
from services.db.models import Case, CaseNotice, Category, Round, Target, Unit
from services.reports.files import TEMPLATES, load_yaml
from services.reports.wording import cn_times
from states import NOTICE_LEVELS

_ENV = Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)


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


@dataclass(frozen=True)
class ProblemSection:
    """One subsection of 二、存在的主要问题: categories sharing a heading."""

    heading: str
    categories: tuple[str, ...]
    items: tuple[ProblemItem, ...]
    text: str


@dataclass
class _Row:
    case: Case
    target: Target
    unit: Unit
    category: Category


def category_wording(code: str, *, path: Path | None = None) -> dict[str, Any]:
    """The wording of a category: its entry of notice_categories.yaml over ``_default``."""
    config = load_yaml(path or TEMPLATES / "notice_categories.yaml")
    return {**config["_default"], **(config.get(code) or {})}


def notice_history(city: int, province: int) -> str:
    """已被省政府办公厅通报一次，被市政府办公室通报两次 (empty when never notified)."""
    parts = []
    if province:
        parts.append(f"被{NOTICE_LEVELS['province']}通报{cn_times(province)}")
    if city:
        parts.append(f"被{NOTICE_LEVELS['city']}通报{cn_times(city)}")
    return f"已{'，'.join(parts)}" if parts else ""


def later_notices(uow: UnitOfWork, round_: Round, *, notice_day: date) -> Counter:
    """Notices on this round's cases dated on or after its notice day: (case id, level) → n."""
    return Counter(
        (case_id, level)
        for case_id, level in uow.session.execute(
            select(CaseNotice.case_id, CaseNotice.level)
            .join(Case, Case.id == CaseNotice.case_id)
            .where(Case.round_id == round_.id, CaseNotice.notified_on >= notice_day)
        )
    )


def prior_notices(case: Case, later: Counter) -> tuple[int, int]:
    """(city, province) notices along the case's chain before this round's notice."""
    city = case.notices_city - later[(case.id, "city")]
    province = case.notices_province - later[(case.id, "province")]
    return max(city, 0), max(province, 0)


def _rows(uow: UnitOfWork, round_: Round) -> list[_Row]:
    result = uow.session.execute(
        select(Case, Target, Unit, Category)
        .join(Target, Target.id == Case.target_id)
        .join(Unit, Unit.id == Case.unit_id)
        .join(Category, Category.code == Case.category_code)
        .where(Case.round_id == round_.id)
        .order_by(Category.sort_order, Case.id)
    ).all()
    rows = [_Row(*row) for row in result]
    return [r for r in rows if category_wording(r.category.code)["in_problems"]]


def _section_of(rows: list[_Row]) -> dict[int, str]:
    """Each case's subsection heading; an `attach_to` category joins its target's other one."""
    heading = {r.case.id: r.category.notice_heading or r.category.name for r in rows}
    for r in rows:
        hosts = category_wording(r.category.code)["attach_to"]
        host = next(
            (o for o in rows if o.target.id == r.target.id and o.category.code in hosts), None
        )
        if host is not None:
            heading[r.case.id] = heading[host.case.id]
    return heading


def problem_sections(
    uow: UnitOfWork, round_: Round, *, notice_day: date, quarter: str
) -> list[ProblemSection]:
    """Subsections in catalogue order, one per heading that occurred in the round."""
    rows = _rows(uow, round_)
    headings = _section_of(rows)
    later = later_notices(uow, round_, notice_day=notice_day)
    grouped: dict[str, dict[int, list[_Row]]] = {}
    for r in rows:
        grouped.setdefault(headings[r.case.id], {}).setdefault(r.target.id, []).append(r)
    return [
        _section(heading, list(by_target.values()), later=later, quarter=quarter)
        for heading, by_target in grouped.items()
    ]


def _section(
    heading: str, targets: list[list[_Row]], *, later: Counter, quarter: str
) -> ProblemSection:
    lead = targets[0][0].category.code
    wording = category_wording(lead)
    items = tuple(_item(rows, later=later) for rows in targets)
    text = _ENV.from_string(wording["section"]).render(
        heading=heading,
        elaboration=wording["elaboration"],
        items=[item.text for item in items],
        quarter=quarter,
    )
    codes = tuple(dict.fromkeys(r.category.code for rows in targets for r in rows))
    return ProblemSection(heading=heading, categories=codes, items=items, text=text)


def _item(rows: list[_Row], *, later: Counter) -> ProblemItem:
    first = rows[0]
    wording = category_wording(first.category.code)
    phrases = _unique(category_wording(r.category.code)["phrase"] for r in rows)
    counts = [prior_notices(r.case, later) for r in rows]
    city, province = max(c for c, _ in counts), max(p for _, p in counts)
    history = notice_history(city, province)
    fields = {
        "target": first.target.name,
        "unit": first.unit.name,
        "account": first.target.account_name or first.target.name,
        "entity": first.target.registered_entity or first.unit.name,
    }
    text = _ENV.from_string(wording["item"]).render(**fields, phrases=phrases, history=history)
    return ProblemItem(
        **fields,
        categories=tuple(r.category.code for r in rows),
        case_ids=tuple(r.case.id for r in rows),
        history=history,
        text=text,
    )


def _unique(values: Iterable[str]) -> list[str]:
    return [v for v in dict.fromkeys(values) if v]
