"""The quarter's last two stages: the overdue sweep and the recheck, through the product flows;
and their same-run limits, on copies of the database taken just before each stage.

* ``sweep(q)``: ``flows.sweep.overdue_sweep`` at SWEEP_DAY (batches on Dask worker processes:
  ``RECTIFY_BATCH_WORKERS``, a local cluster per flow run, as a deployment without a
  scheduler runs it);
* ``recheck(q)``: the fixtures switched to the recheck (most problems fixed), then
  ``flows.recheck.quarterly_recheck(every_office=True, outcomes="checks")`` at RECHECK_DAY:
  every office's round of the quarter in one flow run, batches cut across the rounds;
* ``snapshot(q, stage)`` (the orchestrator calls it before the stage, outside its meter) keeps
  a ``CREATE DATABASE … TEMPLATE`` copy; ``sweep_limits(q)`` / ``recheck_limits(q)`` (after the
  stage) measure on copies of it: the product's batch function in-process (the recheck with
  every candidate proved fixed: the write path without the checks), (a) the same rows written
  by one ``UPDATE … FROM unnest`` and one ``INSERT … SELECT FROM unnest`` per 1,000-case batch
  from arrays precomputed before the clock, (b) the floor: the same two statements once over
  the whole candidate set.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import tempfile
import uuid
from collections.abc import Callable

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from bench.national import measure
from bench.national.plan import RECHECK_DAY, SWEEP_DAY
from bench.national.quarter import Done, Quarter
from services.db.models import Case, CaseEvent, CheckResult, OutboxMessage, Target
from services.rounds import rechecks
from services.rounds.effects import last_event_id

BATCH = 1_000
WORKERS = "2"  # Dask worker processes per flow run: the machine's cores
_COLUMN = re.compile(r"^w(\d+)-c(\d+)$")
_SITE = re.compile(r"^w(\d+)$")


# -- the stages ------------------------------------------------------------------------------
def _count(q: Quarter, query) -> int:
    engine = create_engine(q.database_url)
    try:
        with engine.connect() as conn:
            return int(conn.scalar(query) or 0)
    finally:
        engine.dispose()


def _events_after(q: Quarter, before: int, trigger: str) -> int:
    query = select(func.count()).where(CaseEvent.id > before, CaseEvent.trigger == trigger)
    return _count(q, query)


def sweep(q: Quarter) -> Done:
    """The overdue sweep at SWEEP_DAY through the ``overdue-sweep`` flow."""
    from flows.sweep import overdue_sweep

    taken = _snapshot_in_stage(q, "sweep")
    before = _count(q, select(func.coalesce(func.max(CaseEvent.id), 0)))
    outbox = _count(q, select(func.count()).select_from(OutboxMessage))
    with q.flow_env(RECTIFY_BATCH_WORKERS=os.environ.get("RECTIFY_BATCH_WORKERS", WORKERS)):
        summary = overdue_sweep(as_of=SWEEP_DAY)
    events = _events_after(q, before, "escalate")
    queued = _count(q, select(func.count()).select_from(OutboxMessage)) - outbox
    return Done(
        summary["escalated"],
        "cases escalated",
        {
            "escalate_events": events,
            "counts_equal_events": events == summary["escalated"],
            "reminders": summary["reminders"],
            "units_reminded": summary["units_reminded"],
            "emails_queued": queued,
            **taken,
        },
    )


def _planted(q: Quarter, case_ids: list[int]) -> dict[str, int]:
    """Of these candidates, how many the plan says are fixed at the recheck (website problems;
    new-media findings have no automated check)."""
    engine = create_engine(q.database_url)
    with engine.connect() as conn:
        codes = conn.execute(
            select(Case.id, Target.code)
            .join(Target, Target.id == Case.target_id)
            .where(Case.id.in_(case_ids))
        ).all()
    engine.dispose()
    out = {"fixed": 0, "still_present": 0, "not_planned": 0}
    for _case_id, code in codes:
        page, site = _COLUMN.match(code), _SITE.match(code)
        key = (int(page[1]), int(page[2])) if page else (int(site[1]),) if site else None
        if key is None:
            out["not_planned"] += 1
        else:
            out["still_present" if q.plan.still_present(*key) else "fixed"] += 1
    return out


UNKNOWN_EXAMPLES = 10


def _unknown_pages(q: Quarter, case_ids: list[int]) -> list[str]:
    """Website and column candidates whose latest check result says it cannot tell: target,
    check and the result's summary."""
    engine = create_engine(q.database_url)
    latest = (
        select(func.max(CheckResult.id))
        .where(CheckResult.case_id.in_(case_ids))
        .group_by(CheckResult.case_id)
    )
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(Target.code, CheckResult.check, CheckResult.summary)
                .join(Target, Target.id == CheckResult.target_id)
                .where(CheckResult.id.in_(latest), CheckResult.outcome == "unknown")
                .where(Target.kind.in_(("website", "column")))
                .order_by(Target.code)
            ).all()
    finally:
        engine.dispose()
    return [f"{code}（{check}）：{summary}" for code, check, summary in rows]


def recheck(q: Quarter, *, outcomes: str = "checks") -> Done:
    """Fixtures fixed for most problems, then every office's round rechecked in one flow run."""
    from flows.recheck import quarterly_recheck

    q.fixtures.phase(RECHECK_DAY, recheck=True)
    taken = _snapshot_in_stage(q, "recheck")
    app = q.app(as_of=RECHECK_DAY)
    with app.uow() as uow:
        codes = rechecks.current_round_codes(uow)
        candidates = rechecks.candidate_ids(uow, round_code=codes)
        before = last_event_id(uow)
    app.close()
    planted = _planted(q, candidates)
    with q.flow_env(RECTIFY_BATCH_WORKERS=os.environ.get("RECTIFY_BATCH_WORKERS", WORKERS)):
        summary = quarterly_recheck(as_of=RECHECK_DAY, outcomes=outcomes, every_office=True)
    verify_events = _events_after(q, before, "verify")
    done = summary["outcomes"]
    cannot_tell = _unknown_pages(q, candidates)
    return Done(
        sum(done.values()),
        "cases rechecked",
        {
            "rounds": len(codes),
            "candidates": len(candidates),
            "verified": summary["verified"],
            "still_present": done["present"],
            "unknown": done["unknown"],
            "linked": summary["linked"],
            "escalated": summary["escalated"],
            "verify_events": verify_events,
            "counts_equal_events": verify_events == summary["verified"],
            "planted": planted,
            "verified_equals_planted_fixed": summary["verified"] == planted["fixed"],
            # Website and column cases the recheck could not tell (the first few, and why).
            "unknown_pages": len(cannot_tell),
            "unknown_page_examples": cannot_tell[:UNKNOWN_EXAMPLES],
            **taken,
        },
    )


# -- database copies -------------------------------------------------------------------------
def _admin(q: Quarter):
    url = make_url(q.database_url).set(database="postgres")
    return create_engine(url.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")


def _copy(q: Quarter, source: str) -> str:
    """A new database from ``source`` (a database name) as template; its URL."""
    name = f"{source[:40]}_{uuid.uuid4().hex[:6]}"
    admin = _admin(q)
    try:
        with admin.connect() as conn:
            for _attempt in range(3):
                try:
                    conn.execute(
                        text(f'CREATE DATABASE "{name}" TEMPLATE "{source}" STRATEGY FILE_COPY')
                    )
                    break
                except Exception:  # the template in use: this run's own idle connections
                    conn.execute(
                        text(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE datname = :db AND pid <> pg_backend_pid()"
                        ),
                        {"db": source},
                    )
            else:
                raise RuntimeError(f"could not copy {source}")
    finally:
        admin.dispose()
    return make_url(q.database_url).set(database=name).render_as_string(hide_password=False)


def _drop(q: Quarter, url: str) -> None:
    admin = _admin(q)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def snapshot(q: Quarter, stage: str) -> float:
    """Keep the database as it is before ``stage`` (sweep or recheck) for its limits; the
    seconds the copy took. Called before the stage's meter; else the stage takes it itself
    and says how long in its details (``snapshot_seconds``)."""
    _, seconds, _ = measure.timed(_keep, q, stage)
    return seconds


#: ``BENCH_KEEP_SNAPSHOTS=1`` keeps the stages' snapshots after the run (their names are
#: printed) for profiling a stage's batches on the full-size data; drop them by hand after.
KEEP_SNAPSHOTS = os.environ.get("BENCH_KEEP_SNAPSHOTS") == "1"


def _keep(q: Quarter, stage: str) -> None:
    if old := q.facts.pop(f"{stage}_snapshot", None):
        _drop(q, old)
    url = q.facts[f"{stage}_snapshot"] = _copy(q, make_url(q.database_url).database)
    if not KEEP_SNAPSHOTS:
        atexit.register(_drop, q, url)  # a run stopped before its limit leaves no copy behind


def _snapshot_in_stage(q: Quarter, stage: str) -> dict[str, float]:
    """The snapshot taken inside the stage when the orchestrator took none before it (none
    when ``q.facts["limits"]`` is False: no limit will be measured)."""
    if q.facts.get(f"{stage}_snapshot") or q.facts.get("limits", True) is False:
        return {}
    return {"snapshot_seconds": round(snapshot(q, stage), 2)}


def drop_snapshots(q: Quarter) -> None:
    for stage in ("sweep", "recheck"):
        if url := q.facts.pop(f"{stage}_snapshot", None):
            if KEEP_SNAPSHOTS:
                print(f"-- kept the {stage} snapshot: {make_url(url).database}", flush=True)
            else:
                _drop(q, url)


def _on_copy(q: Quarter, stage: str, work: Callable[[Quarter], dict]) -> dict:
    """``work`` on a fresh copy of the stage's snapshot (a Quarter pointing at the copy)."""
    url = _copy(q, make_url(q.facts[f"{stage}_snapshot"]).database)
    try:
        copy = Quarter(q.plan, q.workdir, url, q.fixtures, dict(q.env), q.facts)
        copy.env["RECTIFY_DATABASE_URL"] = url
        return work(copy)
    finally:
        _drop(q, url)


# -- the limits (``bench.national.recheck_limits``) ------------------------------------------
def sweep_limit(q: Quarter, *, repeats: int = 2) -> dict:
    """The sweep's escalation writes against the same rows written set-based."""
    from bench.national import recheck_limits

    return recheck_limits.sweep_limit(q, repeats=repeats)


def recheck_limit(q: Quarter, *, repeats: int = 2) -> dict:
    """The recheck's write path (all proved fixed) against the same rows written set-based."""
    from bench.national import recheck_limits

    return recheck_limits.recheck_limit(q, repeats=repeats)


# -- a development run on generated cases (before the registry, inspection, publishing stages)
def _generated(q: Quarter, cases: int) -> None:
    from bench.generate import generate
    from services.registry.catalogue import ensure_seeded

    app = q.app()
    with app.uow() as uow:
        ensure_seeded(uow)
        uow.commit()
    generate(app.engine, units=max(50, cases // 500), cases=cases, seed=1)
    app.close()


def main() -> None:
    import argparse
    from pathlib import Path

    from bench.national.quarter import open_quarter

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--outcomes", default="all-fixed")
    parser.add_argument("--limits-only", action="store_true", help="skip the flows")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    with open_quarter(0.001, Path(tempfile.mkdtemp(prefix="national-rechecks-"))) as q:
        _generated(q, args.cases)
        try:
            for stage, run, limits in (
                ("sweep", sweep, sweep_limit),
                ("recheck", lambda q: recheck(q, outcomes=args.outcomes), recheck_limit),
            ):
                snapshot(q, stage)
                if not args.limits_only:
                    with measure.Meter(stage, excluded=q.excluded_pids) as meter:
                        done = run(q)
                    figures = meter.figures
                    figures.items, figures.unit = done.items, done.unit
                    figures.details = done.details
                    print(json.dumps({stage: figures.as_dict()}, ensure_ascii=False, default=str))
                found = limits(q, repeats=args.repeats)
                print(json.dumps({f"{stage}_limits": found}, ensure_ascii=False))
        finally:
            drop_snapshots(q)


if __name__ == "__main__":
    main()
