"""A problem category as data: its fields, their Chinese names, and what each may hold.

Every entry point (``rectify category``, the categories page, the 问题类别 import sheet, the
seed) builds a ``CategorySpec`` and asks ``field_problems()`` before anything is written, so
nothing stored can later make a notice fail. The ``parse_*`` helpers read what a person types
(Chinese labels or codes) and raise ``ValueError`` with a Chinese message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields, replace
from typing import Any

from jinja2 import Environment, TemplateSyntaxError, meta

from services.checks.base import label_of
from services.checks.base import names as check_names
from services.checks.model import MANUAL
from services.core.deadlines import MODE_LABELS, MODES
from services.core.errors import ValidationFailed
from services.core.plaintext import invisible
from services.db.models import Category
from services.registry.units import TARGET_KINDS

SEVERITY_LABELS = {"veto": "单项否决", "deduction": "扣分"}
#: Every field as the CLI, the page, the import sheet and the errors name it.
CATEGORY_LABELS = {
    "code": "类别代码",
    "name": "类别名称",
    "target_kinds": "适用对象",
    "severity": "严重程度",
    "deadline_days": "整改天数",
    "deadline_mode": "期限方式",
    "check": "自动检查",
    "theme": "通报主题",
    "notice_heading": "通报标题",
    "wording": "通报表述",
    "rule": "依据",
    "retired": "停用",
    "sort_order": "排序",
}
#: The keys of a kind's wording (``Category.wording[kind]``), as reports/templates/
#: notice_categories.yaml uses them; item and section are Jinja2 templates.
WORDING_KEYS = {
    "heading": "通报标题",
    "phrase": "通报表述",
    "elaboration": "表述说明",
    "item": "条目模板",
    "section": "段落模板",
    "summary_section": "汇总段落模板",
    "attach_to": "并入类别",
    "in_problems": "列入存在问题",
}
#: The names a wording template may use (what services/reports/problems.py renders it with).
TEMPLATE_NAMES = {
    "item": {"target", "unit", "account", "entity", "phrases", "history", "description"},
    "section": {"heading", "elaboration", "items", "quarter"},
    "summary_section": {"heading", "elaboration", "items", "quarter"},
}
#: The wording every kind shares; a kind's own entry (``new_media``) overrides it key by key.
ALL_KINDS = "_"
DEADLINE_DAYS = (1, 365)
SORT_ORDER = (0, 100_000)
TEXT_LIMIT = 1000

_KIND_WORDS = {code: code for code in TARGET_KINDS} | {
    label: code for code, label in TARGET_KINDS.items()
}
_KIND_WORDS |= {
    "网站": "website",
    "专栏": "column",
    "新媒体": "new_media",
    "留言平台": "message_board",
}
_KIND_WORDS |= {"留言板": "message_board", "账号": "new_media"}
_ANY_WORDS = {"any", "all", "全部", "所有", "不限", "全部对象", "所有对象"}
_SEVERITY_WORDS = {code: code for code in SEVERITY_LABELS} | {
    "单项否决": "veto",
    "否决": "veto",
    "扣分": "deduction",
    "扣分项": "deduction",
}
_MODE_WORDS = {m: m for m in MODES} | {label: m for m, label in MODE_LABELS.items()}
_NO_CHECK = {"", "无", "不", "none", "人工", "人工核实", MANUAL}
_SPLIT = re.compile(r"[、,，;；/\s]+")
_CODE = re.compile(r"[A-Za-z0-9_]+")
_ENV = Environment(autoescape=False)


@dataclass(frozen=True)
class CategorySpec:
    """A category's settings; ``target_kinds`` empty means it applies to every kind."""

    code: str
    name: str
    severity: str
    target_kinds: tuple[str, ...] = ()
    deadline_days: int | None = None
    deadline_mode: str | None = None
    check: str | None = None
    rule: str | None = None
    notice_heading: str | None = None
    theme: str | None = None
    wording: dict[str, dict[str, str]] = field(default_factory=dict, hash=False)
    retired: bool = False
    sort_order: int = 100

    def changed(self, **changes: Any) -> CategorySpec:
        """This spec with some fields replaced (kinds put in order, duplicates dropped)."""
        if "target_kinds" in changes:
            changes["target_kinds"] = ordered_kinds(changes["target_kinds"] or ())
        return replace(self, **changes)

    def problems(self) -> list[str]:
        """Every problem, in Chinese, each naming its field (see ``field_problems``)."""
        return [message for _, message in self.field_problems()]

    def field_problems(self) -> list[tuple[str, str]]:
        """(field, message) for every value this category may not hold."""
        found = [*self._text_problems(), *self._value_problems()]
        found += [("wording", problem) for problem in wording_problems(self.wording)]
        if self.target_kinds and isinstance(self.wording, dict):
            extra = [k for k in self.wording if k in TARGET_KINDS and k not in self.target_kinds]
            if extra:
                found.append(_say("wording", _unused_wording(extra, self.target_kinds)))
        what = f"类别 {str(self.code)[:60]} 的"
        return [(name, f"{what}{text}") for name, text in found]

    def _text_problems(self) -> list[tuple[str, str]]:
        found = []
        if not self.code or not _CODE.fullmatch(self.code):
            found.append(_say("code", "只能由字母、数字和下划线组成"))
        if not (self.name or "").strip():
            found.append(_say("name", "不能为空"))
        for name in ("code", "name", "theme", "rule", "notice_heading", "check"):
            value = getattr(self, name)
            column = Category.__table__.c[name].type
            limit = getattr(column, "length", None) or TEXT_LIMIT
            if value and len(value) > limit:
                found.append(_say(name, f"过长（{len(value)} 字，上限 {limit} 字）"))
            if value and (where := invisible(value)):
                found.append(_say(name, where))
        return found

    def _value_problems(self) -> list[tuple[str, str]]:
        found = []
        if self.severity not in SEVERITY_LABELS:
            found.append(
                _say("severity", f"「{self.severity}」无效（{_choices(SEVERITY_LABELS)}）")
            )
        wrong = [k for k in self.target_kinds if k not in TARGET_KINDS]
        if wrong:
            found.append(
                _say("target_kinds", f"「{'、'.join(map(str, wrong))}」无效（{kind_choices()}）")
            )
        if self.deadline_mode is not None and self.deadline_mode not in MODES:
            found.append(
                _say("deadline_mode", f"「{self.deadline_mode}」无效（{_choices(MODE_LABELS)}）")
            )
        low, high = DEADLINE_DAYS
        if self.deadline_days is not None and not low <= self.deadline_days <= high:
            found.append(_say("deadline_days", f"应在 {low}–{high} 天之间：{self.deadline_days}"))
        low, high = SORT_ORDER
        if not isinstance(self.sort_order, int) or not low <= self.sort_order <= high:
            found.append(_say("sort_order", f"应为 {low}–{high} 的整数：{self.sort_order}"))
        if self.check is not None and self.check != MANUAL and self.check not in check_names():
            found.append(_say("check", f"「{self.check}」不存在，{check_choices()}"))
        return found


def _unused_wording(extra: list[str], kinds: tuple[str, ...]) -> str:
    shown = "、".join(TARGET_KINDS[k] for k in extra)
    return (
        f"有{shown}的表述，但类别只适用于{kinds_label(kinds)}（先清空该表述，或把它加入适用对象）"
    )


def _say(name: str, text: str) -> tuple[str, str]:
    return name, f"{CATEGORY_LABELS[name]}{text}"


def _choices(labels: dict[str, str]) -> str:
    return "可选：" + "、".join(f"{label}（{code}）" for code, label in labels.items())


def kind_choices() -> str:
    return _choices(TARGET_KINDS) + "，或「全部」"


def check_choices() -> str:
    known = "、".join(f"{name}（{label_of(name)}）" for name in check_names())
    return f"可用的自动检查：{known}（不填表示由督查人员人工核实）"


def spec_fields() -> list[str]:
    return [f.name for f in fields(CategorySpec)]


def ordered_kinds(kinds: Any) -> tuple[str, ...]:
    """Kinds without duplicates, in the registry's order (unknown ones kept, last, to refuse);
    every kind at once is the same as none: the category applies to all."""
    unique = list(dict.fromkeys(kinds))
    known = [k for k in TARGET_KINDS if k in unique]
    if len(known) == len(TARGET_KINDS):
        known = []
    return tuple(known + [k for k in unique if k not in TARGET_KINDS])


def kinds_label(kinds: tuple[str, ...]) -> str:
    return "、".join(TARGET_KINDS.get(k, k) for k in kinds) if kinds else "全部"


def parse_kinds(text: str | None) -> tuple[str, ...]:
    """「网站、专栏」, ``website,column`` or 「全部」 → kinds (empty: every kind)."""
    words = [w for w in _SPLIT.split(text or "") if w]
    if not words or all(w.lower() in _ANY_WORDS for w in words):
        return ()
    wrong = [w for w in words if w.lower() not in _KIND_WORDS and w not in _KIND_WORDS]
    if wrong:
        raise ValueError(
            f"{CATEGORY_LABELS['target_kinds']}「{'、'.join(wrong)}」无效（{kind_choices()}）"
        )
    return ordered_kinds(_KIND_WORDS.get(w, _KIND_WORDS.get(w.lower())) for w in words)


def parse_kind(text: str) -> str:
    """One kind (for a kind's own wording), or ``_`` for every kind."""
    word = (text or "").strip()
    if not word or word == ALL_KINDS or word.lower() in _ANY_WORDS:
        return ALL_KINDS
    found = _KIND_WORDS.get(word) or _KIND_WORDS.get(word.lower())
    if found is None:
        raise ValueError(f"对象类型「{word}」无效（{kind_choices()}）")
    return found


def parse_severity(text: str) -> str:
    found = _SEVERITY_WORDS.get((text or "").strip().lower()) or _SEVERITY_WORDS.get(text.strip())
    if found is None:
        raise ValueError(
            f"{CATEGORY_LABELS['severity']}「{text}」无效（{_choices(SEVERITY_LABELS)}）"
        )
    return found


def parse_mode(text: str) -> str | None:
    word = (text or "").strip()
    if not word:
        return None
    found = _MODE_WORDS.get(word) or _MODE_WORDS.get(word.lower())
    if found is None:
        raise ValueError(
            f"{CATEGORY_LABELS['deadline_mode']}「{word}」无效（{_choices(MODE_LABELS)}）"
        )
    return found


def parse_int(text: str, name: str) -> int | None:
    word = (text or "").strip()
    if not word:
        return None
    if not re.fullmatch(r"\d{1,9}", word):
        raise ValueError(f"{CATEGORY_LABELS[name]}应为正整数：「{word[:30]}」")
    return int(word)


def parse_check(text: str) -> str | None:
    """A check's name or its Chinese label; empty, 「无」 or 「人工」: none (a person verifies)."""
    word = (text or "").strip()
    if word.lower() in _NO_CHECK:
        return None
    by_label = {label_of(name): name for name in check_names()}
    return by_label.get(word, word)


def wording_problems(wording: Any) -> list[str]:
    """What is wrong with a wording table: {kind or "_": {key: text}}, templates that parse
    and use only the names the notice gives them."""
    label = CATEGORY_LABELS["wording"]
    if not isinstance(wording, dict):
        return [f"{label}应为按对象类型的键值表"]
    found = []
    for kind, entry in wording.items():
        where = (
            f"{label}（{TARGET_KINDS.get(kind, '全部对象') if kind != ALL_KINDS else '全部对象'}）"
        )
        if kind != ALL_KINDS and kind not in TARGET_KINDS:
            found.append(f"{label}的对象类型「{kind}」无效（{kind_choices()}）")
            continue
        if not isinstance(entry, dict):
            found.append(f"{where}应为键值表（{'、'.join(WORDING_KEYS)}）")
            continue
        for key, text in entry.items():
            found += _wording_text_problems(where, key, text)
    return found


def _wording_text_problems(where: str, key: str, text: Any) -> list[str]:
    if key not in WORDING_KEYS:
        keys = "、".join(f"{k}（{v}）" for k, v in WORDING_KEYS.items())
        return [f"{where}的「{key}」无效（可用：{keys}）"]
    name = f"{where}的{WORDING_KEYS[key]}"
    if key == "in_problems":
        return [] if isinstance(text, bool) else [f"{name}应为 true 或 false"]
    if key == "attach_to":
        good = isinstance(text, list) and all(isinstance(c, str) for c in text)
        return [] if good else [f"{name}应为类别代码的列表"]
    if not isinstance(text, str):
        return [f"{name}应为文字"]
    if len(text) > TEXT_LIMIT:
        return [f"{name}过长（{len(text)} 字，上限 {TEXT_LIMIT} 字）"]
    if where_invisible := invisible(text):
        return [f"{name}{where_invisible}"]
    if key not in TEMPLATE_NAMES:
        return []
    try:
        used = meta.find_undeclared_variables(_ENV.parse(text))
    except TemplateSyntaxError as exc:
        return [f"{name}不是有效的模板：{exc.message}"]
    unknown = sorted(used - TEMPLATE_NAMES[key])
    if unknown:
        allowed = "、".join(sorted(TEMPLATE_NAMES[key]))
        return [f"{name}使用了未知的变量「{'、'.join(unknown)}」（可用：{allowed}）"]
    return []


def with_wording(
    wording: dict[str, dict[str, str]], kind: str, values: dict[str, str | None]
) -> dict[str, dict[str, str]]:
    """A copy of ``wording`` with one kind's keys set (an empty value removes the key)."""
    result = {k: dict(v) for k, v in (wording or {}).items() if isinstance(v, dict)}
    entry = result.setdefault(kind, {})
    for key, value in values.items():
        if value is None:
            continue
        if value.strip():
            entry[key] = value.strip()
        else:
            entry.pop(key, None)
    return {k: v for k, v in result.items() if v}


_PARSERS = {
    "target_kinds": parse_kinds,
    "severity": parse_severity,
    "deadline_days": lambda text: parse_int(text, "deadline_days"),
    "deadline_mode": parse_mode,
    "check": parse_check,
    "sort_order": lambda text: parse_int(text, "sort_order"),
}


def read_changes(values: dict[str, str | None]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Spec changes from what a person typed (a form, command options), and (field, message)
    for every value that cannot be read: a field left out or None keeps its value, an empty
    text clears it."""
    changes: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    for name, text in values.items():
        if text is None:
            continue
        if name not in CATEGORY_LABELS or name in ("code", "wording", "retired"):
            raise ValueError(f"不能这样修改的字段：{name}")
        try:
            parse = _PARSERS.get(name)
            changes[name] = parse(text) if parse else (text.strip() or None)
        except ValueError as exc:
            problems.append((name, str(exc)))
    if "sort_order" in changes and changes["sort_order"] is None:
        changes["sort_order"] = 100
    if "severity" in changes and changes["severity"] is None:
        problems.append(("severity", f"{CATEGORY_LABELS['severity']}不能为空"))
    return changes, problems


def changes_from_text(values: dict[str, str | None]) -> dict[str, Any]:
    """``read_changes``, every unreadable value refused at once."""
    changes, problems = read_changes(values)
    if problems:
        raise ValidationFailed([message for _, message in problems])
    return changes
