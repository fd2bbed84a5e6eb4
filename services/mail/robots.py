"""Notices to robots: the outbox rows an email row causes for its unit's robot channels, and
the posts the dispatcher makes of them.

An email to a unit (its round notice, reminder, a case's notice, rejection, escalation or
receipt) is written with one more row per enabled channel of the unit
(``services.registry.channels``), in the same statement or savepoint, under the email's key
plus ``>robot:<channel id>``: a re-run of the cause writes neither twice. A unit with no email
address but a robot gets the robot rows only (``with_robots``). The robot says what
the email says (the subject as its title, the text as its body) without the unit's portal
link: a group chat is not the contact's mailbox, so the link stays in the email. Delivery,
retries and failure recording are the outbox's (``services.mail.outbox``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import select

from notifications.delivery import DeliveryFailure
from notifications.render import render
from notifications.robots import KINDS, Robot, RobotPost, RobotSender
from services.core.clock import Clock
from services.core.errors import NotFound
from services.core.uow import UnitOfWork
from services.db import bulk
from services.db.channel_models import UnitChannel
from services.db.models import OutboxMessage, Unit
from services.mail.links import LINK_KEY, URL_KEY

EMAIL = "email"
#: The emails a unit's robots also receive (not a portal link sent again: it is nothing
#: but the link; not the supervisor's review request: it is not the unit's).
ROBOT_TEMPLATES = frozenset(
    {
        "round_notice",
        "case_notice",
        "reminder_digest",
        "rejection",
        "escalation",
        "submission_received",
    }
)
#: What a robot's text shows where the email shows the unit's portal link.
LINK_IN_EMAIL = "（专用链接已通过邮件发送给贵单位联系人，请查收邮件）"
#: What it shows instead when the unit has no email address (no email is written).
NO_LINK = "（贵单位未登记联系人邮箱，专用链接无法发送，请与监管部门联系获取）"
#: The emails to the unit's own contacts (an escalation goes to its parent's leader).
TO_UNIT = ROBOT_TEMPLATES - {"escalation"}
ROBOT = ">robot:"
GONE = "该机器人渠道已删除或停用，消息未发送"


def robot_key(email_key: str, channel_id: int) -> str:
    return f"{email_key}{ROBOT}{channel_id}"


def robot_keys(uow: UnitOfWork, *, unit_id: int, email_key: str) -> list[str]:
    """The keys the rows of the email ``email_key`` have at each of the unit's robots,
    enabled or not: whether the robots carried a cause whose email was never written."""
    ids = uow.session.scalars(select(UnitChannel.id).where(UnitChannel.unit_id == unit_id))
    return [robot_key(email_key, i) for i in ids]


def with_robots(
    uow: UnitOfWork, rows: list[dict[str, Any]], *, unaddressed: Callable[[dict[str, Any]], bool]
) -> list[dict[str, Any]]:
    """The email ``rows`` (``causes.outbox_row``) and their units' robot rows, to write.

    An email to a unit without any email address (``unaddressed``) is not written when the
    unit has an enabled robot: the robots carry the notice, and a row born failed would make
    every dispatch run fail for a unit that was told. Their text then says the portal link
    could not be sent; a robot row an earlier run of the cause wrote is not written again.
    A unit with neither an address nor a robot keeps its failed row, in plain view.
    """
    robots = channel_rows(uow, rows)
    told = {r["key"].rpartition(ROBOT)[0] for r in robots}
    carried = {
        r["key"] for r in rows if r["key"] in told and r["template"] in TO_UNIT and unaddressed(r)
    }
    if not carried:
        return rows + robots
    mine = [r for r in robots if r["key"].rpartition(ROBOT)[0] in carried]
    for row in mine:
        if row["context"].get(URL_KEY) == LINK_IN_EMAIL:
            row["context"][URL_KEY] = NO_LINK
    keys = [r["key"] for r in mine]
    written = set(uow.session.scalars(select(OutboxMessage.key).where(OutboxMessage.key.in_(keys))))
    return [r for r in rows if r["key"] not in carried] + [
        r for r in robots if r["key"] not in written
    ]


def robot_context(context: dict[str, Any]) -> dict[str, Any]:
    """The email's context without the portal link's nonce (the URL is never made)."""
    kept = {k: v for k, v in context.items() if k != LINK_KEY}
    if LINK_KEY in context or URL_KEY in context:
        kept[URL_KEY] = LINK_IN_EMAIL
    return kept


def channel_rows(uow: UnitOfWork, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The robot rows the email ``rows`` (``causes.outbox_row``) cause; one query, or none
    when no row is an email a robot receives."""
    wanted = [r for r in rows if r["template"] in ROBOT_TEMPLATES and r["unit_id"] is not None]
    if not wanted:
        return []
    query = select(UnitChannel.id, UnitChannel.unit_id, UnitChannel.kind, UnitChannel.name).where(
        bulk.ids_in(uow.session, UnitChannel.unit_id, {r["unit_id"] for r in wanted}),
        UnitChannel.enabled.is_(True),
    )
    by_unit: dict[int, list[Any]] = {}
    for channel in uow.session.execute(query.order_by(UnitChannel.id)):
        by_unit.setdefault(channel.unit_id, []).append(channel)
    return [
        row
        | {
            "key": robot_key(row["key"], channel.id),
            "context": robot_context(row["context"]),
            "to_addrs": [f"{KINDS[channel.kind]}「{channel.name}」"],
            "cc_addrs": [],
            "status": "pending",
            "last_error": None,
            "channel": channel.kind,
            "channel_id": channel.id,
        }
        for row in wanted
        for channel in by_unit.get(row["unit_id"], [])
    ]


def robots_of(uow: UnitOfWork, channel_ids: Iterable[int | None]) -> dict[int, Robot]:
    """The enabled robots among ``channel_ids`` (one query): where claimed rows go."""
    ids = {i for i in channel_ids if i is not None}
    if not ids:
        return {}
    query = select(UnitChannel).where(
        bulk.ids_in(uow.session, UnitChannel.id, ids), UnitChannel.enabled.is_(True)
    )
    return {c.id: Robot(c.kind, c.webhook_url, c.secret) for c in uow.session.scalars(query)}


def build_post(template: str, context: str, *, robot: Robot | None, clock: Clock) -> RobotPost:
    """The post of a claimed robot row (its context as stored, JSON text)."""
    if robot is None:
        raise ValueError(GONE)
    rendered = render(template, json.loads(context), sent_on=clock.today(), zone=clock.tz)
    return RobotPost(robot, title=rendered.subject, text=rendered.text)


def test_post(uow: UnitOfWork, *, channel_id: int) -> RobotPost:
    """A message that says what the channel will receive, to try a pasted URL and secret."""
    channel = uow.session.get(UnitChannel, channel_id)
    if channel is None:
        raise NotFound(f"渠道 {channel_id} 不存在")
    unit = uow.session.get(Unit, channel.unit_id)
    text = (
        f"这是一条测试消息。{unit.name}的整改通知、提醒、退回和督办消息将同时发送到本群"
        f"（{KINDS[channel.kind]}「{channel.name}」）。\n\n{uow.settings.mail_from_name}"
    )
    robot = Robot(channel.kind, channel.webhook_url, channel.secret)
    return RobotPost(robot, title="【测试】整改通知机器人渠道", text=text)


def send_now(post: RobotPost, *, timeout: float) -> str | None:
    """Post at once, outside the outbox; why it failed, or None."""

    async def send() -> None:
        transport = RobotSender(timeout=timeout).open()
        try:
            await transport.send(post)
        finally:
            await transport.close()

    try:
        asyncio.run(send())
    except DeliveryFailure as exc:
        return str(exc)
    return None
