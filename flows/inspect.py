"""Flow: the quarterly inspection — every website and column of a round checked, findings filed.

On demand (no schedule): a supervisor runs it when a quarter's inspection starts
(``rectify inspect ROUND``). The work is cut into chunks of whole sites
(``check_inspection_batch`` check requests each); a chunk is one task: one run of the checks,
one commit, retried on a transient failure (a rerun files nothing twice). The chunks run on
the batch workers (``flows/distributed.py``: Dask worker processes, as the recheck's batches;
on SQLite one, in the flow's process), so an inspection uses every core or machine given. ``round_codes``
inspects many rounds in one run (e.g. every county office's round of a quarter): their sites
share chunks, so a small round costs no flow run of its own.
"""

from __future__ import annotations

from datetime import date

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote

from flows.common import run_actor, run_app, transient
from flows.distributed import BatchTaskRunner, worker_app
from services.bootstrap import App
from services.core import progress
from services.rounds import inspection

TASK_TIMEOUT_SECONDS = 1800
#: 434,000 pages (a national quarter) at the checks' pace fit well inside.
FLOW_TIMEOUT_SECONDS = 8 * 3600


@task(cache_policy=NO_CACHE, timeout_seconds=TASK_TIMEOUT_SECONDS)
def plan_chunks(app: App, round_codes: list[str]) -> list[inspection.Chunk]:
    """The rounds' targets, in chunks of whole sites."""
    with app.uow() as uow:
        return inspection.plan(uow, round_codes, max_requests=uow.settings.check_inspection_batch)


@task(
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=5,
    retry_condition_fn=transient,
    timeout_seconds=TASK_TIMEOUT_SECONDS,
)
def inspect_chunk(chunk: inspection.Chunk, actor: str, as_of: date | None = None) -> dict:
    """Check one chunk, file its findings and verdicts (one commit), in whichever worker
    process runs it, with that process's App; what it did."""
    app = worker_app(as_of)
    with app.uow() as uow:
        return inspection.inspect_chunk(uow, chunk, actor=actor).as_dict()


@task(cache_policy=NO_CACHE, timeout_seconds=TASK_TIMEOUT_SECONDS)
def refresh_statistics(app: App) -> None:
    """The planner's statistics of what the inspection filed, read again (PostgreSQL)."""
    with app.uow() as uow:
        inspection.refresh_statistics(uow)


@flow(
    name="quarterly-inspection", task_runner=BatchTaskRunner(), timeout_seconds=FLOW_TIMEOUT_SECONDS
)
def quarterly_inspection(
    round_code: str | None = None,
    as_of: date | None = None,
    round_codes: list[str] | None = None,
) -> dict:
    """Inspect a round (or several): run the checks over its targets, file what they find."""
    log = get_run_logger()
    codes = [*([round_code] if round_code else []), *(round_codes or [])]
    if not codes:
        raise ValueError("quarterly-inspection needs round_code or round_codes")
    actor = run_actor("quarterly-inspection")
    total = inspection.Tally(rounds=len(dict.fromkeys(codes)))
    with run_app(as_of) as app:
        chunks = plan_chunks(quote(app), codes)
    log.info("检查轮次 %s 等 %d 个：共 %d 批", codes[0], total.rounds, len(chunks))
    progress.report(0, len(chunks))
    futures = [inspect_chunk.submit(chunk=chunk, actor=actor, as_of=as_of) for chunk in chunks]
    for number, future in enumerate(futures, start=1):
        done = inspection.Tally.of(future.result())
        total.add(done)
        progress.report(number, len(chunks))
        log.info(
            "第 %d/%d 批：检查 %d 个页面，发现问题 %d 个，无法判断 %d 项",
            number,
            len(chunks),
            done.pages,
            done.findings,
            done.unknown,
        )
    with run_app(as_of) as app:
        refresh_statistics(quote(app))
    summary = total.as_dict() | {"round_codes": list(dict.fromkeys(codes)), "chunks": len(chunks)}
    log.info(
        "检查完成：页面 %d 个，立案 %d 件（更新 %d 件），无法判断 %d 项",
        total.pages,
        total.created,
        total.updated,
        total.unknown,
    )
    return summary
