"""A round's data blocks (复查, 通报表扬, 模拟咨询, 重要信息转载, 清理整合) as simple forms.

One small form per block: its single values as inputs, each of its lists as a textarea with
one row per line, the columns separated by a tab (pasted from a spreadsheet) or a comma; the
last column takes the rest of the line, so a reason or a question may hold commas itself.
``services/rounds/blocks.py`` checks what is read and names every refused item and field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import FormData

from services.imports import block_rows
from services.rounds import blocks
from services.rounds.blocks import FIELD_LABELS, KINDS, REPRINT_RESULTS

_YES = {"是": True, "已注销": True, "true": True, "1": True, "否": False, "未注销": False}
_YES |= {"false": False, "0": False}
_RESULTS = block_rows.RESULTS  # 及时 / 不及时 / 未转载, as the import sheet reads them


@dataclass(frozen=True)
class Part:
    """One field of a block's form: a single value, or a list with its columns."""

    name: str
    columns: tuple[str, ...] = ()  # a list's columns; empty for a single value
    hint: str = ""

    @property
    def label(self) -> str:
        return FIELD_LABELS.get(self.name, self.name)

    @property
    def heading(self) -> str:
        """The columns a list's rows hold, in order, as the form names them."""
        return "，".join(FIELD_LABELS.get(c, c) for c in self.columns)


PARTS: dict[str, tuple[Part, ...]] = {
    "recheck": (Part("initial", hint="YYYY-MM-DD"), Part("recheck", hint="YYYY-MM-DD")),
    "commendations": (
        Part("targets", ("target", "reason")),
        Part("reported", ("unit", "task")),
    ),
    "consultation": (
        Part(
            "questions",
            ("target", "asked", "answered", "question"),
            hint="未答复的留空答复日期，如「w_yd，2021-05-10，，如何办理…」",
        ),
    ),
    "reprint": (
        Part("deployed"),
        Part("sampled"),
        Part("checked", hint="不填时按列出的对象计"),
        Part(
            "results", ("target", "result"), hint="转载情况：" + "、".join(REPRINT_RESULTS.values())
        ),
    ),
    "cleanup": (
        Part("task", hint="可不填"),
        Part("accounts", ("name", "unit", "deregistered"), hint="是否已注销：是 或 否"),
    ),
}


def field_name(kind: str, part: Part) -> str:
    return f"block:{kind}:{part.name}"


def _cell(column: str, text: str) -> Any:
    if column == "result":
        return _RESULTS.get(text, text)
    if column == "deregistered":
        return _YES.get(text.lower(), text)
    return text


def _row(line: str, columns: tuple[str, ...]) -> dict[str, Any]:
    if "\t" in line:
        cells = line.split("\t", len(columns) - 1)
    else:
        cells = re.split(r"\s*[,，]\s*", line, maxsplit=len(columns) - 1)
    return {c: _cell(c, v.strip()) for c, v in zip(columns, cells, strict=False) if v.strip()}


def read(kind: str, form: FormData) -> dict[str, Any]:
    """The block as its form sends it (empty: the block is to be removed)."""
    data: dict[str, Any] = {}
    for part in PARTS[kind]:
        raw = str(form.get(field_name(kind, part), "")).replace("\r\n", "\n").strip()
        if part.columns:
            rows = [_row(line, part.columns) for line in raw.splitlines() if line.strip()]
            if rows:
                data[part.name] = rows
        elif raw:
            data[part.name] = raw
    return data


def _show_cell(column: str, value: Any) -> str:
    if column == "result":
        return REPRINT_RESULTS.get(value, str(value))
    if isinstance(value, bool):
        return "是" if value else "否"
    return "" if value is None else str(value)


def shown(kind: str, stored: dict[str, Any] | None, typed: FormData | None = None) -> dict:
    """Each field's text as the form shows it: typed (a refused save), else stored."""
    values = {}
    for part in PARTS[kind]:
        name = field_name(kind, part)
        if typed is not None and name in typed:
            values[name] = str(typed[name])
        elif part.columns:
            rows = (stored or {}).get(part.name) or []
            values[name] = "\n".join(
                "，".join(_show_cell(c, row.get(c)) for c in part.columns) for row in rows
            )
        else:
            values[name] = _show_cell(part.name, (stored or {}).get(part.name))
    return values


@dataclass(frozen=True)
class BlockForm:
    kind: str
    label: str
    parts: tuple[Part, ...]
    values: dict[str, str]
    present: bool


def forms(round_blocks: dict[str, Any] | None, *, typed_kind: str = "", typed=None):
    """One form per block kind, with what is stored (or what was typed into the refused one)."""
    return [
        BlockForm(
            kind,
            label,
            PARTS[kind],
            shown(kind, (round_blocks or {}).get(kind), typed if kind == typed_kind else None),
            bool((round_blocks or {}).get(kind)),
        )
        for kind, label in KINDS.items()
    ]


def known(kind: str) -> bool:
    return kind in blocks.KINDS and kind in PARTS
