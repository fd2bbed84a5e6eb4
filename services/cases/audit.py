"""Audit: every case's state must be the replay of its append-only history, and that history
must be the one the system wrote: each event's hash continues its case's hash chain
(``services.db.event_chain``), so an event edited or removed in the database shows."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any

from sqlalchemy import select

from services.core.uow import UnitOfWork
from services.db import event_chain
from services.db.models import Case, CaseEvent
from states import CaseState, InvalidTransition, Trigger, fire
from states.lifecycle import STATE_LABELS

CREATED = "created"
_TRIGGERS = {str(t) for t in Trigger}
_BATCH = 5000


@dataclass(frozen=True)
class Mismatch:
    """One place where a case's history and its state disagree."""

    case_id: int
    problem: str
    expected: str
    found: str
    event_id: int | None = None

    def describe(self) -> str:
        where = f"案件 {self.case_id}"
        if self.event_id is not None:
            where += f"（历史记录 {self.event_id}）"
        return f"{where}：{self.problem}；应为 {self.expected}，实际为 {self.found}"


@dataclass(frozen=True)
class AuditReport:
    cases_checked: int
    events_checked: int
    mismatches: list[Mismatch] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.mismatches

    @property
    def tampered_case_ids(self) -> list[int]:
        return sorted({m.case_id for m in self.mismatches})


@dataclass(frozen=True)
class _Event:
    id: int
    case_id: int
    trigger: str
    from_state: str | None
    to_state: str
    actor: str
    actor_kind: str
    at: Any
    note: str | None
    data: dict[str, Any] | None
    hash: str | None

    def __getitem__(self, name: str) -> Any:  # the mapping ``event_chain`` hashes
        return getattr(self, name)


def verify(uow: UnitOfWork) -> AuditReport:
    """Replay every case's events through the state machine and report every disagreement."""
    session = uow.session
    states = dict(session.execute(select(Case.id, Case.state)).all())
    rows = session.execute(
        select(
            CaseEvent.case_id,
            CaseEvent.id,
            CaseEvent.case_id,
            CaseEvent.trigger,
            CaseEvent.from_state,
            CaseEvent.to_state,
            CaseEvent.actor,
            CaseEvent.actor_kind,
            CaseEvent.at,
            CaseEvent.note,
            CaseEvent.data,
            CaseEvent.hash,
        ).order_by(CaseEvent.case_id, CaseEvent.id),
        execution_options={"yield_per": _BATCH},
    )
    mismatches: list[Mismatch] = []
    events_checked = 0
    seen: set[int] = set()
    for case_id, group in groupby(rows, key=lambda row: row[0]):
        events = [_Event(*row[1:]) for row in group]
        events_checked += len(events)
        seen.add(case_id)
        mismatches.extend(replay(case_id, states.get(case_id), events))
        mismatches.extend(chain_breaks(case_id, events))
    for case_id in sorted(states.keys() - seen):
        mismatches.append(
            Mismatch(case_id, "案件没有任何历史记录", "一条「created」记录", "无记录")
        )
    mismatches.sort(key=lambda m: m.case_id)  # stable: a case keeps its replay order
    return AuditReport(len(states), events_checked, mismatches)


def replay(case_id: int, state: str | None, events: Iterable[_Event]) -> Iterator[Mismatch]:
    """Yield the mismatches of one case: each event must follow from the one before."""
    current: str | None = None
    for index, event in enumerate(events):
        if index == 0:
            yield from _check_first(case_id, event)
        else:
            yield from _check_next(case_id, current, event)
        current = event.to_state
    if current is not None and state != current:
        yield Mismatch(case_id, "当前状态与历史回放不符", _label(current), _label(state))


def _check_first(case_id: int, event: _Event) -> Iterator[Mismatch]:
    found = f"「{event.trigger}」：{_label(event.from_state)} → {_label(event.to_state)}"
    if event.trigger != CREATED or event.from_state is not None or event.to_state != "found":
        expected = f"「{CREATED}」：无 → {_label(CaseState.FOUND)}"
        yield Mismatch(case_id, "第一条历史记录不是立案", expected, found, event.id)


def _check_next(case_id: int, previous: str | None, event: _Event) -> Iterator[Mismatch]:
    if event.from_state != previous:
        yield Mismatch(
            case_id,
            "起始状态与上一条记录的结果不符",
            _label(previous),
            _label(event.from_state),
            event.id,
        )
    if event.trigger in _TRIGGERS:
        data = event.data or {}
        proven, successor = bool(data.get("proven_fixed")), bool(data.get("successor_case_id"))
        try:
            allowed = str(
                fire(
                    event.from_state or "",
                    event.trigger,
                    proven_fixed=proven,
                    successor=successor,
                )
            )
        except InvalidTransition as exc:
            yield Mismatch(case_id, "状态机不允许这次流转", "允许的流转", str(exc), event.id)
            return
        if allowed != event.to_state:
            problem = f"「{event.trigger}」的结果与状态机不符"
            yield Mismatch(case_id, problem, _label(allowed), _label(event.to_state), event.id)
    elif event.trigger == CREATED:
        yield Mismatch(case_id, "立案记录重复出现", "只有第一条为「created」", "又一条", event.id)
    elif event.to_state != event.from_state:
        problem = f"「{event.trigger}」不是状态流转，却改变了状态"
        yield Mismatch(case_id, problem, _label(event.from_state), _label(event.to_state), event.id)


def chain_breaks(case_id: int, events: Iterable[_Event]) -> Iterator[Mismatch]:
    """Yield each event whose stored hash is not its case's chain: edited, or one removed.

    Each event is checked against its predecessor's STORED hash, as it was written: one edited
    event shows at that event only, a removed one at the event that followed it.
    """
    previous: str | None = None
    for event in events:
        expected = event_chain.event_hash(previous, event)
        if event.hash is None:
            yield Mismatch(
                case_id, "历史记录没有校验哈希，不是本系统写入的记录", _short(expected), "无",
                event.id,
            )  # fmt: skip
        elif event.hash != expected:
            yield Mismatch(
                case_id, "历史记录与哈希链不符：该记录在数据库中被改动，或它之前的记录被删除",
                _short(expected), _short(event.hash), event.id,
            )  # fmt: skip
        previous = event.hash


def _short(value: str) -> str:
    return f"哈希 {value[:16]}…"


def _label(state: str | None) -> str:
    if state is None:
        return "无"
    label = STATE_LABELS.get(state)
    return f"「{label}」({state})" if label else f"「{state}」"
