"""Use cases on one case: open a finding, fire a trigger, extend a deadline, record a notice."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select

from services.cases import effects
from services.cases.finding_refs import Known, resolved
from services.cases.orm_sink import OrmSink
from services.cases.repeat_chain import open_before
from services.core.errors import ConcurrencyConflict, NotFound, ValidationFailed
from services.core.uow import UnitOfWork
from services.db import counts, event_chain
from services.db.models import Case, CaseEvent, CaseNotice
from services.mail import case_mail
from states import (
    NOTICE_COUNTS,
    NOTICE_LEVELS,
    OPEN_STATES,
    SYSTEM_ACTOR,
    CaseState,
    Trigger,
    fire,
    refusal,
    stamp_refusal,
)
from states.rules import extension_refusal

ACTOR_KINDS = ("user", "unit", "system")


@dataclass(frozen=True)
class TransitionResult:
    case_id: int
    trigger: str
    from_state: str
    to_state: str
    version: int
    event_id: int
    deadline: date | None


@dataclass(frozen=True)
class Finding:
    """A problem to open as a case (from an import, a check, a person or a higher level)."""

    round_code: str
    target_code: str
    category_code: str
    description: str = ""
    severity: str | None = None  # default: the category's
    source: str = "manual"
    evidence: dict[str, Any] = field(default_factory=dict)
    previous_case_id: int | None = None
    synthetic: bool = False


def get_case(uow: UnitOfWork, case_id: int) -> Case:
    case = uow.session.get(Case, case_id)
    if case is None:
        raise NotFound(f"案件 {case_id} 不存在")
    return case


def open_case(
    uow: UnitOfWork,
    finding: Finding,
    *,
    actor: str,
    actor_kind: str = "user",
    known: Known | None = None,
) -> tuple[Case, bool]:
    """Open a case for a finding, or update the existing one (same round, target, category).

    The category is named by its code or its Chinese name; an unknown one is refused with the
    catalogue listed. A batch passes what its findings name, loaded at once (``Known.load``)."""
    session = uow.session
    known = known or Known()
    round_, target, category, severity = resolved(uow, finding, known)

    existing = known.case(uow, (round_.id, target.id, category.code))
    now = uow.clock.now()
    if existing is not None:
        found_again = (
            finding.description or existing.description,
            finding.evidence or existing.evidence,
            severity,
        )
        if found_again != (existing.description, existing.evidence, existing.severity):
            # Only a change is written: the same finding again (a re-import, a recheck
            # meeting the problem twice) leaves the case's version alone, so nobody's open
            # form turns stale over nothing.
            existing.description, existing.evidence, existing.severity = found_again
            existing.updated_at = now
        # An open predecessor still left (see open_before) is carried over to it.
        _carry_over(uow, finding.previous_case_id, successor=existing)
        return existing, False
    if category.retired:
        raise ValidationFailed(
            [f"问题类别「{category.name}」（{category.code}）已停用，不能用于新发现的问题"]
        )

    named = session.get(Case, finding.previous_case_id) if finding.previous_case_id else None
    earlier = open_before(uow, named, round_=round_)
    previous = earlier[-1] if earlier else named
    case = Case(
        round=round_,
        target=target,
        unit_id=target.unit_id,
        category=category,
        severity=severity,
        description=finding.description,
        evidence=finding.evidence,
        source=finding.source,
        state=CaseState.FOUND,
        previous=previous,
        notices_city=previous.notices_city if previous else 0,
        notices_province=previous.notices_province if previous else 0,
        notices_county=previous.notices_county if previous else 0,
        escalation_level=previous.escalation_level if previous else 0,
        synthetic=finding.synthetic,
        created_at=now,
        updated_at=now,
    )
    session.add(case)
    uow.flush()
    known.opened(case)
    counts.apply(session, {_count_key(case): 1})
    _add_event(
        uow,
        case,
        trigger="created",
        from_state=None,
        actor=actor,
        actor_kind=actor_kind,
        note=None,
        data={"source": finding.source, "previous_case_id": previous.id if previous else None},
    )
    # Every open earlier case of the problem is continued by this one now (any batch order).
    for predecessor in earlier or ([named] if named is not None else []):
        _carry_over(uow, predecessor.id, successor=case)
    return case, True


def _carry_over(uow: UnitOfWork, previous_id: int | None, *, successor: Case) -> None:
    """The problem is followed in ``successor`` from now on: its open predecessor (of an
    earlier round) is closed as continued."""
    previous = uow.session.get(Case, previous_id) if previous_id else None
    if (
        previous is None
        or previous.id == successor.id
        or previous.round_id == successor.round_id
        or previous.state not in OPEN_STATES
    ):
        return
    transition(
        uow,
        case_id=previous.id,
        trigger=Trigger.CARRY_OVER,
        actor=SYSTEM_ACTOR,
        actor_kind="system",
        successor=successor.id,
        data={"successor_case_id": successor.id},
    )


def _count_key(case: Case) -> counts.Key:
    return counts.key(
        case.unit_id, case.round_id, case.category_code, case.state, case.escalation_level
    )


def transition(
    uow: UnitOfWork,
    *,
    case_id: int,
    trigger: str,
    actor: str,
    actor_kind: str = "user",
    note: str | None = None,
    expected_version: int | None = None,
    proven_fixed: bool = False,
    data: dict[str, Any] | None = None,
    successor: int | None = None,
) -> TransitionResult:
    """Fire ``trigger`` on a case: state, side fields, its event and its emails, unflushed-safe.

    ``successor``: the later round's case that takes a carried-over case's problem over."""
    case = get_case(uow, case_id)
    if expected_version is not None and case.version != expected_version:
        raise ConcurrencyConflict(
            f"案件 {case_id} 已被他人修改（版本 {case.version}，您看到的是 {expected_version}），请刷新后重试"
        )
    refused = refusal(trigger=trigger, note=note)
    if refused:
        raise ValidationFailed([refused])
    from_state = case.state
    to_state = fire(
        from_state,
        trigger,
        case_id=case.id,
        proven_fixed=proven_fixed,
        successor=successor is not None,
    )
    before = _count_key(case)
    moment = effects.Moment(now=uow.clock.now(), today=uow.clock.today(), settings=uow.settings)
    data = effects.apply(
        case,
        trigger=str(trigger),
        actor=actor,
        note=note,
        data=data or {},
        proven_fixed=proven_fixed,
        moment=moment,
        sink=OrmSink(uow),
    )
    now = moment.now

    case.state = str(to_state)
    case.updated_at = now
    event = _add_event(
        uow,
        case,
        trigger=str(trigger),
        from_state=from_state,
        actor=actor,
        actor_kind=actor_kind,
        note=note,
        data=data,
    )
    delta: Counter = Counter()
    counts.moved(delta, before, _count_key(case))
    counts.apply(uow.session, delta)  # after the event: a version conflict is told first
    case_mail.queue_for_events(uow, [event])
    uow.flush()
    return TransitionResult(
        case_id=case.id,
        trigger=str(trigger),
        from_state=from_state,
        to_state=str(to_state),
        version=case.version,
        event_id=event.id,
        deadline=case.deadline,
    )


def extend_deadline(
    uow: UnitOfWork, *, case_id: int, new_deadline: date, reason: str, actor: str
) -> CaseEvent:
    """Move a case's deadline; recorded as an event, not a state change."""
    case = get_case(uow, case_id)
    refused = extension_refusal(
        case_id=case_id,
        state=case.state,
        deadline=case.deadline,
        new_deadline=new_deadline,
        reason=reason,
        today=uow.clock.today(),
    )
    if refused:
        raise ValidationFailed(refused)
    old = case.deadline
    case.deadline = new_deadline
    case.updated_at = uow.clock.now()
    event = _add_event(
        uow,
        case,
        trigger="extend_deadline",
        from_state=case.state,
        actor=actor,
        actor_kind="user",
        note=reason,
        data={
            "old_deadline": old.isoformat() if old else None,
            "new_deadline": new_deadline.isoformat(),
        },
    )
    uow.flush()
    return event


def record_notice(
    uow: UnitOfWork,
    *,
    case_id: int,
    level: str,
    notified_on: date,
    issuer: str | None = None,
    reference: str | None = None,
    actor: str,
    actor_kind: str = "user",
) -> CaseNotice:
    """Record a notice of the case's problem, e.g. by the province (counts towards repeats)."""
    if level not in NOTICE_LEVELS:
        shown = "、".join(NOTICE_LEVELS)
        raise ValidationFailed([f"通报层级 {str(level)[:20]} 无效（应为 {shown}）"])
    case = get_case(uow, case_id)
    notice = CaseNotice(
        case_id=case.id,
        level=level,
        issuer=issuer or NOTICE_LEVELS[level],
        notified_on=notified_on,
        reference=reference,
    )
    uow.session.add(notice)
    # The counts are cumulative along the chain: later rounds' cases of the problem count it too.
    chained: Case | None = case
    count = NOTICE_COUNTS[level]
    while chained is not None:
        setattr(chained, count, getattr(chained, count) + 1)
        chained.updated_at = uow.clock.now()
        chained = uow.session.scalar(select(Case).where(Case.previous_case_id == chained.id))
    _add_event(
        uow,
        case,
        trigger="record_notice",
        from_state=case.state,
        actor=actor,
        actor_kind=actor_kind,
        note=f"{notice.issuer}通报",
        data={"level": level, "notified_on": notified_on.isoformat(), "reference": reference},
    )
    uow.flush()
    return notice


def _add_event(
    uow: UnitOfWork,
    case: Case,
    *,
    trigger: str,
    from_state: str | None,
    actor: str,
    actor_kind: str,
    note: str | None,
    data: dict[str, Any],
) -> CaseEvent:
    if actor_kind not in ACTOR_KINDS:
        raise ValidationFailed([f"操作人类型 {actor_kind} 无效"])
    if not actor or not actor.strip():
        raise ValidationFailed(["必须注明操作人"])
    fields = {
        "case_id": case.id,
        "trigger": trigger,
        "from_state": from_state,
        "to_state": case.state,
        "actor": actor.strip(),
        "actor_kind": actor_kind,
        "at": uow.clock.now(),
        "note": note,
        "data": data,
    }
    uow.flush()  # the case's versioned update first: a conflict is told, the row is held
    last = uow.session.execute(
        select(CaseEvent.hash, CaseEvent.at)
        .where(CaseEvent.case_id == case.id)
        .order_by(CaseEvent.id.desc())
        .limit(1)
    ).first()
    previous, last_at = last if last is not None else (None, None)
    # A person acts now; imports and other system steps may replay history as of its days.
    tz = uow.clock.tz  # the refusal names both moments in the zone people read
    shown_last = last_at.astimezone(tz) if last_at is not None else None
    if actor_kind != "system" and (
        stamped := stamp_refusal(shown_last, fields["at"].astimezone(tz))
    ):
        raise ValidationFailed([stamped])
    event = CaseEvent(**fields, hash=event_chain.event_hash(previous, fields))
    uow.session.add(event)
    uow.flush()
    return event
