"""Rounds (quarters), their verdicts and pass rates (合格率), derived from counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from sqlalchemy import select

from services.core.errors import NotFound, ValidationFailed
from services.core.uow import UnitOfWork
from services.db.models import BoardFigure, Case, Round, Target, Verdict


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


def upsert_round(uow: UnitOfWork, spec: RoundSpec) -> Round:
    """Create or update a round by code (e.g. 2021Q2)."""
    if spec.period_end < spec.period_start:
        raise ValidationFailed([f"检查轮次 {spec.code} 的结束日期早于开始日期"])
    round_ = get_round(uow, spec.code, required=False) or Round(code=spec.code, notice_texts={})
    for name, value in vars(spec).items():
        setattr(round_, name, value)
    uow.session.add(round_)
    uow.flush()
    return round_


def get_round(uow: UnitOfWork, code: str, *, required: bool = True) -> Round | None:
    round_ = uow.session.scalar(select(Round).where(Round.code == code))
    if round_ is None and required:
        raise NotFound(f"检查轮次 {code} 不存在")
    return round_


def previous_round(uow: UnitOfWork, round_: Round) -> Round | None:
    return uow.session.scalar(
        select(Round)
        .where(Round.period_start < round_.period_start)
        .order_by(Round.period_start.desc())
        .limit(1)
    )


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
    """Inspected and unqualified targets per kind: veto cases fail a target unless overridden.

    Every kind in ``kinds`` is present in the result, with zeros if nothing was inspected.
    """
    round_ = get_round(uow, round_code)
    session = uow.session
    vetoed = set(
        session.scalars(
            select(Case.target_id).where(Case.round_id == round_.id, Case.severity == "veto")
        )
    )
    rows = session.execute(
        select(Verdict.target_id, Verdict.qualified_override, Target.kind)
        .join(Target, Target.id == Verdict.target_id)
        .where(Verdict.round_id == round_.id, Verdict.inspected.is_(True))
    ).all()
    per_kind: dict[str, list[tuple[int, bool]]] = {kind: [] for kind in kinds}
    for target_id, override, kind in rows:
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
    if rule not in ("round_half_up", "truncate"):
        raise ValueError(f"unknown pass-rate rule {rule!r}")
    value = Decimal(qualified) * 100 / Decimal(inspected)
    quantum = Decimal(1).scaleb(-decimals)
    return value.quantize(quantum, rounding=ROUND_DOWN if rule == "truncate" else ROUND_HALF_UP)
