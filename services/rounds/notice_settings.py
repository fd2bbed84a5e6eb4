"""The notice's texts and options an office edits: one catalogue, read by every entry point.

An issuer (发文机关) holds defaults (``Issuer.texts``, ``Issuer.options``); a round overrides
any of them (``Round.notice_texts``: texts and option keys side by side). The web forms, the
``rectify issuer`` / ``rectify round set`` commands and the 通报设置 import sheet all go
through ``OPTIONS`` and ``TEXTS`` below: one label, one parser and one check per option, so a
value refused on one path is refused on every path, and nothing stored can make the notice
fail later (``problems`` checks what is stored).

Options are stored in their natural JSON shape under dotted paths: ``pass_rate.decimals`` is
``{"pass_rate": {"decimals": 1}}``; a per-kind option sits under the kind:
``{"pass_rate": {"website": {"decimals": 0}}}``.

The kinds of value (a choice, an integer in a range, 是/否, a list of chapters, 标题=条目)
are parsed and checked in ``services.rounds.option_types``; what an option names in the
registry (a theme's categories, a group's units) is checked in ``option_refs``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from services.core.limits import MAX_ID
from services.rounds.option_types import (
    OptionError,
    boolean,
    choice,
    integer,
    named_list,
    sections,
    short_text,
)
from services.rounds.setting_checks import shape_problems, template_problem

#: The kinds a notice counts and rates, with their Chinese names.
KIND_LABELS = {"website": "政府网站", "column": "专栏", "new_media": "政务新媒体"}
#: The chapters and blocks a notice can print, in their default order.
SECTION_LABELS = {
    "overview": "总体情况",
    "problems": "存在问题",
    "recheck": "复查情况",
    "consultation": "模拟咨询",
    "reprint": "重要信息转载",
    "cleanup": "清理整合",
    "commendations": "通报表扬",
    "requirements": "工作要求",
}
DEFAULT_SECTIONS = ("overview", "problems", "requirements")
RATE_RULES = {"round_half_up": "四舍五入", "truncate": "截断"}
SURVEYS = {"census": "普查", "sample": "抽查"}
#: What 发现问题网站N个 counts: every inspected target with a problem, or only the unqualified.
PROBLEM_COUNTS = {"all": "全部问题对象", "unqualified": "仅不合格"}
FOLLOWUPS = {"praised": "表扬", "unreported": "未报送单位", "still_unfixed": "复查仍未整改"}
#: Where section 存在问题 prints each case's description (Case.description).
DESCRIPTIONS = {"none": "不打印", "after_target": "对象后"}

#: The editable texts (keys of services/reports/templates/notice_texts.yaml) and their names.
TEXTS = {
    "office": "发文机关",
    "office_short": "发文机关简称",
    "title": "标题",
    "addressees": "主送机关",
    "preamble": "导语",
    "no_problems": "未发现问题时的表述",
    "requirements": "下一步工作要求",
    "deadline_paragraph": "整改期限段落",
    "signature": "落款",
    "issued": "印发行",
    "column_noun": "专栏统称",
}
#: Texts that are lists of paragraphs (one paragraph per line, or per import row).
LIST_TEXTS = ("requirements",)
TEXT_MAX = 4000


@dataclass(frozen=True)
class Option:
    """One setting: where it is stored, its Chinese name, how text becomes its value."""

    path: str  # dotted, e.g. "pass_rate.decimals"
    label: str  # 合格率小数位数
    parse: Callable[[str], Any]  # text (a cell, a CLI argument, a form field) → value
    check: Callable[[Any], str | None]  # a stored value → what is wrong with it, or None
    per_kind: bool = False  # may be set per target kind (stored under the kind)
    repeated: bool = False  # several rows/lines build a list
    help: str = ""


def _option(path: str, label: str, kind: tuple, **extra: Any) -> Option:
    parse, check = kind
    return Option(path=path, label=label, parse=parse, check=check, **extra)


OPTIONS: tuple[Option, ...] = (
    _option("pass_rate.decimals", "合格率小数位数", integer(0, 2), per_kind=True),
    _option("pass_rate.rule", "合格率取舍", choice(RATE_RULES), per_kind=True),
    _option("pass_rate.print", "打印合格率", boolean(), per_kind=True),
    _option(
        "pass_rate.hundred",
        "全部合格时的写法",
        short_text(20),
        per_kind=True,
        help="如 100% 或 100.0%；不填时按小数位数书写",
    ),
    _option("kinds.survey", "检查方式", choice(SURVEYS), per_kind=True),
    _option(
        "kinds.operating",
        "在运行数量",
        integer(0, MAX_ID),
        per_kind=True,
        help="不填时按登记在运行的对象计数",
    ),
    _option(
        "kinds.counts",
        "打印检查数量",
        boolean(),
        per_kind=True,
        help="否：只写发现问题的数量和合格率，不写在运行、检查、合格的数量；默认 是",
    ),
    _option(
        "kinds.problems",
        "问题数量口径",
        choice(PROBLEM_COUNTS),
        per_kind=True,
        help="「发现问题网站N个」的N：全部问题对象（含只有扣分问题的对象，与不合格数不同时"
        "写「其中不合格网站M个」）或仅不合格；默认 全部问题对象",
    ),
    _option(
        "groups",
        "分组统计",
        named_list(),
        per_kind=True,
        repeated=True,
        help="每行一组：组名=单位类型或单位代码，如「市级部门网站=city_dept」",
    ),
    _option(
        "sections",
        "通报章节",
        sections(SECTION_LABELS),
        help="按顺序列出，如「存在问题、工作要求」",
    ),
    _option(
        "themes",
        "问题主题",
        named_list(with_kinds=True),
        repeated=True,
        help="每行一个主题：主题标题=类别代码或名称，依次列出；只收某类对象时写"
        "「主题标题[政务新媒体]=…」（不写时，标题只说网站或只说政务新媒体的主题只收该类对象）",
    ),
    _option(
        "summary.threshold",
        "列举上限",
        integer(1, 1000),
        help="名单超过此数时写作「某某等N个」",
    ),
    _option(
        "summary.names",
        "概括时列举名称数",
        integer(1, 100),
        help="名单概括时写出的名称个数，默认 3（不超过列举上限）",
    ),
    _option(
        "problems.description",
        "问题描述",
        choice(DESCRIPTIONS),
        help="各问题的描述（导入「问题描述」列）印在通报何处，默认不打印",
    ),
    *(
        _option(f"followups.{key}", f"打印{label}段落", boolean())
        for key, label in FOLLOWUPS.items()
    ),
)
BY_LABEL = {o.label: o for o in OPTIONS}
BY_PATH = {o.path: o for o in OPTIONS}
#: Top-level keys of ``Round.notice_texts`` / ``Issuer.options`` that are options, not texts.
SETTING_KEYS = tuple(dict.fromkeys(o.path.split(".")[0] for o in OPTIONS))


def find(name: str) -> Option:
    """An option by its Chinese label or its path; an unknown name lists the valid ones."""
    option = BY_LABEL.get(name.strip()) or BY_PATH.get(name.strip())
    if option is None:
        shown = "、".join(f"{o.label}（{o.path}）" for o in OPTIONS)
        raise OptionError(f"没有名为「{name[:40]}」的通报设置项，可用：{shown}")
    return option


def _kind_check(kind: str | None, option: Option) -> None:
    if kind and not option.per_kind:
        raise OptionError(f"「{option.label}」不能按对象类型分别设置")
    if kind and kind not in KIND_LABELS:
        shown = "、".join(f"{v}（{k}）" for k, v in KIND_LABELS.items())
        raise OptionError(f"对象类型「{kind}」无效，可选：{shown}")


def stored_at(option: Option, kind: str | None) -> list[str]:
    """The JSON path of an option's value: pass_rate.website.decimals for a per-kind value."""
    head, *rest = option.path.split(".")
    return [head, *([kind] if kind else []), *rest]


def set_value(settings: dict[str, Any], option: Option, value: Any, *, kind: str | None = None):
    """A copy of ``settings`` with ``value`` set (appended, for a repeated option)."""
    _kind_check(kind, option)
    result = _copy(settings)
    *parents, leaf = stored_at(option, kind)
    node = result
    for key in parents:
        node = node.setdefault(key, {})
        if not isinstance(node, dict):
            raise OptionError(f"「{option.label}」的已存设置不是键值表，请先清除")
    node[leaf] = [*(node.get(leaf) or []), value] if option.repeated else value
    return result


def clear_value(settings: dict[str, Any], option: Option, *, kind: str | None = None):
    """A copy of ``settings`` without the option (the issuer's or the default applies)."""
    _kind_check(kind, option)
    result = _copy(settings)
    *parents, leaf = stored_at(option, kind)
    node: Any = result
    for key in parents:
        node = node.get(key) if isinstance(node, dict) else None
    if isinstance(node, dict):
        node.pop(leaf, None)
    return result


def get_value(settings: dict[str, Any], option: Option, *, kind: str | None = None) -> Any:
    node: Any = settings
    for key in stored_at(option, kind):
        node = node.get(key) if isinstance(node, dict) else None
    return node


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def problems(settings: Any, *, where: str = "通报设置") -> list[str]:
    """Every stored option that is not valid, each naming its option (empty: all good)."""
    if not isinstance(settings, dict):
        return [f"{where}应为键值表"]
    found = shape_problems(settings, OPTIONS, KIND_LABELS, where=where)
    for option in OPTIONS:
        for kind in (None, *(KIND_LABELS if option.per_kind else ())):
            value = get_value(settings, option, kind=kind)
            if value is None or (kind is None and option.per_kind and isinstance(value, dict)):
                continue
            values = value if option.repeated else [value]
            if option.repeated and not isinstance(value, list):
                values = [None]
            for one in values:
                if (problem := option.check(one)) is not None:
                    name = f"{option.label}（{'.'.join(stored_at(option, kind))}）"
                    found.append(f"{where}「{name}」{problem}")
    for key, value in settings.items():
        if key in TEXTS:
            found += text_problems(key, value, where=where)
    return found


def text_problems(key: str, value: Any, *, where: str = "通报文本") -> list[str]:
    """What is wrong with one editable text (a paragraph, or a list of them)."""
    label = f"{where}「{TEXTS.get(key, key)}（{key}）」"
    if key in LIST_TEXTS:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return [f"{label}应为段落列表"]
        parts = value
    elif not isinstance(value, str):
        return [f"{label}应为文字"]
    else:
        parts = [value]
    for part in parts:
        if len(part) > TEXT_MAX:
            return [f"{label}过长（{len(part)} 字，上限 {TEXT_MAX} 字）"]
        if problem := template_problem(part):
            return [f"{label}{problem}"]
    return []


def settings_of(round_notice_texts: dict[str, Any] | None, issuer_options: dict[str, Any] | None):
    """The options a round's notice uses: the issuer's defaults, the round's own on top
    (merged key by key, so a round that sets one kind's decimals keeps the issuer's rule)."""
    merged: dict[str, Any] = _copy(issuer_options or {})
    for key, value in (round_notice_texts or {}).items():
        if key not in SETTING_KEYS:
            continue
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = _copy(value)
    return merged


def _merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    result = _copy(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = _merge(result[key], value)
        else:
            result[key] = _copy(value)
    return result
