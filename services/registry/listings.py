"""Read side of the registry: units, targets and rounds as plain rows, within a scope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
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


def list_units(uow: UnitOfWork, *, scope_path: str | None = None) -> list[UnitRow]:
    """Units in the scope, in tree order."""
    parent = aliased(Unit)
    query = select(Unit, parent.code).outerjoin(parent, parent.id == Unit.parent_id)
    if scope_path:
        query = query.where(Unit.path.startswith(scope_path, autoescape=True))
    return [
        UnitRow(
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
        for u, parent_code in uow.session.execute(query.order_by(Unit.path))
    ]


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
    query = select(Target, Unit.code, Unit.name).join(Unit, Unit.id == Target.unit_id)
    if scope_path:
        query = query.where(Unit.path.startswith(scope_path, autoescape=True))
    if unit_code:
        query = query.where(Unit.code == unit_code)
    if text:
        query = query.where(Target.name.contains(text) | Target.code.contains(text))
    if after_id:
        query = query.where(Target.id > after_id)
    return [
        TargetRow(
            t.id,
            t.code,
            unit_code_,
            unit_name,
            t.kind,
            t.name,
            t.url,
            t.domain,
            t.platform,
            t.account_name,
            t.status,
        )
        for t, unit_code_, unit_name in uow.session.execute(query.order_by(Target.id).limit(limit))
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
