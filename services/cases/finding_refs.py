"""What a finding names — its round, target and category — resolved and checked.

One finding at a time (a person, an import row) asks the database for each name. A batch
(the inspection's findings of a chunk, a detector's 1,000 findings) loads every round,
target (with its unit) and existing case it names in a few queries first (``Known.load``):
opening its cases then costs no lookup per finding.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import select, tuple_
from sqlalchemy.orm import joinedload

from services.core.errors import ValidationFailed
from services.core.uow import UnitOfWork
from services.db import bulk
from services.db.issuer_models import Issuer
from services.db.models import Case, Category, Round, Target
from services.registry import catalogue

if TYPE_CHECKING:
    from services.cases.transitions import Finding

CaseKey = tuple[int, int, str]  # round id, target id, category code


@dataclass
class Known:
    """Rounds and targets by code, and the cases of (round, target, category), of a batch."""

    rounds: dict[str, Round] = field(default_factory=dict)
    targets: dict[str, Target] = field(default_factory=dict)
    cases: dict[CaseKey, Case] = field(default_factory=dict)
    loaded: bool = False

    @classmethod
    def load(cls, uow: UnitOfWork, findings: Iterable[Finding]) -> Known:
        """Everything ``findings`` name, in a few queries."""
        findings = list(findings)
        session = uow.session
        known = cls(loaded=True)
        for codes in bulk.chunked({f.round_code for f in findings}):
            for round_ in session.scalars(
                select(Round)
                .where(Round.code.in_(codes))
                .options(joinedload(Round.issuer).joinedload(Issuer.unit))
            ):
                known.rounds[round_.code] = round_
        for codes in bulk.chunked({f.target_code for f in findings}):
            for target in session.scalars(
                select(Target).where(Target.code.in_(codes)).options(joinedload(Target.unit))
            ):
                known.targets[target.code] = target
        pairs = {
            (known.rounds[f.round_code].id, known.targets[f.target_code].id)
            for f in findings
            if f.round_code in known.rounds and f.target_code in known.targets
        }
        for chunk in bulk.chunked(pairs):
            for case in session.scalars(
                select(Case).where(tuple_(Case.round_id, Case.target_id).in_(chunk))
            ):
                known.cases[(case.round_id, case.target_id, case.category_code)] = case
        return known

    def round(self, uow: UnitOfWork, code: str) -> Round | None:
        if self.loaded:
            return self.rounds.get(code)
        return uow.session.scalar(select(Round).where(Round.code == code))

    def target(self, uow: UnitOfWork, code: str) -> Target | None:
        if self.loaded:
            return self.targets.get(code)
        return uow.session.scalar(select(Target).where(Target.code == code))

    def case(self, uow: UnitOfWork, key: CaseKey) -> Case | None:
        if self.loaded:
            return self.cases.get(key)
        round_id, target_id, category_code = key
        return uow.session.scalar(
            select(Case).where(
                Case.round_id == round_id,
                Case.target_id == target_id,
                Case.category_code == category_code,
            )
        )

    def opened(self, case: Case) -> None:
        """A case opened in the batch: a later finding of the same problem updates it."""
        if self.loaded:
            self.cases[(case.round_id, case.target_id, case.category_code)] = case


def outside(round_: Round, target: Target) -> str | None:
    """Why a round's issuer may not name this target (outside its unit subtree), or None."""
    issuer = round_.issuer
    if issuer is None or target.unit.path.startswith(issuer.unit.path):
        return None
    return (
        f"监测对象 {target.code}（{target.unit.name}）不在发文机关{issuer.name}的管辖范围内，"
        f"不能列入其检查轮次 {round_.code}"
    )


def resolved(
    uow: UnitOfWork, finding: Finding, known: Known
) -> tuple[Round, Target, Category, str]:
    """The finding's round, target, category and severity; every problem refused at once."""
    round_ = known.round(uow, finding.round_code)
    target = known.target(uow, finding.target_code)
    errors = []
    if round_ is None:
        errors.append(f"检查轮次 {finding.round_code} 不存在")
    if target is None:
        errors.append(f"监测对象 {finding.target_code} 不存在")
    category: Category | None = None
    try:
        category = catalogue.resolve(uow, finding.category_code)
    except ValidationFailed as exc:
        errors += exc.errors
    severity = finding.severity or (category.severity if category else None)
    if severity not in ("veto", "deduction") and (category or finding.severity):
        errors.append(f"严重程度 {severity} 无效（应为 veto 或 deduction）")
    if round_ is not None and target is not None and (why := outside(round_, target)):
        errors.append(why)
    if errors:
        raise ValidationFailed(errors)
    return round_, target, category, severity
