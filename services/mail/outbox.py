"""Deliver the outbox: claim due rows, render and send them, record each outcome.

At-least-once, never silently dropped:

* a row is claimed atomically (``pending``/stale ``sending`` → ``sending``, attempts + 1,
  ``next_attempt_at`` = now + lease) in one UPDATE … RETURNING whose row choice uses
  ``FOR UPDATE SKIP LOCKED`` on PostgreSQL; on SQLite the UPDATE takes the write lock and
  re-checks the due condition, so two dispatchers never claim the same row;
* outcomes are written back in small batches while sending goes on, and whatever is
  known is written when a run is interrupted;
* a dispatcher that dies between "sent" and "marked sent" leaves the row ``sending``:
  once the lease expires another run sends it again, with the same Message-ID and the
  same portal URL (made again from the row's link reference, ``services.mail.links``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import (
    ColumnElement,
    Text,
    and_,
    bindparam,
    cast,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB

from notifications.delivery import Outcome, Sender
from notifications.message import Mail, Mailbox, encode_mail
from notifications.render import render
from notifications.robots import RobotPost, RobotSender
from notifications.smtp import SmtpConfig, SmtpSender
from services.bootstrap import App
from services.core.clock import Clock
from services.core.settings import Settings
from services.core.uow import UnitOfWork
from services.db import bulk
from services.db.models import OutboxMessage
from services.mail.lanes import CLAIM_CHUNK, Lane
from services.mail.links import portal_url_into
from services.mail.robots import EMAIL, build_post

LEASE = timedelta(minutes=10)
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_CAP = timedelta(hours=6)
MAX_ATTEMPTS = 12
RECORD_EVERY = 200


@dataclass(frozen=True)
class Claimed:
    id: int
    key: str
    template: str
    #: The context as stored (JSON text), decoded just before rendering: a chunk waiting
    #: in memory holds strings, not thousands of dicts for the garbage collector to walk.
    context: str
    to_addrs: list[str]
    cc_addrs: list[str]
    attempts: int
    #: The robot (``UnitChannel``) a robot message goes to; None for an email.
    channel_id: int | None = None
    channel: str = EMAIL


@dataclass
class DispatchReport:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    #: Why the server could not be reached, when it could not (the rest waits for a retry).
    unreachable: str | None = None
    errors: list[str] = field(default_factory=list)
    #: Outcomes by channel (``email``, ``wecom``, ``dingtalk``, ``feishu``) and status.
    by_channel: dict[str, dict[str, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class Backlog:
    """What still waits to be delivered (pending, or being sent), and for how long."""

    waiting: int
    oldest_seconds: int


def backlog(uow: UnitOfWork) -> Backlog:
    """The messages not delivered yet and the age of the oldest, by the clock of ``uow``."""
    waiting = OutboxMessage.status.in_(("pending", "sending"))
    count, oldest = uow.session.execute(
        select(func.count(), func.min(OutboxMessage.created_at)).where(waiting)
    ).one()
    age = (uow.clock.now() - oldest).total_seconds() if oldest is not None else 0
    return Backlog(waiting=count, oldest_seconds=max(0, int(age)))


def smtp_sender(settings: Settings) -> SmtpSender:
    """The SMTP sender the settings describe (RECTIFY_SMTP_*)."""
    return SmtpSender(
        SmtpConfig(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.mail_from,
            username=settings.smtp_username,
            password=settings.smtp_password,
            starttls=settings.smtp_starttls,
            tls=settings.smtp_tls,
            timeout=settings.smtp_timeout_seconds,
        )
    )


def claim(
    uow: UnitOfWork, *, limit: int, lease: timedelta = LEASE, robots: bool | None = None
) -> list[Claimed]:
    """Atomically take up to ``limit`` due rows (pending, or sending with an expired lease);
    ``robots``: only robot messages (True) or only emails (False)."""
    now = uow.clock.now()
    due = and_(
        OutboxMessage.status.in_(("pending", "sending")),
        or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now),
    )
    if robots is not None:
        channel = OutboxMessage.channel
        due = and_(due, channel != EMAIL if robots else channel == EMAIL)
    pick = (
        select(OutboxMessage.id)
        .where(due)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    t = OutboxMessage.__table__.c
    stmt = (  # Core, not ORM: thousands of rows a minute, no objects needed
        update(OutboxMessage.__table__)
        .where(t.id.in_(pick), due)
        .values(status="sending", attempts=t.attempts + 1, next_attempt_at=now + lease)
        .returning(
            t.id,
            t.key,
            t.template,
            cast(t.context, Text),
            t.to_addrs,
            t.cc_addrs,
            t.attempts,
            t.channel_id,
            t.channel,
        )
    )
    rows = [Claimed(*row) for row in uow.session.connection().execute(stmt).all()]
    uow.commit()
    return sorted(rows, key=lambda r: r.id)


#: What a sent message's context keeps in place of a portal URL stored by an older version.
SENT_LINK = "（链接已随邮件发出，系统只保存其摘要）"


def record(
    uow: UnitOfWork,
    outcomes: list[Outcome],
    *,
    attempts: dict[int, int],
    links: Collection[int] = (),
) -> None:
    """Write outcomes back: sent, pending again with backoff, or failed with the reason.

    A sent message's portal link leaves the database with it: only the token's hash is
    kept (``unit_links``), so the context of a sent row forgets the nonce its URL was made
    from and keeps the link's id (``links`` holds the ids of the claimed rows whose context
    carries a link). The database edits the stored JSON in the same UPDATE that marks the
    row sent.
    """
    now = uow.clock.now()
    table = OutboxMessage.__table__
    at = table.c.sent_at.type
    sent: dict[tuple[bool, str | None], list[int]] = {}  # (has a link, note) → row ids
    retry, failed = [], []
    for o in outcomes:
        tries = attempts.get(o.ref, 1)
        if o.status == "sent":
            sent.setdefault((o.ref in links, o.detail or None), []).append(o.ref)
        elif o.status == "retry" and tries < MAX_ATTEMPTS:
            delay = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (tries - 1))
            retry.append({"_id": o.ref, "_tries": tries, "_next": now + delay, "_note": o.detail})
        else:
            note = o.detail if o.status == "failed" else f"已尝试 {tries} 次仍未送达：{o.detail}"
            failed.append({"_id": o.ref, "_tries": tries, "_note": note})
    conn = uow.session.connection()
    mine = and_(table.c.id == bindparam("_id"), table.c.status == "sending")
    claim_held = and_(mine, table.c.attempts == bindparam("_tries"))
    for (with_link, note), ids in sent.items():  # one UPDATE per 500 rows, mostly
        done = {"status": "sent", "sent_at": now, "last_error": note}
        if with_link:
            done["context"] = _link_forgotten(table.c.context, conn.dialect.name)
        for start in range(0, len(ids), CLAIM_CHUNK):
            held = and_(
                bulk.ids_in(uow.session, table.c.id, ids[start : start + CLAIM_CHUNK]),
                table.c.status == "sending",
            )
            conn.execute(update(table).where(held).values(**done))
    if retry:
        stmt = update(table).where(claim_held)
        values = {"status": "pending", "next_attempt_at": bindparam("_next", type_=at)}
        conn.execute(stmt.values(**values, last_error=bindparam("_note")), retry)
    if failed:
        stmt = update(table).where(claim_held)
        conn.execute(stmt.values(status="failed", last_error=bindparam("_note")), failed)
    uow.commit()


def _link_forgotten(context: ColumnElement, dialect: str) -> ColumnElement:
    """The stored context without ``portal_link.nonce`` (and with an older version's
    ``portal_url`` replaced by ``SENT_LINK``), edited in SQL."""
    if dialect == "postgresql":
        nonce = literal_column("'{portal_link,nonce}'::text[]")
        path = literal_column("'{portal_url}'::text[]")
        value = func.to_jsonb(cast(literal(SENT_LINK), Text))
        edited = cast(context, JSONB).op("#-")(nonce)
        return cast(func.jsonb_set(edited, path, value, false()), context.type)
    kept = func.json_replace(context, "$.portal_url", SENT_LINK)
    return func.json_remove(kept, "$.portal_link.nonce")


def dispatch(
    app: App,
    *,
    sender: Sender | None = None,
    robot_sender: Sender | None = None,
    clock: Clock | None = None,
    limit: int = 1000,
    concurrency: int | None = None,
    lease: timedelta = LEASE,
) -> DispatchReport:
    """Deliver up to ``limit`` due messages; see ``dispatch_async``."""
    return asyncio.run(
        dispatch_async(
            app,
            sender=sender,
            robot_sender=robot_sender,
            clock=clock,
            limit=limit,
            concurrency=concurrency,
            lease=lease,
        )
    )


async def dispatch_async(
    app: App,
    *,
    sender: Sender | None = None,
    robot_sender: Sender | None = None,
    clock: Clock | None = None,
    limit: int = 1000,
    concurrency: int | None = None,
    lease: timedelta = LEASE,
) -> DispatchReport:
    """Claim, render and send due messages: emails over ``concurrency`` reused SMTP
    connections and robot messages over ``robot_concurrency`` HTTP clients, side by side
    (an unreachable mail server holds back the emails only)."""
    clock = clock or app.clock
    settings = app.settings
    mailbox = Mailbox(settings.mail_from, settings.mail_from_name)
    keys = {"base_url": settings.base_url, "secret_key": settings.secret_key}
    report = DispatchReport()
    links: set[int] = set()  # rows whose context carries a unit's portal link
    lane = {"claim": claim, "record": record, "record_every": RECORD_EVERY}
    lane |= {"clock": clock, "limit": limit, "lease": lease}
    emails, robots = Lane(app, report, robots=False, **lane), Lane(app, report, robots=True, **lane)

    def email(row: Claimed) -> Mail:
        return _build(row, mailbox=mailbox, clock=clock, links=links, keys=keys)

    def post(row: Claimed) -> RobotPost:
        robot = robots.robots.get(row.channel_id)
        return build_post(row.template, row.context, robot=robot, clock=clock)

    await asyncio.gather(
        emails.run(
            email,
            sender=sender or smtp_sender(settings),
            concurrency=concurrency or settings.outbox_concurrency,
            links=links,
        ),
        robots.run(
            post,
            sender=robot_sender or RobotSender(timeout=settings.robot_timeout_seconds),
            concurrency=settings.robot_concurrency,
            links=links,
        ),
    )
    return report


def _build(
    row: Claimed, *, mailbox: Mailbox, clock: Clock, links: set[int], keys: dict[str, str]
) -> Mail:
    """The message's bytes, its portal URL made from the row's link reference (``keys``:
    ``base_url`` and ``secret_key``); notes in ``links`` a row whose context carries one."""
    if not row.to_addrs:
        raise ValueError("没有有效的收件人地址")
    context = json.loads(row.context)
    if portal_url_into(context, **keys):
        links.add(row.id)
    rendered = render(row.template, context, sent_on=clock.today(), zone=clock.tz)
    return encode_mail(
        rendered, key=row.key, sender=mailbox, to=row.to_addrs, cc=row.cc_addrs, date=clock.now()
    )
