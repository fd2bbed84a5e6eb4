"""What supervisors do with the outbox: list messages by status, re-queue a failed one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from notifications.message import split_addresses
from services.core.errors import NotFound, ValidationFailed
from services.core.uow import UnitOfWork
from services.db.channel_models import UnitChannel
from services.db.models import Case, OutboxMessage, Unit
from services.mail.causes import recipients_of
from services.mail.robots import EMAIL

STATUSES = {"pending": "待发送", "sending": "发送中", "sent": "已发送", "failed": "发送失败"}


@dataclass(frozen=True)
class OutboxRow:
    id: int
    key: str
    template: str
    status: str
    to_addrs: list[str]
    cc_addrs: list[str]
    attempts: int
    next_attempt_at: datetime | None
    sent_at: datetime | None
    last_error: str | None
    case_id: int | None
    unit_id: int | None
    round_id: int | None
    created_at: datetime
    channel: str = EMAIL


def _row(m: OutboxMessage) -> OutboxRow:
    return OutboxRow(
        m.id, m.key, m.template, m.status, list(m.to_addrs), list(m.cc_addrs), m.attempts,
        m.next_attempt_at, m.sent_at, m.last_error, m.case_id, m.unit_id, m.round_id,
        m.created_at, m.channel,
    )  # fmt: skip


def list_messages(
    uow: UnitOfWork, *, status: str | None = None, case_id: int | None = None, limit: int = 200
) -> list[OutboxRow]:
    """The newest messages, optionally of one status or about one case (its mail problems)."""
    if status is not None and status not in STATUSES:
        raise ValidationFailed([f"状态 {status} 无效（应为 {'、'.join(STATUSES)} 之一）"])
    stmt = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if status:
        stmt = stmt.where(OutboxMessage.status == status)
    if case_id is not None:
        stmt = stmt.where(OutboxMessage.case_id == case_id)
    return [_row(m) for m in uow.session.scalars(stmt)]


def count_by_status(uow: UnitOfWork) -> dict[str, int]:
    """How many messages are in each status."""
    rows = uow.session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    ).all()
    return dict.fromkeys(STATUSES, 0) | dict(rows)


def retry_message(uow: UnitOfWork, *, message_id: int) -> OutboxRow:
    """Re-queue a failed message now, with its recipients re-read from the unit's contacts."""
    message = uow.session.get(OutboxMessage, message_id)
    if message is None:
        raise NotFound(f"邮件 {message_id} 不存在")
    if message.status != "failed":
        label = STATUSES.get(message.status, message.status)
        raise ValidationFailed(
            [f"邮件 {message_id} 当前状态为「{label}」，只有发送失败的邮件可以重发"]
        )
    to, problem = _current_recipients(uow, message)
    if problem:
        raise ValidationFailed([problem])
    message.to_addrs = to
    message.cc_addrs = [a for a in message.cc_addrs if a not in to]
    message.status = "pending"
    message.attempts = 0
    message.next_attempt_at = uow.clock.now()
    message.last_error = None
    uow.flush()
    return _row(message)


def _current_recipients(uow: UnitOfWork, message: OutboxMessage) -> tuple[list[str], str]:
    if message.channel != EMAIL:  # a robot message goes to its channel, if it still may
        channel = uow.session.get(UnitChannel, message.channel_id) if message.channel_id else None
        usable = channel is not None and channel.enabled
        return list(message.to_addrs), "" if usable else "该机器人渠道已删除或停用，无法重发"
    if message.template == "submission_for_review":
        to, invalid = split_addresses(uow.settings.supervisor_email)
        return to, "" if to else "监管人员邮箱（RECTIFY_SUPERVISOR_EMAIL）未设置或格式不正确"
    unit = uow.session.get(Unit, message.unit_id) if message.unit_id else None
    if unit is None and message.case_id:
        unit = uow.session.get(Case, message.case_id).unit
    if unit is None:
        return list(message.to_addrs), "" if message.to_addrs else "该邮件没有收件人"
    if message.template == "escalation":
        return recipients_of(unit.parent, field="leader_email")
    return recipients_of(unit)
