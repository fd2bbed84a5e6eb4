"""A unit's robot channels: the 企业微信、钉钉、飞书 group robots its notices also go to.

The office pastes the robot's webhook URL as the service shows it (and the 加签 secret of a
DingTalk or Feishu robot). Both are credentials: stored as given, read back masked only
(``ChannelView``). Removing a channel keeps the messages it was sent (their ``channel_id``
is cleared); a disabled channel receives nothing new, and its pending messages fail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl, urlsplit

from sqlalchemy import func, select, update

from notifications.robots import KINDS
from services.access.users import UserView
from services.core.errors import Forbidden, NotFound, ValidationFailed
from services.core.plaintext import invisible
from services.core.uow import UnitOfWork
from services.db.channel_models import UnitChannel
from services.db.models import OutboxMessage, Unit

#: What each kind's URL must carry: a query parameter, or a path segment after ``/hook/``.
URL_TOKENS = {"wecom": "key", "dingtalk": "access_token", "feishu": "/hook/"}
EXAMPLES = {
    "wecom": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…",
    "dingtalk": "https://oapi.dingtalk.com/robot/send?access_token=…",
    "feishu": "https://open.feishu.cn/open-apis/bot/v2/hook/…",
}
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@dataclass(frozen=True)
class ChannelView:
    """A channel as lists show it: the URL's key and the secret masked."""

    id: int
    unit_code: str
    unit_name: str
    kind: str
    name: str
    url: str
    secret: str
    enabled: bool
    created_at: datetime

    @property
    def kind_label(self) -> str:
        return KINDS[self.kind]


@dataclass(frozen=True)
class LastDelivery:
    """The latest message of a channel: how it went, and when."""

    status: str
    at: datetime
    error: str | None

    @property
    def label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)


STATUS_LABELS = {"sent": "已送达", "pending": "等待发送", "sending": "发送中", "failed": "发送失败"}


def editable_unit(uow: UnitOfWork, unit_code: str, *, user: UserView) -> Unit:
    """The unit whose channels ``user`` changes: those who edit the unit (an admin), over it."""
    user.require_admin()
    unit = _unit(uow, unit_code)
    if not user.sees(unit.path):
        raise Forbidden(f"单位 {unit.code} 不在您的管辖范围内，不能管理其机器人渠道")
    return unit


def channel_of(uow: UnitOfWork, unit_code: str, channel_id: int, *, user: UserView) -> int:
    """``channel_id`` once it is a channel of the unit ``user`` may edit."""
    unit = editable_unit(uow, unit_code, user=user)
    if _channel(uow, channel_id).unit_id != unit.id:
        raise NotFound(f"单位 {unit.code} 没有渠道 {channel_id}")
    return channel_id


def last_deliveries(uow: UnitOfWork, channel_ids: list[int]) -> dict[int, LastDelivery]:
    """Each channel's latest outbox message (by the ``channel_id`` index), if any."""
    if not channel_ids:
        return {}
    m = OutboxMessage
    latest = select(func.max(m.id)).where(m.channel_id.in_(channel_ids)).group_by(m.channel_id)
    rows = uow.session.execute(
        select(m.channel_id, m.status, m.sent_at, m.created_at, m.last_error).where(
            m.id.in_(latest)
        )
    )
    return {
        r.channel_id: LastDelivery(r.status, r.sent_at or r.created_at, r.last_error) for r in rows
    }


def mask(value: str) -> str:
    """The first four characters of a credential and how long it is."""
    return f"{value[:4]}…（共 {len(value)} 位，已隐藏）" if len(value) > 4 else "…（已隐藏）"


def masked_url(url: str) -> str:
    """The webhook URL with its key, token and robot id hidden."""
    parts = urlsplit(url)
    query = "&".join(f"{k}={mask(v)}" for k, v in parse_qsl(parts.query, keep_blank_values=True))
    path = parts.path
    if "/hook/" in path:
        head, _, token = path.partition("/hook/")
        path = f"{head}/hook/{mask(token.strip('/'))}"
    return f"{parts.scheme}://{parts.netloc}{path}" + (f"?{query}" if query else "")


def url_problems(kind: str, url: str, secret: str | None) -> list[str]:
    """Why a pasted webhook URL (and secret) cannot be used; none when it can."""
    if kind not in KINDS:
        known = "、".join(f"{k}（{label}）" for k, label in KINDS.items())
        return [f"渠道类型 {kind} 无效，应为 {known} 之一"]
    label, example = KINDS[kind], EXAMPLES[kind]
    parts = urlsplit(url)
    problems = []
    if invisible(url) or any(c.isspace() for c in url):
        problems.append(f"{label}的 Webhook 地址含有空白或不可见字符，请重新复制")
    if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in LOOPBACK):
        problems.append(f"{label}的 Webhook 地址应以 https:// 开头，形如 {example}")
    token = URL_TOKENS[kind]
    carried = (
        parts.path.partition(token)[2].strip("/")
        if token.startswith("/")
        else dict(parse_qsl(parts.query)).get(token)
    )
    if not carried:
        problems.append(f"{label}的 Webhook 地址缺少机器人的密钥部分，形如 {example}")
    if len(url) > 1000:
        problems.append(f"{label}的 Webhook 地址过长（最多 1000 个字符）")
    if secret and kind == "wecom":
        problems.append("企业微信群机器人没有加签密钥，请不要填写密钥")
    if secret and (len(secret) > 200 or invisible(secret) or any(c.isspace() for c in secret)):
        problems.append(f"{label}的加签密钥应为一段不含空白的文字（最多 200 个字符）")
    return problems


def add_channel(
    uow: UnitOfWork,
    *,
    unit_code: str,
    kind: str,
    webhook_url: str,
    secret: str | None = None,
    name: str | None = None,
) -> ChannelView:
    """Give the unit a robot channel; its notices go there too from now on."""
    unit = _unit(uow, unit_code)
    webhook_url, secret = webhook_url.strip(), (secret or "").strip() or None
    problems = url_problems(kind, webhook_url, secret)
    name = (name or "").strip() or KINDS.get(kind, kind)
    if len(name) > 100:
        problems.append("渠道名称最多 100 个字符")
    taken = select(UnitChannel.id).where(UnitChannel.unit_id == unit.id, UnitChannel.name == name)
    if uow.session.scalar(taken) is not None:
        problems.append(f"单位「{unit.name}」已有名为「{name}」的渠道，请换一个名称")
    if problems:
        raise ValidationFailed(problems)
    channel = UnitChannel(
        unit_id=unit.id,
        kind=kind,
        name=name,
        webhook_url=webhook_url,
        secret=secret,
        enabled=True,
        created_at=uow.clock.now(),
    )
    uow.session.add(channel)
    uow.flush()
    return _view(channel, unit)


def list_channels(uow: UnitOfWork, *, unit_code: str | None = None) -> list[ChannelView]:
    """Every channel (of one unit), by unit code then id."""
    query = select(UnitChannel, Unit).join(Unit, Unit.id == UnitChannel.unit_id)
    if unit_code is not None:
        query = query.where(Unit.id == _unit(uow, unit_code).id)
    rows = uow.session.execute(query.order_by(Unit.code, UnitChannel.id)).all()
    return [_view(channel, unit) for channel, unit in rows]


def set_enabled(uow: UnitOfWork, *, channel_id: int, enabled: bool) -> ChannelView:
    """Stop (or resume) sending a unit's notices to one robot."""
    channel = _channel(uow, channel_id)
    channel.enabled = enabled
    uow.flush()
    return _view(channel, uow.session.get(Unit, channel.unit_id))


def remove_channel(uow: UnitOfWork, *, channel_id: int) -> ChannelView:
    """Delete a channel; the messages it was sent stay in the outbox, unlinked from it."""
    channel = _channel(uow, channel_id)
    view = _view(channel, uow.session.get(Unit, channel.unit_id))
    uow.session.execute(
        update(OutboxMessage).where(OutboxMessage.channel_id == channel.id).values(channel_id=None)
    )
    uow.session.delete(channel)
    uow.flush()
    return view


def _view(channel: UnitChannel, unit: Unit) -> ChannelView:
    return ChannelView(
        id=channel.id,
        unit_code=unit.code,
        unit_name=unit.name,
        kind=channel.kind,
        name=channel.name,
        url=masked_url(channel.webhook_url),
        secret=mask(channel.secret) if channel.secret else "",
        enabled=channel.enabled,
        created_at=channel.created_at,
    )


def _unit(uow: UnitOfWork, code: str) -> Unit:
    unit = uow.session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        raise NotFound(f"单位 {code} 不存在")
    return unit


def _channel(uow: UnitOfWork, channel_id: int) -> UnitChannel:
    channel = uow.session.get(UnitChannel, channel_id)
    if channel is None:
        raise NotFound(f"渠道 {channel_id} 不存在")
    return channel
