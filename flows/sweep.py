"""Flow: the daily overdue sweep — escalate overdue cases once, queue reminders."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote

from flows.common import BATCH_SIZE, run_actor, run_app, task_groups, transient
from flows.distributed import BatchTaskRunner, worker_app
from services.bootstrap import App
from services.cases import batch
from services.core import progress
from services.rounds import sweeps
from services.rounds.effects import last_event_id, run_effects

#: Escalations are database work only: minutes for a task of ten batches would mean something
#: is stuck.
BATCH_TIMEOUT_SECONDS = 600
RUN_TIMEOUT_SECONDS = 4 * 3600


@task(cache_policy=NO_CACHE, timeout_seconds=600)
def overdue_ranges(app: App) -> list[tuple[int, int]]:
    """Id ranges of the cases past their deadline and not yet escalated for it."""
    with app.uow() as uow:
        return batch.id_ranges(sweeps.overdue_ids(uow), size=BATCH_SIZE)


@task(
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=5,
    retry_condition_fn=transient,
    timeout_seconds=BATCH_TIMEOUT_SECONDS,
)
def escalate_batches(
    *, ranges: list[tuple[int, int]], actor: str, as_of: date | None = None
) -> dict:
    """Escalate a group of batches of overdue cases (a commit each) in whichever worker process
    runs it; escalations per unit."""
    summary = sweeps.SweepSummary(day="")
    app = worker_app(as_of)
    for first_id, last_id in ranges:
        with app.uow() as uow:
            result = sweeps.escalate_range(uow, first_id=first_id, last_id=last_id, actor=actor)
            sweeps.add_escalations(uow, summary, result)
    return summary.escalated_per_unit


@task(
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=5,
    retry_condition_fn=transient,
    timeout_seconds=BATCH_TIMEOUT_SECONDS,
)
def queue_reminders(app: App) -> dict:
    """Queue today's reminder digests, one per unit."""
    with app.uow() as uow:
        return sweeps.queue_reminders(uow)


@flow(name="overdue-sweep", task_runner=BatchTaskRunner(), timeout_seconds=RUN_TIMEOUT_SECONDS)
def overdue_sweep(as_of: date | None = None) -> dict:
    """Escalate overdue cases once per deadline and remind units of coming deadlines."""
    log = get_run_logger()
    actor = run_actor("overdue-sweep")
    with run_app(as_of) as app:
        summary = sweeps.SweepSummary(day=app.clock.today().isoformat())
        ranges = overdue_ranges(quote(app))
        with app.uow() as uow:
            before = last_event_id(uow)
        groups = task_groups(ranges)
        futures = [
            escalate_batches.submit(ranges=group, actor=actor, as_of=as_of) for group in groups
        ]
        done = 0
        for group, future in zip(groups, futures, strict=True):
            future.result()
            done += len(group)
            progress.report(done, len(ranges))
        # From the events, not the batches' results: a batch run twice (its worker died after
        # the commit) escalates nothing the second time and says 0.
        with app.uow() as uow:
            effects = run_effects(uow, actor=actor, after_event_id=before)
        summary.escalated = effects.count("escalate")
        summary.escalated_per_unit = {
            unit: n["escalate"] for unit, n in effects.per_unit.items() if n.get("escalate")
        }
        counts = queue_reminders(quote(app))
    summary.units_reminded = counts.pop("units")
    summary.reminders = counts
    log.info(
        "%s 逾期巡查：升级督办 %d 件（%s），向 %d 个单位发送提醒",
        summary.day,
        summary.escalated,
        "、".join(f"{u} {n}" for u, n in sorted(summary.escalated_per_unit.items())) or "无",
        summary.units_reminded,
    )
    return asdict(summary)
