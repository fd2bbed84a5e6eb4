"""A round's statistics for the notice: pass rates per kind, inventory, message boards."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select

from services.core.errors import ValidationFailed
from services.core.uow import UnitOfWork
from services.db.models import BoardFigure, Case, Round, Target, Unit
from services.rounds import rounds
from states import CaseState

RATED_KINDS = rounds.RATED_KINDS
RATE_RULES = rounds.RATE_RULES


@dataclass(frozen=True)
class RateRule:
    """How a pass rate is printed: decimals (0, 1 or 2) and truncate or round half up."""

    decimals: int = 2
    rule: str = "round_half_up"


@dataclass(frozen=True)
class RateSettings:
    """The notice's pass-rate rule, with per-kind overrides (the seed mixes both rules)."""

    default: RateRule = field(default_factory=RateRule)
    per_kind: dict[str, RateRule] = field(default_factory=dict)

    def for_kind(self, kind: str) -> RateRule:
        return self.per_kind.get(kind, self.default)


def rate_settings(uow: UnitOfWork, round_: Round) -> RateSettings:
    """Settings' defaults, overridden by the round's ``notice_texts["pass_rate"]``.

    Example: ``{"decimals": 2, "rule": "round_half_up", "website": {"rule": "truncate"}}``.
    """
    base = RateRule(uow.settings.pass_rate_decimals, uow.settings.pass_rate_rule)
    errors = rounds.rate_problems(round_.notice_texts or {})
    if errors:
        raise ValidationFailed(errors)
    config = (round_.notice_texts or {}).get("pass_rate") or {}
    default = _rule(config, base, where="pass_rate")
    per_kind = {
        kind: _rule(config[kind], default, where=f"pass_rate.{kind}")
        for kind in RATED_KINDS
        if isinstance(config.get(kind), dict)
    }
    return RateSettings(default=default, per_kind=per_kind)


def _rule(config: dict, base: RateRule, *, where: str) -> RateRule:
    decimals = config.get("decimals", base.decimals)
    rule = config.get("rule", base.rule)
    errors = rounds.rate_rule_problems({"decimals": decimals, "rule": rule}, where=where)
    if errors:
        raise ValidationFailed(errors)
    return RateRule(decimals=decimals, rule=rule)


@dataclass(frozen=True)
class KindStats:
    kind: str
    inspected: int
    unqualified: int
    rate: Decimal | None
    unqualified_target_ids: tuple[int, ...]

    @property
    def qualified(self) -> int:
        return self.inspected - self.unqualified

    @property
    def rate_text(self) -> str:
        return "—" if self.rate is None else f"{self.rate}%"


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


def kind_stats(uow: UnitOfWork, round_: Round, *, rates: RateSettings) -> dict[str, KindStats]:
    """Inspected, unqualified and the printed pass rate per kind."""
    tallies = rounds.tally(uow, round_.code, kinds=RATED_KINDS)
    result = {}
    for kind, t in tallies.items():
        rule = rates.for_kind(kind)
        rate = rounds.pass_rate(t.qualified, t.inspected, decimals=rule.decimals, rule=rule.rule)
        result[kind] = KindStats(kind, t.inspected, t.unqualified, rate, t.unqualified_target_ids)
    return result


def board_stats(uow: UnitOfWork, round_: Round) -> BoardStats:
    """Message platforms with figures in the round, messages and overdue replies per unit."""
    rows = uow.session.execute(
        select(
            Unit.short_name, Unit.name, BoardFigure.messages_received, BoardFigure.replies_overdue
        )
        .join(Target, Target.id == BoardFigure.target_id)
        .join(Unit, Unit.id == Target.unit_id)
        .where(BoardFigure.round_id == round_.id)
        .order_by(Target.id)
    ).all()
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


def previous_stats(uow: UnitOfWork, round_: Round) -> PreviousStats | None:
    """The previous round's problem targets per kind, and how many have every case verified."""
    previous = rounds.previous_round(uow, round_)
    if previous is None:
        return None
    tallies = rounds.tally(uow, previous.code, kinds=RATED_KINDS)
    open_targets = set(
        uow.session.scalars(
            select(Case.target_id).where(
                Case.round_id == previous.id, Case.state != CaseState.VERIFIED
            )
        )
    )
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
    uow: UnitOfWork, round_code: str, *, rates: RateSettings | None = None
) -> RoundStats:
    """Every figure of a round's notice, computed from the database."""
    round_ = rounds.get_round(uow, round_code)
    return RoundStats(
        round_code=round_.code,
        kinds=kind_stats(uow, round_, rates=rates or rate_settings(uow, round_)),
        inventory=InventoryStats(
            registered=round_.nm_registered,
            wechat_closed=round_.nm_wechat_closed,
            other_deregistered=round_.nm_other_deregistered,
        ),
        boards=board_stats(uow, round_),
        previous=previous_stats(uow, round_),
    )
