"""Flows: the recheck and the overdue sweep shared by several flow runs (scale-out).

Start the same flow with the same ``run_key`` on several workers of the process pool: each
run plans the job (planning again adds nothing) and claims batches until every batch is
done; a batch of a run that died is taken over once its lease runs out (services.claims).
"""

from __future__ import annotations

import socket
import uuid
from dataclasses import asdict
from datetime import date

from prefect import flow, get_run_logger

from flows.common import BATCH_SIZE, run_actor, run_app
from services.rounds import shared_runs
from services.rounds.outcomes import provider_named
from services.rounds.rechecks import current_round_code

#: A batch held longer than this by a silent worker is taken over by another.
LEASE_SECONDS = 600.0


def _holder() -> str:
    return f"{socket.gethostname()}/{uuid.uuid4().hex[:8]}"


@flow(name="shared-recheck")
def shared_recheck(
    run_key: str,
    round_code: str | None = None,
    as_of: date | None = None,
    outcomes: str = "checks",
    lease_seconds: float = LEASE_SECONDS,
) -> dict:
    """This run's share of a recheck that several runs with the same ``run_key`` work through."""
    log = get_run_logger()
    actor = run_actor("shared-recheck")
    with run_app(as_of) as app:
        with app.uow() as uow:
            round_code = round_code or current_round_code(uow)
            job = shared_runs.recheck_job(round_code, run_key)
            shared_runs.plan_recheck(uow, job=job, round_code=round_code, batch_size=BATCH_SIZE)
        summary, report = shared_runs.recheck_worker(
            app,
            job=job,
            round_code=round_code,
            provider=provider_named(outcomes, run_ref=actor),
            actor=actor,
            holder=_holder(),
            lease_seconds=lease_seconds,
        )
    log.info(
        "%s 共享复查（%s）：本运行完成 %d 批，核验 %d 件，重新立案 %d 件，租约被接手 %d 批",
        round_code,
        run_key,
        len(report.done),
        summary.verified,
        summary.linked,
        len(report.lost),
    )
    return {"summary": asdict(summary), "batches": len(report.done), "lost": len(report.lost)}


@flow(name="shared-overdue-sweep")
def shared_sweep(
    run_key: str, as_of: date | None = None, lease_seconds: float = LEASE_SECONDS
) -> dict:
    """This run's share of the day's escalations; reminders stay with the daily sweep flow."""
    log = get_run_logger()
    actor = run_actor("shared-overdue-sweep")
    with run_app(as_of) as app:
        job = shared_runs.sweep_job(app.clock.today().isoformat(), run_key)
        with app.uow() as uow:
            shared_runs.plan_sweep(uow, job=job, batch_size=BATCH_SIZE)
        summary, report = shared_runs.sweep_worker(
            app, job=job, actor=actor, holder=_holder(), lease_seconds=lease_seconds
        )
    log.info("共享逾期巡查（%s）：本运行升级督办 %d 件", run_key, summary.escalated)
    return {"escalated": summary.escalated, "batches": len(report.done), "lost": len(report.lost)}
