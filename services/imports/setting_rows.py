"""通报设置 rows: a round's or an issuer's notice options and texts, one setting a row.

Each row names exactly one of 轮次代码 / 发文机关代码, a 设置项 (an option of
``services.rounds.notice_settings.OPTIONS`` or a text of ``TEXTS``, by its Chinese name or
its key), optionally a 对象类型 (for a per-kind option), and the 值. A repeated option
(分组统计, 问题主题) and a list text (下一步工作要求) take one row per entry, in order: the
import replaces that list as a whole, so importing the same file again changes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from services.core.uow import UnitOfWork
from services.db.issuer_models import Issuer
from services.db.models import Round, Unit
from services.imports.report import ImportReport
from services.imports.rows import Problems, Row
from services.imports.schema import Column, TableKind, choice, text
from services.rounds import issuers, notice_settings, option_refs
from services.rounds.notice_settings import KIND_LABELS, Option, OptionError

_KINDS = (
    {code: code for code in KIND_LABELS}
    | {label: code for code, label in KIND_LABELS.items()}
    | {"信息公开专栏": "column", "网站": "website", "新媒体": "new_media"}
)

NOTICE_SETTINGS = TableKind(
    code="notice_settings",
    label="通报设置",
    sheet_names=("通报设置", "notice_settings"),
    columns=(
        # Not round_code: a --round given to the import does not fill an issuer's rows.
        Column("for_round", ("轮次代码", "轮次", "round"), text),
        Column("for_issuer", ("发文机关代码", "issuer"), text),
        Column("name", ("设置项", "setting"), text, required=True),
        Column("kind", ("对象类型", "kind"), choice(_KINDS)),
        Column("value", ("值", "value"), text, required=True, max_len=notice_settings.TEXT_MAX),
    ),
)


@dataclass(frozen=True)
class Setting:
    """One row understood: whose setting (round or issuer, code), which, for which kind."""

    owner: tuple[str, str]  # ("round", "2021Q2") or ("issuer", "<unit code>")
    option: Option | None  # None: a text
    key: str  # the option's path or the text's key
    kind: str | None
    value: Any
    at: str = ""  # the row's 值 cell, where a problem with the value is named


def _setting_of(row: Row, problems: Problems) -> Setting | None:
    """The row's setting, or None with its problems named at their cells."""
    if bool(row["for_round"]) == bool(row["for_issuer"]):
        problems.add(row.at("for_round"), "轮次代码与发文机关代码须填写且只填写其中一个")
        return None
    owner = ("round", row["for_round"]) if row["for_round"] else ("issuer", row["for_issuer"])
    name, raw = (row["name"] or "").strip(), row["value"]
    if name in notice_settings.TEXTS or name in notice_settings.TEXTS.values():
        key = name if name in notice_settings.TEXTS else _text_key(name)
        return _text_setting(row, problems, owner, key)
    try:
        option = notice_settings.find(name)
    except OptionError as exc:
        texts = "、".join(f"{v}（{k}）" for k, v in notice_settings.TEXTS.items())
        problems.add(row.at("name"), f"{exc}；通报文本：{texts}")
        return None
    kind = row["kind"]
    if kind and not option.per_kind:
        problems.add(row.at("kind"), f"「{option.label}」不能按对象类型分别设置，请留空")
        return None
    try:
        value = option.parse(raw)
    except OptionError as exc:
        problems.add(row.at("value"), f"通报设置「{option.label}」{exc}")
        return None
    return Setting(owner, option, option.path, kind, value, at=row.at("value"))


def _text_key(label: str) -> str:
    return next(k for k, v in notice_settings.TEXTS.items() if v == label)


def _text_setting(row: Row, problems: Problems, owner: tuple[str, str], key: str):
    if row["kind"]:
        problems.add(row.at("kind"), "通报文本不按对象类型区分，请留空")
        return None
    if owner[0] == "issuer" and key in issuers.NAME_TEXTS:
        problems.add(row.at("name"), "发文机关的名称和简称请在发文机关表的机关名称、机关简称列填写")
        return None
    value = str(row["value"])
    for message in notice_settings.text_problems(
        key, [value] if key in notice_settings.LIST_TEXTS else value
    ):
        problems.add(row.at("value"), message)
    return Setting(owner, None, key, None, value)


def check_settings(
    uow: UnitOfWork,
    rows: list[Row],
    *,
    rounds_known: set[str],
    issuers_known: set[str],
    problems: Problems,
) -> list[Setting]:
    """Every row understood and checked, each problem at its cell; the settings in row order."""
    found: list[Setting] = []
    first_row: dict[tuple, Row] = {}
    for row in rows:
        setting = _setting_of(row, problems)
        if setting is None:
            continue
        kind, code = setting.owner
        known = rounds_known if kind == "round" else issuers_known
        if code not in known:
            column = "for_round" if kind == "round" else "for_issuer"
            what = "检查轮次" if kind == "round" else "发文机关"
            problems.add(row.at(column), f"{what}「{code}」不存在（文件和系统中都没有）")
            continue
        slot = (setting.owner, setting.key, setting.kind)
        first = first_row.setdefault(slot, row)
        if first is not row and not _is_list(setting):
            problems.add(
                row.at("name"),
                f"与第 {first.number} 行重复（同一{'轮次' if kind == 'round' else '发文机关'}的"
                f"同一设置项只能填写一行）",
            )
            continue
        found.append(setting)
    return found


def check_references(
    uow: UnitOfWork,
    settings: list[Setting],
    *,
    categories: dict[str, str],
    unit_rows: list[Row],
    problems: Problems,
) -> None:
    """What a theme or a unit group names must exist (``categories``: the catalogue after the
    import, code → name; ``unit_rows``: the units the import registers)."""
    registry = option_refs.Registry(
        uow, categories=categories, unit_codes=(r["code"] for r in unit_rows)
    )
    for setting in settings:
        if setting.option is None:
            continue
        if problem := registry.problem(setting.option.path, setting.value):
            problems.add(setting.at, f"通报设置「{setting.option.label}」{problem}")


def _is_list(setting: Setting) -> bool:
    if setting.option is not None:
        return setting.option.repeated
    return setting.key in notice_settings.LIST_TEXTS


def apply_settings(uow: UnitOfWork, settings: list[Setting], report: ImportReport) -> None:
    """Write the settings, grouped by owner; a list is replaced by the rows that give it."""
    by_owner: dict[tuple[str, str], list[Setting]] = defaultdict(list)
    for setting in settings:
        by_owner[setting.owner].append(setting)
    for (kind, code), group in by_owner.items():
        if kind == "round":
            round_ = uow.session.scalar(select(Round).where(Round.code == code))
            stored = dict(round_.notice_texts or {})
            round_.notice_texts = _merged(stored, group, report)
        else:
            issuer = uow.session.scalar(
                select(Issuer).join(Unit, Unit.id == Issuer.unit_id).where(Unit.code == code)
            )
            issuer.options = _merged(
                dict(issuer.options or {}), [s for s in group if s.option], report
            )
            issuer.texts = _merged(
                dict(issuer.texts or {}), [s for s in group if not s.option], report
            )
    uow.flush()


def _merged(stored: dict[str, Any], group: list[Setting], report: ImportReport) -> dict[str, Any]:
    """``stored`` with the group's settings: each slot's value, or its list, replaced."""
    result = stored
    slots: dict[tuple[str, str | None], list[Setting]] = defaultdict(list)
    for setting in group:
        slots[(setting.key, setting.kind)].append(setting)
    for (key, kind), items in slots.items():
        option = items[0].option
        if option is None:
            before = stored.get(key)
            values = [s.value for s in items]
            after = values if key in notice_settings.LIST_TEXTS else values[0]
            result = {**result, key: after}
        else:
            before = notice_settings.get_value(result, option, kind=kind)
            result = notice_settings.clear_value(result, option, kind=kind)
            for item in items:
                result = notice_settings.set_value(result, option, item.value, kind=kind)
            after = notice_settings.get_value(result, option, kind=kind)
        outcome = "created" if before is None else "unchanged" if before == after else "updated"
        report.tick("notice_settings", outcome)
    return result
