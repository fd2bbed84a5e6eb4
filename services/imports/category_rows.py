"""问题类别 rows: categories added or edited by import, and the catalogue findings are checked
against (the database with the file's changes), by code or by Chinese name.

A row whose 表述对象 is empty is the category itself: its columns set those fields (a column
the file leaves out keeps the stored value; an empty cell clears an optional field). A row
with a 表述对象 (网站, 政务新媒体, ...) carries only that kind's wording: 通报标题, 通报表述,
表述说明. A new category needs its 类别名称 and 严重程度.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from services.core.uow import UnitOfWork
from services.db.models import Category
from services.imports.report import ImportReport
from services.imports.rows import Problems, Row
from services.imports.schema import CellError, text
from services.registry import catalogue
from services.registry.category_spec import (
    ALL_KINDS,
    CATEGORY_LABELS,
    CategorySpec,
    kinds_label,
    parse_check,
    parse_kind,
    parse_kinds,
    spec_fields,
    with_wording,
)
from services.registry.units import TARGET_KINDS

WORDING_COLUMNS = ("heading", "phrase", "elaboration")
#: Columns of the category's own row that set a spec field directly.
_FIELD_COLUMNS = [f for f in spec_fields() if f not in ("code", "wording", "notice_heading")]


def kinds_cell(value: Any) -> tuple[str, ...] | None:
    """适用对象: 「网站、专栏」, ``website,column`` or 「全部」 (empty: every kind)."""
    raw = text(value)
    if raw is None:
        return None
    try:
        return parse_kinds(raw)
    except ValueError as exc:
        raise CellError(str(exc)) from None


def kind_cell(value: Any) -> str | None:
    """表述对象: the one kind a wording row is for."""
    raw = text(value)
    if raw is None:
        return None
    try:
        kind = parse_kind(raw)
    except ValueError as exc:
        raise CellError(str(exc)) from None
    return None if kind == ALL_KINDS else kind


def check_cell(value: Any) -> str | None:
    """自动检查: a check's name or label; 「无」 or empty: a supervisor verifies."""
    raw = text(value)
    return parse_check(raw) if raw is not None else None


@dataclass
class Planned:
    """One category the import writes: its settings after the file's rows."""

    spec: CategorySpec
    new: bool
    rows: list[Row] = field(default_factory=list)


@dataclass(frozen=True)
class Entry:
    """What findings need to know of a category: its name, kinds and whether it is retired."""

    code: str
    name: str
    kinds: tuple[str, ...]
    retired: bool


@dataclass
class CategoryIndex:
    """The catalogue as it will be after the import: by code and by Chinese name."""

    entries: dict[str, Entry]
    _names: dict[str, str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # Codes in any case, then names: a file may write either.
        self._names = {code.lower(): code for code in self.entries}
        self._names |= {e.name: e.code for e in self.entries.values()}

    def code_of(self, text: str) -> str | None:
        word = (text or "").strip()
        if word in self.entries:
            return word
        return self._names.get(word) or self._names.get(word.lower())

    def valid(self) -> str:
        """The categories a new finding may name, code（name）."""
        active = [e for e in self.entries.values() if not e.retired]
        return "、".join(f"{e.code}（{e.name}）" for e in active)


def check_categories(uow: UnitOfWork, rows: list[Row], problems: Problems) -> list[Planned]:
    """Validate category rows against each other and the catalogue; return what to write."""
    stored = {c.code: c for c in uow.session.scalars(select(Category))}
    planned: dict[str, Planned] = {}
    seen: dict[tuple[str, str], Row] = {}
    main_rows = [r for r in rows if not r["wording_kind"]]
    for row in main_rows + [r for r in rows if r["wording_kind"]]:
        code = row["code"]
        if not code:
            continue
        key = (code, row["wording_kind"] or ALL_KINDS)
        first = seen.setdefault(key, row)
        if first is not row:
            problems.add(row.at("code"), f"与第 {first.number} 行重复（类别「{code}」）")
            continue
        if row["wording_kind"]:
            _plan_wording(row, planned, stored, problems)
        else:
            _plan_category(row, planned, stored, problems)
    _check_names(list(planned.values()), stored, problems)
    return list(planned.values())


def _plan_category(
    row: Row, planned: dict[str, Planned], stored: dict[str, Category], problems: Problems
) -> None:
    code = row["code"]
    category = stored.get(code)
    # A refused cell is named once, by itself: it neither changes nor clears its field.
    changes = {f: row[f] for f in _FIELD_COLUMNS if f in row.headers and f not in row.refused}
    if "target_kinds" in changes:
        changes["target_kinds"] = changes["target_kinds"] or ()
    if "retired" in changes:
        changes["retired"] = bool(changes["retired"])
    if category is None:
        for name in ("name", "severity"):
            if not changes.get(name) and name not in row.refused:
                problems.add(row.at(name) if name in row.headers else row.at(), _needs(name))
        if not changes.get("name") or not changes.get("severity"):
            return
        base = CategorySpec(code=code, name=changes["name"], severity=changes["severity"])
    else:
        base = catalogue.spec_of(category)
    if "name" in changes and not changes["name"]:
        problems.add(row.at("name"), "类别名称不能为空")
        return
    if "heading" in row.headers:
        changes["notice_heading"] = row["heading"]
    wording = catalogue.wording_changes(
        category,
        ALL_KINDS,
        {k: row[k] or "" for k in WORDING_COLUMNS if k in row.headers and k != "heading"},
    )
    spec = base.changed(**changes, **wording)
    _report(row, spec, problems)
    planned[code] = Planned(spec=spec, new=category is None, rows=[row])


def _plan_wording(
    row: Row, planned: dict[str, Planned], stored: dict[str, Category], problems: Problems
) -> None:
    code, kind = row["code"], row["wording_kind"]
    extra = [f for f in _FIELD_COLUMNS if f in row.headers and _filled(row[f])]
    if extra:
        names = "、".join(CATEGORY_LABELS[f] for f in extra)
        problems.add(
            row.at(extra[0]),
            f"填写了表述对象的行只写该对象的通报标题、通报表述、表述说明，不能填写{names}"
            "（类别的其他设置写在表述对象为空的那一行）",
        )
        return
    target = planned.get(code)
    if target is None and code in stored:
        target = planned[code] = Planned(spec=catalogue.spec_of(stored[code]), new=False)
    if target is None:
        problems.add(row.at("code"), f"问题类别「{code}」不存在（文件和系统中都没有）")
        return
    kinds = target.spec.target_kinds
    if kinds and kind not in kinds:
        problems.add(
            row.at("wording_kind"),
            f"类别 {code} 只适用于{kinds_label(kinds)}，不需要{TARGET_KINDS[kind]}的表述",
        )
        return
    values = {k: row[k] or "" for k in WORDING_COLUMNS if k in row.headers}
    new = with_wording(target.spec.wording, kind, values)
    target.spec = target.spec.changed(wording=new)
    target.rows.append(row)
    _report(row, target.spec, problems, only=("wording",))


def _filled(value: Any) -> bool:
    return value is not None and value != () and value is not False


def _report(
    row: Row, spec: CategorySpec, problems: Problems, *, only: tuple[str, ...] = ()
) -> None:
    for name, message in spec.field_problems():
        if only and name not in only:
            continue
        column = {"notice_heading": "heading", "wording": "phrase"}.get(name, name)
        problems.add(row.at(column) if column in row.headers else row.at(), message)


def _needs(name: str) -> str:
    return f"新类别必须填写{CATEGORY_LABELS[name]}"


def _check_names(planned: list[Planned], stored: dict[str, Category], problems: Problems) -> None:
    """Names stay unique: among the file's categories and against those it does not write."""
    writing = {p.spec.code for p in planned}
    taken = {c.name: code for code, c in stored.items() if code not in writing}
    for item in planned:
        other = taken.setdefault(item.spec.name, item.spec.code)
        if other != item.spec.code and item.rows:
            row = item.rows[0]
            where = row.at("name") if "name" in row.headers else row.at()
            problems.add(where, f"类别名称「{item.spec.name}」已被类别 {other} 使用")


def index_after(uow: UnitOfWork, planned: list[Planned]) -> CategoryIndex:
    """The catalogue findings are checked against: stored categories with the file's changes."""
    entries = {
        c.code: Entry(c.code, c.name, catalogue.kinds_of(c), bool(c.retired))
        for c in uow.session.scalars(select(Category).order_by(Category.sort_order, Category.code))
    }
    for item in planned:
        s = item.spec
        entries[s.code] = Entry(s.code, s.name, s.target_kinds, s.retired)
    return CategoryIndex(entries)


def apply_categories(uow: UnitOfWork, planned: list[Planned], report: ImportReport) -> None:
    """Write the categories (all were checked): created, updated or unchanged."""
    stored = {c.code: c for c in uow.session.scalars(select(Category))}
    changed = []
    for item in planned:
        before = stored.get(item.spec.code)
        if before is not None and _same(catalogue.spec_of(before), item.spec):
            report.tick("categories", "unchanged")
            continue
        changed.append(item.spec)
        report.tick("categories", "created" if before is None else "updated")
    if changed:
        catalogue.upsert_categories(uow, changed)


def _same(a: CategorySpec, b: CategorySpec) -> bool:
    return _plain(a) == _plain(b)


def _plain(spec: CategorySpec) -> dict[str, Any]:
    return {name: getattr(spec, name) for name in spec_fields()}
