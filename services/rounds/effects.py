"""What one run (a recheck, a sweep) wrote, read back from its events.

A batch runs in a worker process; should that process die after the batch committed but
before its result reached the flow run, the scheduler runs the batch again, and the rerun finds
nothing left to do (it changes nothing twice). Its result then says 0: the run's totals are read
from the events its actor wrote after the run began, which stay exact.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select

from services.core.uow import UnitOfWork
from services.db.models import Case, CaseEvent, Unit


@dataclass
class RunEffects:
    """Events of one run per trigger (``verify``, ``escalate``, ``created``...), and per unit."""

    per_trigger: dict[str, int] = field(default_factory=dict)
    per_unit: dict[str, dict[str, int]] = field(default_factory=dict)

    def count(self, trigger: str) -> int:
        return self.per_trigger.get(trigger, 0)


def last_event_id(uow: UnitOfWork) -> int:
    """The newest event's id: a run's own events come after it."""
    return uow.session.scalar(select(func.max(CaseEvent.id))) or 0


def run_effects(uow: UnitOfWork, *, actor: str, after_event_id: int) -> RunEffects:
    """The events ``actor`` wrote after ``after_event_id``, counted per trigger and unit."""
    query = (
        select(CaseEvent.trigger, Unit.code, func.count())
        .join(Case, Case.id == CaseEvent.case_id)
        .join(Unit, Unit.id == Case.unit_id)
        .where(CaseEvent.id > after_event_id, CaseEvent.actor == actor)
        .group_by(CaseEvent.trigger, Unit.code)
    )
    effects = RunEffects()
    for trigger, unit, n in uow.session.execute(query):
        effects.per_trigger[trigger] = effects.per_trigger.get(trigger, 0) + n
        effects.per_unit.setdefault(unit, {})[trigger] = n
    return effects
