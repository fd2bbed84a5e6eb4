"""Publishing a round: notify its found cases, set their deadlines, one email per unit.

Each step is idempotent, so a publication killed half-way and run again ends the same:
only ``found`` cases are notified (a state guard), the unit notices carry one idempotency
key per round and unit (``services.mail.causes``), and the round is marked published once.

One email per case per cause: a case notified before the publication (on its own, in a
bulk action, or before the system) is not notified again; its unit's round email lists it
apart, without asking for anything new (``UnitNotice.earlier``). Which unit gets which
email is decided in one place, ``unit_notices``: the confirmation page asks it before the
publication (``plan``: what waits is what will be notified) and ``finish`` queues from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import or_, select

from services.cases import batch
from services.core.uow import UnitOfWork
from services.db.models import Case, CaseEvent, Round, Unit
from services.mail import causes
from services.rounds import published
from services.rounds.rounds import check_stored, get_round
from states import CaseState, Trigger


@dataclass
class PublicationSummary:
    round_code: str
    notified: int = 0
    refused: list[tuple[int, str]] = field(default_factory=list)
    units_mailed: int = 0
    cases_per_unit: dict[str, int] = field(default_factory=dict)
    published_at: str | None = None


@dataclass(frozen=True)
class UnitNotice:
    """One unit's round email: the cases the publication notifies, those notified before."""

    unit_id: int
    unit_code: str
    unit_name: str
    new: tuple[int, ...]
    #: Notified before the publication (case id, local day): listed, not notified again.
    earlier: tuple[tuple[int, str], ...]
    #: Why the email cannot be delivered (the unit's address), "" when it can.
    problem: str


@dataclass(frozen=True)
class PublicationPlan:
    """What publishing the round would do now: the confirmation page's figures."""

    round_code: str
    state: published.Published
    notices: tuple[UnitNotice, ...]

    @property
    def emails(self) -> int:
        return len(self.notices)  # one per unit and round

    @property
    def units(self) -> int:
        return len({n.unit_id for n in self.notices})

    @property
    def cases(self) -> int:
        return sum(len(n.new) for n in self.notices)

    @property
    def earlier(self) -> int:
        return sum(len(n.earlier) for n in self.notices)

    @property
    def undeliverable(self) -> list[UnitNotice]:
        return [n for n in self.notices if n.problem]

    @property
    def sentence(self) -> str:
        """The count a supervisor confirms, in Chinese: every case an email lists."""
        if not self.notices:
            return "没有需要通知的案件：发布只记录发布时间，不发送邮件"
        listed = self.cases + self.earlier
        return f"将向 {self.units} 个单位发送 {self.emails} 封通知邮件，涉及 {listed} 个案件"


def plan(uow: UnitOfWork, *, round_code: str) -> PublicationPlan:
    """A dry run of the publication: the emails it would queue, to whom, for which cases."""
    round_ = get_round(uow, round_code)
    check_stored(round_)  # refused here as the publication would refuse it
    notices = unit_notices(uow, round_, waiting=True)
    return PublicationPlan(round_.code, published.of_round(uow, round_), tuple(notices))


def unit_notices(uow: UnitOfWork, round_: Round, *, waiting: bool) -> list[UnitNotice]:
    """Each unit's round email, in unit order: its cases this publication notifies (those
    it notified, and with ``waiting`` those still found, which it will) and those notified
    before it. A unit none of whose cases was ever notified gets none."""
    rows = uow.session.execute(
        select(Case.id, Case.unit_id, Case.state, Case.notified_at, Unit)
        .join(Unit, Unit.id == Case.unit_id)
        .where(Case.round_id == round_.id)
        .where(or_(Case.state == CaseState.FOUND, Case.notified_at.is_not(None)))
        .order_by(Unit.path, Case.unit_id, Case.id)
    ).all()
    ours = _notified_by_publication(uow, round_)
    tz = uow.clock.tz
    grouped: dict[int, tuple[Unit, list[int], list[tuple[int, str]]]] = {}
    for case_id, unit_id, state, notified_at, unit in rows:
        _unit, new, earlier = grouped.setdefault(unit_id, (unit, [], []))
        if case_id in ours or (waiting and state == CaseState.FOUND):
            new.append(case_id)
        elif notified_at is not None:
            earlier.append((case_id, notified_at.astimezone(tz).date().isoformat()))
    return [
        UnitNotice(
            unit.id,
            unit.code,
            unit.name,
            tuple(new),
            tuple(earlier),
            causes.recipients_of(unit)[1],
        )
        for unit, new, earlier in grouped.values()
        if new or earlier
    ]


def _notified_by_publication(uow: UnitOfWork, round_: Round) -> set[int]:
    """The round's cases a publication notified (its notify events say so)."""
    events = uow.session.execute(
        select(CaseEvent.case_id, CaseEvent.data)
        .join(Case, Case.id == CaseEvent.case_id)
        .where(Case.round_id == round_.id, Case.state != CaseState.FOUND)
        .where(CaseEvent.trigger == Trigger.NOTIFY)
    )
    return {case_id for case_id, data in events if (data or {}).get("publication")}


def found_case_ids(uow: UnitOfWork, *, round_code: str) -> list[int]:
    """Ids of the round's cases still waiting to be notified, ascending."""
    round_ = get_round(uow, round_code)
    check_stored(round_)  # its deadline settings are used for every case: refused before any
    query = select(Case.id).where(Case.round_id == round_.id, Case.state == CaseState.FOUND)
    return list(uow.session.scalars(query.order_by(Case.id)))


def notify_range(
    uow: UnitOfWork, *, round_code: str, first_id: int, last_id: int, actor: str
) -> batch.BatchResult:
    """Notify the round's found cases with ids in [first_id, last_id]; one commit."""
    round_ = get_round(uow, round_code)

    def work() -> batch.BatchResult:
        ids = uow.session.scalars(
            select(Case.id)
            .where(Case.round_id == round_.id, Case.state == CaseState.FOUND)
            .where(Case.id.between(first_id, last_id))
            .order_by(Case.id)
        )
        moves = [batch.Move(i, Trigger.NOTIFY, data={"publication": True}) for i in ids]
        return batch.transition_many(uow, moves, actor=actor)

    return batch.retrying(uow, work)


def queue_unit_notices(uow: UnitOfWork, round_: Round, notices: list[UnitNotice]) -> None:
    """Queue each unit's round email (``unit_notices``): its key makes a re-run write none."""
    wanted = [causes.RoundNotice(n.unit_id, list(n.new), dict(n.earlier)) for n in notices]
    causes.queue_round_notices(uow, round_id=round_.id, notices=wanted)


def mark_published(uow: UnitOfWork, round_: Round) -> None:
    """Record when the round was published (the first time only)."""
    if round_.published_at is None:
        round_.published_at = uow.clock.now()
    uow.flush()


def publish_round(
    uow: UnitOfWork, *, round_code: str, actor: str, batch_size: int = 1000
) -> PublicationSummary:
    """The whole publication in one call (what the flow does, without Prefect)."""
    summary = PublicationSummary(round_code=round_code)
    ids = found_case_ids(uow, round_code=round_code)
    for first_id, last_id in batch.id_ranges(ids, size=batch_size):
        result = notify_range(
            uow, round_code=round_code, first_id=first_id, last_id=last_id, actor=actor
        )
        summary.notified += len(result.moved)
        summary.refused += result.refused
    return finish(uow, round_code=round_code, summary=summary)


def finish(uow: UnitOfWork, *, round_code: str, summary: PublicationSummary) -> PublicationSummary:
    """Queue the unit notices, mark the round published, commit; fills ``summary``.

    Cases still found (refused by the notification) are not listed. A round whose notice
    went out before the system (every case notified, none by a publication) keeps its
    history: nobody is mailed, nothing is marked.
    """
    round_ = get_round(uow, round_code)
    notices = unit_notices(uow, round_, waiting=False)
    state = published.of_round(uow, round_)
    if not (state.outside_system and not any(n.new for n in notices)):
        queue_unit_notices(uow, round_, notices)
        summary.cases_per_unit = {n.unit_code: len(n.new) for n in notices}
        mark_published(uow, round_)
    summary.units_mailed = len(summary.cases_per_unit)
    uow.commit()
    day = round_.published_at or state.on
    summary.published_at = day.isoformat() if day else None
    return summary
