"""Checks of stored notice settings beyond one option's value (``notice_settings.problems``
runs them): each text must render as a template, nested tables must be tables.

Each editable text is a Jinja2 template. It is rendered with sample words when it is entered
(form, command, import), so a mistake in it is refused then, naming the text, and never makes
a notice fail later.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

#: The words a text may use, with sample values (services/reports/notice.py gives the real ones).
TEXT_WORDS = {
    "office": "XX市人民政府办公室",
    "office_short": "市政府办公室",
    "quarter_label": "2021年二季度",
    "quarter": "二季度",
    "deadline": "2021年7月29日",
    "notice_date": "2021年7月19日",
}


def template_problem(text: str) -> str | None:
    """What is wrong with a text as a template (unknown word, broken braces), or None."""
    env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
    try:
        env.from_string(text).render(**TEXT_WORDS)
    except TemplateError as exc:
        shown = "、".join(f"{{{{ {word} }}}}" for word in TEXT_WORDS)
        return f"有误：{str(exc)[:80]}（可用的替换词：{shown}）"
    return None


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
