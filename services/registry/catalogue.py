"""The problem-category catalogue: seeded from data, extended and edited by supervisors.

Seeding (``ensure_seeded``, run by ``rectify db upgrade``) only ADDS the seed categories
(``categories.yaml``) the database lacks: a category that already exists is never
overwritten, so the office's edits win, and a seeded category the office deleted comes
back at the next upgrade. A category is never deleted from here: it is retired (kept for
the cases that name it, offered for no new finding). A category's ``check`` must name a
registered automated check (``services/checks/kinds``) or be empty (a supervisor verifies).

Target kinds are stored as ``Category.target_kind`` (one kind, or ``any``) and
``Category.target_kinds`` (the list, when more than one); ``kinds_of`` reads both, so rows
written before the list existed keep working.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from importlib import resources
from typing import Any

import yaml
from sqlalchemy import select

from services.checks.base import label_of
from services.checks.base import names as check_names
from services.core.deadlines import MODE_LABELS
from services.core.errors import NotFound, ValidationFailed
from services.core.uow import UnitOfWork
from services.db.models import Category
from services.registry.category_spec import (
    ALL_KINDS,
    CATEGORY_LABELS,
    SEVERITY_LABELS,
    CategorySpec,
    kinds_label,
    ordered_kinds,
    spec_fields,
    with_wording,
)
from services.registry.units import TARGET_KINDS

__all__ = [
    "CATEGORY_LABELS",
    "CategorySpec",
    "CategoryView",
    "add_category",
    "applies_to",
    "edit_category",
    "ensure_seeded",
    "kinds_of",
    "list_categories",
    "resolve",
    "seed_specs",
    "set_retired",
    "spec_problems",
    "upsert_categories",
]
ANY = "any"


def kinds_of(category: Category) -> tuple[str, ...]:
    """The kinds a stored category applies to; empty: every kind."""
    if category.target_kinds:
        return ordered_kinds(category.target_kinds)
    return () if category.target_kind in (ANY, None) else (category.target_kind,)


def applies_to(category: Category, kind: str) -> bool:
    kinds = kinds_of(category)
    return not kinds or kind in kinds


def spec_of(category: Category) -> CategorySpec:
    """The settings a stored category holds."""
    values = {name: getattr(category, name) for name in spec_fields() if name != "target_kinds"}
    values["wording"] = dict(category.wording or {})
    values["retired"] = bool(category.retired)
    values["sort_order"] = category.sort_order if category.sort_order is not None else 100
    return CategorySpec(**values, target_kinds=kinds_of(category))


def spec_from_mapping(row: dict[str, Any]) -> CategorySpec:
    """A spec from a YAML mapping: ``target_kind: website`` (or ``any``) or
    ``target_kinds: [website, column]``."""
    values = dict(row)
    single = values.pop("target_kind", None)
    kinds = values.pop("target_kinds", None) or ([] if single in (None, ANY) else [single])
    return CategorySpec(**values).changed(target_kinds=tuple(kinds))


def seed_specs() -> list[CategorySpec]:
    text = resources.files("services.registry").joinpath("categories.yaml").read_text("utf-8")
    return [spec_from_mapping(row) for row in yaml.safe_load(text)]


def _write(category: Category, spec: CategorySpec) -> None:
    for name in spec_fields():
        if name not in ("target_kinds", "wording"):
            setattr(category, name, getattr(spec, name))
    kinds = ordered_kinds(spec.target_kinds)
    category.target_kind = kinds[0] if len(kinds) == 1 else ANY
    category.target_kinds = list(kinds) if len(kinds) > 1 else []
    category.wording = {k: dict(v) for k, v in spec.wording.items()}


def _name_problems(uow: UnitOfWork, specs: list[CategorySpec]) -> list[str]:
    """Names are unique: against each other and against the categories not being written."""
    writing = {spec.code for spec in specs}
    taken = {
        name: code
        for code, name in uow.session.execute(select(Category.code, Category.name))
        if code not in writing
    }
    found = []
    for spec in specs:
        other = taken.setdefault(spec.name, spec.code)
        if other != spec.code:
            found.append(f"{CATEGORY_LABELS['name']}「{spec.name}」已被类别 {other} 使用")
    return found


def spec_problems(
    uow: UnitOfWork, spec: CategorySpec, *, adding: bool = False
) -> list[tuple[str, str]]:
    """(field, message) for everything that stops ``spec`` being stored: its own values, a
    name another category holds and, when ``adding``, a code that is taken."""
    found = spec.field_problems()
    code_read = not any(name == "code" for name, _ in found)  # never query a refused code
    if adding and code_read and uow.session.get(Category, spec.code) is not None:
        found.append(("code", _code_taken(spec.code)))
    return found + [("name", problem) for problem in _name_problems(uow, [spec])]


def _code_taken(code: str) -> str:
    return f"{CATEGORY_LABELS['code']}「{code}」已存在，修改请用编辑"


def upsert_categories(uow: UnitOfWork, specs: list[CategorySpec]) -> int:
    """Add or update (overwrite) categories; all are validated first: a bad one writes nothing.

    Seeding never calls this with a category that exists: see ``ensure_seeded``.
    """
    errors = [problem for spec in specs for problem in spec.problems()]
    errors += _name_problems(uow, specs)
    if errors:
        raise ValidationFailed(errors)
    codes = [spec.code for spec in specs]
    existing = {
        c.code: c for c in uow.session.scalars(select(Category).where(Category.code.in_(codes)))
    }
    for spec in specs:
        category = existing.get(spec.code) or Category(code=spec.code)
        _write(category, spec)
        uow.session.add(category)
    uow.flush()
    return len(specs)


def ensure_seeded(uow: UnitOfWork) -> int:
    """Add the seed categories that are missing; an existing category is left as it is.

    Returns how many were added. The office's edits win over the seed: a renamed, re-timed,
    re-worded or retired seeded category keeps its edits, a deleted one is added again. A
    seeded category whose name an office already gave another category is added as
    「name（预置）」 rather than refused, so an upgrade never fails on the office's data.
    """
    have = dict(uow.session.execute(select(Category.code, Category.name)).all())
    names = set(have.values())
    missing = []
    for spec in seed_specs():
        if spec.code in have:
            continue
        if spec.name in names:
            spec = spec.changed(name=f"{spec.name}（预置）")
        names.add(spec.name)
        missing.append(spec)
    return upsert_categories(uow, missing) if missing else 0


def _listing(categories: list[Category]) -> str:
    return "、".join(f"{c.code}（{c.name}）" for c in categories)


def find(uow: UnitOfWork, text: str) -> Category | None:
    """The category whose code (any case) or Chinese name is ``text``."""
    word = (text or "").strip()
    if not word:
        return None
    found = uow.session.get(Category, word) or uow.session.scalar(
        select(Category).where(Category.name == word)
    )
    if found is None:
        for category in uow.session.scalars(select(Category)):
            if category.code.lower() == word.lower():
                return category
    return found


def resolve(uow: UnitOfWork, text: str) -> Category:
    """The category named by its code or its Chinese name; unknown: refused with the valid ones."""
    found = find(uow, text)
    if found is None:
        every = list(
            uow.session.scalars(select(Category).order_by(Category.sort_order, Category.code))
        )
        raise ValidationFailed([f"问题类别「{text}」不存在；可用的类别：{_listing(every)}"])
    return found


def add_category(uow: UnitOfWork, spec: CategorySpec) -> Category:
    """Add a new category; its code and its name must both be new."""
    if uow.session.get(Category, spec.code) is not None:
        raise ValidationFailed([_code_taken(spec.code)])
    upsert_categories(uow, [spec])
    return uow.session.get(Category, spec.code)


def edit_category(uow: UnitOfWork, text: str, changes: dict[str, Any]) -> Category:
    """Change some fields of a category (by code or name); the others keep their values."""
    category = resolve(uow, text)
    unknown = sorted(set(changes) - set(spec_fields()) | ({"code"} & set(changes)))
    if unknown:
        raise ValidationFailed([f"不能修改的字段：{'、'.join(unknown)}"])
    spec = spec_of(category).changed(**changes)
    upsert_categories(uow, [spec])
    return category


def wording_changes(
    category: Category | None, kind: str, values: dict[str, str | None]
) -> dict[str, Any]:
    """The spec changes that set a kind's heading, phrase or elaboration (``_``: every kind;
    its heading is the category's ``notice_heading``). An empty text clears the key."""
    changes: dict[str, Any] = {}
    values = dict(values)
    if kind == ALL_KINDS and "heading" in values:
        heading = values.pop("heading")
        if heading is not None:
            changes["notice_heading"] = heading.strip() or None
    wording = dict(category.wording or {}) if category is not None else {}
    if any(v is not None for v in values.values()):
        changes["wording"] = with_wording(wording, kind, values)
    return changes


def set_retired(uow: UnitOfWork, text: str, retired: bool) -> Category:
    """Retire a category (no new finding may name it) or bring it back."""
    return edit_category(uow, text, {"retired": retired})


@dataclass(frozen=True)
class CategoryView:
    """A category as lists show it: values and their Chinese labels."""

    code: str
    name: str
    target_kinds: list[str]
    kinds_label: str
    severity: str
    severity_label: str
    deadline_days: int | None
    deadline_mode: str | None
    deadline_label: str
    check: str | None
    check_label: str
    theme: str | None
    notice_heading: str | None
    rule: str | None
    wording: dict[str, dict[str, str]]
    retired: bool
    sort_order: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def view_of(category: Category) -> CategoryView:
    kinds = kinds_of(category)
    days, mode = category.deadline_days, category.deadline_mode
    deadline = f"{days} 个{MODE_LABELS.get(mode or 'calendar', mode)}" if days else "默认"
    return CategoryView(
        code=category.code,
        name=category.name,
        target_kinds=list(kinds),
        kinds_label=kinds_label(kinds),
        severity=category.severity,
        severity_label=SEVERITY_LABELS.get(category.severity, category.severity),
        deadline_days=days,
        deadline_mode=mode,
        deadline_label=deadline,
        check=category.check,
        check_label=label_of(category.check),
        theme=category.theme,
        notice_heading=category.notice_heading,
        rule=category.rule,
        wording=dict(category.wording or {}),
        retired=bool(category.retired),
        sort_order=category.sort_order,
    )


def list_categories(
    uow: UnitOfWork,
    *,
    retired: bool | None = None,
    kind: str | None = None,
    text: str | None = None,
) -> list[CategoryView]:
    """The catalogue in its order; ``retired`` True/False keeps only retired/active ones,
    ``kind`` those applying to a target kind, ``text`` those whose code or name contains it."""
    if kind is not None and kind not in TARGET_KINDS:
        raise ValidationFailed([f"对象类型「{kind}」无效（可选：{'、'.join(TARGET_KINDS)}）"])
    query = select(Category).order_by(Category.sort_order, Category.code)
    if retired is not None:
        query = query.where(Category.retired.is_(retired))
    rows = list(uow.session.scalars(query))
    if kind is not None:
        rows = [c for c in rows if applies_to(c, kind)]
    if text:
        word = text.strip().lower()
        rows = [c for c in rows if word in c.code.lower() or word in c.name.lower()]
    return [view_of(c) for c in rows]


def get_category(uow: UnitOfWork, text: str) -> CategoryView:
    found = find(uow, text)
    if found is None:
        raise NotFound(f"问题类别「{text}」不存在")
    return view_of(found)


def check_options() -> list[tuple[str, str]]:
    """The automated checks a category may name: (name, Chinese label)."""
    return [(name, label_of(name)) for name in check_names()]
