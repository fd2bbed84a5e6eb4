"""The problem-category catalogue: seeded from data, extended by supervisors.

Seeding (``ensure_seeded``, run by ``rectify db upgrade``) only ADDS the seed categories
(``categories.yaml``) the database lacks: a category that already exists is never
overwritten, so the office's edits win, and a seeded category the office deleted comes
back at the next upgrade. A category's ``check`` must name a registered automated check
(``services/checks/kinds``) or be empty (a supervisor verifies).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import yaml
from sqlalchemy import select

from services.checks.base import names as check_names
from services.checks.model import MANUAL
from services.core.deadlines import MODES
from services.core.errors import ValidationFailed
from services.core.uow import UnitOfWork
from services.db.models import Category

TARGET_KINDS = ("website", "column", "new_media", "message_board", "any")
SEVERITIES = ("veto", "deduction")


@dataclass(frozen=True)
class CategorySpec:
    code: str
    name: str
    target_kind: str
    severity: str
    deadline_days: int | None = None
    deadline_mode: str | None = None
    check: str | None = None
    rule: str | None = None
    notice_heading: str | None = None
    sort_order: int = 100

    def problems(self) -> list[str]:
        errors = []
        if not self.code or not self.code.replace("_", "").isalnum() or not self.code.isascii():
            errors.append(f"类别代码「{self.code}」只能由字母、数字和下划线组成")
        if not self.name:
            errors.append(f"类别 {self.code} 缺少中文名称")
        if self.target_kind not in TARGET_KINDS:
            errors.append(f"类别 {self.code} 的对象类型「{self.target_kind}」无效")
        if self.severity not in SEVERITIES:
            errors.append(
                f"类别 {self.code} 的严重程度「{self.severity}」无效（veto 或 deduction）"
            )
        if self.deadline_mode is not None and self.deadline_mode not in MODES:
            errors.append(f"类别 {self.code} 的期限方式「{self.deadline_mode}」无效")
        if self.deadline_days is not None and self.deadline_days <= 0:
            errors.append(f"类别 {self.code} 的整改期限天数必须为正数")
        if self.check is not None and self.check != MANUAL and self.check not in check_names():
            errors.append(
                f"类别 {self.code} 的自动检查「{self.check}」不存在，可用的自动检查："
                f"{'、'.join(check_names())}（不填表示由督查人员人工核实）"
            )
        return errors


def seed_specs() -> list[CategorySpec]:
    text = resources.files("services.registry").joinpath("categories.yaml").read_text("utf-8")
    return [CategorySpec(**row) for row in yaml.safe_load(text)]


def upsert_categories(uow: UnitOfWork, specs: list[CategorySpec]) -> int:
    """Add or update (overwrite) categories; all are validated first: a bad one writes nothing.

    Seeding never calls this with a category that exists: see ``ensure_seeded``.
    """
    errors = [problem for spec in specs for problem in spec.problems()]
    if errors:
        raise ValidationFailed(errors)
    existing = {c.code: c for c in uow.session.scalars(select(Category))}
    for spec in specs:
        category = existing.get(spec.code) or Category(code=spec.code)
        for field_name, value in vars(spec).items():
            setattr(category, field_name, value)
        uow.session.add(category)
    uow.flush()
    return len(specs)


def ensure_seeded(uow: UnitOfWork) -> int:
    """Add the seed categories that are missing; an existing category is left as it is.

    Returns how many were added. The office's edits win over the seed: a renamed or
    re-timed seeded category keeps its edits, a deleted one is added again.
    """
    have = set(uow.session.scalars(select(Category.code)))
    missing = [spec for spec in seed_specs() if spec.code not in have]
    return upsert_categories(uow, missing) if missing else 0
