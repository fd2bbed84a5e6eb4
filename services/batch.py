"""Transitions for many cases at once: Core loads, one versioned executemany, no ORM per row.

The same per-trigger effects as ``services.cases.transition`` (``services.effects``), the
same machine (``states.fire``) and the same emails (``services.mailing``), written with a
handful of statements per batch. The caller commits: one commit per batch. A row whose
version moved under us makes the whole batch roll back with ``ConcurrencyConflict``;
``retrying`` runs the batch again from a fresh read, so no case is moved twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import selectinload

from services import cases, effects, mailing
from services.db.models import Case, CaseEvent, CaseNotice, Category, Round, Submission
from services.errors import ConcurrencyConflict, ValidationFailed
from services.uow import UnitOfWork
from states import InvalidTransition, fire

CASES = Case.__table__
EVENTS = CaseEvent.__table__
NOTICES = CaseNotice.__table__
_FIELDS = (
    "state",
    "deadline",
    "deadline_mode",
    "notified_at",
    "escalation_level",
    "escalated_for_deadline",
    "notices_city",
    "notices_province",
)
_LOADED = ("id", "version", "round_id", "category_code", "unit_id", *_FIELDS)
_UPDATE = (
    update(CASES)
    .where(CASES.c.id == bindparam("b_id"), CASES.c.version == bindparam("b_version"))
    .values(
        **{name: bindparam(f"b_{name}") for name in _FIELDS},
        updated_at=bindparam("b_updated_at"),
        version=bindparam("b_new_version"),
    )
)
T = TypeVar("T")


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


@dataclass
class _Row:
    """A case as the effects see it: its columns, its round and its category."""

    id: int
    version: int
    round_id: int
    category_code: str
    unit_id: int
    state: str
    deadline: date | None
    deadline_mode: str | None
    notified_at: datetime | None
    escalation_level: int
    escalated_for_deadline: date | None
    notices_city: int
    notices_province: int
    round: Any = None
    category: Any = None


class _CoreSink:
    """Collects notices for one executemany; submissions are rare and go one by one."""

    def __init__(self, uow: UnitOfWork):
        self.uow = uow
        self.notices: list[dict[str, Any]] = []

    def add_notice(self, case, *, level, issuer, notified_on, reference) -> None:
        self.notices.append(
            {
                "case_id": case.id,
                "level": level,
                "issuer": issuer,
                "notified_on": notified_on,
                "reference": reference,
            }
        )

    def add_submission(self, case, *, text, responsible_person, phone, at) -> int:
        statement = insert(Submission.__table__).returning(Submission.__table__.c.id)
        values = {
            "case_id": case.id,
            "text": text,
            "responsible_person": responsible_person,
            "phone": phone,
            "submitted_at": at,
        }
        return self.uow.session.execute(statement, values).scalar_one()

    def review_latest_submission(self, case, *, result, reviewer, comment, at) -> int | None:
        return cases.review_latest_submission(
            self.uow.session,
            case_id=case.id,
            result=result,
            reviewer=reviewer,
            comment=comment,
            at=at,
        )


def load_rows(uow: UnitOfWork, case_ids: Iterable[int]) -> dict[int, _Row]:
    """The given cases as plain rows (Core select), with their rounds and categories."""
    ids = list(case_ids)
    if not ids:
        return {}
    columns = [CASES.c[name] for name in _LOADED]
    result = uow.session.execute(select(*columns).where(CASES.c.id.in_(ids)))
    rows = {r.id: _Row(**r._mapping) for r in result}
    rounds = {
        r.id: r
        for r in uow.session.scalars(
            select(Round).where(Round.id.in_({row.round_id for row in rows.values()}))
        )
    }
    categories = {c.code: c for c in uow.session.scalars(select(Category))}
    for row in rows.values():
        row.round, row.category = rounds[row.round_id], categories[row.category_code]
    return rows


def transition_many(
    uow: UnitOfWork, moves: list[Move], *, actor: str, actor_kind: str = "system"
) -> BatchResult:
    """Fire each move on its case; refused moves are reported, not raised. Does not commit."""
    if actor_kind not in cases.ACTOR_KINDS or not actor.strip():
        raise ValidationFailed([f"操作人无效：{actor}（{actor_kind}）"])
    uow.flush()
    rows = load_rows(uow, (m.case_id for m in moves))
    moment = effects.Moment(now=uow.clock.now(), today=uow.clock.today(), settings=uow.settings)
    sink = _CoreSink(uow)
    result, updates, events = BatchResult(), [], []
    for move in moves:
        row = rows.get(move.case_id)
        if row is None:
            result.refused.append((move.case_id, f"案件 {move.case_id} 不存在"))
            continue
        try:
            to_state = fire(row.state, move.trigger, case_id=row.id, proven_fixed=move.proven_fixed)
        except InvalidTransition as exc:
            result.refused.append((row.id, str(exc)))
            continue
        from_state = row.state
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
        updates.append(
            {f"b_{name}": getattr(row, name) for name in _FIELDS}
            | {"b_id": row.id, "b_version": row.version, "b_new_version": row.version + 1}
            | {"b_updated_at": moment.now}
        )
        row.version += 1
        events.append(
            {
                "case_id": row.id,
                "trigger": str(move.trigger),
                "from_state": from_state,
                "to_state": row.state,
                "actor": actor.strip(),
                "actor_kind": actor_kind,
                "at": moment.now,
                "note": move.note,
                "data": data,
            }
        )
        result.moved.append(Moved(row.id, str(move.trigger), from_state, row.state, row.unit_id))
    if updates:
        _write(uow, updates=updates, events=events, notices=sink.notices)
    return result


def _write(uow: UnitOfWork, *, updates: list, events: list, notices: list) -> None:
    session = uow.session
    changed = session.execute(_UPDATE, updates).rowcount
    if changed != len(updates):
        session.rollback()
        raise ConcurrencyConflict(
            f"本批 {len(updates)} 个案件中有 {len(updates) - changed} 个已被他人修改；本批未保存"
        )
    if notices:
        session.execute(insert(NOTICES), notices)
    statement = insert(EVENTS).returning(EVENTS.c.id, sort_by_parameter_order=True)
    event_ids = session.execute(statement, events).scalars().all()
    session.expire_all()
    _queue_mail(uow, event_ids)


def _queue_mail(uow: UnitOfWork, event_ids: list[int]) -> None:
    """Hand every new event to the mailing seam, with its case loaded once per batch."""
    if not event_ids:
        return
    events = uow.session.scalars(select(CaseEvent).where(CaseEvent.id.in_(event_ids))).all()
    case_ids = {e.case_id for e in events}
    query = (
        select(Case)
        .where(Case.id.in_(case_ids))
        .options(selectinload(Case.unit), selectinload(Case.target), selectinload(Case.round))
    )
    by_id = {case.id: case for case in uow.session.scalars(query)}
    for event in sorted(events, key=lambda e: e.id):
        mailing.queue_for_transition(uow, case=by_id[event.case_id], event=event)
    uow.flush()


def retrying(uow: UnitOfWork, work: Callable[[], T], *, attempts: int = 3) -> T:
    """Run ``work`` and commit; on a version conflict run it again from a fresh read."""
    for attempt in range(attempts):
        try:
            result = work()
            uow.commit()
            return result
        except ConcurrencyConflict:
            uow.session.rollback()
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def id_ranges(ids: list[int], *, size: int) -> list[tuple[int, int]]:
    """Cut an ascending id list into inclusive (first, last) ranges of at most ``size`` ids."""
    return [(ids[i], ids[min(i + size, len(ids)) - 1]) for i in range(0, len(ids), size)]
