"""The notice's block sections (services/rounds/blocks.py) as the sentences' figures and lists:
one view per block the round holds, none for a block it does not."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from services.core import deadlines
from services.core.uow import UnitOfWork
from services.db.models import Round, Target, Unit
from services.reports.lists import Summary, kinds_noun, listed, quoted
from services.reports.notice_reads import NoticeReads
from services.reports.wording import cn_date
from services.rounds import blocks, rounds


@dataclass(frozen=True)
class Named:
    """A registry target or unit as a notice names it."""

    name: str  # quoted for an account: “某某发布”
    unit: str
    kind: str | None


@dataclass(frozen=True)
class RecheckView:
    initial: str  # 2021年5月10日
    recheck: str
    found: int  # problems found at the initial check (the round's cases)
    fixed: int  # of them verified by the recheck day
    unfixed: str  # 某网站（某单位）栏目更新不及时；… (or the first few, 等N个问题)
    unfixed_count: int
    vetoed: int  # targets with a veto problem at the initial check
    failing: str  # those still failing at the recheck, listed ("" when none)
    failing_count: int
    passing: str  # those whose veto problems were all fixed by the recheck
    passing_count: int


@dataclass(frozen=True)
class ReportedTask:
    """Units that reported what they were asked for: 按要求报送<heading>。<units>按要求及时报送<task>"""

    task: str  # 一季度政务新媒体自查报告 (without a closing punctuation mark)
    units: str  # the units, listed (or the first few, 等N个单位)

    @property
    def heading(self) -> str:
        """The task with 情况 after it, once: 自查报告情况, 整改情况 (not 整改情况情况)."""
        return self.task if self.task.endswith("情况") else f"{self.task}情况"


@dataclass(frozen=True)
class CommendationsView:
    praised: str  # 某网站（某单位），理由；… or “甲”“乙”等15个政务新媒体，理由
    praised_noun: str  # 政府网站和政务新媒体
    reported: tuple[ReportedTask, ...]


@dataclass(frozen=True)
class ConsultationView:
    questions: int
    targets: int
    noun: str  # 政府网站
    within_one: str  # 80.00%
    over_five: str
    fast_units: str  # every question answered within 1 working day
    slow_units: str  # a question not answered within 5 working days
    fast: int = 0  # questions answered within 1 working day
    slow: int = 0  # questions not answered within 5 working days
    fast_unit_count: int = 0  # units in fast_units (均 only for more than one)


@dataclass(frozen=True)
class ReprintView:
    deployed: int
    sampled: int
    checked: int
    noun: str
    good: str
    late: str
    missing: str


@dataclass(frozen=True)
class CleanupView:
    task: str
    total: int
    done: int
    pending_count: int
    pending: str  # “甲”（某单位）、“乙”… or “甲”“乙”等35个账号
    summarised: bool


@dataclass(frozen=True)
class BlockViews:
    recheck: RecheckView | None = None
    commendations: CommendationsView | None = None
    consultation: ConsultationView | None = None
    reprint: ReprintView | None = None
    cleanup: CleanupView | None = None

    def present(self) -> tuple[str, ...]:
        """The kinds this round has data for (a section prints only then)."""
        return tuple(kind for kind in blocks.KINDS if getattr(self, kind) is not None)


def block_views(
    uow: UnitOfWork,
    round_: Round,
    *,
    settings: dict[str, Any],
    as_of: date,
    praised: Sequence[tuple[str, str]] = (),
    reads: NoticeReads,
) -> BlockViews:
    """The views of every block the round holds. ``praised`` (target code, reason: the praise
    recorded on the round's verdicts) joins the 通报表扬 block's targets when the round has
    that block, after them and without a target the block names already. ``reads``: the rows
    of the round's group of rounds."""
    stored = {kind: blocks.block_of(round_, kind) for kind in blocks.KINDS}
    if stored["commendations"] and praised:
        stored["commendations"] = _with_praise(stored["commendations"], praised)
    summary = Summary.of(settings)
    names = _Names(uow, stored)
    views: dict[str, Any] = {}
    if stored["recheck"]:
        views["recheck"] = _recheck(reads, round_, stored["recheck"], summary)
    if stored["commendations"]:
        views["commendations"] = _commendations(stored["commendations"], names, summary)
    if stored["consultation"]:
        rate = _rate_rule(uow, settings)
        views["consultation"] = _consultation(stored["consultation"], names, summary, rate, as_of)
    if stored["reprint"]:
        views["reprint"] = _reprint(stored["reprint"], names, summary)
    if stored["cleanup"]:
        views["cleanup"] = _cleanup(stored["cleanup"], names, summary)
    return BlockViews(**views)


def _with_praise(data: dict, praised: Sequence[tuple[str, str]]) -> dict:
    targets = list(data.get("targets") or [])
    named = {t["target"] for t in targets}
    targets += [{"target": code, "reason": reason} for code, reason in praised if code not in named]
    return {**data, "targets": targets}


class _Names:
    """The registry names of every target and unit the blocks refer to, in one query each
    (none when the blocks name none)."""

    def __init__(self, uow: UnitOfWork, stored: dict[str, Any]):
        items = [i for data in stored.values() if data for i in blocks.items_of(data)]
        codes = {i["target"] for i in items if "target" in i}
        units = {i["unit"] for i in items if i.get("unit")}
        self.targets: dict[str, Named] = {}
        self.units: dict[str, str] = {}
        if codes:
            self.targets = {
                code: Named(quoted(account or name, kind), unit, kind)
                for code, name, account, kind, unit in uow.session.execute(
                    select(Target.code, Target.name, Target.account_name, Target.kind, Unit.name)
                    .join(Unit, Unit.id == Target.unit_id)
                    .where(Target.code.in_(codes))
                )
            }
        if units:
            found = uow.session.execute(select(Unit.code, Unit.name).where(Unit.code.in_(units)))
            self.units = dict(found.all())

    def target(self, code: str) -> Named:
        return self.targets.get(code) or Named(code, "", None)

    def unit(self, code: str | None) -> str:
        return self.units.get(code, code or "") if code else ""


def _list(named: list[Named], summary: Summary) -> str:
    return listed([n.name for n in named], summary=summary, noun=kinds_noun(n.kind for n in named))


def _recheck(reads: NoticeReads, round_: Round, data: dict, summary: Summary) -> RecheckView:
    rows = [
        (c.id, c.severity, t.id, t.name, t.account_name, t.kind, u.name, category.name)
        for c, t, u, category in reads.cases(round_)
    ]
    fixed = reads.fixed_at_recheck(round_)
    failing_ids = {
        t for tally in reads.tally(round_).values() for t in tally.unqualified_target_ids
    }
    named: dict[int, Named] = {}
    veto_open: dict[int, bool] = {}
    unfixed = []
    for case_id, severity, target_id, name, account, kind, unit, category in rows:
        named[target_id] = Named(
            quoted(account or name if kind == "new_media" else name, kind), unit, kind
        )
        if case_id not in fixed:
            unfixed.append(f"{name}（{unit}）{category}")
        if severity == "veto":
            veto_open[target_id] = veto_open.get(target_id, False) or case_id not in fixed
    failing = [named[t] for t, still in veto_open.items() if still and t in failing_ids]
    passing = [named[t] for t, still in veto_open.items() if not still]
    return RecheckView(
        initial=cn_date(date.fromisoformat(data["initial"])),
        recheck=cn_date(date.fromisoformat(data["recheck"])),
        found=len(rows),
        fixed=len(rows) - len(unfixed),
        unfixed=_problems(unfixed, summary),
        unfixed_count=len(unfixed),
        vetoed=len(veto_open),
        failing=_list(failing, summary),
        failing_count=len(failing),
        passing=_list(passing, summary),
        passing_count=len(passing),
    )


def _problems(lines: list[str], summary: Summary) -> str:
    if not summary.applies(len(lines)):
        return "；".join(lines)
    return f"{'；'.join(lines[: summary.shown])}等{len(lines)}个问题"


def _commendations(data: dict, names: _Names, summary: Summary) -> CommendationsView:
    praised = [(names.target(p["target"]), p["reason"]) for p in data.get("targets", [])]
    if not summary.applies(len(praised)):
        text = "；".join(f"{n.name}（{n.unit}），{reason}" for n, reason in praised)
    else:  # one clause per reason and kind: “甲”“乙”等15个政务新媒体，信息更新及时
        groups: dict[tuple[str, str | None], list[Named]] = defaultdict(list)
        for n, reason in praised:
            groups[(reason, n.kind)].append(n)
        text = "；".join(
            f"{_list(group, summary) if summary.applies(len(group)) else _with_units(group)}，{reason}"
            for (reason, _), group in groups.items()
        )
    tasks: dict[str, list[str]] = defaultdict(list)
    for item in data.get("reported", []):
        tasks[str(item["task"]).strip().rstrip("。；;，,.")].append(names.unit(item["unit"]))
    reported = tuple(
        ReportedTask(task, listed(units, summary=summary, noun="单位"))
        for task, units in tasks.items()
    )
    noun = kinds_noun(n.kind for n, _ in praised)
    return CommendationsView(praised=text, praised_noun=noun, reported=reported)


def _with_units(named: list[Named]) -> str:
    return "、".join(f"{n.name}（{n.unit}）" for n in named)


def _rate_rule(uow: UnitOfWork, settings: dict[str, Any]) -> tuple[int, str]:
    """The decimals and rule the notice's rates use (its shares are printed alike)."""
    config = settings.get("pass_rate") if isinstance(settings.get("pass_rate"), dict) else {}
    decimals = config.get("decimals", uow.settings.pass_rate_decimals)
    rule = config.get("rule", uow.settings.pass_rate_rule)
    return decimals, rule


def _share(part: int, whole: int, rate: tuple[int, str]) -> str:
    value: Decimal | None = rounds.pass_rate(part, whole, decimals=rate[0], rule=rate[1])
    return f"{value}%"


def _consultation(
    data: dict, names: _Names, summary: Summary, rate: tuple[int, str], as_of: date
) -> ConsultationView:
    fast_by_unit: dict[str, bool] = {}
    slow_units: list[str] = []
    fast = slow = 0
    for q in data["questions"]:
        target = names.target(q["target"])
        asked = date.fromisoformat(q["asked"])
        answered = date.fromisoformat(q["answered"]) if q.get("answered") else None
        one = deadlines.add_days(asked, 1, deadlines.WORKING)
        five = deadlines.add_days(asked, 5, deadlines.WORKING)
        is_fast = answered is not None and answered <= one
        is_slow = (answered or as_of) > five
        fast, slow = fast + is_fast, slow + is_slow
        fast_by_unit[target.unit] = fast_by_unit.get(target.unit, True) and is_fast
        if is_slow and target.unit not in slow_units:
            slow_units.append(target.unit)
    total = len(data["questions"])
    targets = list(dict.fromkeys(q["target"] for q in data["questions"]))
    fast_units = [u for u, ok in fast_by_unit.items() if ok]
    return ConsultationView(
        questions=total,
        targets=len(targets),
        noun=kinds_noun(names.target(t).kind for t in targets),
        within_one=_share(fast, total, rate),
        over_five=_share(slow, total, rate),
        fast_units=listed(fast_units, summary=summary, noun="单位"),
        slow_units=listed(slow_units, summary=summary, noun="单位"),
        fast=fast,
        slow=slow,
        fast_unit_count=len(fast_units),
    )


def _reprint(data: dict, names: _Names, summary: Summary) -> ReprintView:
    by_result: dict[str, list[Named]] = defaultdict(list)
    for item in data.get("results", []):
        by_result[item["result"]].append(names.target(item["target"]))
    listed_targets = [names.target(i["target"]) for i in data.get("results", [])]
    return ReprintView(
        deployed=data["deployed"],
        sampled=data["sampled"],
        checked=data.get("checked", len(listed_targets)),
        noun=kinds_noun(n.kind for n in listed_targets) if listed_targets else "政府网站",
        good=_list(by_result["good"], summary),
        late=_list(by_result["late"], summary),
        missing=_list(by_result["missing"], summary),
    )


def _cleanup(data: dict, names: _Names, summary: Summary) -> CleanupView:
    accounts = data["accounts"]
    pending = [a for a in accounts if not a.get("deregistered")]
    if summary.applies(len(pending)):
        text = listed([f"“{a['name']}”" for a in pending], summary=summary, noun="账号")
    else:
        text = "、".join(
            f"“{a['name']}”" + (f"（{names.unit(a.get('unit'))}）" if a.get("unit") else "")
            for a in pending
        )
    return CleanupView(
        task=data.get("task", ""),
        total=len(accounts),
        done=len(accounts) - len(pending),
        pending_count=len(pending),
        pending=text,
        summarised=summary.applies(len(pending)),
    )
