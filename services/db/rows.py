"""Table rows as plain JSON values and back, exactly, whatever the database behind them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Date, DateTime, Table, select
from sqlalchemy.orm import Session

Row = dict[str, Any]


def encode(column: Column, value: Any) -> Any:
    """A JSON-ready value: datetimes keep their offset, dates are ISO days, JSON stays JSON."""
    if value is None or isinstance(column.type, JSON):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def decode(column: Column, value: Any) -> Any:
    """The Python value ``encode`` came from."""
    if value is None or isinstance(column.type, JSON):
        return value
    kind = getattr(column.type, "impl_instance", column.type)  # what a TypeDecorator wraps
    if isinstance(kind, DateTime):
        return datetime.fromisoformat(value)
    if isinstance(kind, Date):
        return date.fromisoformat(value)
    return value


def read_table(session: Session, table: Table, *, batch: int = 2000) -> Iterator[Row]:
    """Every row of ``table`` in primary-key order, parents before children when it nests."""
    statement = select(table).order_by(*table.primary_key.columns)
    rows = (
        dict(row._mapping)
        for row in session.execute(statement, execution_options={"yield_per": batch})
    )
    parents = self_references(table)
    if not parents:
        yield from rows
        return
    yield from parents_first(list(rows), key=primary_key_name(table), parents=parents)


def self_references(table: Table) -> list[str]:
    """Columns of ``table`` that point at another row of the same table."""
    return [fk.parent.name for fk in table.foreign_keys if fk.column.table is table]


def primary_key_name(table: Table) -> str:
    (column,) = table.primary_key.columns
    return column.name


def parents_first(rows: list[Row], *, key: str, parents: Iterable[str]) -> Iterator[Row]:
    """Order ``rows`` so that every row comes after the rows it points at."""
    parents = list(parents)
    emitted: set[Any] = set()
    waiting = rows
    while waiting:
        later = []
        for row in waiting:
            if all(row[p] is None or row[p] in emitted or row[p] == row[key] for p in parents):
                emitted.add(row[key])
                yield row
            else:
                later.append(row)
        if len(later) == len(waiting):  # points outside the table: let the database judge
            yield from later
            return
        waiting = later
