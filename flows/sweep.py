"""Flow: the daily overdue sweep — escalate overdue cases once, queue reminders."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.utilities.annotations import quote

from flows.common import BATCH_SIZE, in_waves, run_actor, run_app, transient
from services.bootstrap import App
from services.cases import batch
from services.rounds import sweeps


@task(cache_policy=NO_CACHE)
def overdue_ranges(app: App) -> list[tuple[int, int]]:
    """Id ranges of the cases past their deadline and not yet escalated for it."""
    with app.uow() as uow:
        return batch.id_ranges(sweeps.overdue_ids(uow), size=BATCH_SIZE)


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=5, retry_condition_fn=transient)
def escalate_batch(app: App, *, first_id: int, last_id: int, actor: str) -> dict:
    """Escalate one batch of overdue cases (one commit); escalations per unit."""
    summary = sweeps.SweepSummary(day="")
    with app.uow() as uow:
        result = sweeps.escalate_range(uow, first_id=first_id, last_id=last_id, actor=actor)
        sweeps.add_escalations(uow, summary, result)
    return summary.escalated_per_unit


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=5, retry_condition_fn=transient)
def queue_reminders(app: App) -> dict:
    """Queue today's reminder digests, one per unit."""
    with app.uow() as uow:
        return sweeps.queue_reminders(uow)


@flow(name="overdue-sweep", task_runner=ThreadPoolTaskRunner(max_workers=4))
async def overdue_sweep(as_of: date | None = None) -> dict:
    """Escalate overdue cases once per deadline and remind units of coming deadlines."""
    log = get_run_logger()
    actor = run_actor("overdue-sweep")
    with run_app(as_of) as app:
        summary = sweeps.SweepSummary(day=app.clock.today().isoformat())
        ranges = overdue_ranges(quote(app))
        for _number, per_unit in in_waves(escalate_batch, ranges, app=app, actor=actor):
            for unit, count in per_unit.items():
                summary.escalated_per_unit[unit] = summary.escalated_per_unit.get(unit, 0) + count
                summary.escalated += count
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
