"""New units and targets of an import written many rows per statement.

A national registry is 40,000 units and over half a million targets; one upsert per row (a
few queries and a flush each) would take hours of round trips. The rows an import creates,
already checked, are inserted here in waves — every row whose parent is stored or in an
earlier wave — each wave one ``COPY`` on PostgreSQL (the server's own bulk load: no
statement to parse, no arrays to build), ``executemany`` per thousands of rows elsewhere
(``bulk.stream_rows``), with each row's values checked as the per-row upsert checks them
(``registry.check_text``). Rows that update a stored record still go through the upserts.
A NUL character, which PostgreSQL cannot store, never reaches a ``COPY``: every text cell
of an import is refused with one (``schema.text``), and so is every value here.

The new rows' ids are reserved first, in the file's order, so that they are numbered as the
row-by-row import numbered them (lists ordered by id, such as the notice's message boards,
keep the order of the import file), whatever wave a row is written in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import func, select, text

from services.core.errors import ValidationFailed
from services.core.uow import UnitOfWork
from services.db import bulk
from services.db.models import Target, Unit
from services.registry import units as registry

BATCH = 5_000  # codes per lookup
UNIT_COLUMNS = (
    "code name kind parent_id path short_name contact_name contact_email leader_name "
    "leader_email synthetic"
).split()
TARGET_COLUMNS = (
    "code unit_id kind name url domain site_code parent_target_id platform account_name "
    "registered_entity column_type status synthetic"
).split()


def waves(
    items: list,
    parent_of: Callable[[Any], str | None],
    *,
    code: Callable[[Any], str] = lambda item: item.code,
) -> list[list]:
    """The items grouped so that an item's parent, when it is one of them, is in an earlier
    group (the items come parents first)."""
    depth: dict[str, int] = {}
    grouped: list[list] = []
    for spec in items:
        parent = parent_of(spec)
        level = depth[parent] + 1 if parent in depth else 0
        depth[code(spec)] = level
        if level == len(grouped):
            grouped.append([])
        grouped[level].append(spec)
    return grouped


def _by_code(uow: UnitOfWork, model, codes: Iterable[str], *columns) -> list[tuple]:
    """(code, *columns) of the stored records with these codes."""
    wanted = sorted(set(codes))
    found: list[tuple] = []
    for start in range(0, len(wanted), BATCH):
        named = bulk.ids_in(uow.session, model.code, wanted[start : start + BATCH])
        found.extend(
            tuple(row) for row in uow.session.execute(select(model.code, *columns).where(named))
        )
    return found


def _ids(uow: UnitOfWork, model, codes: Iterable[str]) -> dict[str, int]:
    return dict(_by_code(uow, model, codes, model.id))


def reserve_ids(uow: UnitOfWork, model, count: int) -> list[int]:
    """``count`` new ids of ``model``'s table, ascending: from its sequence on PostgreSQL;
    after the largest stored id on SQLite (one writer: the import's transaction)."""
    if count == 0:
        return []
    session = uow.session
    if session.get_bind().dialect.name == "postgresql":
        sequence = session.scalar(
            text("SELECT pg_get_serial_sequence(:table, 'id')"), {"table": model.__tablename__}
        )
        reserved = session.scalar(  # one array, not a result row per id
            text(
                "SELECT array_agg(id ORDER BY id) FROM "
                "(SELECT nextval(:sequence) AS id FROM generate_series(1, :count)) AS ids"
            ),
            {"sequence": sequence, "count": count},
        )
        return list(reserved)
    start = (session.scalar(select(func.max(model.id))) or 0) + 1
    return list(range(start, start + count))


def insert_units(uow: UnitOfWork, specs: list[registry.UnitSpec]) -> None:
    """Create units that are not stored yet (parents first; parents stored or among them)."""
    paths: dict[str, str] = {}
    ids: dict[str, int] = {}
    stored_parents = {s.parent_code for s in specs if s.parent_code} - {s.code for s in specs}
    for code, id_, path in _by_code(uow, Unit, stored_parents, Unit.id, Unit.path):
        ids[code], paths[code] = id_, path
    for spec in specs:
        registry.check_text(spec, Unit)
        if spec.kind not in registry.UNIT_KINDS:
            registry.upsert_unit(uow, spec)  # raises its own error
        paths[spec.code] = (paths[spec.parent_code] if spec.parent_code else "/") + spec.code + "/"
    ids.update(zip((s.code for s in specs), reserve_ids(uow, Unit, len(specs)), strict=True))
    for group in waves(specs, lambda s: s.parent_code):
        rows = [
            (
                ids[s.code],
                *(getattr(s, f) for f in UNIT_COLUMNS[:3]),
                ids[s.parent_code] if s.parent_code else None,
                paths[s.code],
                *(getattr(s, f) for f in UNIT_COLUMNS[5:]),
            )
            for s in group
        ]
        bulk.stream_rows(uow.session, Unit.__table__, ("id", *UNIT_COLUMNS), rows)
    if len(specs) >= bulk.ANALYZE_AFTER:
        bulk.refresh_statistics(uow.session, Unit.__table__)


def insert_targets(uow: UnitOfWork, rows: list, spec_of: Callable[[Any], registry.TargetSpec]):
    """Create targets that are not stored yet (parent targets first, stored or among them),
    from rows whose spec ``spec_of`` makes (one at a time: half a million specs would weigh
    hundreds of megabytes)."""
    values = [row.values for row in rows]  # a row's fields with a value
    unit_ids = _ids(uow, Unit, {v.get("unit_code") for v in values})
    new = [v.get("code") for v in values]
    parents = {parent for v in values if (parent := v.get("parent_target_code"))}
    ids = _ids(uow, Target, parents - set(new))
    ids.update(zip(new, reserve_ids(uow, Target, len(new)), strict=True))
    parent_of = lambda row: row.values.get("parent_target_code")  # noqa: E731
    for group in waves(rows, parent_of, code=lambda row: row.values.get("code")):
        for row in group:  # before the group streams: an upsert's error needs the connection
            status = row["status"]  # none: the spec's default
            if row["kind"] not in registry.TARGET_KINDS or (
                status is not None and status not in registry.TARGET_STATUSES
            ):
                registry.upsert_target(uow, spec_of(row))  # raises its own error
        made = (_target_row(spec_of(row), unit_ids, ids) for row in group)
        bulk.stream_rows(uow.session, Target.__table__, ("id", *TARGET_COLUMNS), made)
    if len(rows) >= bulk.ANALYZE_AFTER:
        bulk.refresh_statistics(uow.session, Target.__table__)


def _target_row(spec, unit_ids: dict[str, int], ids: dict[str, int]) -> tuple:
    """The stored values of a new target (``id`` and ``TARGET_COLUMNS``), checked as
    ``upsert_target`` checks them (its kind and status are, before)."""
    registry.check_text(spec, Target)
    if spec.unit_code not in unit_ids:
        raise ValidationFailed([f"监测对象 {spec.code} 的主办单位 {spec.unit_code} 不存在"])
    parent = spec.parent_target_code
    if parent and parent not in ids:
        raise ValidationFailed([f"监测对象 {spec.code} 的上级对象 {parent} 不存在"])
    return (
        ids[spec.code],
        spec.code,
        unit_ids[spec.unit_code],
        spec.kind,
        spec.name,
        spec.url,
        spec.domain,
        spec.site_code,
        ids[parent] if parent else None,
        spec.platform,
        spec.account_name,
        spec.registered_entity,
        spec.column_type,
        spec.status,
        spec.synthetic,
    )
