"""The kinds of value a notice option takes (``notice_settings.OPTIONS``): for each, a parser
(the text a cell, a command argument or a form field gives → the stored value) and a check
(a stored value → what is wrong with it, in Chinese, or None).

Pure: no database. Checks that need the registry (a theme's categories, a group's units)
live in ``services.rounds.option_refs``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

Parse = Callable[[str], Any]
Check = Callable[[Any], str | None]

#: What separates the entries of a list written in one text: 、 , ， ; ； or spaces.
SEPARATORS = r"[,，、;；\s]+"

_YES = {"是", "yes", "true", "1", "y", "打印", "√"}
_NO = {"否", "no", "false", "0", "n", "不打印", "×"}


class OptionError(ValueError):
    """A value an option does not accept; the message is Chinese and names what is allowed."""


def choice(options: dict[str, str]) -> tuple[Parse, Check]:
    """One of ``options`` (code → Chinese label), given by its code (any case) or its label."""
    lookup = {**{k.lower(): k for k in options}, **{v: k for k, v in options.items()}}
    shown = "、".join(f"{v}（{k}）" for k, v in options.items())

    def parse(text: str) -> str:
        value = lookup.get(str(text).strip().lower())
        if value is None:
            raise OptionError(f"「{str(text)[:40]}」无效，可选：{shown}")
        return value

    def check(value: Any) -> str | None:
        return None if value in options else f"「{str(value)[:40]}」无效，可选：{shown}"

    return parse, check


def integer(low: int, high: int) -> tuple[Parse, Check]:
    """A whole number from ``low`` to ``high``."""

    def check(value: Any) -> str | None:
        if type(value) is not int or not low <= value <= high:
            return f"应为 {low}–{high} 之间的整数，而不是「{str(value)[:40]}」"
        return None

    def parse(text: str) -> int:
        raw = str(text).strip()
        if not re.fullmatch(r"-?\d+", raw):
            raise OptionError(f"应为 {low}–{high} 之间的整数，而不是「{raw[:40]}」")
        value = int(raw)
        if problem := check(value):
            raise OptionError(problem)
        return value

    return parse, check


def boolean() -> tuple[Parse, Check]:
    """是 or 否 (yes/no, 打印/不打印, ...)."""

    def parse(text: str) -> bool:
        raw = str(text).strip().lower()
        if raw in _YES:
            return True
        if raw in _NO:
            return False
        raise OptionError(f"应为 是 或 否，而不是「{raw[:40]}」")

    def check(value: Any) -> str | None:
        return None if isinstance(value, bool) else f"应为 是 或 否，而不是「{str(value)[:40]}」"

    return parse, check


def short_text(limit: int) -> tuple[Parse, Check]:
    """A text that is not empty and at most ``limit`` characters."""

    def check(value: Any) -> str | None:
        if not isinstance(value, str) or not value.strip():
            return "不能为空"
        return f"过长（{len(value)} 字，上限 {limit} 字）" if len(value) > limit else None

    def parse(text: str) -> str:
        value = str(text).strip()
        if problem := check(value):
            raise OptionError(problem)
        return value

    return parse, check


def sections(labels: dict[str, str]) -> tuple[Parse, Check]:
    """A list of chapter names (keys of ``labels``, given by key or label), none twice."""
    one, _ = choice(labels)
    shown = "、".join(f"{v}（{k}）" for k, v in labels.items())

    def check(value: Any) -> str | None:
        if not isinstance(value, list) or not value or any(v not in labels for v in value):
            return f"应为章节列表（可选：{shown}），而不是「{str(value)[:60]}」"
        if len(set(value)) != len(value):
            return "章节不能重复"
        return None

    def parse(text: str) -> list[str]:
        value = [one(part) for part in re.split(SEPARATORS, str(text).strip()) if part]
        if problem := check(value):
            raise OptionError(problem)
        return value

    return parse, check


def named_list() -> tuple[Parse, Check]:
    """ "heading = a, b, c" → {"heading": .., "items": [..]} (themes, unit groups)."""

    def check(value: Any) -> str | None:
        if (
            not isinstance(value, dict)
            or not isinstance(value.get("heading"), str)
            or not value["heading"].strip()
            or not isinstance(value.get("items"), list)
            or not value["items"]
            or not all(isinstance(i, str) and i for i in value["items"])
        ):
            return f"应写作「标题=代码1、代码2」，而不是「{str(value)[:60]}」"
        return None

    def parse(text: str) -> dict[str, Any]:
        heading, sep, rest = str(text).partition("=")
        items = [i for i in re.split(SEPARATORS, rest.strip()) if i]
        value = {"heading": heading.strip(), "items": items}
        if not sep or check(value):
            raise OptionError(f"应写作「标题=代码1、代码2」，而不是「{str(text)[:60]}」")
        return value

    return parse, check
