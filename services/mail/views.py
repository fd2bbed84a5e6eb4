"""The one read model of a case that every email is built from: ``CaseMailView``.

Loaded with one SQLAlchemy Core query per batch of cases (``case_views``), never through the
ORM ``Case``: the case's columns the emails show, its unit (name, contact address), the
unit's parent (name, leader, leader address), its target (name, URL) and its category
(name, sort order). Case emails (``services.mail.case_mail``), round notices and reminder
digests (``services.mail.causes``) all read it, so one case reads the same in every email.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import aliased

from services.core.uow import UnitOfWork
from services.db import bulk
from services.db.models import Case, Category, Target, Unit


@dataclass(frozen=True)
class CaseMailView:
    """What the emails read of one case, its unit, the unit's parent, target and category."""

    id: int
    unit_id: int
    round_id: int
    description: str
    deadline: date | None
    escalation_level: int
    notices_city: int
    notices_province: int
    notices_county: int
    unit_name: str
    unit_contact_email: str | None
    parent_id: int | None  # None: the unit has no parent unit
    parent_name: str | None
    parent_leader_name: str | None
    parent_leader_email: str | None
    target_name: str
    target_url: str | None
    category_name: str
    category_sort_order: int

    def summary(self) -> dict[str, Any]:
        """The case as every email context lists it (``case``, a round notice's ``cases``)."""
        return {
            "id": self.id,
            "category": self.category_name,
            "target": self.target_name,
            "target_url": self.target_url,
            "description": self.description,
            "deadline": self.deadline.isoformat() if self.deadline else None,
        }

    def listing_order(self) -> tuple[date, int, int]:
        """Where the case goes in a unit's list: by deadline, then category, then id."""
        return (self.deadline or date.max, self.category_sort_order, self.id)


_PARENT = aliased(Unit)
_COLUMNS = {
    "id": Case.id,
    "unit_id": Case.unit_id,
    "round_id": Case.round_id,
    "description": Case.description,
    "deadline": Case.deadline,
    "escalation_level": Case.escalation_level,
    "notices_city": Case.notices_city,
    "notices_province": Case.notices_province,
    "notices_county": Case.notices_county,
    "unit_name": Unit.name,
    "unit_contact_email": Unit.contact_email,
    "parent_id": _PARENT.id,
    "parent_name": _PARENT.name,
    "parent_leader_name": _PARENT.leader_name,
    "parent_leader_email": _PARENT.leader_email,
    "target_name": Target.name,
    "target_url": Target.url,
    "category_name": Category.name,
    "category_sort_order": Category.sort_order,
}
assert tuple(_COLUMNS) == tuple(f.name for f in fields(CaseMailView))


def case_views(uow: UnitOfWork, case_ids: Iterable[int]) -> dict[int, CaseMailView]:
    """The existing ones of the given cases as read models, by id, in one query.

    Pending ORM changes are flushed first (a single transition reads its own case).
    """
    ids = set(case_ids)
    if not ids:
        return {}
    uow.flush()
    query = (
        select(*_COLUMNS.values())
        .join(Unit, Unit.id == Case.unit_id)
        .outerjoin(_PARENT, _PARENT.id == Unit.parent_id)
        .join(Target, Target.id == Case.target_id)
        .join(Category, Category.code == Case.category_code)
        .where(bulk.ids_in(uow.session, Case.id, ids))
    )
    return {row[0]: CaseMailView(*row) for row in uow.session.execute(query)}
