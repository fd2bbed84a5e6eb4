"""Send many messages with bounded concurrency over a few reused connections.

Each of ``concurrency`` workers opens one connection from the sender and keeps it for
the whole batch, pulling the next message from a shared iterator (so messages are
built lazily, just before they are sent). Every message ends in exactly one
``Outcome``: sent, retry (temporary failure) or failed (permanent failure).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from notifications.message import Mail

Status = Literal["sent", "retry", "failed"]


class DeliveryFailure(Exception):
    """A message could not be delivered; the text is the server's answer or the cause."""


class TemporaryFailure(DeliveryFailure):
    """Worth trying again later: connection refused, timeout, a 4xx answer."""


class Unreachable(TemporaryFailure):
    """The server cannot be reached at all: the rest of the batch waits for the next run."""


class PermanentFailure(DeliveryFailure):
    """Trying again will not help: a 5xx answer, an address the server rejects."""


class Transport(Protocol):
    """One connection to the mail server."""

    async def send(self, mail: Mail) -> str:
        """Send one message; returns a note (e.g. recipients refused) or "", raises on failure."""
        ...

    async def close(self) -> None: ...


class Sender(Protocol):
    """Opens connections; ``deliver`` keeps each one for a whole batch."""

    def open(self) -> Transport: ...


@dataclass(frozen=True)
class Outgoing:
    """One message to send: ``ref`` is the caller's id, ``build`` makes the message on demand."""

    ref: int
    build: Callable[[], Mail]


@dataclass(frozen=True)
class Outcome:
    ref: int
    status: Status
    detail: str = ""
    #: False when the server could not be reached at all (callers stop feeding more work).
    reachable: bool = True


NextItem = Callable[[], Awaitable["Outgoing | None"]]


async def deliver(
    next_item: NextItem,
    *,
    sender: Sender,
    concurrency: int,
    on_outcome: Callable[[Outcome], Awaitable[None]],
) -> None:
    """Send every item ``next_item`` gives (until None) over ``concurrency`` connections."""
    unreachable: list[str] = []

    async def worker() -> None:
        transport = sender.open()
        try:
            while (item := await next_item()) is not None:
                if unreachable:
                    await on_outcome(Outcome(item.ref, "retry", unreachable[0], reachable=False))
                    continue
                await on_outcome(await _send_one(transport, item, unreachable))
        finally:
            await transport.close()

    await asyncio.gather(*(worker() for _ in range(max(1, concurrency))))


async def _send_one(transport: Transport, item: Outgoing, unreachable: list[str]) -> Outcome:
    try:
        mail = item.build()
    except ValueError as exc:  # no or malformed recipient: the row's data, said plainly
        return Outcome(item.ref, "failed", str(exc))
    except Exception as exc:  # a template or data error fails this message, not the batch
        return Outcome(item.ref, "failed", f"邮件内容生成失败：{type(exc).__name__}: {exc}")
    try:
        note = await transport.send(mail)
    except Unreachable as exc:
        unreachable.append(str(exc))
        return Outcome(item.ref, "retry", str(exc), reachable=False)
    except TemporaryFailure as exc:
        return Outcome(item.ref, "retry", str(exc))
    except PermanentFailure as exc:
        return Outcome(item.ref, "failed", str(exc))
    return Outcome(item.ref, "sent", note)
