"""The recheck and the overdue sweep shared by several workers (processes, flow runs).

One call plans a job (its id ranges as claims); any number of workers then call the
``*_worker`` function with the same job name, each on its own connection, until every
range is done. Each range is processed once: see ``services.claims``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from services.cases import batch
from services.core.uow import UnitOfWork
from services.rounds import claims, rechecks, sweeps


def recheck_job(round_code: str, run: str) -> str:
    """The job name of one recheck run of a round."""
    return f"recheck:{round_code}:{run}"


def sweep_job(day: str, run: str) -> str:
    """The job name of one overdue sweep run."""
    return f"sweep:{day}:{run}"


def plan_recheck(uow: UnitOfWork, *, job: str, round_code: str, batch_size: int = 1000) -> int:
    """Plan the recheck's candidate ranges as claims; the number of new ranges."""
    ids = rechecks.candidate_ids(uow, round_code=round_code)
    return claims.plan(uow, job=job, ranges=batch.id_ranges(ids, size=batch_size))


def plan_sweep(uow: UnitOfWork, *, job: str, batch_size: int = 1000) -> int:
    """Plan the overdue escalations' ranges as claims; the number of new ranges."""
    ids = sweeps.overdue_ids(uow)
    return claims.plan(uow, job=job, ranges=batch.id_ranges(ids, size=batch_size))


def recheck_worker(
    app,
    *,
    job: str,
    round_code: str,
    provider: rechecks.OutcomeProvider,
    actor: str,
    holder: str,
    lease_seconds: float = 300.0,
    clock: Callable[[], float] = time.time,
) -> tuple[rechecks.RecheckSummary, claims.WorkerReport]:
    """Work through a planned recheck job with the others; this worker's share of it."""
    summary = rechecks.RecheckSummary(round_code=round_code)

    def handle(uow: UnitOfWork, claim: claims.Claim, seal) -> None:
        part = rechecks.recheck_range(
            uow,
            round_code=round_code,
            first_id=claim.first_id,
            last_id=claim.last_id,
            provider=provider,
            actor=actor,
            seal=seal,
        )
        summary.merge(part)

    report = claims.work_through(
        app, job=job, holder=holder, handle=handle, lease_seconds=lease_seconds, clock=clock
    )
    return summary, report


def sweep_worker(
    app,
    *,
    job: str,
    actor: str,
    holder: str,
    lease_seconds: float = 300.0,
    clock: Callable[[], float] = time.time,
) -> tuple[sweeps.SweepSummary, claims.WorkerReport]:
    """Work through a planned sweep job's escalations with the others; this worker's share."""
    summary = sweeps.SweepSummary(day="")

    def handle(uow: UnitOfWork, claim: claims.Claim, seal) -> None:
        result = sweeps.escalate_range(
            uow, first_id=claim.first_id, last_id=claim.last_id, actor=actor, seal=seal
        )
        sweeps.add_escalations(uow, summary, result)

    report = claims.work_through(
        app, job=job, holder=holder, handle=handle, lease_seconds=lease_seconds, clock=clock
    )
    return summary, report
