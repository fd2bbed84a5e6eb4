"""Rounds (quarters), their verdicts and pass rates (合格率), derived from counts."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import date
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import aliased

from services.core.deadlines import MODE_LABELS, MODES
from services.core.errors import NotFound, ValidationFailed
from services.core.limits import MAX_ID, out_of_range
from services.core.plaintext import invisible
from services.core.uow import UnitOfWork
from services.db import bulk
from services.db.issuer_models import Issuer
from services.db.models import BoardFigure, Case, Round, Target, Unit, Verdict
from services.rounds import blocks, notice_settings

#: Every field of a round as the round form, import files and errors name it.
ROUND_LABELS = {
    "code": "轮次代码",
    "title": "标题",
    "period_start": "开始日期",
    "period_end": "结束日期",
    "notice_date": "通报日期",
    "doc_number": "文号",
    "deadline": "整改期限",
    "deadline_days": "整改天数",
    "deadline_mode": "期限方式",
    "nm_registered": "新增登记新媒体",
    "nm_wechat_closed": "关停注销微信公众号",
    "nm_other_deregistered": "注销其他新媒体",
    "issuer_code": "发文机关代码",
}
#: Rectification days a round may set (a year at most; none: the category's or settings').
DEADLINE_DAYS = (1, 365)
#: The years a round's dates may fall in: later days overflow deadline arithmetic and the
#: working-day calendar.
YEARS = (2000, 2099)
#: How a notice prints a pass rate: decimals, and truncate or round half up.
RATE_DECIMALS = (0, 1, 2)
RATE_RULES = {"round_half_up": "四舍五入", "truncate": "截断"}
RATED_KINDS = ("website", "column", "new_media")


@dataclass(frozen=True)
class RoundSpec:
    code: str
    period_start: date
    period_end: date
    title: str | None = None
    notice_date: date | None = None
    doc_number: str | None = None
    deadline: date | None = None
    deadline_days: int | None = None
    deadline_mode: str | None = None
    nm_registered: int | None = None
    nm_wechat_closed: int | None = None
    nm_other_deregistered: int | None = None
    #: The issuing office's unit code; None: a new round has none, a stored one keeps its own
    #: (``services.rounds.edits.set_round_issuer`` changes or removes it).
    issuer_code: str | None = None

    @classmethod
    def of(cls, round_: Round) -> RoundSpec:
        """The settings a stored round holds (to check rows written before these rules)."""
        values = {f.name: getattr(round_, f.name) for f in fields(cls) if f.name != "issuer_code"}
        issuer = round_.issuer
        return cls(**values, issuer_code=issuer.unit.code if issuer is not None else None)

    def problems(self) -> list[str]:
        """Every problem, in Chinese, each naming its field (see ``field_problems``)."""
        return [message for _, message in self.field_problems()]

    def field_problems(self) -> list[tuple[str, str]]:
        """(field, message) for every value a round may not hold: what every entry point
        (round form, import files, the CLI's imports) refuses before writing anything."""
        found = [*self._text_problems(), *self._date_problems()]
        if self.deadline_mode is not None and self.deadline_mode not in MODES:
            modes = "、".join(f"{m}（{MODE_LABELS[m]}）" for m in MODES)
            found.append(_say("deadline_mode", f"应为 {modes}，而不是「{self.deadline_mode}」"))
        for name in ("deadline_days", "nm_registered", "nm_wechat_closed", "nm_other_deregistered"):
            value = getattr(self, name)
            low, high = DEADLINE_DAYS if name == "deadline_days" else (0, MAX_ID)
            if value is not None and (problem := out_of_range("", value, low, high)):
                found.append(_say(name, problem))
        code = self.issuer_code
        if code is not None and (len(code) > 64 or not code.strip() or invisible(code)):
            found.append(_say("issuer_code", f"「{code[:64]}」不是有效的单位代码"))
        what = f"检查轮次 {str(self.code)[:20]} 的"
        return [(name, f"{what}{text}") for name, text in found]

    def _text_problems(self) -> list[tuple[str, str]]:
        found = []
        if not self.code or re.search(r"[/\\\s?#%]", self.code):
            found.append(_say("code", "不能为空，也不能含有斜杠、空白或 ? # %"))
        for name in ("code", "title", "doc_number"):
            value = getattr(self, name)
            limit = Round.__table__.c[name].type.length
            if value and len(value) > limit:
                found.append(_say(name, f"过长（{len(value)} 字，上限 {limit} 字）"))
            if value and (where := invisible(value)):
                found.append(_say(name, where))
        return found

    def _date_problems(self) -> list[tuple[str, str]]:
        found = []
        for name in ("period_start", "period_end", "notice_date", "deadline"):
            value = getattr(self, name)
            if value is not None and not YEARS[0] <= value.year <= YEARS[1]:
                found.append(_say(name, f"应在 {YEARS[0]}–{YEARS[1]} 年之间：{value.isoformat()}"))
        if self.period_start and self.period_end and self.period_end < self.period_start:
            found.append(("period_end", "结束日期早于开始日期（period_end < period_start）"))
        if self.deadline and self.notice_date and self.deadline < self.notice_date:
            found.append(("deadline", "整改期限早于通报日期（deadline < notice_date）"))
        return found


def _say(name: str, text: str) -> tuple[str, str]:
    return name, f"{ROUND_LABELS[name]}（{name}）{text}"


def setting_problems(notice_texts: Any) -> list[str]:
    """What is wrong with the texts and options a round's notice reads from ``notice_texts``
    (every option and text of ``notice_settings``, each named)."""
    found = rate_problems(notice_texts)
    if not isinstance(notice_texts, dict):
        return found
    checked = dict(notice_texts)
    if found:  # named above in the pass rate's own words: not twice
        checked.pop("pass_rate", None)
    if not isinstance(notice_texts.get("followups") or {}, dict):
        found.append('通报段落设置（followups）应为键值表，如 {"unreported": false}')
        checked.pop("followups", None)
    texts = {k: checked.pop(k) for k in list(checked) if k in notice_settings.TEXTS}
    found += notice_settings.problems(checked, where="通报设置")
    return found + notice_settings.problems(texts, where="通报文本")


def issuer_problems(issuer: Issuer) -> list[str]:
    """What is wrong with an issuing office's stored default texts and options."""
    where = f"发文机关 {issuer.name[:40]} 的"
    return notice_settings.problems(issuer.options or {}, where=f"{where}通报设置") + (
        notice_settings.problems(issuer.texts or {}, where=f"{where}通报文本")
    )


def rate_problems(notice_texts: Any) -> list[str]:
    """What is wrong with a round's pass-rate options (``notice_texts["pass_rate"]``)."""
    if not isinstance(notice_texts, dict):
        return ["通报文本设置（notice_texts）应为键值表"]
    config = notice_texts.get("pass_rate") or {}
    if not isinstance(config, dict):
        return ['合格率设置（pass_rate）应为键值表，如 {"decimals": 2, "rule": "truncate"}']
    found = rate_rule_problems(config, where="pass_rate")
    for kind in RATED_KINDS:
        if kind in config and not isinstance(config[kind], dict):
            found.append(f"合格率设置（pass_rate.{kind}）应为键值表")
        elif kind in config:
            found += rate_rule_problems(config[kind], where=f"pass_rate.{kind}")
    return found


def rate_rule_problems(config: dict, *, where: str) -> list[str]:
    """The decimals and the rule of one pass-rate setting, where given."""
    found = []
    decimals, rule = config.get("decimals", 0), config.get("rule", "truncate")
    if type(decimals) is not int or decimals not in RATE_DECIMALS:
        allowed = "、".join(map(str, RATE_DECIMALS))
        found.append(f"合格率小数位数（{where}.decimals）应为 {allowed}，而不是 {decimals!r:.40}")
    if not isinstance(rule, str) or rule not in RATE_RULES:
        found.append(
            f"合格率取舍规则（{where}.rule）应为 round_half_up 或 truncate，而不是 {rule!r:.40}"
        )
    return found


def check_stored(round_: Round) -> None:
    """Refuse, naming the field, a stored round whose settings a notice or a publication
    cannot use (written before these rules, or around them): never a crash later."""
    errors = RoundSpec.of(round_).problems() + setting_problems(round_.notice_texts)
    errors += blocks.stored_problems(round_.blocks or {})
    if round_.issuer is not None:
        errors += issuer_problems(round_.issuer)
    if errors:
        errors.append(f"请在「检查轮次」页面或导入文件中修改检查轮次 {round_.code[:20]} 的设置")
        raise ValidationFailed(errors)


def upsert_round(uow: UnitOfWork, spec: RoundSpec) -> Round:
    """Create or update a round by code (e.g. 2021Q2); a bad value writes nothing."""
    errors = spec.problems()
    if errors:
        raise ValidationFailed(errors)
    issuer = None
    if spec.issuer_code is not None:
        issuer = issuer_by_code(uow, spec.issuer_code)
        if issuer is None:
            raise ValidationFailed([unknown_issuer(spec)])
    round_ = get_round(uow, spec.code, required=False) or Round(code=spec.code, notice_texts={})
    for name, value in vars(spec).items():
        if name != "issuer_code":  # a column of its own; the issuer is named by its unit code
            setattr(round_, name, value)
    if issuer is not None:
        round_.issuer = issuer
    uow.session.add(round_)
    uow.flush()
    return round_


def unknown_issuer(spec: RoundSpec) -> str:
    return (
        f"检查轮次 {spec.code[:20]} 的发文机关代码（issuer_code）「{str(spec.issuer_code)[:64]}」"
        "不是已登记的发文机关（请先在发文机关表中登记）"
    )


def issuer_by_code(uow: UnitOfWork, unit_code: str) -> Issuer | None:
    """The issuer of the unit with this code, if that unit is an issuer."""
    return uow.session.scalar(
        select(Issuer).join(Unit, Unit.id == Issuer.unit_id).where(Unit.code == unit_code)
    )


def get_round(uow: UnitOfWork, code: str, *, required: bool = True) -> Round | None:
    round_ = uow.session.scalar(select(Round).where(Round.code == code))
    if round_ is None and required:
        raise NotFound(f"检查轮次 {code} 不存在")
    return round_


def previous_round(uow: UnitOfWork, round_: Round) -> Round | None:
    """The same office's round before this one (``previous_round_ids``)."""
    previous_id = previous_round_ids(uow, [round_.id]).get(round_.id)
    return uow.session.get(Round, previous_id) if previous_id is not None else None


def previous_round_ids(uow: UnitOfWork, round_ids: Iterable[int]) -> dict[int, int]:
    """Each round's office's round before it, by round id (rounds without an office: among
    themselves): the latest to start earlier, of two starting the same day the later made.
    A round with none before it is left out. One indexed lookup per round, two statements
    whatever their number (a national recheck asks it for 3,000 rounds)."""
    session, ids = uow.session, list(round_ids)
    earlier = aliased(Round, name="earlier")
    found: dict[int, int] = {}
    for office_less in (False, True):
        same_office = (
            earlier.issuer_id.is_(None) if office_less else earlier.issuer_id == Round.issuer_id
        )
        before = (
            select(earlier.id)
            .where(same_office, earlier.period_start < Round.period_start)
            .order_by(earlier.period_start.desc(), earlier.id.desc())
            .limit(1)
            .correlate(Round)
            .scalar_subquery()
        )
        mine = Round.issuer_id.is_(None) if office_less else Round.issuer_id.is_not(None)
        rows = session.execute(
            select(Round.id, before).where(bulk.ids_in(session, Round.id, ids), mine)
        )
        found.update((round_id, previous) for round_id, previous in rows if previous is not None)
    return found


def set_verdict(
    uow: UnitOfWork,
    *,
    round_code: str,
    target_code: str,
    inspected: bool = True,
    qualified_override: bool | None = None,
    override_reason: str | None = None,
    praise: str | None = None,
) -> Verdict:
    """Record that a target was inspected in a round, with an optional override or praise."""
    round_ = get_round(uow, round_code)
    target = uow.session.scalar(select(Target).where(Target.code == target_code))
    if target is None:
        raise NotFound(f"监测对象 {target_code} 不存在")
    if qualified_override is not None and not (override_reason or "").strip():
        raise ValidationFailed(["人工调整合格判定必须填写理由"])
    verdict = uow.session.scalar(
        select(Verdict).where(Verdict.round_id == round_.id, Verdict.target_id == target.id)
    ) or Verdict(round_id=round_.id, target_id=target.id)
    verdict.inspected = inspected
    verdict.qualified_override = qualified_override
    verdict.override_reason = override_reason
    verdict.praise = praise
    uow.session.add(verdict)
    uow.flush()
    return verdict


def set_board_figure(
    uow: UnitOfWork,
    *,
    round_code: str,
    target_code: str,
    messages_received: int,
    replies_overdue: int,
) -> BoardFigure:
    round_ = get_round(uow, round_code)
    target = uow.session.scalar(select(Target).where(Target.code == target_code))
    if target is None or target.kind != "message_board":
        raise ValidationFailed([f"{target_code} 不是已登记的网民留言平台"])
    if messages_received < 0 or replies_overdue < 0 or replies_overdue > messages_received:
        raise ValidationFailed([f"{target_code} 的留言数或超期数无效"])
    figure = uow.session.scalar(
        select(BoardFigure).where(
            BoardFigure.round_id == round_.id, BoardFigure.target_id == target.id
        )
    ) or BoardFigure(round_id=round_.id, target_id=target.id)
    figure.messages_received = messages_received
    figure.replies_overdue = replies_overdue
    uow.session.add(figure)
    uow.flush()
    return figure


@dataclass(frozen=True)
class KindTally:
    kind: str
    inspected: int
    unqualified: int
    unqualified_target_ids: tuple[int, ...]

    @property
    def qualified(self) -> int:
        return self.inspected - self.unqualified


def tally(uow: UnitOfWork, round_code: str, *, kinds: tuple[str, ...] = ()) -> dict[str, KindTally]:
    """Inspected and unqualified targets per kind of the round (``tally_of``).

    Every kind in ``kinds`` is present in the result, with zeros if nothing was inspected.
    """
    round_ = get_round(uow, round_code)
    session = uow.session
    veto_cases = session.execute(
        select(Case.id, Case.target_id).where(Case.round_id == round_.id, Case.severity == "veto")
    ).all()
    verdicts = session.execute(
        select(Verdict.target_id, Verdict.qualified_override, Target.kind)
        .join(Target, Target.id == Verdict.target_id)
        .where(Verdict.round_id == round_.id, Verdict.inspected.is_(True))
    ).all()
    return tally_of(verdicts, veto_cases, blocks.fixed_at_recheck(uow, round_), kinds=kinds)


def tally_of(
    verdicts: Iterable[tuple[int, bool | None, str]],
    veto_cases: Iterable[tuple[int, int]],
    fixed: set[int],
    *,
    kinds: tuple[str, ...] = (),
) -> dict[str, KindTally]:
    """The rule of a round's pass rate, from its rows: each inspected target (its verdict:
    target id, override, kind) is qualified unless it has a veto case (case id, target id)
    still there — a round with its own recheck (复查) fails a target only for what was not
    ``fixed`` then — and an override (either way) decides over the cases."""
    vetoed = {target_id for case_id, target_id in veto_cases if case_id not in fixed}
    per_kind: dict[str, list[tuple[int, bool]]] = {kind: [] for kind in kinds}
    for target_id, override, kind in verdicts:
        qualified = override if override is not None else target_id not in vetoed
        per_kind.setdefault(kind, []).append((target_id, qualified))
    return {
        kind: KindTally(
            kind=kind,
            inspected=len(items),
            unqualified=sum(1 for _, ok in items if not ok),
            unqualified_target_ids=tuple(sorted(t for t, ok in items if not ok)),
        )
        for kind, items in per_kind.items()
    }


def pass_rate(
    qualified: int, inspected: int, *, decimals: int = 2, rule: str = "round_half_up"
) -> Decimal | None:
    """合格率 in percent: qualified ÷ inspected × 100, truncated or rounded half up."""
    if inspected == 0:
        return None
    if rule not in RATE_RULES:
        raise ValueError(f"unknown pass-rate rule {rule!r}")
    value = Decimal(qualified) * 100 / Decimal(inspected)
    quantum = Decimal(1).scaleb(-decimals)
    return value.quantize(quantum, rounding=ROUND_DOWN if rule == "truncate" else ROUND_HALF_UP)
