"""The quarterly recheck: is each open (or lately verified) problem fixed or still present?

``round_code`` names the round the recheck belongs to (the quarter being inspected now), or
several rounds of different issuing offices at once (every office's round of a quarter: one
run, batches across them). A round of an office looks at every open case of that office's
rounds up to it that no later case continues, and at every case verified in the office's round
before; a round without an office looks at the open cases of every round up to it. Fixed →
verified (proven by the recheck); still present in a case of an earlier round → a new case in
this round linked to the old one, notified (notice count + 1) and, for a repeat offender,
escalated at once. An outcome nobody can check automatically is listed for a supervisor.
Re-running changes nothing more: verified cases stay verified, continued cases are no longer
candidates, and the cases this recheck opened are not rechecked by it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import and_, func, not_, select, true
from sqlalchemy.orm import aliased

from services.cases import batch, store, transitions
from services.cases.queries import codes_by_id
from services.core.errors import NotFound, ValidationFailed
from services.core.uow import UnitOfWork
from services.db import bulk
from services.db.models import Case, CheckResult, Round, Target, Unit
from services.rounds.rounds import previous_round_ids
from states import (
    OPEN_STATES,
    CaseState,
    Trigger,
    is_repeat_offender,
    notices_with_this_one,
)

OUTCOMES = ("fixed", "present", "unknown")
RECHECK_SOURCE = "recheck"


class OutcomeProvider(Protocol):
    """Given case ids, the recheck outcome of each: fixed, present or unknown."""

    def __call__(self, uow: UnitOfWork, case_ids: list[int]) -> dict[int, str]: ...


def latest_check_result(uow: UnitOfWork, case_ids: list[int]) -> dict[int, str]:
    """Outcomes from each case's latest check result: an imported finding or a person's mark."""
    if not case_ids:
        return {}
    now = uow.clock.now()
    latest = (
        select(CheckResult.case_id, func.max(CheckResult.id).label("id"))
        .where(
            bulk.ids_in(uow.session, CheckResult.case_id, case_ids),
            CheckResult.checked_at <= now,
        )
        .group_by(CheckResult.case_id)
        .subquery()
    )
    rows = uow.session.execute(
        select(CheckResult.case_id, CheckResult.outcome).join(latest, latest.c.id == CheckResult.id)
    )
    return dict(rows.all())


def all_fixed(uow: UnitOfWork, case_ids: list[int]) -> dict[int, str]:
    """An instant provider that proves every case fixed (benchmarks, drills)."""
    return dict.fromkeys(case_ids, "fixed")


@dataclass
class RecheckSummary:
    round_code: str
    outcomes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    verified: int = 0
    linked: int = 0
    escalated: int = 0
    per_unit: dict[str, dict[str, int]] = field(default_factory=dict)
    needs_supervisor: list[int] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)

    def merge(self, other: RecheckSummary) -> RecheckSummary:
        """Add another batch's figures to these."""
        for outcome, count in other.outcomes.items():
            self.outcomes[outcome] = self.outcomes.get(outcome, 0) + count
        self.verified += other.verified
        self.linked += other.linked
        self.escalated += other.escalated
        for unit, counts in other.per_unit.items():
            mine = Counter(self.per_unit.get(unit, {}))
            mine.update(counts)
            self.per_unit[unit] = dict(mine)
        self.needs_supervisor += other.needs_supervisor
        self.refused += other.refused
        return self


#: The round a candidate is rechecked for, and the round it belongs to.
_CURRENT, _OWN = aliased(Round, name="rechecked"), aliased(Round, name="own")


def rounds_named(uow: UnitOfWork, codes: str | Sequence[str]) -> dict[int, Any]:
    """The rounds a recheck runs for (id, code, issuer_id, period_start), by id: one per
    issuing office (else a case would be rechecked for two of them)."""
    codes = [codes] if isinstance(codes, str) else list(dict.fromkeys(codes))
    columns = (Round.id, Round.code, Round.issuer_id, Round.period_start)
    rounds = uow.session.execute(
        select(*columns).where(bulk.ids_in(uow.session, Round.code, codes))
    ).all()
    missing = set(codes) - {r.code for r in rounds}
    if missing:
        raise NotFound(f"检查轮次 {'、'.join(sorted(missing)[:5])} 不存在")
    offices = Counter(r.issuer_id for r in rounds)
    twice = [r.code for r in rounds if offices[r.issuer_id] > 1]
    if twice:
        raise ValidationFailed([f"一次复查中同一发文机关只能有一个轮次：{'、'.join(twice[:5])}"])
    if None in offices and len(rounds) > 1:
        alone = next(r.code for r in rounds if r.issuer_id is None)
        raise ValidationFailed([f"检查轮次 {alone} 未指定发文机关，复查其全部案件，只能单独复查"])
    return {r.id: r for r in rounds}


@dataclass(frozen=True)
class Scope:
    """What every batch of one recheck reads alike: its rounds by id (``rounds_named``) and
    each one's office's round before it. Read once for a group of batches, not per batch
    (at 3,000 offices' rounds, a third of a batch's time)."""

    rounds: dict[int, Any]
    previous: list[int]


def scope_of(uow: UnitOfWork, round_code: str | Sequence[str]) -> Scope:
    rounds = rounds_named(uow, round_code)
    return Scope(rounds, list(previous_round_ids(uow, rounds).values()))


def _candidates(uow: UnitOfWork, scope: Scope):
    """Candidates with the id of the round each is rechecked for (``rechecked_id``): the cases
    of its office's rounds; a round without an office (the only one rechecked then) looks at
    the cases of every round up to it."""
    rounds, previous = scope.rounds, scope.previous
    office_less = any(r.issuer_id is None for r in rounds.values())
    same_office = true() if office_less else _CURRENT.issuer_id == _OWN.issuer_id
    open_here = and_(
        Case.state.in_([str(s) for s in OPEN_STATES]),
        _OWN.period_start <= _CURRENT.period_start,
        not_(and_(Case.round_id == _CURRENT.id, Case.source == RECHECK_SOURCE)),
    )
    condition = open_here
    if previous:
        verified_before = and_(
            bulk.ids_in(uow.session, Case.round_id, previous), Case.state == CaseState.VERIFIED
        )
        condition = open_here | verified_before
    return (
        select(*store.ROW_COLUMNS, Case.target_id, _CURRENT.id.label("rechecked_id"))
        .join(_OWN, _OWN.id == Case.round_id)
        .join(_CURRENT, and_(bulk.ids_in(uow.session, _CURRENT.id, rounds), same_office))
        .where(condition)
        .order_by(Case.id)
    )


def candidate_ids(uow: UnitOfWork, *, round_code: str | Sequence[str]) -> list[int]:
    """Ids of the cases this round's (or these rounds') recheck looks at, ascending."""
    query = _candidates(uow, scope_of(uow, round_code)).with_only_columns(
        Case.id, maintain_column_froms=True
    )
    return list(uow.session.scalars(query))


def round_label(codes: str | Sequence[str]) -> str:
    codes = [codes] if isinstance(codes, str) else list(codes)
    return codes[0] if len(codes) == 1 else f"{codes[0]} 等 {len(codes)} 个轮次"


def recheck_range(
    uow: UnitOfWork,
    *,
    round_code: str | Sequence[str],
    first_id: int,
    last_id: int,
    provider: OutcomeProvider,
    actor: str,
    seal: Callable[[UnitOfWork], None] | None = None,
    scope: Scope | None = None,
) -> RecheckSummary:
    """Recheck the candidates with ids in [first_id, last_id] and act on them; one commit.

    ``seal(uow)`` runs just before the commit (a shared batch marks itself done there).
    ``scope``: the recheck's rounds as read for an earlier batch of the same group (read
    here when not given).
    """

    def work() -> RecheckSummary:
        nonlocal scope
        scope = scope or scope_of(uow, round_code)
        query = (
            _candidates(uow, scope)
            .add_columns(Unit.code.label("unit_code"))
            .join(Unit, Unit.id == Case.unit_id)
            .where(Case.id.between(first_id, last_id))
        )
        rows = uow.session.execute(query).all()
        outcomes = provider(uow, [row.id for row in rows])
        summary = _act(uow, scope.rounds, rows, outcomes, actor=actor)
        summary.round_code = round_label(round_code)
        if seal is not None:
            seal(uow)
        return summary

    return batch.retrying(uow, work)


def _act(
    uow: UnitOfWork, rounds: dict[int, Any], rows, outcomes: dict, *, actor: str
) -> RecheckSummary:
    summary = RecheckSummary(round_code="")
    threshold = uow.settings.repeat_offender_threshold
    moves: list[batch.Move] = []
    unit_of: dict[int, str] = {}
    outcome_of = {
        row.id: outcome if (outcome := outcomes.get(row.id)) in OUTCOMES else "unknown"
        for row in rows
    }
    present = {row.target_id for row in rows if outcome_of[row.id] == "present"}
    target_codes = codes_by_id(uow, Target, present)
    for row in rows:
        round_ = rounds[row.rechecked_id]
        case_id, state, round_id, unit_code = row.id, row.state, row.round_id, row.unit_code
        outcome = outcome_of[case_id]
        summary.outcomes[outcome] += 1
        _count(summary, unit_code, outcome)
        if outcome == "unknown":
            summary.needs_supervisor.append(case_id)
        elif outcome == "fixed" and state != CaseState.VERIFIED:
            data = {"recheck_round": round_.code}
            moves.append(batch.Move(case_id, Trigger.VERIFY, proven_fixed=True, data=data))
        elif outcome == "present" and round_id != round_.id:
            finding = transitions.Finding(
                round_code=round_.code,
                target_code=target_codes[row.target_id],
                category_code=row.category_code,
                source=RECHECK_SOURCE,
                previous_case_id=case_id,
            )
            new, created = transitions.open_case(uow, finding, actor=actor, actor_kind="system")
            if not created:
                continue
            summary.linked += 1
            unit_of[new.id] = unit_code
            data = {"recheck_round": round_.code, "previous_case_id": case_id}
            moves.append(batch.Move(new.id, Trigger.NOTIFY, data=data))
            notices = notices_with_this_one(
                city=new.notices_city, province=new.notices_province, county=new.notices_county
            )
            if is_repeat_offender(notices, threshold=threshold):
                data = {"reason": "repeat_offender", "notices": notices}
                moves.append(batch.Move(new.id, Trigger.ESCALATE, data=data))
    known = store.rows_from(rows)
    result = batch.transition_many(uow, moves, actor=actor, known=known)
    summary.refused += result.refused
    for moved in result.moved:
        if moved.trigger == Trigger.VERIFY:
            summary.verified += 1
        elif moved.trigger == Trigger.ESCALATE:
            summary.escalated += 1
            _count(summary, unit_of[moved.case_id], "escalated")
    return summary


def _count(summary: RecheckSummary, unit_code: str, key: str) -> None:
    counts = summary.per_unit.setdefault(unit_code, {})
    counts[key] = counts.get(key, 0) + 1


def recheck(
    uow: UnitOfWork,
    *,
    round_code: str | Sequence[str],
    provider: OutcomeProvider,
    actor: str,
    batch_size: int = 1000,
    after_batch: Callable[[RecheckSummary], None] | None = None,
) -> RecheckSummary:
    """The whole recheck in one call (what the flow does, without Prefect)."""
    summary = RecheckSummary(round_code=round_label(round_code))
    ids = candidate_ids(uow, round_code=round_code)
    scope = scope_of(uow, round_code)
    for first_id, last_id in batch.id_ranges(ids, size=batch_size):
        part = recheck_range(
            uow,
            round_code=round_code,
            first_id=first_id,
            last_id=last_id,
            provider=provider,
            actor=actor,
            scope=scope,
        )
        summary.merge(part)
        if after_batch is not None:
            after_batch(part)
    return summary


def current_round_code(uow: UnitOfWork) -> str:
    """The latest round whose period has started by today (the scheduled recheck's round)."""
    code = uow.session.scalar(
        select(Round.code)
        .where(Round.period_start <= uow.clock.today())
        .order_by(Round.period_start.desc())
        .limit(1)
    )
    if code is None:
        raise NotFound(f"截至 {uow.clock.today()} 没有已开始的检查轮次，无法复查")
    return code


def current_round_codes(uow: UnitOfWork) -> list[str]:
    """Every issuing office's round of the latest period started by today (one run rechecks
    them all)."""
    start = uow.session.scalar(
        select(Round.period_start).where(Round.code == current_round_code(uow))
    )
    return list(
        uow.session.scalars(
            select(Round.code).where(Round.period_start == start).order_by(Round.id)
        )
    )
