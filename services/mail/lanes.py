"""A dispatch run's lanes: its emails and its robot messages, each claimed, sent and
recorded on its own (``services.mail.outbox.dispatch_async`` runs both side by side)."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from notifications.delivery import Outcome, Outgoing, Sender, deliver
from notifications.robots import Robot
from services.bootstrap import App
from services.core.clock import Clock
from services.core.uow import UnitOfWork
from services.mail.robots import robots_of

if TYPE_CHECKING:
    from services.mail.outbox import Claimed, DispatchReport

CLAIM_CHUNK = 500
Claim = Callable[..., "list[Claimed]"]
Record = Callable[..., None]


class Lane:
    """The emails, or the robot messages, of one dispatch run: claimed by chunks in a
    thread, sent, their outcomes written back in batches (and when the run is interrupted).
    """

    def __init__(
        self,
        app: App,
        report: DispatchReport,
        *,
        clock: Clock,
        limit: int,
        lease: timedelta,
        robots: bool,
        claim: Claim,
        record: Record,
        record_every: int,
    ):
        self.app, self.report, self.clock = app, report, clock
        self.limit, self.lease, self.is_robots = limit, lease, robots
        self.robots: dict[int | None, Robot] = {}  # where this run's robot rows go
        self.attempts: dict[int, int] = {}
        self.channels: dict[int, str] = {}
        self.stopped = False  # the server could not be reached: claim no more
        self.pending: list[Outcome] = []
        self.lock = asyncio.Lock()
        self._claim, self._record, self._every = claim, record, record_every

    def _uow(self) -> UnitOfWork:
        return UnitOfWork(self.app.session_factory, clock=self.clock, settings=self.app.settings)

    def claim_chunk(self) -> list[Claimed]:
        wanted = min(CLAIM_CHUNK, self.limit - self.report.claimed)
        if wanted <= 0 or self.stopped:
            return []
        with self._uow() as u:
            rows = self._claim(u, limit=wanted, lease=self.lease, robots=self.is_robots)
            if self.is_robots and rows:
                self.robots.update(robots_of(u, (row.channel_id for row in rows)))
        self.report.claimed += len(rows)
        for row in rows:
            self.attempts[row.id] = row.attempts
            self.channels[row.id] = row.channel
        return rows

    async def run(
        self, build: Callable[[Claimed], Any], *, sender: Sender, concurrency: int, links: set[int]
    ) -> None:
        feed = Feed(self.claim_chunk)

        async def next_item() -> Outgoing | None:
            row = await feed.next()
            return None if row is None else Outgoing(row.id, lambda: build(row))

        def write(outcomes: list[Outcome]) -> None:
            with self._uow() as u:
                self._record(u, outcomes, attempts=self.attempts, links=links)

        async def on_outcome(outcome: Outcome) -> None:
            report = self.report
            report.sent += outcome.status == "sent"
            report.retried += outcome.status == "retry"
            report.failed += outcome.status == "failed"
            counts = report.by_channel.setdefault(self.channels[outcome.ref], {})
            counts[outcome.status] = counts.get(outcome.status, 0) + 1
            if not outcome.reachable:
                self.stopped = True
                report.unreachable = report.unreachable or outcome.detail
            if outcome.status != "sent" and len(report.errors) < 20:
                report.errors.append(f"#{outcome.ref}: {outcome.detail}")
            self.pending.append(outcome)
            if len(self.pending) >= self._every and not self.lock.locked():
                async with self.lock:
                    batch = self.pending[:]
                    del self.pending[: len(batch)]
                    await asyncio.to_thread(write, batch)

        try:
            await deliver(next_item, sender=sender, concurrency=concurrency, on_outcome=on_outcome)
        finally:
            async with self.lock:
                if self.pending:
                    write(self.pending[:])  # also on interruption: what was sent is marked sent
                    self.pending.clear()


class Feed:
    """Claimed rows in order; the next chunk is claimed in a thread before these run out.

    Claiming in the event loop would stall every connection for the length of the query.
    """

    def __init__(self, claim_chunk: Callable[[], list[Claimed]]):
        self._claim_chunk = claim_chunk
        self._rows: deque[Claimed] = deque()
        self._fetching: asyncio.Task | None = None
        self._exhausted = False

    async def next(self) -> Claimed | None:
        while True:
            if len(self._rows) < CLAIM_CHUNK // 2 and not self._exhausted and not self._fetching:
                self._fetching = asyncio.create_task(self._fetch())
            if self._rows:
                return self._rows.popleft()
            if self._fetching is None:
                return None
            await asyncio.shield(self._fetching)  # a worker's cancellation must not stop it

    async def _fetch(self) -> None:
        try:
            rows = await asyncio.to_thread(self._claim_chunk)
            self._exhausted = not rows
            self._rows.extend(rows)
        finally:
            self._fetching = None
