"""A real SMTP server (aiosmtpd) on loopback for tests: records what it receives.

It can refuse chosen recipients (``refuse``), answer 421 to every message after a number
of them (``fail_after``), and be stopped and started again on the same port.
"""

from __future__ import annotations

import asyncio
import email
import socket
import threading
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    mail_options: tuple[str, ...] = ()  # ESMTP parameters of MAIL FROM (e.g. SIZE=…)

    @property
    def text(self) -> str:
        return self.message.get_body(("plain",)).get_content()

    @property
    def html(self) -> str:
        return self.message.get_body(("html",)).get_content()


class _Handler:
    def __init__(self, server: MailServer):
        self.server = server

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        answer = self.server.refuse.get(address)
        if answer:
            return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.server.delay:
            await asyncio.sleep(self.server.delay)
        with self.server.lock:
            limit = self.server.fail_after
            if limit is not None and len(self.server.received) >= limit:
                return "421 4.3.2 Service not available, closing transmission channel"
            message = email.message_from_bytes(envelope.content, policy=policy.default)
            self.server.received.append(
                Received(
                    envelope.mail_from,
                    list(envelope.rcpt_tos),
                    message,
                    tuple(envelope.mail_options),
                )
            )
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MailServer:
    """aiosmtpd in its own thread on 127.0.0.1; ``received`` holds every accepted message."""

    def __init__(self, **options) -> None:
        """``options`` go to aiosmtpd (``ssl_context``, ``tls_context``, ``authenticator``...)."""
        self.options = options
        self.port = free_port()
        self.received: list[Received] = []
        self.refuse: dict[str, str] = {}
        self.fail_after: int | None = None
        self.delay = 0.0  # seconds before answering DATA (a slow or hung server)
        self.lock = threading.Lock()
        self._controller: Controller | None = None

    def start(self) -> MailServer:
        self._controller = Controller(
            _Handler(self), hostname="127.0.0.1", port=self.port, **self.options
        )
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.rcpt_tos]

    def message_ids(self) -> list[str]:
        return [r.message["Message-ID"] for r in self.received]
