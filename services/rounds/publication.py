"""Publishing a round: notify its found cases, set their deadlines, one email per unit.

Each step is idempotent, so a publication killed half-way and run again ends the same:
only ``found`` cases are notified (a state guard), the unit notices carry one idempotency
key per round and unit (``services.mail.causes``), and the round is marked published once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from services.cases import batch
from services.core.uow import UnitOfWork
from services.db.models import Case, Round, Unit
from services.mail import causes
from services.rounds.rounds import check_stored, get_round
from states import CaseState, Trigger


@dataclass
class PublicationSummary:
    round_code: str
    notified: int = 0
    refused: list[tuple[int, str]] = field(default_factory=list)
    units_mailed: int = 0
    cases_per_unit: dict[str, int] = field(default_factory=dict)
    published_at: str | None = None


def found_case_ids(uow: UnitOfWork, *, round_code: str) -> list[int]:
    """Ids of the round's cases still waiting to be notified, ascending."""
    round_ = get_round(uow, round_code)
    check_stored(round_)  # its deadline settings are used for every case: refused before any
    query = select(Case.id).where(Case.round_id == round_.id, Case.state == CaseState.FOUND)
    return list(uow.session.scalars(query.order_by(Case.id)))


def notify_range(
    uow: UnitOfWork, *, round_code: str, first_id: int, last_id: int, actor: str
) -> batch.BatchResult:
    """Notify the round's found cases with ids in [first_id, last_id]; one commit."""
    round_ = get_round(uow, round_code)

    def work() -> batch.BatchResult:
        ids = uow.session.scalars(
            select(Case.id)
            .where(Case.round_id == round_.id, Case.state == CaseState.FOUND)
            .where(Case.id.between(first_id, last_id))
            .order_by(Case.id)
        )
        moves = [batch.Move(i, Trigger.NOTIFY, data={"publication": True}) for i in ids]
        return batch.transition_many(uow, moves, actor=actor)

    return batch.retrying(uow, work)


def queue_unit_notices(uow: UnitOfWork, *, round_code: str) -> dict[str, int]:
    """One email per unit listing its notified cases of the round; {unit code: cases}."""
    round_ = get_round(uow, round_code)
    rows = uow.session.execute(
        select(Case.unit_id, Unit.code, Case.id)
        .join(Unit, Unit.id == Case.unit_id)
        .where(Case.round_id == round_.id, Case.state != CaseState.FOUND)
        .order_by(Case.unit_id, Case.id)
    ).all()
    per_unit: dict[int, tuple[str, list[int]]] = {}
    for unit_id, unit_code, case_id in rows:
        per_unit.setdefault(unit_id, (unit_code, []))[1].append(case_id)
    for unit_id, (_code, case_ids) in per_unit.items():
        causes.queue_round_notice(uow, round_id=round_.id, unit_id=unit_id, case_ids=case_ids)
    return {code: len(ids) for code, ids in per_unit.values()}


def mark_published(uow: UnitOfWork, *, round_code: str) -> Round:
    """Record when the round was published (the first time only)."""
    round_ = get_round(uow, round_code)
    if round_.published_at is None:
        round_.published_at = uow.clock.now()
    uow.flush()
    return round_


def publish_round(
    uow: UnitOfWork, *, round_code: str, actor: str, batch_size: int = 1000
) -> PublicationSummary:
    """The whole publication in one call (what the flow does, without Prefect)."""
    summary = PublicationSummary(round_code=round_code)
    ids = found_case_ids(uow, round_code=round_code)
    for first_id, last_id in batch.id_ranges(ids, size=batch_size):
        result = notify_range(
            uow, round_code=round_code, first_id=first_id, last_id=last_id, actor=actor
        )
        summary.notified += len(result.moved)
        summary.refused += result.refused
    return finish(uow, round_code=round_code, summary=summary)


def finish(uow: UnitOfWork, *, round_code: str, summary: PublicationSummary) -> PublicationSummary:
    """Queue the unit notices, mark the round published, commit; fills ``summary``."""
    summary.cases_per_unit = queue_unit_notices(uow, round_code=round_code)
    summary.units_mailed = len(summary.cases_per_unit)
    round_ = mark_published(uow, round_code=round_code)
    uow.commit()
    summary.published_at = round_.published_at.isoformat()
    return summary
