"""Read side of the registry: units, targets and rounds as plain rows, within a scope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Generic, TypeVar

from sqlalchemy import Select, false, func, or_, select
from sqlalchemy.orm import aliased

from services.core.uow import UnitOfWork
from services.db.issuer_models import Issuer
from services.db.models import Case, Category, Round, Target, Unit


@dataclass(frozen=True)
class UnitRow:
    id: int
    code: str
    name: str
    short_name: str | None
    kind: str
    parent_code: str | None
    path: str
    contact_name: str | None
    contact_email: str | None
    leader_name: str | None
    leader_email: str | None


@dataclass(frozen=True)
class TargetRow:
    id: int
    code: str
    unit_code: str
    unit_name: str
    kind: str
    name: str
    url: str | None
    domain: str | None
    platform: str | None
    account_name: str | None
    status: str


@dataclass(frozen=True)
class RoundRow:
    id: int
    code: str
    title: str | None
    period_start: date
    period_end: date
    notice_date: date | None
    doc_number: str | None
    deadline: date | None
    deadline_days: int | None
    deadline_mode: str | None
    published_at: datetime | None
    cases: int
    #: The issuing office's short name (none: the installation's defaults).
    issuer: str | None = None
    #: Whether the viewer may run it (publish, edit): its issuer lies in the viewer's subtree.
    manageable: bool = True
    #: Its published state by ``services.rounds.published`` (``with_states`` fills these):
    #: published here (``published_at``) or before the system, on which day, in Chinese.
    published: bool = False
    published_on: date | None = None
    published_text: str = "未发布"


def _unit_row(u: Unit, parent_code: str | None) -> UnitRow:
    return UnitRow(
        u.id,
        u.code,
        u.name,
        u.short_name,
        u.kind,
        parent_code,
        u.path,
        u.contact_name,
        u.contact_email,
        u.leader_name,
        u.leader_email,
    )


def _units_query(scope_path: str | None) -> Select:
    parent = aliased(Unit)
    query = select(Unit, parent.code).outerjoin(parent, parent.id == Unit.parent_id)
    if scope_path:
        query = query.where(Unit.path.startswith(scope_path, autoescape=True))
    return query


def list_units(uow: UnitOfWork, *, scope_path: str | None = None) -> list[UnitRow]:
    """Units in the scope, in tree order."""
    query = _units_query(scope_path).order_by(Unit.path)
    return [_unit_row(u, parent_code) for u, parent_code in uow.session.execute(query)]


def _target_row(t: Target, unit_code: str, unit_name: str) -> TargetRow:
    return TargetRow(
        t.id,
        t.code,
        unit_code,
        unit_name,
        t.kind,
        t.name,
        t.url,
        t.domain,
        t.platform,
        t.account_name,
        t.status,
    )


def _targets_query(scope_path: str | None) -> Select:
    query = select(Target, Unit.code, Unit.name).join(Unit, Unit.id == Target.unit_id)
    if scope_path:
        query = query.where(Unit.path.startswith(scope_path, autoescape=True))
    return query


def list_targets(
    uow: UnitOfWork,
    *,
    scope_path: str | None = None,
    unit_code: str | None = None,
    text: str | None = None,
    limit: int = 500,
    after_id: int | None = None,
) -> list[TargetRow]:
    """Targets in the scope, optionally of one unit or matching a text, by id."""
    query = _targets_query(scope_path)
    if unit_code:
        query = query.where(Unit.code == unit_code)
    if text:
        query = query.where(Target.name.contains(text) | Target.code.contains(text))
    if after_id:
        query = query.where(Target.id > after_id)
    return [
        _target_row(*found) for found in uow.session.execute(query.order_by(Target.id).limit(limit))
    ]


def list_rounds(uow: UnitOfWork, *, scope_path: str | None = None) -> list[RoundRow]:
    """The rounds a viewer sees, newest first, with their number of cases: without a scope,
    all; within a subtree, the rounds of the issuers inside it (which the viewer runs) and
    those covering it (an issuer above it, or none), which the viewer only reads."""
    counts = dict(
        uow.session.execute(select(Case.round_id, func.count()).group_by(Case.round_id)).all()
    )
    query = (
        select(Round, Issuer.short_name, Unit.path)
        .outerjoin(Issuer, Issuer.id == Round.issuer_id)
        .outerjoin(Unit, Unit.id == Issuer.unit_id)
        .order_by(Round.period_start.desc(), Round.code)
    )
    rows = []
    for r, issuer, path in uow.session.execute(query):
        inside = scope_path is None or (path is not None and path.startswith(scope_path))
        if not inside and path is not None and not scope_path.startswith(path):  # type: ignore[union-attr]
            continue  # another subtree's office: not the viewer's round
        rows.append(
            RoundRow(
                r.id,
                r.code,
                r.title,
                r.period_start,
                r.period_end,
                r.notice_date,
                r.doc_number,
                r.deadline,
                r.deadline_days,
                r.deadline_mode,
                r.published_at,
                counts.get(r.id, 0),
                issuer=issuer,
                manageable=inside,
            )
        )
    return rows


@dataclass(frozen=True)
class Choice:
    code: str
    label: str


@dataclass(frozen=True)
class FilterChoices:
    units: list[Choice]
    categories: list[Choice]
    rounds: list[Choice]


def filter_choices(uow: UnitOfWork, *, scope_path: str | None = None) -> FilterChoices:
    """The options of the case list's filters, within the viewer's scope."""
    units = select(Unit.code, Unit.name).order_by(Unit.path)
    if scope_path:
        units = units.where(Unit.path.startswith(scope_path, autoescape=True))
    return FilterChoices(
        units=[Choice(c, n) for c, n in uow.session.execute(units)],
        categories=[
            Choice(c, n)
            for c, n in uow.session.execute(
                select(Category.code, Category.name).order_by(Category.sort_order, Category.code)
            )
        ],
        rounds=[
            Choice(c, c)
            for (c,) in uow.session.execute(select(Round.code).order_by(Round.period_start.desc()))
        ],
    )


# --- The units and targets pages: filtered, a page at a time (page numbers, PAGE_SIZE rows). ---

PAGE_SIZE = 50
Row = TypeVar("Row")


@dataclass(frozen=True)
class Page(Generic[Row]):
    """One page of a filtered listing: its rows, its number (from 1) and the whole count."""

    rows: list[Row]
    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


@dataclass(frozen=True)
class UnitFilters:
    text: str | None = None  # in the code, name or short name
    kind: str | None = None
    under: str | None = None  # a unit's code: that unit and every unit below it


@dataclass(frozen=True)
class TargetFilters:
    text: str | None = None  # in the code, name, address or account
    kind: str | None = None
    status: str | None = None
    unit: str | None = None  # a unit's code: its targets and those of the units below it


def _subtree(uow: UnitOfWork, code: str):
    """The condition "within the unit ``code``'s subtree" (nothing if there is no such unit)."""
    path = uow.session.scalar(select(Unit.path).where(Unit.code == code))
    return false() if path is None else Unit.path.startswith(path, autoescape=True)


def _page(uow: UnitOfWork, query: Select, order, number: int, size: int) -> tuple[list, int, int]:
    """The rows of page ``number`` (past the last: the last), the page's number, the total."""
    total = uow.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    number = max(1, min(number, -(-(total or 0) // size) or 1))
    found = uow.session.execute(query.order_by(*order).offset((number - 1) * size).limit(size))
    return list(found), number, total or 0


def page_units(
    uow: UnitOfWork,
    filters: UnitFilters,
    *,
    scope_path: str | None = None,
    number: int = 1,
    size: int = PAGE_SIZE,
) -> Page[UnitRow]:
    """The units page: the scope's units matching the filters, in tree order."""
    query = _units_query(scope_path)
    if filters.text:
        text = filters.text
        query = query.where(
            or_(
                Unit.code.icontains(text, autoescape=True),
                Unit.name.icontains(text, autoescape=True),
                Unit.short_name.icontains(text, autoescape=True),
            )
        )
    if filters.kind:
        query = query.where(Unit.kind == filters.kind)
    if filters.under:
        query = query.where(_subtree(uow, filters.under))
    found, number, total = _page(uow, query, (Unit.path,), number, size)
    return Page([_unit_row(*row) for row in found], number, size, total)


def page_targets(
    uow: UnitOfWork,
    filters: TargetFilters,
    *,
    scope_path: str | None = None,
    number: int = 1,
    size: int = PAGE_SIZE,
) -> Page[TargetRow]:
    """The targets page: the scope's targets matching the filters, by unit then code."""
    query = _targets_query(scope_path)
    if filters.text:
        text = filters.text
        query = query.where(
            or_(
                *(
                    column.icontains(text, autoescape=True)
                    for column in (
                        Target.code,
                        Target.name,
                        Target.url,
                        Target.domain,
                        Target.account_name,
                    )
                )
            )
        )
    if filters.kind:
        query = query.where(Target.kind == filters.kind)
    if filters.status:
        query = query.where(Target.status == filters.status)
    if filters.unit:
        query = query.where(_subtree(uow, filters.unit))
    found, number, total = _page(uow, query, (Unit.path, Target.code), number, size)
    return Page([_target_row(*row) for row in found], number, size, total)


def unit_row(uow: UnitOfWork, code: str, *, scope_path: str | None = None) -> UnitRow | None:
    """One unit of the scope by its code (the unit page's open unit), or None."""
    found = uow.session.execute(_units_query(scope_path).where(Unit.code == code)).first()
    return _unit_row(*found) if found else None


def target_row(uow: UnitOfWork, code: str, *, scope_path: str | None = None) -> TargetRow | None:
    """One target of the scope by its code (the edit form's), or None."""
    found = uow.session.execute(_targets_query(scope_path).where(Target.code == code)).first()
    return _target_row(*found) if found else None


def parent_choices(uow: UnitOfWork, *, scope_path: str | None = None) -> list[Choice]:
    """Units of the scope that have units below them (the 上级单位 filter), in tree order."""
    child = aliased(Unit)
    query = (
        select(Unit.code, Unit.name)
        .where(select(child.id).where(child.parent_id == Unit.id).exists())
        .order_by(Unit.path)
    )
    if scope_path:
        query = query.where(Unit.path.startswith(scope_path, autoescape=True))
    return [Choice(code, name) for code, name in uow.session.execute(query)]
