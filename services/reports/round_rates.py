"""Pass rates of rounds (合格率) for the dashboard and the trends, by SQL aggregates.

A round's inspected targets per kind, and how many qualified: the office's override where
it set one, else qualified unless the round has a veto case on the target. That is
``rounds.tally``'s rule, counted by the database instead of reading every veto case: a
round with its own recheck (复查, ``blocks.recheck_day``), where a veto case fixed by the
recheck day no longer fails its target, is tallied by ``rounds.tally`` itself. The rates
are written as the round's notice writes them (``stats.rate_settings``), so the dashboard,
the trend and the notice (``figures.kind_stats``) agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import and_, case, func, literal_column, select

from services.core.errors import ValidationFailed
from services.core.uow import UnitOfWork
from services.db.models import Case, Round, Target, Verdict
from services.registry.units import TARGET_KINDS
from services.reports.stats import RATED_KINDS, RateRule, RateSettings, rate_settings
from services.rounds import blocks, rounds

#: (inspected, qualified) per kind.
Figures = dict[str, tuple[int, int]]
#: A veto case, written out as ix_cases_veto_target's WHERE term has it.
VETO = "'veto'"


@dataclass(frozen=True)
class PassRate:
    kind: str
    label: str
    inspected: int
    qualified: int
    rate: Decimal | None
    text: str = "—"  # as the round's notice writes it: 88.88%, 100%, 85%


def kind_figures(uow: UnitOfWork, round_list: Sequence[Round]) -> dict[int, Figures]:
    """(inspected, qualified) per round id and rated kind, every kind present."""
    result = {r.id: dict.fromkeys(RATED_KINDS, (0, 0)) for r in round_list}
    plain = []
    for round_ in round_list:
        if blocks.recheck_day(round_) is None:
            plain.append(round_.id)
            continue
        for kind, t in rounds.tally(uow, round_.code, kinds=RATED_KINDS).items():
            if kind in RATED_KINDS:
                result[round_.id][kind] = (t.inspected, t.qualified)
    if not plain:
        return result
    # The rounds' (round, target) pairs with a veto case: a scan of the partial index
    # ix_cases_veto_target (the literal repeats its WHERE term, so that SQLite uses it).
    vetoed = (
        select(Case.round_id, Case.target_id)
        .where(Case.severity == literal_column(VETO), Case.round_id.in_(plain))
        .distinct()
        .subquery()
    )
    qualified = case(
        (Verdict.qualified_override.is_(True), 1),
        (Verdict.qualified_override.is_(False), 0),
        (vetoed.c.target_id.is_not(None), 0),
        else_=1,
    )
    query = (
        select(Verdict.round_id, Target.kind, func.count(), func.sum(qualified))
        .join(Target, Target.id == Verdict.target_id)
        .outerjoin(
            vetoed,
            and_(vetoed.c.round_id == Verdict.round_id, vetoed.c.target_id == Verdict.target_id),
        )
        .where(
            Verdict.round_id.in_(plain),
            Verdict.inspected.is_(True),
            Target.kind.in_(RATED_KINDS),
        )
        .group_by(Verdict.round_id, Target.kind)
    )
    for round_id, kind, inspected, ok in uow.session.execute(query):
        result[round_id][kind] = (inspected, int(ok or 0))
    return result


def settings_for(uow: UnitOfWork, round_: Round) -> RateSettings:
    """The round's notice rate settings; a round stored with settings a later rule refuses
    (its notice names them) shows the installation's rule here rather than no dashboard."""
    try:
        return rate_settings(uow, round_)
    except ValidationFailed:
        base = RateRule(uow.settings.pass_rate_decimals, uow.settings.pass_rate_rule)
        return RateSettings(default=base)


def pass_rates(figures: Figures, settings: RateSettings) -> list[PassRate]:
    """Each rated kind's figures and rate, written by the round's rule."""
    out = []
    for kind in RATED_KINDS:
        inspected, qualified = figures.get(kind, (0, 0))
        rule = settings.for_kind(kind)
        rate = rule.rate(qualified, inspected)
        text = rule.text(rate, all_qualified=inspected == qualified)
        out.append(PassRate(kind, TARGET_KINDS[kind], inspected, qualified, rate, text))
    return out
