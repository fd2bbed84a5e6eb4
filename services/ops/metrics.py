"""What ``/metrics`` reports about the work, read live: cases by state, overdue cases, the
outbox by status and the age of its oldest waiting message.

Each figure is the one the rest of the system counts: cases by state from the live counters
(``services.reports.live_counts``, as the dashboard), overdue as the dashboard's overdue (the
deadline states past their deadline, ``states.rules``), the outbox as its administration
(``outbox_admin.count_by_status``) and its backlog as the dispatch run's (``outbox.backlog``).
"""

from __future__ import annotations

from dataclasses import dataclass

from services.core.uow import UnitOfWork
from services.mail import outbox, outbox_admin
from services.reports import live_counts
from states import CaseState


@dataclass(frozen=True)
class WorkFigures:
    """The installation's cases and outbox, now."""

    cases_by_state: dict[str, int]  # every state, zero included
    overdue: int
    outbox_by_status: dict[str, int]  # every status, zero included
    outbox_waiting: int  # pending or being sent
    outbox_oldest_waiting_seconds: int  # 0 when nothing waits


def read(uow: UnitOfWork) -> WorkFigures:
    """Every figure of the whole installation (all trees), by the clock of ``uow``."""
    scope = live_counts.read(uow, None)
    backlog = outbox.backlog(uow)
    return WorkFigures(
        cases_by_state={str(state): 0 for state in CaseState} | dict(scope.by_state()),
        overdue=scope.overdue_total(),
        outbox_by_status=outbox_admin.count_by_status(uow),
        outbox_waiting=backlog.waiting,
        outbox_oldest_waiting_seconds=backlog.oldest_seconds,
    )
