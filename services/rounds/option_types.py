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


#: The kinds a theme (问题主题) may be restricted to, and the words an office writes for them.
THEME_KINDS = {
    "website": "政府网站",
    "column": "专栏",
    "new_media": "政务新媒体",
    "message_board": "网民留言平台",
}
_KIND_WORDS = {
    **{code: code for code in THEME_KINDS},
    **{label: code for code, label in THEME_KINDS.items()},
    "网站": "website",
    "信息公开专栏": "column",
    "新媒体": "new_media",
    "留言平台": "message_board",
}
_ALL_KINDS = {"全部", "所有", "所有类型", "全部类型", "all"}


def _kinds(text: str) -> list[str]:
    """政务新媒体、专栏 → ["new_media", "column"]; 全部 → every kind; unknown → OptionError."""
    words = [w for w in re.split(SEPARATORS, text.strip()) if w]
    if any(w.lower() in _ALL_KINDS for w in words):
        return list(THEME_KINDS)
    if not words:
        raise OptionError("方括号中应写对象类型，如「[政务新媒体]」；不限类型时不写方括号")
    unknown = [w for w in words if w.lower() not in _KIND_WORDS and w not in _KIND_WORDS]
    if unknown:
        shown = "、".join(f"{v}（{k}）" for k, v in THEME_KINDS.items())
        raise OptionError(f"对象类型「{'、'.join(unknown)[:40]}」无效，可选：{shown}或 全部")
    return list(dict.fromkeys(_KIND_WORDS.get(w, _KIND_WORDS.get(w.lower(), w)) for w in words))


def named_text(value: Any) -> str:
    """A stored entry as the text its parser reads back: 标题[政务新媒体]=代码1、代码2."""
    kinds = value.get("kinds") or []
    words = (
        "全部"
        if set(kinds) == set(THEME_KINDS)
        else "、".join(THEME_KINDS.get(k, k) for k in kinds)
    )
    shown = f"[{words}]" if kinds else ""
    return f"{value['heading']}{shown}=" + "、".join(str(i) for i in value.get("items") or [])


def named_list(*, with_kinds: bool = False) -> tuple[Parse, Check]:
    """ "heading = a, b, c" → {"heading": .., "items": [..]} (themes, unit groups). With
    ``with_kinds`` (themes), "heading[政务新媒体、专栏] = a, b" also restricts the entry to
    those target kinds: {"heading": .., "kinds": ["new_media", "column"], "items": [..]}."""
    form = "标题[对象类型]=代码1、代码2" if with_kinds else "标题=代码1、代码2"

    def check(value: Any) -> str | None:
        if (
            not isinstance(value, dict)
            or not isinstance(value.get("heading"), str)
            or not value["heading"].strip()
            or not isinstance(value.get("items"), list)
            or not value["items"]
            or not all(isinstance(i, str) and i for i in value["items"])
        ):
            return f"应写作「{form}」，而不是「{str(value)[:60]}」"
        kinds = value.get("kinds")
        if kinds is not None and (
            not with_kinds
            or not isinstance(kinds, list)
            or not kinds
            or any(k not in THEME_KINDS for k in kinds)
        ):
            return f"应写作「{form}」，而不是「{str(value)[:60]}」"
        return None

    def parse(text: str) -> dict[str, Any]:
        heading, sep, rest = str(text).partition("=")
        heading = heading.strip()
        value: dict[str, Any] = {"heading": heading}
        restricted = re.fullmatch(r"(.+?)\s*[\[［【](.*)[\]］】]", heading) if with_kinds else None
        if restricted:
            value = {"heading": restricted[1].strip(), "kinds": _kinds(restricted[2])}
        value["items"] = [i for i in re.split(SEPARATORS, rest.strip()) if i]
        if not sep or check(value):
            raise OptionError(f"应写作「{form}」，而不是「{str(text)[:60]}」")
        return value

    return parse, check
