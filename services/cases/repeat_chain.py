"""Which earlier case a repeat case continues."""

from __future__ import annotations

from sqlalchemy import select

from services.core.uow import UnitOfWork
from services.db.models import Case, Round
from states import OPEN_STATES


def open_before(uow: UnitOfWork, named: Case | None, *, round_: Round) -> list[Case]:
    """When a finding names an open case: the open cases of the same problem in rounds
    before ``round_`` (the named one among them), oldest first. The new case continues the
    latest and takes its notice counts; every one of them is carried over to it, so that
    whichever a recheck's batches reach first, the outcome is the same."""
    if named is None or named.state not in OPEN_STATES:
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
    return found if named in found else [*found, named]
