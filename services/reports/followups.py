"""Beyond the seed: praised targets, units that did not report, problems still unfixed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from services.db.models import Case, Round, Submission, Unit
from services.reports.notice_reads import NoticeReads
from services.rounds import notice_settings
from states import CaseState


@dataclass(frozen=True)
class Praise:
    target: str
    unit: str
    reason: str
    code: str = ""  # the target's code (the 通报表扬 block names targets by it)


@dataclass(frozen=True)
class StillUnfixed:
    case_id: int
    previous_case_id: int
    target: str
    unit: str
    category: str
    previous_round: str


@dataclass(frozen=True)
class Followups:
    praised: tuple[Praise, ...]
    unreported_units: tuple[str, ...]
    still_unfixed: tuple[StillUnfixed, ...]


def praised(reads: NoticeReads, round_: Round) -> tuple[Praise, ...]:
    """Targets the round praises (通报表扬), with the reason recorded on the verdict."""
    return tuple(
        Praise(target, unit, reason.strip(), code)
        for target, unit, reason, code in reads.praised(round_)
        if reason.strip()
    )


def unreported_units(reads: NoticeReads, round_: Round, *, as_of: date) -> tuple[str, ...]:
    """Units with a previous-round case past its deadline, unverified, and no report in time.

    A case a recheck proved fixed (verified) needs no report, so it is not counted.
    """
    uow = reads.uow
    previous = reads.previous(round_)
    if previous is None:
        return ()
    cases = uow.session.execute(
        select(Case.id, Case.deadline, Unit.name)
        .join(Unit, Unit.id == Case.unit_id)
        .where(
            Case.round_id == previous.id,
            Case.deadline.is_not(None),
            Case.deadline < as_of,
            Case.state != CaseState.VERIFIED,
        )
        .order_by(Unit.path, Case.id)
    ).all()
    if not cases:
        return ()
    first_report: dict[int, date] = {}
    for case_id, at in uow.session.execute(
        select(Submission.case_id, Submission.submitted_at).where(
            Submission.case_id.in_([c.id for c in cases])
        )
    ):
        first_report[case_id] = min(at.date(), first_report.get(case_id, at.date()))
    late = [
        unit
        for case_id, deadline, unit in cases
        if case_id not in first_report or first_report[case_id] > deadline
    ]
    return tuple(dict.fromkeys(late))


def still_unfixed(reads: NoticeReads, round_: Round) -> tuple[StillUnfixed, ...]:
    """Problems a recheck found again: this round's cases continuing an earlier case."""
    earlier = reads.earlier_rounds(round_)
    return tuple(
        StillUnfixed(
            case.id, case.previous_case_id, target.name, unit.name, category.name, earlier[pid]
        )
        for case, target, unit, category in reads.cases(round_)
        if (pid := case.previous_case_id) is not None and pid in earlier
    )


#: The paragraphs a notice prints unless its round says otherwise (Round.notice_texts).
PARAGRAPHS = ("praised", "unreported", "still_unfixed")


def printed(round_: Round) -> frozenset[str]:
    """Which follow-up paragraphs the round's notice prints: all, unless the office chose.

    The ``followups`` option (the issuer's, under the round's own) maps a paragraph to false
    to leave it out, as an office may when the problem is already named with its history in
    section 二.
    """
    issuer = round_.issuer.options if round_.issuer is not None else None
    chosen = notice_settings.settings_of(round_.notice_texts, issuer).get("followups") or {}
    return frozenset(p for p in PARAGRAPHS if chosen.get(p, True))


def followups(
    reads: NoticeReads,
    round_: Round,
    *,
    as_of: date,
    printed: frozenset[str] = frozenset(PARAGRAPHS),
) -> Followups:
    """The beyond-the-seed lists of a round's notice, those the round prints (``reads``: the
    rows of its group of rounds)."""
    return Followups(
        praised=praised(reads, round_) if "praised" in printed else (),
        unreported_units=(
            unreported_units(reads, round_, as_of=as_of) if "unreported" in printed else ()
        ),
        still_unfixed=still_unfixed(reads, round_) if "still_unfixed" in printed else (),
    )
