"""A notice's texts and options as form fields: the issuer page and the round's notice page.

Each field shows what is stored (or what the user typed, when a save was refused) beside what
applies when it is left empty. Reading a form back checks every field through the one
catalogue (``services/rounds/notice_settings.py``, by way of the issuers' pure helpers) and
names each refused field in Chinese; nothing is written until every field is good. A field
missing from the form leaves its value as it is; a field sent empty clears it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.datastructures import FormData

from services.core.errors import ValidationFailed
from services.core.limits import MAX_ID
from services.core.uow import UnitOfWork
from services.rounds import issuers, notice_settings
from services.rounds.notice_settings import (
    DESCRIPTIONS,
    KIND_LABELS,
    LIST_TEXTS,
    OPTIONS,
    PROBLEM_COUNTS,
    RATE_RULES,
    SECTION_LABELS,
    SURVEYS,
    Option,
)
from services.rounds.option_types import named_text

#: Options stored only under a target kind (``groups: {<kind>: [...]}``, read per kind by
#: services/reports/figures.py): the form offers no value for all kinds at once.
KIND_ONLY = ("groups",)
_WORDS = {**RATE_RULES, **SURVEYS, **SECTION_LABELS, **DESCRIPTIONS, **PROBLEM_COUNTS}
#: A value's code after its Chinese word, 「截断（truncate）」: not shown on a page.
_CODE_AFTER = re.compile(r"（[A-Za-z_][A-Za-z0-9_.]*）")


async def _form(request: Request) -> FormData:
    return await request.form()  # parsed once per request: the CSRF check read it already


#: The whole form of a page whose fields are made from the catalogue (their names vary).
Form = Annotated[FormData, Depends(_form)]


@dataclass(frozen=True)
class Field:
    name: str  # the form field's name
    label: str
    value: str  # what the input shows
    default: str = ""  # what applies when the field is left empty
    multiline: bool = False
    error: str | None = None
    rows: int = 2  # a textarea's height: a paragraph gets more room than a name


@dataclass(frozen=True)
class OptionRow:
    """One option: a field for all kinds (None where it has none) and one per kind."""

    option: Option
    allowed: str
    whole: Field | None
    kinds: tuple[Field, ...] = ()


def text_name(key: str) -> str:
    return f"text:{key}"


def option_name(option: Option, kind: str | None) -> str:
    return f"opt:{option.path}" + (f":{kind}" if kind else "")


def show_text(value: Any) -> str:
    """A stored text as a form shows it: a list of paragraphs one per line."""
    if isinstance(value, list):
        return "\n".join(str(v) for v in value)
    return "" if value is None else str(value)


def show_value(value: Any) -> str:
    """A stored option as text its parser reads back (one line per item of a repeated one)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dict) and "heading" in value:
        return named_text(value)  # with its kinds: saving the form unchanged keeps them
    if isinstance(value, list):
        if all(isinstance(v, dict) for v in value):
            return "\n".join(show_value(v) for v in value)
        return "、".join(_WORDS.get(str(v), str(v)) for v in value)
    return _WORDS.get(str(value), str(value))


class _Probe:
    """A value no option accepts: its refusal says what the option does accept."""

    def __str__(self) -> str:
        return "?"


def allowed(option: Option) -> str:
    """What may be typed for an option, in Chinese, from its own check's wording."""
    said = (option.check(_Probe()) or "").split("，而不是")[0]
    if said.startswith("「") and "可选：" in said:
        said = said.split("可选：", 1)[1]
    said = said.removeprefix("应为").removeprefix("应写作").strip()
    said = said.replace(f"0–{MAX_ID} 之间的整数", "不小于 0 的整数")
    if said == "不能为空":
        said = ""
    parts = (_CODE_AFTER.sub("", part) for part in (said, option.help) if part)
    return "；".join(parts)  # the Chinese words only: each parser reads them


def text_fields(
    stored: dict[str, Any],
    defaults: dict[str, Any],
    *,
    keys: tuple[str, ...],
    typed: FormData | None = None,
    errors: dict[str, str] | None = None,
) -> list[Field]:
    """One textarea per text: the stored (or typed) value, the default it would fall back to."""
    errors = errors or {}
    fields = []
    for key in keys:
        name = text_name(key)
        value = show_text(stored.get(key))
        if typed is not None and name in typed:
            value = str(typed[name])
        label = notice_settings.TEXTS[key]
        if key in LIST_TEXTS:
            label += "（每行一段）"
        default = show_text(defaults.get(key))
        rows = 6 if key in LIST_TEXTS else 4 if len(max(default, value, key=len)) > 40 else 2
        fields.append(Field(name, label, value, default, True, errors.get(name), rows))
    return fields


def option_rows(
    stored: dict[str, Any],
    inherited: dict[str, Any],
    *,
    typed: FormData | None = None,
    errors: dict[str, str] | None = None,
) -> list[OptionRow]:
    """One row per option of the catalogue; per-kind options with a field per kind."""
    errors = errors or {}

    def one(option: Option, kind: str | None) -> Field:
        name = option_name(option, kind)
        value = show_value(notice_settings.get_value(stored, option, kind=kind))
        if typed is not None and name in typed:
            value = str(typed[name])
        default = show_value(notice_settings.get_value(inherited, option, kind=kind))
        label = KIND_LABELS[kind] if kind else "全部类型"
        return Field(name, label, value, default, option.repeated, errors.get(name))

    rows = []
    for option in OPTIONS:
        whole = None if option.path.split(".")[0] in KIND_ONLY else one(option, None)
        kinds = tuple(one(option, kind) for kind in KIND_LABELS) if option.per_kind else ()
        rows.append(OptionRow(option, allowed(option), whole, kinds))
    return rows


def has_values(rows: list[OptionRow]) -> bool:
    """Whether any option is set here or refused (its section is then shown open)."""
    fields = [f for row in rows for f in (row.whole, *row.kinds) if f is not None]
    return any(f.value or f.error for f in fields)


@dataclass
class Reading:
    """A form read back: the text changes, the options to rewrite, what was refused."""

    texts: dict[str, Any] = field(default_factory=dict)
    #: (option path, kind, lines): each is cleared, then set from its lines (none: cleared).
    options: list[tuple[str, str | None, list[str]]] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)

    def add_error(self, name: str, exc: ValidationFailed, *, kind: str | None = None) -> None:
        said = "；".join(exc.errors)
        self.errors[name] = f"{KIND_LABELS[kind]}：{said}" if kind else said


def read_texts(form: FormData, keys: tuple[str, ...], reading: Reading, *, where: str) -> None:
    """The texts the form sends, each checked (an empty one clears the stored text)."""
    for key in keys:
        name = text_name(key)
        if name not in form:
            continue
        raw = str(form[name]).replace("\r\n", "\n")
        try:
            issuers.apply_texts({}, {key: raw}, where=where)
        except ValidationFailed as exc:
            reading.add_error(name, exc)
        reading.texts[key] = issuers.normal_text(key, raw)


def read_options(
    form: FormData, stored: dict[str, Any], reading: Reading, *, uow: UnitOfWork | None = None
) -> None:
    """The options the form sends, each parsed (given ``uow``, what a theme or a group names
    must exist); only those whose value changes are kept."""
    for row in option_rows({}, {}):
        for item in (row.whole, *row.kinds):
            if item is None or item.name not in form:
                continue
            kind = item.name.split(":")[2] if item.name.count(":") == 2 else None
            raw = str(form[item.name]).replace("\r\n", "\n").strip()
            lines = [line.strip() for line in raw.splitlines() if line.strip()]
            if not row.option.repeated:
                lines = [raw] if raw else []
            path = row.option.path
            try:
                after = issuers.option_cleared(stored, path, kind=kind)
                for line in lines:
                    after = issuers.option_set(after, path, line, kind=kind, uow=uow)
            except ValidationFailed as exc:
                reading.add_error(item.name, exc, kind=kind)
                continue
            before = notice_settings.get_value(stored, row.option, kind=kind)
            if notice_settings.get_value(after, row.option, kind=kind) != before:
                reading.options.append((path, kind, lines))
