"""A round's figures per target kind, as its notice prints them.

Per kind: in operation (registered operating targets in the round's scope, or the office's
``kinds.operating``), inspected (its verdicts), census (普查) or sample (抽查) and the share
inspected, qualified and unqualified, problem targets, and the pass rate in the office's
format; optionally the same figures per unit group (``groups``). Every option is read from
the one catalogue, ``services.rounds.notice_settings``: the issuer's defaults, the round's
own on top, a kind's value over the general one, the installation settings under all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from services.core.errors import ValidationFailed
from services.core.uow import UnitOfWork
from services.db.models import Round
from services.reports.notice_reads import NoticeReads
from services.rounds import notice_settings, rounds

RATED_KINDS = rounds.RATED_KINDS
#: The options these figures read (top-level keys of the merged notice settings).
FIGURE_OPTIONS = ("pass_rate", "kinds", "groups")
#: The words for the issuer's area and its own departments, by the issuer's level; a round
#: without an issuer speaks as a city office.
SCOPE_WORDS = {
    "province": ("全省", "省级部门"),
    "city": ("全市", "市级部门"),
    "county": ("全县", "县级部门"),
}


@dataclass(frozen=True)
class RateRule:
    """How a pass rate is printed: decimals (0, 1 or 2), truncate or round half up, whether
    it is printed at all, and how the office writes it when every target qualified."""

    decimals: int = 2
    rule: str = "round_half_up"
    shown: bool = True
    hundred: str | None = None  # e.g. "100%" even with two decimals

    def rate(self, qualified: int, inspected: int) -> Decimal | None:
        return rounds.pass_rate(qualified, inspected, decimals=self.decimals, rule=self.rule)

    def text(self, rate: Decimal | None, *, all_qualified: bool) -> str:
        if rate is None:
            return "—"
        if all_qualified and self.hundred:
            return self.hundred
        return f"{rate}%"


@dataclass(frozen=True)
class RateSettings:
    """The notice's pass-rate rule, with per-kind overrides (the seed mixes both rules)."""

    default: RateRule = field(default_factory=RateRule)
    per_kind: dict[str, RateRule] = field(default_factory=dict)

    def for_kind(self, kind: str) -> RateRule:
        return self.per_kind.get(kind, self.default)


@dataclass(frozen=True)
class Scope:
    """How the notice names the issuer's area (全市) and its own departments (市级部门)."""

    area: str = "全市"
    departments: str = "市级部门"


class _Rated:
    """Qualified count and printed rate of a line of figures (a kind, or a group in it)."""

    inspected: int
    unqualified: int
    rate: Decimal | None
    format: RateRule

    @property
    def qualified(self) -> int:
        return self.inspected - self.unqualified

    @property
    def rate_text(self) -> str:
        return self.format.text(self.rate, all_qualified=self.unqualified == 0)

    @property
    def show_rate(self) -> bool:
        return self.format.shown


@dataclass(frozen=True)
class GroupStats(_Rated):
    """One unit group's figures inside its kind's total (e.g. 县（区）政府门户网站)."""

    heading: str
    inspected: int
    unqualified: int
    rate: Decimal | None
    format: RateRule = field(default_factory=RateRule)


@dataclass(frozen=True)
class KindStats(_Rated):
    kind: str
    inspected: int
    unqualified: int
    rate: Decimal | None
    unqualified_target_ids: tuple[int, ...]
    operating: int = 0
    survey: str = "census"  # census (普查) | sample (抽查)
    share: Decimal | None = None  # of the operating targets a sample inspected, in percent
    counts: bool = True  # the notice prints in operation / inspected / qualified
    problem_targets: int = 0  # inspected targets with a case in the round, or unqualified
    groups: tuple[GroupStats, ...] = ()
    format: RateRule = field(default_factory=RateRule)
    problems_counted: str = "all"  # what 发现问题网站N个 counts: all | unqualified

    @property
    def found(self) -> int:
        """The N of 发现问题网站N个: every target with a problem, or (the office's choice)
        only the unqualified."""
        return self.unqualified if self.problems_counted == "unqualified" else self.problem_targets

    @property
    def found_also_qualified(self) -> bool:
        """Some target with a problem still qualified (deductions only): the notice says how
        many of those it found are unqualified (其中不合格网站M个)."""
        return self.found != self.unqualified

    @property
    def sampled(self) -> bool:
        return self.survey == "sample"

    @property
    def share_text(self) -> str:
        return "" if self.share is None else f"{self.share}%"

    @property
    def printed_groups(self) -> tuple[GroupStats, ...]:
        """The groups the notice prints: a group with nothing inspected is left out."""
        return tuple(g for g in self.groups if g.inspected)


def notice_options(round_: Round) -> dict[str, Any]:
    """The options a round's notice uses: its issuer's, the round's own on top."""
    issuer = getattr(round_, "issuer", None)
    texts = round_.notice_texts if isinstance(round_.notice_texts, dict) else {}
    options = issuer.options if issuer is not None and isinstance(issuer.options, dict) else None
    return notice_settings.settings_of(texts, options)


def check_options(options: dict[str, Any]) -> None:
    """Refuse, naming each, stored figure options the catalogue does not accept."""
    errors = notice_settings.problems({k: options[k] for k in FIGURE_OPTIONS if k in options})
    if errors:
        raise ValidationFailed(errors)


def rate_settings(
    uow: UnitOfWork, round_: Round, *, options: dict[str, Any] | None = None
) -> RateSettings:
    """Installation settings, then the issuer's ``pass_rate``, then the round's, each kind's
    own value over the general one: ``{"decimals": 2, "website": {"rule": "truncate"}}``."""
    base = RateRule(uow.settings.pass_rate_decimals, uow.settings.pass_rate_rule)
    errors = rounds.rate_rule_problems(
        {"decimals": base.decimals, "rule": base.rule}, where="pass_rate"
    )
    if errors:
        raise ValidationFailed(errors)
    options = notice_options(round_) if options is None else options
    check_options(options)
    config = _mapping(options.get("pass_rate"))
    default = _rule(config, base)
    per_kind = {
        kind: _rule(config[kind], default)
        for kind in RATED_KINDS
        if isinstance(config.get(kind), dict)
    }
    return RateSettings(default=default, per_kind=per_kind)


def _rule(config: dict[str, Any], base: RateRule) -> RateRule:
    return RateRule(
        decimals=config.get("decimals", base.decimals),
        rule=config.get("rule", base.rule),
        shown=config.get("print", base.shown),
        hundred=config.get("hundred", base.hundred),
    )


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def kind_option(options: dict[str, Any], kind: str, name: str) -> Any:
    """A ``kinds`` option for one kind: its own value, else the general one, else None."""
    kinds = _mapping(options.get("kinds"))
    own = _mapping(kinds.get(kind))
    return own[name] if name in own else kinds.get(name)


def scope_of(round_: Round) -> Scope:
    """The words for the round's area: its issuer's level (全省, 全市, 全县); none: 全市."""
    issuer = getattr(round_, "issuer", None)
    area, departments = SCOPE_WORDS.get(issuer.level if issuer else "city", SCOPE_WORDS["city"])
    return Scope(area=area, departments=departments)


def share(inspected: int, operating: int, rule: RateRule | None = None) -> Decimal | None:
    """The percentage of the operating targets a sample inspected, to the decimals and by the
    rule of the kind's pass rate (none without a population larger than the sample: a sample
    of every target has no share worth printing)."""
    if operating <= inspected:
        return None
    rule = rule or RateRule()
    return rounds.pass_rate(inspected, operating, decimals=rule.decimals, rule=rule.rule)


def kind_stats(
    uow: UnitOfWork,
    round_: Round,
    *,
    rates: RateSettings,
    options: dict[str, Any] | None = None,
    reads: NoticeReads | None = None,
) -> dict[str, KindStats]:
    """Every figure per kind, with the printed pass rate in the office's format (``reads``:
    the rows of the round's group of rounds)."""
    reads = reads or NoticeReads(uow, [round_])
    options = notice_options(round_) if options is None else options
    tallies = reads.tally(round_, RATED_KINDS)
    registered = reads.operating(round_)
    problems = problem_counts(reads, round_, tallies)
    groups = group_stats(reads, round_, options=options, rates=rates, tallies=tallies)
    result = {}
    for kind, t in tallies.items():
        fmt = rates.for_kind(kind)
        operating = kind_option(options, kind, "operating")
        operating = registered.get(kind, 0) if operating is None else operating
        survey = kind_option(options, kind, "survey")
        survey = survey or ("sample" if t.inspected < operating else "census")
        counts = kind_option(options, kind, "counts")
        counted = kind_option(options, kind, "problems")
        result[kind] = KindStats(
            kind=kind,
            inspected=t.inspected,
            unqualified=t.unqualified,
            rate=fmt.rate(t.qualified, t.inspected),
            unqualified_target_ids=t.unqualified_target_ids,
            operating=operating,
            survey=survey,
            share=share(t.inspected, operating, fmt) if survey == "sample" else None,
            counts=True if counts is None else counts,
            problem_targets=problems.get(kind, 0),
            groups=groups.get(kind, ()),
            format=fmt,
            problems_counted=counted or "all",
        )
    return result


def problem_counts(
    reads: NoticeReads, round_: Round, tallies: dict[str, rounds.KindTally]
) -> dict[str, int]:
    """Inspected targets per kind with a problem: a case in the round (a deduction too, not
    only a veto), or unqualified by the office's own verdict."""
    inspected = {target_id for target_id, _, _ in reads.inspected(round_)}
    found: dict[str, set[int]] = {k: set(t.unqualified_target_ids) for k, t in tallies.items()}
    for case, target, _, _ in reads.cases(round_):
        if case.target_id in inspected:
            found.setdefault(target.kind, set()).add(case.target_id)
    return {kind: len(ids) for kind, ids in found.items()}


def group_stats(
    reads: NoticeReads,
    round_: Round,
    *,
    options: dict[str, Any],
    rates: RateSettings,
    tallies: dict[str, rounds.KindTally],
) -> dict[str, tuple[GroupStats, ...]]:
    """Each kind's unit groups (``groups``): a group names unit kinds (county_gov) or unit
    codes (a unit and its subtree); its figures count inside the kind's total."""
    config = _mapping(options.get("groups"))
    wanted = {kind: config[kind] for kind in RATED_KINDS if isinstance(config.get(kind), list)}
    if not wanted:
        return {}
    rows = reads.units_inspected(round_)
    result = {}
    for kind, groups in wanted.items():
        failed = set(tallies[kind].unqualified_target_ids)
        fmt = rates.for_kind(kind)
        lines = []
        for group in groups:
            items = set(group["items"])
            members = [
                target_id
                for target_id, target_kind, unit_kind, path in rows
                if target_kind == kind and _in_group(unit_kind, path, items)
            ]
            unqualified = sum(1 for target_id in members if target_id in failed)
            lines.append(
                GroupStats(
                    heading=group["heading"],
                    inspected=len(members),
                    unqualified=unqualified,
                    rate=fmt.rate(len(members) - unqualified, len(members)),
                    format=fmt,
                )
            )
        result[kind] = tuple(lines)
    return result


def _in_group(unit_kind: str, path: str, items: set[str]) -> bool:
    """A target's unit is in a group by its kind, or by lying in a named unit's subtree."""
    return unit_kind in items or any(f"/{item}/" in path for item in items)
