"""The limits of the sweep and the recheck (``bench.national.rechecks``), on copies of the
database taken just before each stage: the product's batch function in-process, (a) the same
rows written set-based per 1,000-case batch, (b) the floor, the same statements once."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import create_engine, select

from bench.national import measure
from bench.national.plan import RECHECK_DAY, SWEEP_DAY
from bench.national.quarter import Quarter
from bench.national.rechecks import BATCH, _drop, _on_copy, drop_snapshots
from flows.common import task_groups
from services.cases import batch
from services.core.clock import SHANGHAI
from services.db.models import Case
from services.rounds import rechecks, sweeps
from states import Trigger

#: The limits write the event's hash-chain link precomputed: hashing is domain logic, storing
#: a 64-character value is not.
CHAIN_LINK = "0" * 64


def _figures(items: int, seconds: float, cpu: float, what: str) -> dict[str, Any]:
    return {
        "items": items,
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu, 3),
        "per_second": round(items / seconds, 1) if seconds else 0.0,
        "what": what,
    }


_UPDATE = (
    "UPDATE cases SET state = v.state, version = v.new_version, updated_at = v.at{extra} "
    "FROM unnest(%(id)s::int[], %(version)s::int[], %(new_version)s::int[], %(state)s::text[], "
    "%(at)s::timestamptz[]{extra_arrays}) AS v(id, version, new_version, state, at{extra_names}) "
    "WHERE cases.id = v.id AND cases.version = v.version"
)
_INSERT = (
    "INSERT INTO case_events (case_id, trigger, from_state, to_state, actor, actor_kind, at, "
    "note, data, hash) SELECT v.case_id, v.trigger, v.from_state, v.to_state, v.actor, "
    "v.actor_kind, v.at, NULL, v.data::json, v.hash FROM unnest(%(case_id)s::int[], "
    "%(trigger)s::text[], %(from_state)s::text[], %(to_state)s::text[], %(actor)s::text[], "
    "%(actor_kind)s::text[], %(at)s::timestamptz[], %(data)s::text[], %(hash)s::text[]) "
    "AS v(case_id, trigger, from_state, to_state, actor, actor_kind, at, data, hash)"
)
#: The sweep's escalation also raises the level and remembers the deadline it was for.
_ESCALATION = {
    "extra": ", escalation_level = v.level, escalated_for_deadline = v.for_deadline",
    "extra_arrays": ", %(level)s::int[], %(for_deadline)s::date[]",
    "extra_names": ", level, for_deadline",
}
_VERIFY = {"extra": "", "extra_arrays": "", "extra_names": ""}


def _arrays(rows: list, trigger: str, to_state: str, data: Callable, at: datetime) -> tuple:
    """The two statements' parameters for ``rows`` (id, version, state, level, deadline)."""
    n = len(rows)
    update = {
        "id": [r.id for r in rows],
        "version": [r.version for r in rows],
        "new_version": [r.version + 1 for r in rows],
        "state": [to_state] * n,
        "at": [at] * n,
        "level": [r.escalation_level + 1 for r in rows],
        "for_deadline": [r.deadline for r in rows],
    }
    events = {
        "case_id": update["id"],
        "trigger": [trigger] * n,
        "from_state": [r.state for r in rows],
        "to_state": [to_state] * n,
        "actor": ["bench-limit"] * n,
        "actor_kind": ["system"] * n,
        "at": update["at"],
        "data": [json.dumps(data(r)) for r in rows],
        "hash": [CHAIN_LINK] * n,
    }
    return update, events


def _set_based(q: Quarter, rows: list, *, size: int, kind: dict, **how) -> tuple[int, float, float]:
    """Write ``rows`` in chunks of ``size`` (a commit each): one UPDATE and one INSERT each."""
    at = datetime.now(SHANGHAI)
    chunks = [_arrays(rows[i : i + size], at=at, **how) for i in range(0, len(rows), size)]
    sql_update = _UPDATE.format(**kind)
    used = {"id", "version", "new_version", "state", "at"} | (
        {"level", "for_deadline"} if kind is _ESCALATION else set()
    )
    chunks = [({k: v for k, v in u.items() if k in used}, e) for u, e in chunks]
    engine = create_engine(q.database_url)

    def work() -> int:
        written = 0
        with engine.connect() as conn:
            for update, events in chunks:
                with conn.begin():
                    written += conn.exec_driver_sql(sql_update, update).rowcount
                    conn.exec_driver_sql(_INSERT, events)
        return written

    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1")  # connected before the clock
    try:
        written, seconds, cpu = measure.timed(work)
    finally:
        engine.dispose()
    return written, seconds, cpu


def _rows(q: Quarter, ids: list[int]) -> list:
    engine = create_engine(q.database_url)
    t = Case.__table__.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(t.id, t.version, t.state, t.escalation_level, t.deadline)
            .where(t.id.in_(ids))
            .order_by(t.id)
        ).all()
    engine.dispose()
    return rows


def _limits(
    q: Quarter, stage: str, ids_of: Callable, product: Callable, *, repeats: int, **how
) -> dict:
    """The product's batch function, (a) per batch and (b) the floor, each on its own fresh
    copy, alternated ``repeats`` times (the best of each kept: the machine is shared)."""
    day = RECHECK_DAY if stage == "recheck" else SWEEP_DAY

    def rows_of(copy: Quarter) -> list:
        app = copy.app(as_of=day)
        with app.uow() as uow:
            ids = ids_of(uow)
        app.close()
        rows = _rows(copy, ids)
        # The rows the product moves: a verified candidate of the round before stays verified.
        return [r for r in rows if stage != "recheck" or r.state != "verified"]

    def product_path(copy: Quarter) -> dict:
        app = copy.app(as_of=day)
        with app.uow() as uow:
            ids = ids_of(uow)
        app.close()
        moved, seconds, cpu = product(copy, ids)
        return _figures(moved, seconds, cpu, f"the product's {stage} batch function in-process")

    def limit(size: int | None, what: str) -> Callable[[Quarter], dict]:
        def run(copy: Quarter) -> dict:
            rows = rows_of(copy)
            written, seconds, cpu = _set_based(copy, rows, size=size or max(1, len(rows)), **how)
            return _figures(written, seconds, cpu, what)

        return run

    runs = {
        "product_batches": product_path,
        "per_batch": limit(BATCH, "UPDATE … FROM unnest + INSERT … SELECT FROM unnest per 1,000"),
        "floor": limit(None, "the same two statements once over the whole candidate set"),
    }
    variants: dict[str, dict] = {}
    for _ in range(repeats):
        for name, run in runs.items():
            figures = _on_copy(q, stage, run)
            if name not in variants or figures["seconds"] < variants[name]["seconds"]:
                variants[name] = figures
    rate = {name: max(v["per_second"], 1e-9) for name, v in variants.items()}
    return {
        **variants["per_batch"],
        "variants": variants,
        "repeats": repeats,
        "share_of_per_batch": round(rate["product_batches"] / rate["per_batch"], 3),
        "share_of_floor": round(rate["product_batches"] / rate["floor"], 3),
    }


def _recheck_batches(copy: Quarter, ids: list[int]) -> tuple[int, float, float]:
    app = copy.app(as_of=RECHECK_DAY)
    with app.uow() as uow:
        codes = rechecks.current_round_codes(uow)

    def work() -> int:
        verified = 0
        # As the flow's tasks do: the rounds read once per group of batches (task_groups).
        for group in task_groups(batch.id_ranges(ids, size=BATCH)):
            with app.uow() as uow:
                scope = rechecks.scope_of(uow, codes)
            for first, last in group:
                with app.uow() as uow:
                    part = rechecks.recheck_range(
                        uow,
                        round_code=codes,
                        first_id=first,
                        last_id=last,
                        provider=rechecks.all_fixed,
                        actor="bench-product",
                        scope=scope,
                    )
                verified += part.verified
        return verified

    try:
        return measure.timed(work)
    finally:
        app.close()


def _sweep_batches(copy: Quarter, ids: list[int]) -> tuple[int, float, float]:
    app = copy.app(as_of=SWEEP_DAY)

    def work() -> int:
        moved = 0
        for first, last in batch.id_ranges(ids, size=BATCH):
            with app.uow() as uow:
                result = sweeps.escalate_range(
                    uow, first_id=first, last_id=last, actor="bench-product"
                )
            moved += len(result.moved)
        return moved

    try:
        return measure.timed(work)
    finally:
        app.close()


def recheck_limit(q: Quarter, *, repeats: int = 2) -> dict:
    """The recheck's write path (every candidate proved fixed) against its set-based limits
    (then the snapshot is dropped)."""
    try:
        return _recheck_limits(q, repeats=repeats)
    finally:
        drop_snapshots(q)


def _recheck_limits(q: Quarter, *, repeats: int) -> dict:

    def ids_of(uow) -> list[int]:
        return rechecks.candidate_ids(uow, round_code=rechecks.current_round_codes(uow))

    return _limits(
        q,
        "recheck",
        ids_of,
        _recheck_batches,
        repeats=repeats,
        kind=_VERIFY,
        trigger=str(Trigger.VERIFY),
        to_state="verified",
        data=lambda r: {"recheck_round": "limit", "proven_fixed": True},
    )


def sweep_limit(q: Quarter, *, repeats: int = 2) -> dict:
    """The sweep's escalations against the same rows written set-based (then the snapshot is
    dropped)."""
    try:
        return _sweep_limits(q, repeats=repeats)
    finally:
        if url := q.facts.pop("sweep_snapshot", None):
            _drop(q, url)


def _sweep_limits(q: Quarter, *, repeats: int) -> dict:
    return _limits(
        q,
        "sweep",
        sweeps.overdue_ids,
        _sweep_batches,
        repeats=repeats,
        kind=_ESCALATION,
        trigger=str(Trigger.ESCALATE),
        to_state="escalated",
        data=lambda r: {"reason": "overdue", "as_of": SWEEP_DAY.isoformat(), "level": 1},
    )
