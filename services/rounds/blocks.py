"""A round's data blocks beyond cases (``Round.blocks``): what a notice prints besides problems.

One entry per kind, each checked here (shape by pydantic, references and dates against the
round and the registry) before it is stored; the web form, the import sheets and the demo
scenarios all call ``set_block`` / ``clear_block``, which flush and never commit. Errors are
Chinese and name the block, the item and the field.

Stored shapes (dates as ``YYYY-MM-DD``, codes are registry codes)::

    recheck        初查和复查 (same quarter; a veto problem verified by the recheck date no
                   longer fails its target, see ``fixed_at_recheck``)
                   {"initial": "2021-05-10", "recheck": "2021-06-21"}
    commendations  通报表扬: commended targets with the reason, units that reported a task
                   {"targets": [{"target": "w_city", "reason": "信息发布及时"}],
                    "reported": [{"unit": "yd", "task": "2021年政府网站工作年度报表"}]}
    consultation   模拟咨询: one item per question sent; no ``answered``: never answered
                   {"questions": [{"target": "w_yd", "asked": "2021-05-10",
                                   "answered": "2021-05-11", "question": "如何办理…"}]}
    reprint        重要信息转载: items deployed by the higher level, items sampled, targets
                   checked (default: those listed), each listed target's result
                   {"deployed": 12, "sampled": 5, "checked": 30,
                    "results": [{"target": "w_yd", "result": "good" | "late" | "missing"}]}
    cleanup        清理整合: accounts to be cleaned up, each deregistered or not
                   {"task": "省政府办公厅下发的待核查账号清单",
                    "accounts": [{"name": "某某发布", "unit": "yd", "deregistered": false}]}
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select

from services.core import deadlines
from services.core.errors import NotFound, ValidationFailed
from services.core.uow import UnitOfWork
from services.db.models import Case, CaseEvent, Round, Target, Unit
from services.rounds.block_shapes import (
    FIELD_LABELS,
    KINDS,
    REPRINT_RESULTS,
    SHAPES,
    Cleanup,
    Commendations,
    Consultation,
    Question,
    Recheck,
    Reprint,
    message,
)
from states import CaseState

__all__ = [  # the shapes' names are used from here (KINDS, REPRINT_RESULTS, FIELD_LABELS)
    "FIELD_LABELS",
    "KINDS",
    "REPRINT_RESULTS",
    "References",
    "block_of",
    "clear_block",
    "complaints",
    "fixed_at_recheck",
    "items_of",
    "normalised",
    "problems",
    "recheck_day",
    "references",
    "set_block",
    "stored_problems",
    "where",
]


@dataclass(frozen=True)
class References:
    """What a block may refer to; None skips that check (a stored block read back)."""

    period: tuple[date, date] | None = None
    targets: Mapping[str, str] | None = None  # code → kind
    units: Collection[str] | None = None


Path = tuple[str | int, ...]


def where(kind: str, path: Path) -> str:
    """模拟咨询（consultation）咨询问题第 2 项「答复日期（answered）」"""
    text = f"{KINDS.get(kind, kind)}（{kind}）"
    for n, part in enumerate(path):
        if isinstance(part, int):
            text += f"第 {part + 1} 项"
        elif n + 1 < len(path) and isinstance(path[n + 1], int):
            text += FIELD_LABELS.get(part, part)
        else:
            text += f"「{FIELD_LABELS.get(part, part)}（{part}）」"
    return text


def problems(kind: str, data: Any, refs: References = References()) -> list[tuple[Path, str]]:
    """(path, message) for everything wrong with one block; empty: it may be stored."""
    found = complaints(kind, data, refs)
    if kind not in SHAPES:
        return found
    return [(path, f"{where(kind, path)}{text}") for path, text in found]


def complaints(kind: str, data: Any, refs: References = References()) -> list[tuple[Path, str]]:
    """(path, what is wrong) without naming the block: for a caller that names the place
    itself (an import names the file, row and column)."""
    if kind not in SHAPES:
        shown = "、".join(f"{label}（{code}）" for code, label in KINDS.items())
        return [((), f"没有名为「{str(kind)[:40]}」的通报数据块，可用：{shown}")]
    try:
        model = SHAPES[kind].model_validate(data)
    except ValidationError as exc:
        return [(tuple(e["loc"]), message(e)) for e in exc.errors()]
    return _cross(kind, model, refs)


def _cross(kind: str, model: Any, refs: References) -> list[tuple[Path, str]]:
    """Checks across fields and against the round and the registry."""
    found: list[tuple[Path, str]] = []
    if isinstance(model, Recheck):
        if model.recheck < model.initial:
            found.append((("recheck",), "早于初查日期"))
        if refs.period is not None:
            start, end = refs.period
            for name in ("initial", "recheck"):
                if not start <= getattr(model, name) <= end:
                    found.append(((name,), f"应在本轮次期间（{start}–{end}）"))
    elif isinstance(model, Commendations):
        if not model.targets and not model.reported:
            found.append(((), "至少应有一个表扬对象或报送单位"))
        found += _refs(refs, "targets", [p.target for p in model.targets], unique=True)
        found += _refs(refs, "reported", [r.unit for r in model.reported], field="unit")
    elif isinstance(model, Consultation):
        found += _refs(refs, "questions", [q.target for q in model.questions])
        for i, question in enumerate(model.questions):
            found += _asked(i, question)
    elif isinstance(model, Reprint):
        if model.sampled > model.deployed:
            found.append((("sampled",), f"{model.sampled} 大于部署条数 {model.deployed}"))
        listed = len({r.target for r in model.results})
        if model.checked is not None and model.checked < listed:
            found.append((("checked",), f"{model.checked} 少于列出的对象数 {listed}"))
        found += _refs(refs, "results", [r.target for r in model.results], unique=True)
    elif isinstance(model, Cleanup):
        units = [(i, a.unit) for i, a in enumerate(model.accounts) if a.unit]
        for i, unit in units:
            if refs.units is not None and unit not in refs.units:
                found.append((("accounts", i, "unit"), f"「{unit}」不存在"))
    return found


def _refs(
    refs: References, name: str, codes: list[str], *, field: str = "target", unique: bool = False
) -> list[tuple[Path, str]]:
    known = refs.targets if field == "target" else refs.units
    found, seen = [], set()
    for i, code in enumerate(codes):
        if known is not None and code not in known:
            found.append(((name, i, field), f"「{code}」不存在"))
        if unique and code in seen:
            found.append(((name, i, field), f"「{code}」重复"))
        seen.add(code)
    return found


def _asked(i: int, question: Question) -> list[tuple[Path, str]]:
    if question.answered is not None and question.answered < question.asked:
        return [(("questions", i, "answered"), "早于提问日期")]
    try:
        deadlines.add_days(question.asked, 5, deadlines.WORKING)
    except ValueError as exc:
        return [(("questions", i, "asked"), str(exc))]
    return []


def normalised(kind: str, data: Any) -> dict[str, Any]:
    """The block as stored: JSON types, empty optional fields left out."""
    model = SHAPES[kind].model_validate(data)
    return model.model_dump(mode="json", exclude_none=True)


def stored_problems(stored: Any) -> list[str]:
    """What is wrong with a round's stored blocks (shapes only): refused before a notice."""
    if not isinstance(stored, dict):
        return ["通报数据块（blocks）应为键值表"]
    return [message for kind, data in stored.items() for _, message in problems(kind, data)]


def block_of(round_: Round, kind: str) -> dict[str, Any] | None:
    """The round's block of this kind, or None (a block is stored only when it has data)."""
    return (round_.blocks or {}).get(kind) or None


def references(uow: UnitOfWork, round_: Round, data: Any) -> References:
    """The round's period and the registry codes ``data`` names."""
    targets, units = set(), set()
    for item in items_of(data):
        if isinstance(item.get("target"), str):
            targets.add(item["target"].strip())
        if isinstance(item.get("unit"), str):
            units.add(item["unit"].strip())
    session = uow.session
    return References(
        period=(round_.period_start, round_.period_end),
        targets=dict(
            session.execute(select(Target.code, Target.kind).where(Target.code.in_(targets))).all()
        ),
        units=set(session.scalars(select(Unit.code).where(Unit.code.in_(units)))),
    )


def items_of(data: Any) -> list[dict[str, Any]]:
    """The list items of a block (questions, results, accounts, ...), whatever its kind."""
    if not isinstance(data, dict):
        return []
    return [i for v in data.values() if isinstance(v, list) for i in v if isinstance(i, dict)]


def _round(uow: UnitOfWork, round_code: str) -> Round:
    round_ = uow.session.scalar(select(Round).where(Round.code == round_code))
    if round_ is None:
        raise NotFound(f"检查轮次 {round_code} 不存在")
    return round_


def set_block(uow: UnitOfWork, round_code: str, kind: str, data: Any) -> dict[str, Any]:
    """Store (replace) one block of a round after checking it; returns it as stored."""
    round_ = _round(uow, round_code)
    errors = [m for _, m in problems(kind, data, references(uow, round_, data))]
    if errors:
        raise ValidationFailed([f"检查轮次 {round_code} 的{e}" for e in errors])
    value = normalised(kind, data)
    round_.blocks = {**(round_.blocks or {}), kind: value}
    uow.flush()
    return value


def clear_block(uow: UnitOfWork, round_code: str, kind: str) -> bool:
    """Remove one block from a round (its notice no longer prints it); True if it was there."""
    round_ = _round(uow, round_code)
    if kind not in KINDS:
        raise ValidationFailed([problems(kind, {})[0][1]])
    if kind not in (round_.blocks or {}):
        return False
    round_.blocks = {k: v for k, v in round_.blocks.items() if k != kind}
    uow.flush()
    return True


def recheck_day(round_: Round) -> date | None:
    """The day of the round's own recheck (复查), if it has one."""
    block = block_of(round_, "recheck")
    return date.fromisoformat(block["recheck"]) if block else None


def fixed_at_recheck(uow: UnitOfWork, round_: Round) -> set[int]:
    """Ids of the round's cases verified on or before its recheck day (none without one)."""
    day = recheck_day(round_)
    if day is None:
        return set()
    rows = uow.session.execute(
        select(CaseEvent.case_id, CaseEvent.at)
        .join(Case, Case.id == CaseEvent.case_id)
        .where(Case.round_id == round_.id, CaseEvent.to_state == CaseState.VERIFIED)
    ).all()
    return {case_id for case_id, at in rows if at.astimezone(uow.clock.tz).date() <= day}
