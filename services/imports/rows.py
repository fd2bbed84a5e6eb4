"""Typed rows of a recognised table, and the list of problems that names file, row and column."""

from __future__ import annotations

import re
from collections.abc import Iterator, Set
from dataclasses import dataclass, field, replace
from typing import Any

from services.core.plaintext import invisible
from services.imports.schema import CellError, Column, TableKind, text
from services.imports.tables import RawRow, RawTable, cell_text


@dataclass
class Problems:
    """Every error of an import, each naming the file (and sheet), the row and the column."""

    messages: list[str] = field(default_factory=list)

    def add(self, where: str, message: str) -> None:
        self.messages.append(f"{where}：{message}")

    def __bool__(self) -> bool:
        return bool(self.messages)

    def sorted(self) -> list[str]:
        """By file, then row (stable: a row's errors keep their column order)."""
        return sorted(self.messages, key=_place)


def _place(message: str) -> tuple[str, int]:
    match = re.search(r"：第 (\d+) 行", message)
    return (message.split("：", 1)[0], int(match[1]) if match else 0)


@dataclass(frozen=True, slots=True)
class Row:
    """A parsed data row: its values by field, and how to name its cells in an error."""

    table: str  # file label (with sheet)
    number: int
    values: dict[str, Any]  # the fields with a value (a missing one reads as None)
    headers: dict[str, str]  # field → header as written in the file
    refused: Set[str] = frozenset()  # fields whose cell has an error already

    def __getitem__(self, name: str) -> Any:
        return self.values.get(name)

    def blank(self, name: str) -> bool:
        """The cell is empty (a refused cell is not: its error is named once, as itself)."""
        return self.values.get(name) is None and name not in self.refused

    def at(self, name: str | None = None) -> str:
        """Where this row (or one of its cells) is, as the user sees it."""
        place = f"{self.table}：第 {self.number} 行"
        if name is None:
            return place
        return f"{place}「{self.headers.get(name, name)}」列"


def parse_table(
    table: RawTable,
    kind: TableKind,
    problems: Problems,
    *,
    defaults: dict[str, Any] | None = None,
    release: bool = False,
) -> list[Row]:
    """Parse every row; bad cells, missing values and unknown columns go to ``problems``.
    ``release``: the table's raw rows are dropped as they are parsed (it ends with none), so
    a large sheet is not held twice."""
    before = len(problems.messages)
    mapping, unknown = kind.mapping(table)
    for header in unknown:
        known = "、".join(c.aliases[0] for c in kind.columns)
        problems.add(
            f"{table.label}：第 1 行「{header}」列", f"未知的列名（{kind.label}表可用：{known}）"
        )
    headers = {f: h for h, f in mapping.items()}
    defaults = defaults or {}
    for column in kind.columns:
        if column.required and column.field not in headers and column.field not in defaults:
            problems.add(f"{table.label}：第 1 行", f"缺少必需的列「{column.aliases[0]}」")
    if len(problems.messages) > before:
        return []
    read = [(c, headers[c.field], c.parse is text) for c in kind.columns if c.field in headers]
    fixed = {  # the columns the table leaves out: their defaults
        c.field: defaults[c.field]
        for c in kind.columns
        if c.field not in headers and defaults.get(c.field) is not None
    }
    known = set(table.headers)
    rows = []
    for raw in _taken(table.rows) if release else table.rows:
        row = Row(table=table.label, number=raw.number, values=dict(fixed), headers=headers)
        for extra in raw.cells.keys() - known:
            if cell_text(raw.cells[extra]):
                problems.add(row.at(), f"「{extra}」有数据但没有表头")
        row = _parse_cells(row, raw.cells, read, defaults, problems)
        rows.append(row)
    return rows


def _parse_cells(
    row: Row,
    cells: dict[str, Any],
    read: list[tuple[Column, str, bool]],
    defaults: dict[str, Any],
    problems: Problems,
) -> Row:
    """Each read column's value into ``row.values``; bad cells, over-long and missing values
    into ``problems``. The row again, with the fields whose cell was refused.

    A row's texts are looked at for invisible characters together first: when none has one,
    a text column's value is its trimmed text, as ``schema.text`` would find it."""
    values = row.values
    refused: set[str] = set()
    clean = invisible("\n".join(v for v in cells.values() if v.__class__ is str)) is None
    for column, header, is_text in read:
        cell = cells.get(header)
        try:
            if clean and is_text and cell.__class__ is str:
                value = cell.strip() or None
            else:
                value = column.parse(cell)
        except CellError as exc:
            problems.add(row.at(column.field), str(exc))
            refused.add(column.field)
            continue
        if isinstance(value, str) and column.max_len and len(value) > column.max_len:
            problems.add(row.at(column.field), f"长度超过 {column.max_len} 个字符")
        if value is None:
            value = defaults.get(column.field)
            if value is None:
                if column.required:
                    problems.add(row.at(column.field), "不能为空")
                continue
        values[column.field] = value
    return replace(row, refused=frozenset(refused)) if refused else row


def _taken(rows: list[RawRow]) -> Iterator[RawRow]:
    """Each row in order, removed from ``rows`` as it is given (``rows`` ends empty)."""
    rows.reverse()
    while rows:
        yield rows.pop()


def check_unique(rows: list[Row], key: tuple[str, ...], problems: Problems, *, what: str) -> None:
    """Two rows of one import with the same key are an error (name both rows)."""
    seen: dict[tuple, Row] = {}
    for row in rows:
        value = tuple(map(row.values.get, key))
        if None in value:
            continue
        first = seen.setdefault(value, row)
        if first is not row:
            other = "" if first.table == row.table else f" {first.table} "
            problems.add(
                row.at(key[-1]),
                f"与{other}第 {first.number} 行重复（{what}「{' / '.join(map(str, value))}」）",
            )
