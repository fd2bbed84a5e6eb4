"""The registry: units (a tree) and the targets they run. Upserts by code, so imports repeat safely."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, fields

from sqlalchemy import select

from notifications.message import split_addresses
from services.core.errors import ValidationFailed
from services.core.plaintext import invisible
from services.core.uow import UnitOfWork
from services.db import counts
from services.db.models import Target, Unit

UNIT_KINDS = {
    "city_gov": "市政府",
    "county_gov": "县区政府",
    "city_dept": "市直部门",
    "park_committee": "园区管委会",
    "other": "其他",
}
TARGET_KINDS = {
    "website": "政府网站",
    "column": "信息公开专栏",
    "new_media": "政务新媒体",
    "message_board": "网民留言平台",
}
TARGET_STATUSES = {"operating": "运行中", "offline": "已下线", "deregistered": "已注销"}


@dataclass(frozen=True)
class UnitSpec:
    code: str
    name: str
    kind: str
    parent_code: str | None = None
    short_name: str | None = None
    contact_name: str | None = None
    contact_email: str | None = None
    leader_name: str | None = None
    leader_email: str | None = None
    synthetic: bool = False


@dataclass(frozen=True)
class TargetSpec:
    code: str
    unit_code: str
    kind: str
    name: str
    url: str | None = None
    domain: str | None = None
    site_code: str | None = None
    parent_target_code: str | None = None
    platform: str | None = None
    account_name: str | None = None
    registered_entity: str | None = None
    column_type: str | None = None
    status: str = "operating"
    synthetic: bool = False


#: A unit's address fields and their names on the unit form, in import files and in errors.
EMAIL_FIELDS = {"contact_email": "联系人邮箱", "leader_email": "领导邮箱"}

#: What a code may not hold: it is a step of a unit's path.
_NOT_IN_A_CODE = re.compile(r"[/\s]")

#: A URL scheme other than http(s) (javascript:, data:, file:...); bare host names are fine.
OTHER_SCHEME = re.compile(r"^(?!https?:)[a-zA-Z][a-zA-Z0-9+.-]*:")


def check_text(spec: UnitSpec | TargetSpec, model: type) -> None:
    """Codes usable in a unit path, texts that fit their columns, no invisible characters,
    email addresses that can be sent to (one or more; an empty field is allowed, and a
    unit without an address shows as a failed message in the outbox)."""
    what = "单位" if model is Unit else "监测对象"
    errors = []
    if not spec.code or _NOT_IN_A_CODE.search(spec.code):
        errors.append(f"{what}代码「{spec.code}」不能为空，也不能含有斜杠或空白")
    texts = [
        (name, limit, value)
        for name, limit in _stored_fields(type(spec), model)
        if isinstance(value := getattr(spec, name), str)
    ]
    # Looked at together first (an import checks hundreds of thousands of records): only a
    # record with an invisible character somewhere has each text searched for where it is.
    suspect = invisible("\n".join(value for _, _, value in texts)) is not None
    label = lambda name: f"{what} {spec.code[:64]} 的 {name}"  # noqa: E731 (errors only)
    for name, limit, value in texts:
        if limit and len(value) > limit:
            errors.append(f"{label(name)} 过长（{len(value)} 字，上限 {limit} 字）")
        if suspect and (where := invisible(value)):
            errors.append(f"{label(name)} {where}")
        if name == "url" and OTHER_SCHEME.match(value):
            errors.append(f"{label(name)}「{value}」只能是 http:// 或 https:// 网址")
        if name in EMAIL_FIELDS and (problem := email_problem(value)):
            errors.append(f"{what} {spec.code[:64]} 的{EMAIL_FIELDS[name]}：{problem}")
    if errors:
        raise ValidationFailed(errors)


@functools.cache
def _stored_fields(spec_type: type, model: type) -> tuple[tuple[str, int | None], ...]:
    """The spec's fields that the model stores, each with its column's length (if any)."""
    stored = []
    for field in fields(spec_type):
        column = model.__table__.c.get(field.name)
        if column is not None:
            stored.append((field.name, getattr(column.type, "length", None)))
    return tuple(stored)


def email_problem(value: str | None) -> str | None:
    """What is wrong with an address field, in Chinese, or None."""
    _, invalid = split_addresses(value)
    if not invalid:
        return None
    pieces = "、".join(f"「{piece[:100]}」" for piece in invalid[:3])
    return f"{pieces}不是有效的邮箱地址（应形如 bgs@example.gov.cn，多个地址用分号分隔）"


def upsert_unit(uow: UnitOfWork, spec: UnitSpec) -> Unit:
    """Create or update a unit by code; its path follows its parent's."""
    session = uow.session
    check_text(spec, Unit)
    if spec.kind not in UNIT_KINDS:
        raise ValidationFailed(
            [
                f"单位 {spec.code} 的类型「{spec.kind}」无效，可选："
                + "、".join(f"{label}（{code}）" for code, label in UNIT_KINDS.items())
            ]
        )
    parent = None
    if spec.parent_code:
        parent = session.scalar(select(Unit).where(Unit.code == spec.parent_code))
        if parent is None:
            raise ValidationFailed([f"单位 {spec.code} 的上级单位 {spec.parent_code} 不存在"])
    namesake = session.scalar(select(Unit).where(Unit.name == spec.name, Unit.code != spec.code))
    if namesake is not None:
        raise ValidationFailed([f"单位名称「{spec.name}」已被单位 {namesake.code} 使用"])
    unit = session.scalar(select(Unit).where(Unit.code == spec.code)) or Unit(code=spec.code)
    if parent is not None and unit.id is not None and f"/{spec.code}/" in parent.path:
        raise ValidationFailed(
            [f"单位 {spec.code} 不能以自己的下级单位 {spec.parent_code} 作为上级"]
        )
    for name in (
        "name",
        "kind",
        "short_name",
        "contact_name",
        "contact_email",
        "leader_name",
        "leader_email",
        "synthetic",
    ):
        setattr(unit, name, getattr(spec, name))
    old_path = unit.path if unit.id is not None else None
    new_path = (parent.path if parent else "/") + spec.code + "/"
    if old_path and old_path != new_path:  # its cases' counters follow it to its new root
        counts.move_subtree(session, old_path, new_path)
    unit.parent = parent
    unit.path = new_path
    session.add(unit)
    if old_path and old_path != unit.path:  # a moved unit takes its whole subtree along
        below = select(Unit).where(Unit.path.startswith(old_path, autoescape=True))
        for descendant in session.scalars(below.where(Unit.id != unit.id)):
            descendant.path = unit.path + descendant.path[len(old_path) :]
    uow.flush()
    return unit


def upsert_target(uow: UnitOfWork, spec: TargetSpec) -> Target:
    """Create or update a target by code."""
    session = uow.session
    check_text(spec, Target)
    errors = []
    if spec.kind not in TARGET_KINDS:
        errors.append(f"监测对象 {spec.code} 的类型「{spec.kind}」无效")
    if spec.status not in TARGET_STATUSES:
        errors.append(f"监测对象 {spec.code} 的状态「{spec.status}」无效")
    unit = session.scalar(select(Unit).where(Unit.code == spec.unit_code))
    if unit is None:
        errors.append(f"监测对象 {spec.code} 的主办单位 {spec.unit_code} 不存在")
    parent = None
    if spec.parent_target_code:
        parent = session.scalar(select(Target).where(Target.code == spec.parent_target_code))
        if parent is None:
            errors.append(f"监测对象 {spec.code} 的上级对象 {spec.parent_target_code} 不存在")
    if errors:
        raise ValidationFailed(errors)
    target = session.scalar(select(Target).where(Target.code == spec.code)) or Target(
        code=spec.code
    )
    for name in (
        "kind",
        "name",
        "url",
        "domain",
        "site_code",
        "platform",
        "account_name",
        "registered_entity",
        "column_type",
        "status",
        "synthetic",
    ):
        setattr(target, name, getattr(spec, name))
    target.unit = unit
    target.parent_target_id = parent.id if parent else None
    session.add(target)
    uow.flush()
    return target


def unit_by_code(uow: UnitOfWork, code: str) -> Unit | None:
    return uow.session.scalar(select(Unit).where(Unit.code == code))
