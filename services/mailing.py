"""Which emails a case transition causes: written to the outbox in the same transaction.

The notifications issue fills this seam with the real templates and recipients;
until then a transition queues no email.
"""

from __future__ import annotations

from services.db.models import Case, CaseEvent
from services.uow import UnitOfWork


def queue_for_transition(uow: UnitOfWork, *, case: Case, event: CaseEvent) -> None:
    """Write the outbox rows ``event`` causes (none yet: see the notifications issue)."""
    return None
