"""The tables an import understands: their columns (Chinese or English headers) and value types."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from services.core.plaintext import invisible
from services.imports.tables import RawTable, cell_text


class CellError(ValueError):
    """A cell's value is invalid; the message is Chinese and says what is expected."""


@dataclass(frozen=True)
class Column:
    field: str
    aliases: tuple[str, ...]
    parse: Callable[[Any], Any]
    required: bool = False
    max_len: int | None = None  # of the stored text, from the model's column


def text(value: Any) -> str | None:
    raw = value.strip() if value.__class__ is str else cell_text(value)
    if not raw:
        return None
    where = invisible(raw)
    if where:
        raise CellError(f"{where}，请删除后重新导入")
    return raw


def integer(value: Any) -> int | None:
    raw = cell_text(value)
    if not raw:
        return None
    if not re.fullmatch(r"\d+", raw):
        raise CellError(f"「{raw}」不是非负整数")
    return int(raw)


def day(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raw = cell_text(value)
    if not raw:
        return None
    match = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?", raw)
    if match:
        try:
            return date(*(int(g) for g in match.groups()))
        except ValueError:
            pass
    raise CellError(f"「{raw}」不是有效日期（格式 YYYY-MM-DD）")


_TRUE = {"true", "yes", "y", "1", "是", "对", "√"}
_FALSE = {"false", "no", "n", "0", "否", "不", "×"}


def boolean(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    raw = cell_text(value).lower()
    if not raw:
        return None
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise CellError(f"「{raw}」应为 是/否")


def choice(options: dict[str, str]) -> Callable[[Any], str | None]:
    """A code from ``options`` (accepted spelling → code), ignoring case. A refused value is
    told the choices as a user writes them: each code's first Chinese spelling, then the code."""
    lookup = {key.lower(): code for key, code in options.items()}
    shown = "、".join(
        code if label == code else f"{label}（{code}）"
        for code, label in choice_labels(options).items()
    )

    def parse(value: Any) -> str | None:
        raw = value.strip() if value.__class__ is str else cell_text(value)
        if not raw:
            return None
        code = lookup.get(raw.lower())
        if code is None:
            raise CellError(f"「{raw}」无效，可选：{shown}")
        return code

    return parse


def choice_labels(options: dict[str, str]) -> dict[str, str]:
    """Code → its first spelling that is not ASCII (the code itself if it has none)."""
    labels: dict[str, str] = {}
    for spelling, code in options.items():
        if not spelling.isascii() and labels.get(code, code) == code:
            labels[code] = spelling
        labels.setdefault(code, code)
    return labels


def normalise(header: str) -> str:
    """Header matching ignores case, spaces, required-markers and full-width brackets."""
    cleaned = re.sub(r"[\s*＊]", "", header or "").lower()
    return cleaned.replace("（", "(").replace("）", ")")


#: Columns anyone may add for their own notes; never read.
IGNORED_HEADERS = {normalise(h) for h in ("备注", "remark", "remarks", "notes", "序号")}


@dataclass(frozen=True)
class TableKind:
    code: str
    label: str
    sheet_names: tuple[str, ...]
    columns: tuple[Column, ...]

    def mapping(self, table: RawTable) -> tuple[dict[str, str], list[str]]:
        """Header → field for the known headers, and the headers this kind does not know."""
        by_alias = {normalise(a): col.field for col in self.columns for a in col.aliases}
        mapping, unknown = {}, []
        for header in table.headers:
            key = normalise(header)
            if not key or key in IGNORED_HEADERS:
                continue
            if key in by_alias and by_alias[key] not in mapping.values():
                mapping[header] = by_alias[key]
            else:
                unknown.append(header)
        return mapping, unknown

    def column(self, field: str) -> Column:
        return next(c for c in self.columns if c.field == field)


def detect(table: RawTable, kinds: dict[str, TableKind]) -> TableKind | None:
    """The table's kind: by sheet or section name (a CSV file's name: 问题类别.csv), else by
    its distinctive headers."""
    if table.name:
        name = normalise(table.name)
        for kind in kinds.values():
            if name in {normalise(n) for n in kind.sheet_names}:
                return kind
    headers = {normalise(h) for h in table.headers}
    for kind_code, field_name in _SIGNATURES:
        kind = kinds.get(kind_code)
        if kind and headers & {normalise(a) for a in kind.column(field_name).aliases}:
            return kind
    return None


#: (kind, field): the first kind whose distinctive column is present wins.
_SIGNATURES = (
    ("notice_settings", "name"),  # before verdicts: both have 对象类型
    ("issuers", "short_name"),
    ("categories", "name"),
    ("history", "trigger"),
    ("notices", "level"),
    ("findings", "category_code"),
    # The round's data blocks (services/imports/block_rows.py).
    ("recheck", "initial"),
    ("consultation", "asked"),
    ("reprint", "deployed"),
    ("reprint", "result"),
    ("cleanup", "deregistered"),
    ("commendations", "reason"),
    ("board_figures", "messages_received"),
    ("targets", "unit_code"),
    ("rounds", "period_start"),
    ("rounds", "doc_number"),
    ("rounds", "issuer_code"),  # after notice_settings, whose rows may name an issuer too
    ("verdicts", "inspected"),
    ("verdicts", "target_kind"),
    ("units", "parent_code"),
    ("units", "kind"),
)
