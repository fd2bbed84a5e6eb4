"""Registry rows: units (parents first, whatever the file's order) and targets, checked then upserted."""

from __future__ import annotations

from dataclasses import fields

from sqlalchemy import select

from services.core.uow import UnitOfWork
from services.db.models import Target, Unit
from services.imports import registry_bulk
from services.imports.report import ImportReport, outcome_of
from services.imports.rows import Problems, Row, check_unique
from services.registry import units as registry

UNIT_FIELDS = [f.name for f in fields(registry.UnitSpec)]
TARGET_FIELDS = [f.name for f in fields(registry.TargetSpec)]
_TARGET_FIELD_SET = frozenset(TARGET_FIELDS)
_UNIT_ATTRS = [f for f in UNIT_FIELDS if f != "parent_code"] + ["parent_id"]
_TARGET_ATTRS = [f for f in TARGET_FIELDS if f not in ("unit_code", "parent_target_code")] + [
    "unit_id",
    "parent_target_id",
]


def check_units(uow: UnitOfWork, rows: list[Row], problems: Problems) -> list[Row]:
    """Validate unit rows against each other and the database; return them parents first."""
    check_unique(rows, ("code",), problems, what="单位代码")
    check_unique(rows, ("name",), problems, what="单位名称")
    session = uow.session
    in_file = {row["code"]: row for row in rows if row["code"]}
    in_db = dict(session.execute(select(Unit.code, Unit.name)).all())
    code_by_name = {name: code for code, name in in_db.items()}
    for row in rows:
        parent = row["parent_code"]
        if parent and parent not in in_file and parent not in in_db:
            problems.add(row.at("parent_code"), f"上级单位「{parent}」不存在（文件和系统中都没有）")
        if parent and parent == row["code"]:
            problems.add(row.at("parent_code"), "单位不能以自己为上级单位")
        other = code_by_name.get(row["name"])
        if other and other != row["code"] and other not in in_file:
            problems.add(row.at("name"), f"单位名称「{row['name']}」已被单位 {other} 使用")
        for name in registry.EMAIL_FIELDS:
            if problem := registry.email_problem(row[name]):
                problems.add(row.at(name), problem)
    return _parents_first(rows, in_file, problems)


def _parents_first(
    rows: list[Row], in_file: dict[str, Row], problems: Problems, *, parent: str = "parent_code"
) -> list[Row]:
    """Rows reordered so that a parent named in the file comes before its children."""
    ordered: list[Row] = []
    placed: set[str] = set()
    for row in rows:
        code, up = row.values.get("code"), row.values.get(parent)
        if code in placed:
            continue
        if not up or up in placed or up not in in_file:  # most rows: the parent is placed
            placed.add(code)
            ordered.append(row)
            continue
        chain: list[Row] = []
        current: Row | None = row
        while current is not None and current["code"] not in placed:
            if current in chain:
                problems.add(row.at(parent), "上级关系构成循环")
                break
            chain.append(current)
            current = in_file.get(current[parent]) if current[parent] else None
        for item in reversed(chain):
            if item["code"] not in placed:
                placed.add(item["code"])
                ordered.append(item)
    return ordered


def check_targets(uow: UnitOfWork, rows: list[Row], unit_rows: list[Row], problems: Problems):
    """Validate target rows: unique codes, known units and parent targets; return parents first."""
    if not rows:  # every stored target's code is a national registry's half a million
        return []
    check_unique(rows, ("code",), problems, what="对象代码")
    session = uow.session
    units = set(session.scalars(select(Unit.code))) | {r["code"] for r in unit_rows}
    targets = set(session.scalars(select(Target.code)))
    in_file = {code: row for row in rows if (code := row.values.get("code"))}
    for row in rows:
        values = row.values
        unit, parent = values.get("unit_code"), values.get("parent_target_code")
        if unit and unit not in units:
            problems.add(row.at("unit_code"), f"主办单位「{unit}」不存在")
        if parent and parent not in in_file and parent not in targets:
            problems.add(row.at("parent_target_code"), f"所属网站「{parent}」不存在")
        if values.get("kind") == "new_media":
            missing = [f for f in ("platform", "account_name") if row.blank(f)]
            if missing:
                problems.add(row.at(missing[0]), "政务新媒体必须填写平台和账号名称")
    return _parents_first(rows, in_file, problems, parent="parent_target_code")


def apply_units(uow: UnitOfWork, rows: list[Row], report: ImportReport) -> None:
    """Create the new units many at a time (parents first), then upsert the stored ones in
    the given (parents-first) order. Should a new unit take the name a stored unit of the
    file gives up, every row is upserted in order instead (as the name moves)."""
    specs = [
        registry.UnitSpec(**{k: row[k] for k in UNIT_FIELDS if row[k] is not None}) for row in rows
    ]
    stored = dict(uow.session.execute(select(Unit.code, Unit.name)).all())
    new = [s for s in specs if s.code not in stored]
    taken = set(stored.values())
    if any(s.name in taken for s in new):
        new = []
    registry_bulk.insert_units(uow, new)
    if new:
        report.tick("units", "created", len(new))
    created = {s.code for s in new}
    for spec in specs:
        if spec.code in created:
            continue
        before = _snapshot(registry.unit_by_code(uow, spec.code), _UNIT_ATTRS)
        unit = registry.upsert_unit(uow, spec)
        report.tick("units", outcome_of(before, _snapshot(unit, _UNIT_ATTRS)))


def apply_targets(uow: UnitOfWork, rows: list[Row], report: ImportReport) -> None:
    """Create the new targets many at a time, then upsert the stored ones (parents first)."""
    stored = set(uow.session.scalars(select(Target.code)))
    new = [row for row in rows if row.values.get("code") not in stored]
    registry_bulk.insert_targets(uow, new, _target_spec)  # specs made one at a time
    if new:
        report.tick("targets", "created", len(new))
    old = [row for row in rows if row.values.get("code") in stored]
    existing: dict[str, Target] = {}
    for start in range(0, len(old), registry_bulk.BATCH):
        chunk = [row["code"] for row in old[start : start + registry_bulk.BATCH]]
        existing.update(
            (t.code, t) for t in uow.session.scalars(select(Target).where(Target.code.in_(chunk)))
        )
    for row in old:
        spec = _target_spec(row)
        before = _snapshot(existing.get(spec.code), _TARGET_ATTRS)
        target = registry.upsert_target(uow, spec)
        report.tick("targets", outcome_of(before, _snapshot(target, _TARGET_ATTRS)))


def _target_spec(row: Row) -> registry.TargetSpec:
    """The row's spec (a row holds only the fields with a value)."""
    return registry.TargetSpec(**{k: v for k, v in row.values.items() if k in _TARGET_FIELD_SET})


def _snapshot(record: object | None, attrs: list[str]) -> dict | None:
    return None if record is None else {a: getattr(record, a) for a in attrs}
