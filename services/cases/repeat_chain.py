"""Which earlier case a repeat case continues."""

from __future__ import annotations

from sqlalchemy import select

from services.core.uow import UnitOfWork
from services.db.models import Case, Round
from states import OPEN_STATES


def open_before(uow: UnitOfWork, named: Case | None, *, round_: Round) -> list[Case]:
    """When a finding names an earlier case: the open cases of the same problem in rounds
    before ``round_`` (an open named one among them), oldest first.

    The new case continues the latest of them (the named case only when none is open) and
    takes its notice counts; every one of them is carried over to it. An open case comes
    before a verified one found present again: a recheck that meets both — an earlier
    round's case still open and the round before's verified case — continues the open one
    whichever of the two its batches reach first."""
    if named is None:
        return []
    found = list(
        uow.session.scalars(
            select(Case)
            .join(Round, Round.id == Case.round_id)
            .where(
                Case.target_id == named.target_id,
                Case.category_code == named.category_code,
                Case.state.in_([str(s) for s in OPEN_STATES]),
                Case.round_id != round_.id,
                Round.period_start < round_.period_start,
            )
            .order_by(Round.period_start, Case.id)
        )
    )
    if named.state in OPEN_STATES and named not in found:
        found.append(named)
    return found
