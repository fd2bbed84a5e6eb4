"""Issuing offices (发文机关): the units that run rounds over their subtree, with the notice
texts and options every one of their rounds starts from.

Functions here flush and never commit: the entry point (web route, command, import) commits
once per use case. Texts and options are checked by ``services.rounds.notice_settings``, the
same catalogue the round edits and the 通报设置 import sheet use.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from services.core.errors import Forbidden, NotFound, ValidationFailed
from services.core.plaintext import invisible
from services.core.uow import UnitOfWork
from services.db.issuer_models import Issuer
from services.db.models import Unit
from services.registry.units import unit_by_code
from services.rounds import notice_settings
from services.rounds.notice_settings import OptionError
from services.rounds.option_refs import Registry

LEVELS = {"province": "省级", "city": "市级", "county": "县级"}
#: Every field of an issuer as forms, commands, import files and errors name it.
ISSUER_LABELS = {
    "unit_code": "单位代码",
    "name": "机关名称",
    "short_name": "机关简称",
    "level": "层级",
    "doc_pattern": "文号格式",
}
#: Texts an issuer does not hold as texts: its names are its own fields.
NAME_TEXTS = ("office", "office_short")


@dataclass(frozen=True)
class IssuerSpec:
    unit_code: str
    name: str
    short_name: str
    level: str
    doc_pattern: str | None = None

    def problems(self) -> list[str]:
        """Every problem, in Chinese, each naming its field."""
        return [message for _, message in self.field_problems()]

    def field_problems(self) -> list[tuple[str, str]]:
        """(field, message) for every value an issuer may not hold."""
        found = []
        if not (self.unit_code or "").strip():
            found.append(_say("unit_code", "不能为空"))
        for name in ("name", "short_name", "doc_pattern"):
            value = getattr(self, name)
            if value is None and name == "doc_pattern":
                continue
            if not isinstance(value, str) or not value.strip():
                found.append(_say(name, "不能为空"))
                continue
            limit = Issuer.__table__.c[name].type.length
            if len(value) > limit:
                found.append(_say(name, f"过长（{len(value)} 字，上限 {limit} 字）"))
            if where := invisible(value):
                found.append(_say(name, where))
        if self.level not in LEVELS:
            shown = "、".join(f"{k}（{v}）" for k, v in LEVELS.items())
            found.append(_say("level", f"应为 {shown}，而不是「{str(self.level)[:20]}」"))
        if self.doc_pattern and (problem := doc_pattern_problem(self.doc_pattern)):
            found.append(_say("doc_pattern", problem))
        what = f"发文机关 {str(self.unit_code)[:64]} 的"
        return [(name, f"{what}{text}") for name, text in found]


def _say(name: str, text: str) -> tuple[str, str]:
    return name, f"{ISSUER_LABELS[name]}（{name}）{text}"


def doc_pattern_problem(pattern: str) -> str | None:
    """What is wrong with a document-number pattern: it names {n} and at most {year}."""
    example = "如「X政办字〔{year}〕{n}号」"
    try:
        names = [field for _, field, _, _ in string.Formatter().parse(pattern) if field is not None]
    except ValueError:
        return f"「{pattern[:40]}」的花括号不成对，{example}"
    unknown = [n for n in names if n not in ("n", "year")]
    if unknown:
        return f"只能含有 {{year}}（年份）和 {{n}}（序号），不能含有「{{{unknown[0][:20]}}}」，{example}"
    if "n" not in names:
        return f"必须含有序号 {{n}}，{example}"
    return None


def doc_number(issuer: Issuer, *, year: int, n: int) -> str | None:
    """The issuer's document number for a year and a sequence number, if it has a pattern."""
    return issuer.doc_pattern.format(year=year, n=n) if issuer.doc_pattern else None


def upsert_issuer(uow: UnitOfWork, spec: IssuerSpec) -> Issuer:
    """Create or update the issuer of a unit (by unit code); a bad value writes nothing."""
    errors = spec.problems()
    unit = unit_by_code(uow, spec.unit_code) if spec.unit_code else None
    if unit is None and spec.unit_code:
        errors.append(f"发文机关的单位代码（unit_code）「{spec.unit_code[:64]}」不是已登记的单位")
    if errors:
        raise ValidationFailed(errors)
    issuer = uow.session.scalar(select(Issuer).where(Issuer.unit_id == unit.id))
    if issuer is None:
        issuer = Issuer(unit_id=unit.id, texts={}, options={})
    issuer.name = spec.name.strip()
    issuer.short_name = spec.short_name.strip()
    issuer.level = spec.level
    issuer.doc_pattern = (spec.doc_pattern or "").strip() or None
    uow.session.add(issuer)
    uow.flush()
    return issuer


def get_issuer(uow: UnitOfWork, unit_code: str) -> Issuer:
    """The issuer of a unit, by the unit's code."""
    issuer = uow.session.scalar(
        select(Issuer).join(Unit, Unit.id == Issuer.unit_id).where(Unit.code == unit_code)
    )
    if issuer is None:
        raise NotFound(f"发文机关 {str(unit_code)[:64]} 不存在（单位代码应为已设为发文机关的单位）")
    return issuer


def list_issuers(uow: UnitOfWork, *, scope_path: str | None = None) -> list[Issuer]:
    """Issuers whose unit lies in the scope's subtree (all of them without a scope)."""
    query = select(Issuer).join(Unit, Unit.id == Issuer.unit_id)
    if scope_path is not None:
        query = query.where(Unit.path.startswith(scope_path, autoescape=True))
    return list(uow.session.scalars(query.order_by(Unit.path)))


def issuer_of_unit(uow: UnitOfWork, unit_id: int) -> Issuer | None:
    """The nearest issuer at or above a unit (the office whose rounds cover it)."""
    unit = uow.session.get(Unit, unit_id)
    if unit is None:
        return None
    codes = [code for code in unit.path.split("/") if code]
    rows = uow.session.execute(
        select(Issuer, Unit.code).join(Unit, Unit.id == Issuer.unit_id).where(Unit.code.in_(codes))
    ).all()
    by_code = {code: issuer for issuer, code in rows}
    return next((by_code[c] for c in reversed(codes) if c in by_code), None)


def can_manage(user_scope_path: str | None, issuer: Issuer | None) -> bool:
    """Whether a supervisor scoped to a subtree may run this issuer's rounds and edit it:
    its unit lies in the subtree. Rounds without an issuer are the unscoped staff's."""
    if user_scope_path is None:
        return True
    return issuer is not None and issuer.unit.path.startswith(user_scope_path)


def can_read(user_scope_path: str | None, issuer: Issuer | None) -> bool:
    """Whether a supervisor scoped to a subtree may read this issuer's rounds: those he runs
    (``can_manage``) and those covering his subtree (an issuer above it, or none); a sibling
    county's or another city's are not his."""
    if user_scope_path is None or issuer is None:
        return True
    path = issuer.unit.path
    return path.startswith(user_scope_path) or user_scope_path.startswith(path)


def require_manage(user_scope_path: str | None, issuer: Issuer | None) -> None:
    """Refuse (403) a supervisor whose subtree does not hold the issuer."""
    if can_manage(user_scope_path, issuer):
        return
    if issuer is None:
        raise Forbidden(
            "未指定发文机关的检查轮次涉及全部单位，只有不限管辖范围的监管人员可以修改或发布"
        )
    raise Forbidden(f"发文机关「{issuer.name}」不在您的管辖范围内，不能修改它或发布其检查轮次")


def set_texts(uow: UnitOfWork, issuer: Issuer, changes: dict[str, Any]) -> Issuer:
    """Set or clear (None, "" or []) the issuer's default notice texts; all or nothing."""
    refused = [k for k in changes if k in NAME_TEXTS]
    if refused:
        raise ValidationFailed(
            [
                f"发文机关的名称和简称请在机关名称（name）、机关简称（short_name）中修改，而不是通报文本「{refused[0]}」"
            ]
        )
    issuer.texts = apply_texts(
        issuer.texts or {}, changes, where=f"发文机关 {issuer.name} 的通报文本"
    )
    uow.session.add(issuer)
    uow.flush()
    return issuer


def apply_texts(stored: dict[str, Any], changes: dict[str, Any], *, where: str) -> dict[str, Any]:
    """A copy of ``stored`` with the text changes made; every problem named, nothing changed."""
    result = dict(stored)
    errors = []
    for key, value in changes.items():
        if key not in notice_settings.TEXTS:
            shown = "、".join(f"{v}（{k}）" for k, v in notice_settings.TEXTS.items())
            errors.append(f"{where}没有名为「{str(key)[:40]}」的文本，可用：{shown}")
            continue
        value = normal_text(key, value)
        if value is None:
            result.pop(key, None)
            continue
        errors += notice_settings.text_problems(key, value, where=where)
        result[key] = value
    if errors:
        raise ValidationFailed(errors)
    return result


def normal_text(key: str, value: Any) -> Any:
    """A text as stored: paragraphs of a list text one per line; empty means cleared."""
    if key in notice_settings.LIST_TEXTS and isinstance(value, str):
        value = [line.strip() for line in value.splitlines() if line.strip()]
    if isinstance(value, list):
        value = [v.strip() if isinstance(v, str) else v for v in value]
        value = [v for v in value if v != ""]
    elif isinstance(value, str):
        value = value.strip()
    return None if value in (None, "", []) else value


def set_option(
    uow: UnitOfWork, issuer: Issuer, name: str, text: str, *, kind: str | None = None
) -> Issuer:
    """Set one default option (appended, for a repeated one) from its text."""
    issuer.options = option_set(issuer.options or {}, name, text, kind=kind, uow=uow)
    uow.session.add(issuer)
    uow.flush()
    return issuer


def clear_option(uow: UnitOfWork, issuer: Issuer, name: str, *, kind: str | None = None) -> Issuer:
    """Remove one default option (the installation's default applies again)."""
    issuer.options = option_cleared(issuer.options or {}, name, kind=kind)
    uow.session.add(issuer)
    uow.flush()
    return issuer


def option_set(
    settings: dict[str, Any],
    name: str,
    text: str,
    *,
    kind: str | None = None,
    uow: UnitOfWork | None = None,
):
    """A copy of ``settings`` with the option parsed from ``text``; refused in Chinese. Given
    a unit of work, what the value names (a theme's categories, a group's units) must exist."""
    try:
        option = notice_settings.find(name)
        label = f"通报设置「{option.label}」"
        try:
            value = option.parse(text)
        except OptionError as exc:
            raise OptionError(f"{label}{exc}") from None
        if uow is not None and (problem := Registry(uow).problem(option.path, value)):
            raise OptionError(f"{label}{problem}")
        return notice_settings.set_value(settings, option, value, kind=kind)
    except OptionError as exc:
        raise ValidationFailed([str(exc)]) from None


def set_option_values(
    uow: UnitOfWork, issuer: Issuer, name: str, texts: list[str], *, kind: str | None = None
) -> Issuer:
    """Set an option from its texts: a repeated option's whole list, else its one value."""
    issuer.options = options_replaced(issuer.options or {}, name, texts, kind=kind, uow=uow)
    uow.session.add(issuer)
    uow.flush()
    return issuer


def options_replaced(
    settings: dict[str, Any],
    name: str,
    texts: list[str],
    *,
    kind: str | None = None,
    uow: UnitOfWork | None = None,
):
    """A copy of ``settings`` with the option set anew from ``texts`` (one per entry of a
    repeated option; exactly one otherwise), checked as ``option_set`` checks each."""
    option = setting_named(name)
    if not isinstance(option, notice_settings.Option):
        raise ValidationFailed([f"「{name[:40]}」是通报文本，不是通报设置项"])
    if not texts or (len(texts) > 1 and not option.repeated):
        raise ValidationFailed([f"通报设置「{option.label}」应给出一个值，而不是 {len(texts)} 个"])
    result = option_cleared(settings, name, kind=kind)
    for text in texts:
        result = option_set(result, name, text, kind=kind, uow=uow)
    return result


def setting_named(name: str) -> notice_settings.Option | str:
    """An option (by label or path) or a text's key (by label or key); else refused, listing
    both."""
    name = (name or "").strip()
    if name in notice_settings.TEXTS:
        return name
    keys = {label: key for key, label in notice_settings.TEXTS.items()}
    if name in keys:
        return keys[name]
    try:
        return notice_settings.find(name)
    except OptionError as exc:
        texts = "、".join(f"{v}（{k}）" for k, v in notice_settings.TEXTS.items())
        raise ValidationFailed([f"{exc}；通报文本：{texts}"]) from None


def option_cleared(settings: dict[str, Any], name: str, *, kind: str | None = None):
    try:
        option = notice_settings.find(name)
        return notice_settings.clear_value(settings, option, kind=kind)
    except OptionError as exc:
        raise ValidationFailed([str(exc)]) from None
