"""What a cause queues, counted the way a confirmation page states it (确认发送).

An action that mails many units (a bulk notify or escalation) is tried for real inside a
savepoint: the same transitions write the same outbox rows through the same code
(``services.mail.case_mail``), ``count_queued`` reads what they wrote, and the savepoint is
rolled back. So the figures a supervisor confirms are the ones the action would produce.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import func, select

from services.core.uow import UnitOfWork
from services.db.models import OutboxMessage, Unit

T = TypeVar("T")


@dataclass(frozen=True)
class MailCount:
    """The emails a cause queued: how many, to how many units, and which cannot be sent."""

    emails: int
    #: The units addressed: a case's own unit, an escalation's unit's parent.
    units: int
    #: Why some cannot be sent (Chinese, each naming the unit), distinct.
    undeliverable: tuple[str, ...] = ()


def trial(uow: UnitOfWork, work: Callable[[], T], *, case_ids: Callable[[T], Iterable[int]]):
    """Run ``work`` in a savepoint, count the outbox rows it wrote for ``case_ids(result)``,
    roll it all back; returns (result, MailCount)."""
    before = uow.session.scalar(select(func.max(OutboxMessage.id))) or 0
    savepoint = uow.session.begin_nested()
    try:
        result = work()
        uow.session.flush()
        counted = count_queued(uow, after_id=before, case_ids=list(case_ids(result)))
    finally:
        if savepoint.is_active:
            savepoint.rollback()
    return result, counted


def count_queued(uow: UnitOfWork, *, after_id: int, case_ids: list[int]) -> MailCount:
    """The outbox rows about ``case_ids`` written after row ``after_id``, counted."""
    if not case_ids:
        return MailCount(0, 0)
    rows = uow.session.execute(
        select(OutboxMessage.template, OutboxMessage.unit_id, OutboxMessage.last_error)
        .where(OutboxMessage.id > after_id, OutboxMessage.case_id.in_(case_ids))
        .order_by(OutboxMessage.id)
    ).all()
    escalated = {unit_id for template, unit_id, _ in rows if template == "escalation"}
    parents = dict(
        uow.session.execute(select(Unit.id, Unit.parent_id).where(Unit.id.in_(escalated))).all()
        if escalated
        else []
    )
    addressed = {
        parents.get(unit_id) if template == "escalation" else unit_id
        for template, unit_id, _ in rows
    }
    problems = tuple(dict.fromkeys(error for _, _, error in rows if error))
    return MailCount(len(rows), len(addressed - {None}), problems)
