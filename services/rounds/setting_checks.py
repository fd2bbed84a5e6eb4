"""Checks of stored notice settings beyond one option's value (``notice_settings.problems``
runs them): each text must render as a template, nested tables must be tables.

Each editable text is a Jinja2 template. It is rendered with sample words when it is entered
(form, command, import), so a mistake in it is refused then, naming the text, and never makes
a notice fail later.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, UndefinedError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

#: The words a text may use, with sample values (services/reports/notice.py gives the real ones).
TEXT_WORDS = {
    "office": "XX市人民政府办公室",
    "office_short": "市政府办公室",
    "quarter_label": "2021年二季度",
    "quarter": "二季度",
    "deadline": "2021年7月29日",
    "notice_date": "2021年7月19日",
    "departments": "市级部门",
}


_TEXTS = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


#: What starts a Jinja expression, statement or comment.
_TEMPLATE_MARKS = ("{{", "{%", "{#")


def render_text(text: str, words: dict[str, str]) -> str:
    """An editable text with its words filled in: the one way a notice and a check render it
    (sandboxed: a text is data an office typed). Raises what Jinja raises; see template_error.

    A text without a template mark (most: an office's name) comes out as Jinja would print
    it, without being compiled: 3,000 offices' names would crowd the compiled texts out."""
    text = str(text)
    if not any(mark in text for mark in _TEMPLATE_MARKS):
        # Jinja's output of plain text: newlines as "\n", one trailing newline dropped.
        return text.replace("\r\n", "\n").replace("\r", "\n").removesuffix("\n")
    return _compiled(text).render(**words)


@lru_cache(maxsize=4096)
def _compiled(text: str) -> Template:
    """A text compiled once (a notice renders the same few texts for every round)."""
    return _TEXTS.from_string(text)


def template_problem(text: str) -> str | None:
    """What is wrong with a text as a template (unknown word, broken braces), or None."""
    try:
        render_text(text, TEXT_WORDS)
    except Exception as exc:  # noqa: BLE001 - whatever a text does wrong is told, not raised
        return f"有误：{template_error(exc)}"
    return None


def words_shown() -> str:
    """The words a text may use, as a user writes them: {{ office }}、{{ office_short }}…"""
    return "、".join(f"{{{{ {word} }}}}" for word in TEXT_WORDS)


def template_error(exc: Exception) -> str:
    """Jinja's complaint about a text, said in Chinese (with the line of a syntax error)."""
    if isinstance(exc, TemplateSyntaxError):
        where = f"模板语法有误（第{exc.lineno}行）" if exc.lineno else "模板语法有误"
        unknown = re.search(
            r"(?:unknown tag|No (?:filter|test) named) '([^']+)'", exc.message or ""
        )
        if unknown:
            return f"{where}：不认识「{unknown[1]}」（文字中只能用替换词：{words_shown()}）"
        return f"{where}：花括号或标签不配对（替换词写作 {{{{ office }}}}）"
    if isinstance(exc, UndefinedError):
        missing = re.fullmatch(r"'([^']+)' is undefined", exc.message or "")
        if missing:
            return f"「{missing[1]}」不是可用的替换词，可用：{words_shown()}"
        return f"替换词只能原样使用，可用：{words_shown()}"
    if isinstance(exc, SecurityError):
        return f"用到了不允许的写法，可用的替换词：{words_shown()}"
    return f"无法生成文字（只能使用替换词：{words_shown()}）"


def shape_problems(
    settings: dict[str, Any], options: Iterable[Any], kinds: Iterable[str], *, where: str
) -> list[str]:
    """Tables where options are nested (pass_rate, pass_rate.website, ...) must be tables:
    a value stored in their place would hide the options from the per-option checks."""
    tables: dict[tuple[str, ...], list[str]] = {}
    for option in options:
        head, *rest = option.path.split(".")
        paths = [(head,)] if rest or option.per_kind else []
        paths += [(head, kind) for kind in kinds if rest and option.per_kind]
        for path in paths:
            tables.setdefault(path, []).append(option.label)
    found = []
    for path, labels in tables.items():
        node: Any = settings
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        if node is not None and not isinstance(node, dict):
            found.append(f"{where}「{'.'.join(path)}」应为键值表（存放{'、'.join(labels)}）")
    return found
