"""Flow: publish a round — notify every found case, set deadlines, one email per unit."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.utilities.annotations import quote

from flows.common import BATCH_SIZE, in_waves, run_actor, run_app, transient
from flows.distributed import BatchTaskRunner, worker_app
from services.bootstrap import App
from services.cases import batch
from services.core import progress
from services.rounds import publication

#: The tasks the flow runs itself (in its main thread, where Prefect's timeout interrupts).
#: The batches run in the task runner's threads, where a Prefect timeout cannot interrupt a
#: blocking call (it warns on every run and fails only after the call returned): they have none,
#: the flow's timeout bounds them.
TASK_TIMEOUT_SECONDS = 600
#: A whole round, a province's at 1,000,000 cases included, is far inside this.
FLOW_TIMEOUT_SECONDS = 4 * 3600


@task(cache_policy=NO_CACHE, timeout_seconds=TASK_TIMEOUT_SECONDS)
def found_ranges(app: App, round_code: str) -> list[tuple[int, int]]:
    """Id ranges of the round's cases still waiting to be notified."""
    with app.uow() as uow:
        ids = publication.found_case_ids(uow, round_code=round_code)
    return batch.id_ranges(ids, size=BATCH_SIZE)


@task(
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=5,
    retry_condition_fn=transient,
)
def notify_batch(app: App, *, first_id: int, last_id: int, round_code: str, actor: str) -> int:
    """Notify one batch of found cases (one commit); how many were notified."""
    with app.uow() as uow:
        result = publication.notify_range(
            uow, round_code=round_code, first_id=first_id, last_id=last_id, actor=actor
        )
    return len(result.moved)


@task(
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=5,
    retry_condition_fn=transient,
    timeout_seconds=TASK_TIMEOUT_SECONDS,
)
def finish(app: App, round_code: str, notified: int) -> dict:
    """Queue one notice email per unit and mark the round published."""
    summary = publication.PublicationSummary(round_code=round_code, notified=notified)
    with app.uow() as uow:
        return asdict(publication.finish(uow, round_code=round_code, summary=summary))


@flow(
    name="publish-round",
    task_runner=ThreadPoolTaskRunner(max_workers=4),
    timeout_seconds=FLOW_TIMEOUT_SECONDS,
)
def publish_round(round_code: str, as_of: date | None = None) -> dict:
    """Publish a round: notify its found cases in batches, then one email per unit."""
    log = get_run_logger()
    actor = run_actor("publish-round")
    with run_app(as_of) as app:
        ranges = found_ranges(quote(app), round_code)
        log.info("%s：待通知案件共 %d 批", round_code, len(ranges))
        notified = 0
        for number, count in in_waves(
            notify_batch, ranges, app=app, round_code=round_code, actor=actor
        ):
            notified += count
            log.info("第 %d/%d 批：已通知 %d 件", number, len(ranges), count)
        summary = finish(quote(app), round_code, notified)
    log.info(
        "%s 已发布：通知 %d 件，%d 个单位各发一封通知邮件",
        round_code,
        summary["notified"],
        summary["units_mailed"],
    )
    return summary


#: Rounds one task publishes, one commit each: a county's round is a few dozen cases, so a task
#: per round would spend more on Prefect's bookkeeping than on the publication.
ROUNDS_PER_TASK = 50


@task(
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=5,
    retry_condition_fn=transient,
    timeout_seconds=TASK_TIMEOUT_SECONDS,
)
def publish_group(round_codes: list[str], actor: str, as_of: date | None = None) -> list[dict]:
    """Publish each round of the group in turn (each its own commits), in whichever batch
    worker runs it, with that process's App; a rerun is harmless."""
    app = worker_app(as_of)
    summaries = []
    for code in round_codes:
        with app.uow() as uow:
            summary = publication.publish_round(uow, round_code=code, actor=actor)
        summaries.append(asdict(summary))
    return summaries


@flow(name="publish-rounds", task_runner=BatchTaskRunner(), timeout_seconds=FLOW_TIMEOUT_SECONDS)
def publish_rounds(round_codes: list[str], as_of: date | None = None) -> dict:
    """Publish many rounds in one run (every county office's round of a quarter): each round
    as ``publish-round`` would, ``ROUNDS_PER_TASK`` rounds per task, the tasks on the batch
    workers (``flows/distributed.py``: every core, or every machine given)."""
    log = get_run_logger()
    actor = run_actor("publish-rounds")
    groups = [
        round_codes[i : i + ROUNDS_PER_TASK] for i in range(0, len(round_codes), ROUNDS_PER_TASK)
    ]
    totals = {"rounds": 0, "notified": 0, "units_mailed": 0, "refused": 0}
    progress.report(0, len(round_codes))
    futures = [publish_group.submit(group, actor, as_of) for group in groups]
    for future in futures:
        for summary in future.result():
            totals["rounds"] += 1
            totals["notified"] += summary["notified"]
            totals["units_mailed"] += summary["units_mailed"]
            totals["refused"] += len(summary["refused"])
        progress.report(totals["rounds"], len(round_codes))
        log.info("已发布 %d/%d 个检查轮次", totals["rounds"], len(round_codes))
    log.info(
        "%d 个检查轮次已发布：通知 %d 件，%d 封单位通知邮件",
        totals["rounds"],
        totals["notified"],
        totals["units_mailed"],
    )
    return totals
