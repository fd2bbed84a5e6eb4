"""Read-only views of cases for the emails a batch writes: one Core query, no ORM objects.

They carry exactly what the escalation email reads (``mailing._escalation``): the case's
columns, its unit (name, contact email) and the unit's parent (name, leader), its target
(name, URL) and its category (name).
"""

from __future__ import annotations

from types import SimpleNamespace

from sqlalchemy import select
from sqlalchemy.orm import aliased

from services.core.uow import UnitOfWork
from services.db import bulk
from services.db.models import Case, Category, Target, Unit


def case_views(uow: UnitOfWork, case_ids: set[int]) -> dict[int, SimpleNamespace]:
    """The cases as attribute views shaped like ``Case`` for the email builders, by id."""
    if not case_ids:
        return {}
    parent = aliased(Unit)
    query = (
        select(
            Case.id,
            Case.unit_id,
            Case.round_id,
            Case.description,
            Case.deadline,
            Case.escalation_level,
            Case.notices_city,
            Case.notices_province,
            Unit.name.label("unit_name"),
            Unit.contact_email.label("unit_contact_email"),
            parent.id.label("parent_id"),
            parent.name.label("parent_name"),
            parent.leader_name.label("parent_leader_name"),
            parent.leader_email.label("parent_leader_email"),
            parent.contact_email.label("parent_contact_email"),
            Target.name.label("target_name"),
            Target.url.label("target_url"),
            Category.name.label("category_name"),
        )
        .join(Unit, Unit.id == Case.unit_id)
        .outerjoin(parent, parent.id == Unit.parent_id)
        .join(Target, Target.id == Case.target_id)
        .join(Category, Category.code == Case.category_code)
        .where(bulk.ids_in(uow.session, Case.id, case_ids))
    )
    return {row.id: _view(row) for row in uow.session.execute(query)}


def _view(row) -> SimpleNamespace:
    up = None
    if row.parent_id is not None:
        up = SimpleNamespace(
            id=row.parent_id,
            name=row.parent_name,
            leader_name=row.parent_leader_name,
            leader_email=row.parent_leader_email,
            contact_email=row.parent_contact_email,
        )
    return SimpleNamespace(
        id=row.id,
        unit_id=row.unit_id,
        round_id=row.round_id,
        description=row.description,
        deadline=row.deadline,
        escalation_level=row.escalation_level,
        notices_city=row.notices_city,
        notices_province=row.notices_province,
        unit=SimpleNamespace(
            id=row.unit_id, name=row.unit_name, contact_email=row.unit_contact_email, parent=up
        ),
        target=SimpleNamespace(name=row.target_name, url=row.target_url),
        category=SimpleNamespace(name=row.category_name),
    )
