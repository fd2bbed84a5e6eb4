"""The daily overdue sweep: escalate overdue cases once per deadline, queue reminders.

A case is swept while it is notified, rectifying or escalated and no later round's case
continues it. Past its deadline it is escalated once for that deadline
(``Case.escalated_for_deadline``); reminders go out ``settings.reminder_days_before`` days
before the deadline, on the day and the day after, as one digest per unit per day (the
mailing seam keys it by unit and day, so a second sweep the same day adds nothing).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import or_, select

from services.cases import batch
from services.cases.queries import codes_by_id, in_overdue_states
from services.core.uow import UnitOfWork
from services.db.models import Case, Unit
from services.mail import causes
from states import Trigger


@dataclass
class SweepSummary:
    day: str
    escalated: int = 0
    escalated_per_unit: dict[str, int] = field(default_factory=dict)
    reminders: dict[str, int] = field(default_factory=dict)  # kind → cases
    units_reminded: int = 0
    refused: list[tuple[int, str]] = field(default_factory=list)


def _overdue(today: date):
    return (
        select(Case.id)
        .where(in_overdue_states(), Case.deadline < today)
        .where(
            or_(Case.escalated_for_deadline.is_(None), Case.escalated_for_deadline != Case.deadline)
        )
        .order_by(Case.id)
    )


def overdue_ids(uow: UnitOfWork) -> list[int]:
    """Ids of the open cases past their deadline and not yet escalated for it."""
    return list(uow.session.scalars(_overdue(uow.clock.today())))


def escalate_range(
    uow: UnitOfWork,
    *,
    first_id: int,
    last_id: int,
    actor: str,
    seal: Callable[[UnitOfWork], None] | None = None,
) -> batch.BatchResult:
    """Escalate the overdue cases with ids in [first_id, last_id], once each; one commit.

    ``seal(uow)`` runs just before the commit (a shared batch marks itself done there).
    """

    def work() -> batch.BatchResult:
        today = uow.clock.today()
        ids = uow.session.scalars(_overdue(today).where(Case.id.between(first_id, last_id)))
        moves = [
            batch.Move(i, Trigger.ESCALATE, data={"reason": "overdue", "as_of": today.isoformat()})
            for i in ids
        ]
        result = batch.transition_many(uow, moves, actor=actor)
        if seal is not None:
            seal(uow)
        return result

    return batch.retrying(uow, work)


def reminder_kind(deadline: date, today: date, *, days_before: list[int]) -> str | None:
    """before / due / after for a deadline seen on ``today``, or None for no reminder."""
    left = (deadline - today).days
    if left == 0:
        return "due"
    if left == -1:
        return "after"
    if left in days_before:
        return "before"
    return None


def queue_reminders(uow: UnitOfWork) -> dict[str, int]:
    """Queue one digest per unit for near, due and just-missed deadlines; new reminders counted."""
    today = uow.clock.today()
    days_before = list(uow.settings.reminder_days_before)
    window = [today.fromordinal(today.toordinal() + d) for d in [0, -1, *days_before]]
    rows = uow.session.execute(
        select(Case.unit_id, Case.id, Case.deadline)
        .where(in_overdue_states(), Case.deadline.in_(window))
        .order_by(Case.unit_id, Case.id)
    ).all()
    per_unit: dict[int, list[tuple[int, str]]] = {}
    for unit_id, case_id, deadline in rows:
        kind = reminder_kind(deadline, today, days_before=days_before)
        if kind is not None:
            per_unit.setdefault(unit_id, []).append((case_id, kind))
    counts: dict[str, int] = {"units": 0}
    for unit_id, items in per_unit.items():
        if causes.queue_reminder_digest(uow, unit_id=unit_id, day=today, items=items) is None:
            continue  # already reminded today
        counts["units"] += 1
        for _case_id, kind in items:
            counts[kind] = counts.get(kind, 0) + 1
    uow.commit()
    return counts


def sweep(uow: UnitOfWork, *, actor: str, batch_size: int = 1000) -> SweepSummary:
    """The whole sweep in one call (what the flow does, without Prefect)."""
    summary = SweepSummary(day=uow.clock.today().isoformat())
    ids = overdue_ids(uow)
    for first_id, last_id in batch.id_ranges(ids, size=batch_size):
        add_escalations(
            uow, summary, escalate_range(uow, first_id=first_id, last_id=last_id, actor=actor)
        )
    counts = queue_reminders(uow)
    summary.units_reminded = counts.pop("units")
    summary.reminders = counts
    return summary


def add_escalations(uow: UnitOfWork, summary: SweepSummary, result: batch.BatchResult) -> None:
    """Count one batch's escalations into ``summary``, per unit."""
    codes = codes_by_id(uow, Unit, {m.unit_id for m in result.moved})
    for moved in result.moved:
        code = codes[moved.unit_id]
        summary.escalated_per_unit[code] = summary.escalated_per_unit.get(code, 0) + 1
    summary.escalated += len(result.moved)
    summary.refused += result.refused
