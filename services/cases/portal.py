"""The unit portal's read side: a link opens one unit's cases, and only those."""

from __future__ import annotations

from dataclasses import dataclass

from services.access import unit_links
from services.cases import detail, queries
from services.core.errors import Forbidden, NotFound
from services.core.uow import UnitOfWork
from services.db.models import Case, Unit


@dataclass(frozen=True)
class PortalUnit:
    unit_id: int
    unit_code: str
    unit_name: str


def open_portal(uow: UnitOfWork, *, token: str) -> PortalUnit:
    """The unit a link opens (LinkRefused if unknown, expired or revoked); notes its use."""
    link = unit_links.resolve_link(uow, token)
    unit = uow.session.get(Unit, link.unit_id)
    uow.commit()
    return PortalUnit(unit.id, unit.code, unit.name)


def unit_cases(uow: UnitOfWork, *, unit_id: int) -> list[queries.CaseRow]:
    """The unit's own cases, newest first."""
    return queries.list_cases(uow, queries.CaseFilters(unit_id=unit_id, descending=True))


def unit_case(uow: UnitOfWork, *, unit_id: int, case_id: int) -> detail.CaseDetail:
    """One of the unit's cases; another unit's case is refused."""
    case = uow.session.get(Case, case_id)
    if case is None:
        raise NotFound(f"案件 {case_id} 不存在")
    if case.unit_id != unit_id:
        raise Forbidden("该案件不属于本单位，无权查看或提交")
    return detail.case_detail(uow, case_id)
