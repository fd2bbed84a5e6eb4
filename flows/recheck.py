"""Flow: the quarterly recheck — outcomes per batch, verify, link repeats, escalate, report."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run
from prefect.utilities.annotations import quote

from flows.common import BATCH_SIZE, run_actor, run_app, task_groups, transient
from flows.distributed import BatchTaskRunner, worker_app
from services.bootstrap import App
from services.cases import batch
from services.core import progress
from services.rounds import rechecks
from services.rounds.effects import RunEffects, last_event_id, run_effects
from services.rounds.outcomes import provider_named
from services.rounds.rechecks import current_round_code, current_round_codes

OUTCOME_LABELS = {"fixed": "已整改", "present": "仍存在", "unknown": "无法自动判断"}


@task(cache_policy=NO_CACHE, timeout_seconds=600)
def candidate_ranges(app: App, round_code: str | list[str]) -> list[tuple[int, int]]:
    """Id ranges of the cases this recheck looks at."""
    with app.uow() as uow:
        ids = rechecks.candidate_ids(uow, round_code=round_code)
    return batch.id_ranges(ids, size=BATCH_SIZE)


#: A batch's automated checks may sample a site's reachability for minutes
#: (``check_reach_window_seconds``): a task of up to ten batches gets hours; the whole run,
#: over a million cases, a day.
GROUP_TIMEOUT_SECONDS = 6 * 3600
RUN_TIMEOUT_SECONDS = 24 * 3600


@task(
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=30,
    retry_condition_fn=transient,
    timeout_seconds=GROUP_TIMEOUT_SECONDS,
)
def recheck_batches(
    *,
    ranges: list[tuple[int, int]],
    round_code: str | list[str],
    outcomes: str,
    actor: str,
    as_of: date | None = None,
) -> rechecks.RecheckSummary:
    """Recheck a group of batches (checks over the network), each acted on in its own commit;
    in whichever worker process runs it, with that process's App."""
    provider = provider_named(outcomes, run_ref=str(flow_run.get_id() or actor))
    app = worker_app(as_of)
    summary = rechecks.RecheckSummary(round_code="")
    with app.uow() as uow:
        scope = rechecks.scope_of(uow, round_code)  # the group's batches share its rounds
    for first_id, last_id in ranges:
        with app.uow() as uow:
            summary.merge(
                rechecks.recheck_range(
                    uow,
                    round_code=round_code,
                    first_id=first_id,
                    last_id=last_id,
                    provider=provider,
                    actor=actor,
                    scope=scope,
                )
            )
    return summary


def summary_markdown(summary: rechecks.RecheckSummary) -> str:
    """The run's summary as a Markdown artifact a supervisor reads in the Prefect UI."""
    lines = [
        f"# {summary.round_code} 季度复查结果",
        "",
        "| 结果 | 案件数 |",
        "| --- | --- |",
        *(f"| {OUTCOME_LABELS[k]} | {v} |" for k, v in summary.outcomes.items()),
        "",
        f"- 复查证明已整改并核验：{summary.verified} 件",
        f"- 仍存在、在本轮重新立案：{summary.linked} 件",
        f"- 屡查屡犯、立即升级督办：{summary.escalated} 件",
        f"- 待督查人员人工核实：{len(summary.needs_supervisor)} 件"
        + (
            f"（案件 {'、'.join(map(str, summary.needs_supervisor[:50]))}）"
            if summary.needs_supervisor
            else ""
        ),
        "",
        "## 各单位",
        "",
        "| 单位 | 已整改 | 仍存在 | 无法自动判断 | 升级督办 |",
        "| --- | --- | --- | --- | --- |",
    ]
    for unit, counts in sorted(summary.per_unit.items()):
        cells = [str(counts.get(k, 0)) for k in ("fixed", "present", "unknown", "escalated")]
        lines.append(f"| {unit} | {' | '.join(cells)} |")
    return "\n".join(lines) + "\n"


def _count_from_events(summary: rechecks.RecheckSummary, effects: RunEffects) -> None:
    """The run's verified, linked and escalated cases as its events record them: exact even
    when a batch ran twice because its worker died after the commit (the rerun says 0)."""
    summary.verified = effects.count("verify")
    summary.linked = effects.count("created")
    summary.escalated = effects.count("escalate")
    for counts in summary.per_unit.values():
        counts.pop("escalated", None)
    for unit, triggers in effects.per_unit.items():
        if triggers.get("escalate"):
            summary.per_unit.setdefault(unit, {})["escalated"] = triggers["escalate"]


@flow(name="quarterly-recheck", task_runner=BatchTaskRunner(), timeout_seconds=RUN_TIMEOUT_SECONDS)
def quarterly_recheck(
    round_code: str | None = None,
    as_of: date | None = None,
    outcomes: str = "checks",
    every_office: bool = False,
) -> dict:
    """Recheck open and lately verified cases in batches; report per outcome and per unit.

    ``every_office``: every issuing office's round of the current period in this one run
    (batches cut across the rounds), instead of one round."""
    log = get_run_logger()
    actor = run_actor("quarterly-recheck")
    with run_app(as_of) as app:
        if every_office:
            with app.uow() as uow:
                round_code = current_round_codes(uow)
        elif round_code is None:
            with app.uow() as uow:
                round_code = current_round_code(uow)
        ranges = candidate_ranges(quote(app), round_code)
        with app.uow() as uow:
            before = last_event_id(uow)
    groups = task_groups(ranges)
    label = rechecks.round_label(round_code)
    log.info(
        "%s 季度复查：共 %d 批（每批至多 %d 件），分 %d 组交给工作进程",
        label,
        len(ranges),
        BATCH_SIZE,
        len(groups),
    )
    summary = rechecks.RecheckSummary(round_code=label)
    futures = [
        recheck_batches.submit(
            ranges=group, round_code=round_code, outcomes=outcomes, actor=actor, as_of=as_of
        )
        for group in groups
    ]
    done = 0
    for number, (group, future) in enumerate(zip(groups, futures, strict=True), 1):
        part = future.result()
        summary.merge(part)
        summary.round_code = label
        done += len(group)
        progress.report(done, len(ranges))
        log.info(
            "第 %d/%d 组：已整改 %d，仍存在 %d，无法自动判断 %d；重新立案 %d，升级督办 %d",
            number,
            len(groups),
            part.outcomes["fixed"],
            part.outcomes["present"],
            part.outcomes["unknown"],
            part.linked,
            part.escalated,
        )
    with run_app(as_of) as app, app.uow() as uow:
        _count_from_events(summary, run_effects(uow, actor=actor, after_event_id=before))
    create_markdown_artifact(
        key="quarterly-recheck-summary",
        markdown=summary_markdown(summary),
        description=f"{label} 季度复查结果",
    )
    if summary.needs_supervisor:
        log.warning("%d 件无法自动判断，请督查人员人工核实", len(summary.needs_supervisor))
    return asdict(summary)
