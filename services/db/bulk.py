"""Many rows per statement: the versioned UPDATEs and INSERTs of a batch, per backend.

A batch moves about a thousand cases. Through SQLAlchemy's executemany each row costs a
parameter dict built by the compiler (~5 µs), and on PostgreSQL psycopg pipelines one
statement per row that the server then runs one by one. Here instead:

* PostgreSQL: one statement per batch over arrays — ``UPDATE .. FROM unnest(..)`` and
  ``INSERT .. SELECT * FROM unnest(..)``; id lists are one array (``= ANY``), not a
  thousand bound parameters;
* SQLite (in-process, no round trips): the driver's own executemany, fed tuples.

Either way every value goes through its column's own bind processor (time zones to UTC,
JSON serialised), so rows read back exactly as if written through the ORM. All of it runs
on the session's connection, inside the caller's transaction.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

from sqlalchemy import Column, Integer, String, Table, any_, bindparam, insert, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.compiler import SQLCompiler

#: The parameters naming a row and its expected and new version in ``update_versioned``.
ID, VERSION, NEW_VERSION = "id", "version", "new_version"


@dataclass(frozen=True)
class _Statement:
    """Driver SQL and, in its parameter order, each parameter's name and bind processor."""

    sql: str
    names: tuple[str, ...]
    processors: tuple[Callable[[Any], Any] | None, ...]

    def arrays(self, rows: Sequence[dict[str, Any]]) -> dict[str, list[Any]]:
        """One list per parameter (PostgreSQL's unnest), values processed."""
        return dict(zip(self.names, self._columns(rows), strict=True))

    def tuples(self, rows: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
        """One tuple per row (the driver's executemany), values processed."""
        return list(zip(*self._columns(rows), strict=True))

    def _columns(self, rows: Sequence[dict[str, Any]]) -> list[list[Any]]:
        columns = []
        for name, process in zip(self.names, self.processors, strict=True):
            values = [row[name] for row in rows]
            columns.append(_processed(process, values) if process else values)
        return columns


def _processed(process: Callable[[Any], Any], values: list[Any]) -> list[Any]:
    """``process`` each value, once per distinct object: a batch shares one timestamp."""
    done: dict[int, Any] = {}
    out = []
    for value in values:  # the values stay referenced meanwhile, so their ids are unique
        key = id(value)
        if key not in done:
            done[key] = process(value)
        out.append(done[key])
    return out


def update_versioned(
    session: Session, table: Table, fields: tuple[str, ...], rows: Sequence[dict[str, Any]]
) -> int:
    """Set ``fields`` of each row whose ``id`` and ``version`` match; the rows changed.

    Each row dict holds ``id``, ``version`` (expected), ``new_version`` and a value per field.
    A row id may appear once per call. Fewer rows changed than given means someone else
    moved one of them first: the caller rolls back.
    """
    return _executed(session, table, fields, rows, versioned=True)


def update_rows(
    session: Session, table: Table, fields: tuple[str, ...], rows: Sequence[dict[str, Any]]
) -> int:
    """Set ``fields`` of each row by its ``id`` (no version: rows nobody else moves, such as a
    case's submissions under the case's own versioned update); the rows changed."""
    return _executed(session, table, fields, rows, versioned=False)


def _executed(
    session: Session, table: Table, fields: tuple[str, ...], rows, *, versioned: bool
) -> int:
    """Run the dialect's UPDATE (``_update``) over ``rows`` (arrays on PostgreSQL, one tuple
    per row elsewhere); the rows changed."""
    if not rows:
        return 0
    conn = session.connection()
    statement = _update(table, fields, conn.dialect, versioned)
    if conn.dialect.name == "postgresql":
        return conn.exec_driver_sql(statement.sql, statement.arrays(rows)).rowcount
    return conn.exec_driver_sql(statement.sql, statement.tuples(rows)).rowcount


def chunked(items: Iterable[Any], size: int = 1000) -> list[list[Any]]:
    """``items`` (sorted, for a stable order of statements) in lists of at most ``size``: one
    IN list each, well inside every driver's parameter limit."""
    ordered = sorted(items)
    return [ordered[i : i + size] for i in range(0, len(ordered), size)]


def stream_rows(
    session: Session, table: Table, columns: tuple[str, ...], rows: Iterable[tuple]
) -> None:
    """Insert ``rows``, tuples of the ``columns``' values, in their order: on PostgreSQL a
    ``COPY`` the rows stream into as they are made (the server stores some while the caller
    checks the next: a registry import's half a million rows), elsewhere ``insert_rows`` per
    ``STREAM_BATCH``. No NUL check here: the caller's values are checked texts."""
    if session.get_bind().dialect.name == "postgresql":
        session.flush()  # the rows the session holds come first, as their ids do
        driver = session.connection().connection.driver_connection
        statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
        return
    rows = iter(rows)
    while batch := [dict(zip(columns, row, strict=True)) for row in islice(rows, STREAM_BATCH)]:
        insert_rows(session, table, columns, batch)


#: Rows per INSERT where ``stream_rows`` cannot COPY.
STREAM_BATCH = 5_000


def insert_rows(
    session: Session, table: Table, columns: tuple[str, ...], rows: Sequence[dict[str, Any]]
) -> None:
    """Insert ``rows`` (dicts holding each of ``columns``), in their order."""
    if not rows:
        return
    conn = session.connection()
    statement = _insert(table, columns, conn.dialect)
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(statement.sql, statement.arrays(rows))
    else:
        conn.exec_driver_sql(statement.sql, statement.tuples(rows))


def add_rows(
    session: Session,
    table: Table,
    keys: tuple[str, ...],
    added: str,
    rows: Sequence[dict[str, Any]],
) -> None:
    """Insert ``rows``; where a row with the same ``keys`` exists, add the row's ``added``
    value to it instead (``n = n + excluded.n``). Each key at most once in ``rows``.

    One statement text per table, whatever the number of rows: a multi-row VALUES upsert
    built by SQLAlchemy is compiled anew for each row count (~0.1 ms a row).
    """
    if not rows:
        return
    conn = session.connection()
    statement = _add(table, keys, added, conn.dialect)
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(statement.sql, statement.arrays(rows))
    else:
        conn.exec_driver_sql(statement.sql, statement.tuples(rows))


def execute_over_arrays(
    session: Session,
    sql: str,
    columns: tuple[tuple[str, Column], ...],
    rows: Sequence[dict[str, Any]],
) -> int:
    """PostgreSQL only: run ``sql``, whose ``{rows}`` stands for ``unnest(..) AS v(..)`` over
    one array per named column (each value through that column's bind processor); the
    rows it changed. For a statement that reads other tables beside the rows it is given."""
    conn = session.connection()
    statement = _over_arrays(sql, columns, conn.dialect)
    return conn.exec_driver_sql(statement.sql, statement.arrays(rows)).rowcount


#: Rows a bulk load writes into a table before its planner statistics are refreshed at once.
ANALYZE_AFTER = 10_000


def refresh_statistics(session: Session, *tables: Table) -> None:
    """The planner's statistics of ``tables`` read again now (PostgreSQL ``ANALYZE``, in the
    caller's transaction: its own new rows count), after a bulk load changed them wholesale.
    The autovacuum daemon does it in its own time, or never where it is switched off; until
    then the planner plans for the tables as they were (with no statistics at all after a
    national registry import: a hash join over every target instead of an index lookup)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for table in tables:
        session.execute(text(f'ANALYZE "{table.name}"'))


def ids_in(session: Session, column: ColumnElement, ids: Iterable[Any]) -> ColumnElement[bool]:
    """``column IN ids`` (integers, or keys of the column's own type): one array parameter on
    PostgreSQL, expanded elsewhere."""
    values = list(ids)
    if session.get_bind().dialect.name == "postgresql":
        element = column.type if isinstance(column.type, String) else Integer()
        return column == any_(bindparam(None, values, type_=ARRAY(element)))
    return column.in_(values)


@functools.lru_cache(maxsize=256)
def _update(table: Table, fields: tuple[str, ...], dialect: Dialect, versioned: bool) -> _Statement:
    """``fields`` set by ``id``; ``versioned``: only where ``version`` is the expected one,
    which becomes ``new_version``."""
    columns = table.c
    keys = (ID, VERSION, NEW_VERSION) if versioned else (ID,)
    if dialect.name == "postgresql":
        names = (*keys, *fields)
        types = (columns.id, *(columns.version for _ in keys[1:]), *(columns[f] for f in fields))
        q = dialect.identifier_preparer.quote
        sets = [f"{q(f)} = v.{q(f)}" for f in fields]
        where = f"{q(table.name)}.{q(ID)} = v.{ID}"
        if versioned:
            sets.append(f"{q(VERSION)} = v.{NEW_VERSION}")
            where += f" AND {q(table.name)}.{q(VERSION)} = v.{VERSION}"
        sql = (
            f"UPDATE {q(table.name)} SET {', '.join(sets)} "
            f"FROM {_unnest(names, types, dialect)} WHERE {where}"
        )
        return _Statement(sql, names, _processors(types, dialect))
    # Bound names may not be column names in a SET clause: prefixed here, not in the rows.
    values = {f: bindparam(f"b_{f}") for f in fields}
    statement = update(table).where(columns.id == bindparam(f"b_{ID}"))
    if versioned:
        statement = statement.where(columns.version == bindparam(f"b_{VERSION}"))
        values[VERSION] = bindparam(f"b_{NEW_VERSION}")
    return _compiled(statement.values(values).compile(dialect=dialect), dialect, prefix="b_")


@functools.lru_cache(maxsize=256)
def _insert(table: Table, columns: tuple[str, ...], dialect: Dialect) -> _Statement:
    types = tuple(table.c[name] for name in columns)
    if dialect.name == "postgresql":
        q = dialect.identifier_preparer.quote
        sql = (
            f"INSERT INTO {q(table.name)} ({', '.join(q(c) for c in columns)}) "
            f"SELECT * FROM {_unnest(columns, types, dialect)}"
        )
        return _Statement(sql, columns, _processors(types, dialect))
    return _compiled(insert(table).compile(dialect=dialect, column_keys=list(columns)), dialect)


@functools.lru_cache(maxsize=64)
def _add(table: Table, keys: tuple[str, ...], added: str, dialect: Dialect) -> _Statement:
    inserted = _insert(table, (*keys, added), dialect)
    q = dialect.identifier_preparer.quote
    on_conflict = (
        f" ON CONFLICT ({', '.join(q(k) for k in keys)}) DO UPDATE SET "
        f"{q(added)} = {q(table.name)}.{q(added)} + excluded.{q(added)}"
    )
    return _Statement(inserted.sql + on_conflict, inserted.names, inserted.processors)


@functools.lru_cache(maxsize=64)
def _over_arrays(sql: str, columns: tuple[tuple[str, Column], ...], dialect: Dialect) -> _Statement:
    names = tuple(name for name, _ in columns)
    types = tuple(column for _, column in columns)
    return _Statement(
        sql.format(rows=_unnest(names, types, dialect)), names, _processors(types, dialect)
    )


def _unnest(names: tuple[str, ...], columns: tuple[Column, ...], dialect: Dialect) -> str:
    """``unnest(%(a)b::T[], ..) AS v(a, ..)``: rows from one array per column.

    ``%b`` has psycopg send the arrays in binary: no quoting and escaping of each element.
    """
    arrays = ", ".join(
        f"%({name})b::{column.type.compile(dialect)}[]"
        for name, column in zip(names, columns, strict=True)
    )
    return f"unnest({arrays}) AS v({', '.join(names)})"


def _processors(columns: tuple[Column, ...], dialect: Dialect) -> tuple:
    return tuple(c.type.dialect_impl(dialect).bind_processor(dialect) for c in columns)


def _compiled(compiled: SQLCompiler, dialect: Dialect, *, prefix: str = "") -> _Statement:
    """A positional statement for the driver (SQLite's qmark), with its processors."""
    bound = tuple(compiled.positiontup or ())
    binds = tuple(compiled.binds[name] for name in bound)
    processors = tuple(b.type.dialect_impl(dialect).bind_processor(dialect) for b in binds)
    names = tuple(name.removeprefix(prefix) for name in bound)
    return _Statement(compiled.string, names, processors)
