"""A round's statistics for the notice: figures per kind (services.reports.figures), the
new-media inventory, message boards and the previous round's follow-up."""

from __future__ import annotations

from dataclasses import dataclass, field

from services.core.uow import UnitOfWork
from services.db.models import Round
from services.reports.figures import (
    GroupStats,
    KindStats,
    RateRule,
    RateSettings,
    Scope,
    check_options,
    kind_stats,
    notice_options,
    rate_settings,
    scope_of,
)
from services.reports.notice_reads import NoticeReads
from services.rounds import rounds
from states import CaseState

RATED_KINDS = rounds.RATED_KINDS
RATE_RULES = rounds.RATE_RULES
#: The figures per kind live in services.reports.figures; callers import them from here too.
__all__ = [
    "RATED_KINDS",
    "BoardLine",
    "BoardStats",
    "GroupStats",
    "InventoryStats",
    "KindStats",
    "PreviousKind",
    "PreviousStats",
    "RateRule",
    "RateSettings",
    "RoundStats",
    "Scope",
    "board_stats",
    "kind_stats",
    "previous_stats",
    "rate_settings",
    "round_stats",
]


@dataclass(frozen=True)
class BoardLine:
    unit: str
    messages: int
    overdue: int


@dataclass(frozen=True)
class BoardStats:
    platforms: int
    messages: int
    overdue: int
    per_unit: tuple[BoardLine, ...]

    @property
    def overdue_units(self) -> tuple[BoardLine, ...]:
        return tuple(line for line in self.per_unit if line.overdue)


@dataclass(frozen=True)
class InventoryStats:
    registered: int | None
    wechat_closed: int | None
    other_deregistered: int | None


@dataclass(frozen=True)
class PreviousKind:
    kind: str
    problems: int
    rectified: int


@dataclass(frozen=True)
class PreviousStats:
    round_code: str
    period_start_year: int
    quarter: int
    per_kind: tuple[PreviousKind, ...]

    @property
    def problems(self) -> int:
        return sum(k.problems for k in self.per_kind)

    @property
    def rectified(self) -> int:
        return sum(k.rectified for k in self.per_kind)


@dataclass(frozen=True)
class RoundStats:
    round_code: str
    kinds: dict[str, KindStats]
    inventory: InventoryStats
    boards: BoardStats
    previous: PreviousStats | None
    scope: Scope = field(default_factory=Scope)


def board_stats(reads: NoticeReads, round_: Round) -> BoardStats:
    """Message platforms with figures in the round, messages and overdue replies per unit."""
    rows = reads.boards(round_)
    per_unit: dict[str, list[int]] = {}
    for short_name, name, messages, overdue in rows:
        line = per_unit.setdefault(short_name or name, [0, 0])
        line[0] += messages
        line[1] += overdue
    lines = tuple(BoardLine(unit, m, o) for unit, (m, o) in per_unit.items())
    return BoardStats(
        platforms=len(rows),
        messages=sum(line.messages for line in lines),
        overdue=sum(line.overdue for line in lines),
        per_unit=lines,
    )


def previous_stats(reads: NoticeReads, round_: Round) -> PreviousStats | None:
    """The previous round's problem targets per kind, and how many have every case verified."""
    previous = reads.previous(round_)
    if previous is None:
        return None
    before = reads.before()
    tallies = before.tally(previous, RATED_KINDS)
    open_targets = {
        case.target_id for case, *_ in before.cases(previous) if case.state != CaseState.VERIFIED
    }
    per_kind = tuple(
        PreviousKind(
            kind=kind,
            problems=t.unqualified,
            rectified=sum(1 for tid in t.unqualified_target_ids if tid not in open_targets),
        )
        for kind, t in tallies.items()
    )
    return PreviousStats(
        round_code=previous.code,
        period_start_year=previous.period_start.year,
        quarter=(previous.period_start.month - 1) // 3 + 1,
        per_kind=per_kind,
    )


def round_stats(
    uow: UnitOfWork,
    round_code: str,
    *,
    rates: RateSettings | None = None,
    round_: Round | None = None,
    reads: NoticeReads | None = None,
) -> RoundStats:
    """Every figure of a round's notice, computed from the database (``rates`` replaces the
    pass-rate options the round and its issuer hold; ``round_``: the round, already read;
    ``reads``: the rows of its group of rounds)."""
    if round_ is None or round_.code != round_code:
        round_ = rounds.get_round(uow, round_code)
    reads = reads or NoticeReads(uow, [round_])
    options = notice_options(round_)
    check_options(options)
    return RoundStats(
        round_code=round_.code,
        kinds=kind_stats(
            uow,
            round_,
            rates=rates or rate_settings(uow, round_, options=options),
            options=options,
            reads=reads,
        ),
        inventory=InventoryStats(
            registered=round_.nm_registered,
            wechat_closed=round_.nm_wechat_closed,
            other_deregistered=round_.nm_other_deregistered,
        ),
        boards=board_stats(reads, round_),
        previous=previous_stats(reads, round_),
        scope=scope_of(round_),
    )
