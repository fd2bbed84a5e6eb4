"""The outside world's SMTP server for the national quarter: aiosmtpd in its own process.

It counts every message it accepts and every Message-ID it has seen before (a message sent
twice). Imports only the standard library and aiosmtpd, so that it starts whatever state the
rest of the code is in.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import socket


def _serve(port: int, ready, received, duplicates) -> None:
    from aiosmtpd.smtp import SMTP

    seen: set[bytes] = set()

    class Sink:
        async def handle_DATA(self, server, session, envelope):
            received.value += 1
            content = envelope.original_content or envelope.content
            head = content.split(b"\r\n\r\n", 1)[0]
            ids = [ln for ln in head.split(b"\r\n") if ln.lower().startswith(b"message-id:")]
            key = ids[0] if ids else content
            if key in seen:
                duplicates.value += 1
            seen.add(key)
            return "250 OK"

    loop = asyncio.new_event_loop()
    factory = lambda: SMTP(Sink(), hostname="national.local", ident="sink")  # noqa: E731
    loop.run_until_complete(loop.create_server(factory, "127.0.0.1", port))
    ready.set()
    loop.run_forever()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpSink:
    """An aiosmtpd process on a free port: ``received`` and ``duplicates`` as it counts them."""

    def __init__(self) -> None:
        ctx = mp.get_context("spawn")
        self.port = free_port()
        ready = ctx.Event()
        self._received, self._duplicates = ctx.Value("q", 0), ctx.Value("q", 0)
        self.process = ctx.Process(
            target=_serve, args=(self.port, ready, self._received, self._duplicates), daemon=True
        )
        self.process.start()
        if not ready.wait(60):
            self.stop()
            raise RuntimeError("the SMTP sink did not start")

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def received(self) -> int:
        return self._received.value

    @property
    def duplicates(self) -> int:
        return self._duplicates.value

    def stop(self) -> None:
        self.process.terminate()
        self.process.join(10)
