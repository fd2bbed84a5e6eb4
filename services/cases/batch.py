"""Transitions for many cases at once: Core loads, one versioned executemany, no ORM per row.

The same per-trigger effects as ``services.cases.transition`` (``services.effects``), the
same machine (``states.fire``) and the same emails (``services.mail.case_mail``), written
with a handful of statements per batch: ``services.cases.store.write`` stores the events,
then this module hands them to the mail seam, so storage never decides who gets email.
The caller commits: one commit per batch. A row whose version moved under us makes the
whole batch roll back with ``ConcurrencyConflict``; ``retrying`` runs the batch again from
a fresh read, so no case is moved twice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, TypeVar

from sqlalchemy.exc import DBAPIError

from services.cases import effects, transitions
from services.cases.store import FIELDS, CoreSink, Row, load_rows, with_places, write
from services.core.errors import ConcurrencyConflict, ValidationFailed
from services.core.uow import UnitOfWork
from services.db import counts
from services.mail import case_mail
from states import InvalidTransition, Trigger, fire, refusal

T = TypeVar("T")
#: The triggers whose effects read the case's round and category (``effects._notify``).
_PLACED = frozenset({Trigger.NOTIFY})
_fields = attrgetter(*FIELDS)  # a row's FIELDS as a tuple


@dataclass(frozen=True)
class Move:
    """One trigger to fire on one case."""

    case_id: int
    trigger: str
    proven_fixed: bool = False
    note: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Moved:
    case_id: int
    trigger: str
    from_state: str
    to_state: str
    unit_id: int


@dataclass
class BatchResult:
    moved: list[Moved] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)  # (case id, reason)


def transition_many(
    uow: UnitOfWork,
    moves: list[Move],
    *,
    actor: str,
    actor_kind: str = "system",
    known: dict[int, Row] | None = None,
) -> BatchResult:
    """Fire each move on its case; refused moves are reported, not raised. Does not commit.

    ``known`` rows, read in this transaction, spare reading them again; the versioned
    UPDATE still refuses a row someone changed since.
    """
    if actor_kind not in transitions.ACTOR_KINDS or not actor.strip():
        raise ValidationFailed([f"操作人无效：{actor}（{actor_kind}）"])
    actor = actor.strip()
    uow.flush()
    rows = dict(known or {})
    rows |= load_rows(uow, {m.case_id for m in moves} - set(rows))
    with_places(uow, (rows[m.case_id] for m in moves if m.trigger in _PLACED and m.case_id in rows))
    moment = effects.Moment(now=uow.clock.now(), today=uow.clock.today(), settings=uow.settings)
    sink = CoreSink(uow, list(rows))
    result, events = BatchResult(), []
    updates: dict[tuple[int, tuple[str, ...]], list[dict[str, Any]]] = {}
    waves: dict[int, int] = {}
    deltas: Counter = Counter()
    for move in moves:
        row = rows.get(move.case_id)
        if row is None:
            result.refused.append((move.case_id, f"案件 {move.case_id} 不存在"))
            continue
        refused = refusal(trigger=move.trigger, note=move.note)
        if refused:
            result.refused.append((row.id, refused))
            continue
        try:
            to_state = fire(row.state, move.trigger, case_id=row.id, proven_fixed=move.proven_fixed)
        except InvalidTransition as exc:
            result.refused.append((row.id, str(exc)))
            continue
        from_state, level = row.state, row.escalation_level
        before = _fields(row)
        data = effects.apply(
            row,
            trigger=str(move.trigger),
            actor=actor,
            note=move.note,
            data=move.data,
            proven_fixed=move.proven_fixed,
            moment=moment,
            sink=sink,
        )
        row.state = str(to_state)
        _count_move(deltas, row, from_state, level)
        after = _fields(row)
        changed = tuple(n for n, old, new in zip(FIELDS, before, after, strict=True) if old != new)
        params = {n: new for n, old, new in zip(FIELDS, before, after, strict=True) if old != new}
        params |= {"id": row.id, "version": row.version, "new_version": row.version + 1}
        params["updated_at"] = moment.now
        wave = waves[row.id] = waves.get(row.id, -1) + 1  # its second move, written after
        updates.setdefault((wave, (*changed, "updated_at")), []).append(params)
        row.version += 1
        events.append(
            {
                "case_id": row.id,
                "trigger": str(move.trigger),
                "from_state": from_state,
                "to_state": row.state,
                "actor": actor,
                "actor_kind": actor_kind,
                "at": moment.now,
                "note": move.note,
                "data": data,
            }
        )
        result.moved.append(Moved(row.id, str(move.trigger), from_state, row.state, row.unit_id))
    if updates:
        _write_and_mail(uow, updates=updates, events=events, sink=sink)
        counts.apply(uow.session, deltas)
    return result


def _count_move(deltas: Counter, row: Row, from_state: str, level: int) -> None:
    """The row left (from_state, level) for its current ones: ``counts.key`` tuples, inline."""
    if from_state != row.state or bool(level) != bool(row.escalation_level):
        place = (row.unit_id, row.round_id, row.category_code)
        deltas[(*place, from_state, bool(level))] -= 1
        deltas[(*place, row.state, bool(row.escalation_level))] += 1


def _write_and_mail(uow: UnitOfWork, *, updates: dict, events: list, sink: CoreSink) -> None:
    """Store the batch, then queue the emails its events cause (``case_mail``).

    Only the events of cases whose events mail (``case_mail.mails``, a pure predicate) have
    their ids read back: a batch that mails nobody costs no query for email at all.
    """
    mailed = {e["case_id"] for e in events if case_mail.mails(e["trigger"], e["data"])}
    written = write(uow, updates=updates, events=events, sink=sink, read_back=mailed)
    case_mail.queue_for_events(uow, written)


#: PostgreSQL's answers that say "run the transaction again": a deadlock (two batches taking
#: the same counter rows in different orders) and a serialization failure.
RETRY_SQLSTATES = frozenset({"40P01", "40001"})


def retrying(uow: UnitOfWork, work: Callable[[], T], *, attempts: int = 3) -> T:
    """Run ``work`` and commit; on a version conflict, a deadlock or a serialization failure
    run it again from a fresh read."""
    for attempt in range(attempts):
        try:
            result = work()
            uow.commit()
            return result
        except (ConcurrencyConflict, DBAPIError) as error:
            if isinstance(error, DBAPIError) and not _retryable(error):
                raise
            uow.session.rollback()
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def _retryable(error: DBAPIError) -> bool:
    return getattr(error.orig, "sqlstate", None) in RETRY_SQLSTATES


def id_ranges(ids: list[int], *, size: int) -> list[tuple[int, int]]:
    """Cut an ascending id list into inclusive (first, last) ranges of at most ``size`` ids."""
    return [(ids[i], ids[min(i + size, len(ids)) - 1]) for i in range(0, len(ids), size)]
