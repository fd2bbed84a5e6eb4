"""Loopback servers for tests and benchmarks: a small HTTP/1.1 server and a DNS server.

Nothing here reaches the internet. ``FixtureWeb`` answers per (Host, path) with canned
replies (status, body, charset, delay) and counts requests in flight per host;
``FixtureDns`` answers A records for names it holds and NXDOMAIN for the rest.
"""

from __future__ import annotations

import asyncio
import copy
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from dnslib import AAAA, CNAME, QTYPE, RCODE, RR, A
from dnslib.server import BaseResolver, DNSLogger, DNSServer

REASONS = {200: "OK", 301: "Moved Permanently", 302: "Found", 404: "Not Found", 500: "Error"}


@dataclass
class Reply:
    """A canned answer: status, body (str bodies are encoded with ``charset``), delay."""

    body: bytes | str = b""
    status: int = 200
    charset: str = "utf-8"
    content_type: str = "text/html"
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    declare_charset: bool = True  # False: leave the charset out of Content-Type

    def encoded(self) -> bytes:
        return self.body.encode(self.charset) if isinstance(self.body, str) else self.body


def redirect(location: str, status: int = 302) -> Reply:
    return Reply(status=status, headers={"Location": location})


class FixtureWeb:
    """An HTTP/1.1 server on 127.0.0.1 (own thread and loop) serving canned replies."""

    def __init__(self, *, default: Reply | None = None):
        self.routes: dict[tuple[str, str], Reply | Callable[[str, str], Reply]] = {}
        self.default = default or Reply(status=404, body="not found")
        self.down: set[str] = set()  # hosts whose connections are dropped unanswered
        self.requests: list[tuple[str, str, str]] = []  # (host, path, user agent)
        self.in_flight: Counter[str] = Counter()
        self.peak_in_flight: Counter[str] = Counter()
        self.peak_total = 0
        self._total = 0  # requests in flight over all hosts
        self.connections = 0  # TCP connections accepted
        self.open_connections = 0
        self.peak_open_connections = 0
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self._lock = threading.Lock()

    # -- the routes -----------------------------------------------------------------------
    def route(self, path: str, reply: Reply | Callable[[str, str], Reply], *, host: str = "*"):
        self.routes[(host.lower(), path)] = reply
        return self

    def url(self, path: str = "/", *, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def reply_for(self, host: str, path: str) -> Reply:
        found = self.routes.get((host, path)) or self.routes.get(("*", path)) or self.default
        return found(host, path) if callable(found) else found

    # -- life cycle -----------------------------------------------------------------------
    def start(self) -> FixtureWeb:
        self._thread = threading.Thread(target=self._run, name="fixture-web", daemon=True)
        self._thread.start()
        if not self._started.wait(10):
            raise RuntimeError("fixture web server did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> FixtureWeb:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            asyncio.start_server(self._serve, "127.0.0.1", self.port, backlog=4096)
        )
        self.port = server.sockets[0].getsockname()[1]
        self._started.set()
        try:
            self._loop.run_forever()
        finally:
            server.close()
            # Let open connections' handlers finish closing before the loop goes away.
            pending = asyncio.all_tasks(self._loop)
            for task in pending:
                task.cancel()
            self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self._loop.close()

    async def serve_forever(self, *, on_port: Callable[[int], None]) -> None:
        """Serve in the current loop (a benchmark's own process); report the port first."""
        server = await asyncio.start_server(self._serve, "127.0.0.1", 0, backlog=4096)
        on_port(server.sockets[0].getsockname()[1])
        async with server:
            await server.serve_forever()

    # -- HTTP -----------------------------------------------------------------------------
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.open_connections += 1
        self.peak_open_connections = max(self.peak_open_connections, self.open_connections)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("utf-8", errors="replace").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                host = headers.get("host", "").rsplit(":", 1)[0].lower()
                if host in self.down:
                    break
                if not await self._answer(writer, method, host, target, headers):
                    break
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass  # the client went away or sent garbage: drop the connection
        except asyncio.CancelledError:
            return  # the server is stopping; ending quietly keeps asyncio from logging it
        finally:
            self.open_connections -= 1
            writer.close()

    async def _answer(self, writer, method: str, host: str, path: str, headers: dict) -> bool:
        with self._lock:
            self.requests.append((host, path, headers.get("user-agent", "")))
            self.in_flight[host] += 1
            self.peak_in_flight[host] = max(self.peak_in_flight[host], self.in_flight[host])
            self._total += 1
            self.peak_total = max(self.peak_total, self._total)
        try:
            reply = self.reply_for(host, path)
            if reply.delay:
                await asyncio.sleep(reply.delay)
            body = reply.encoded()
            content_type = reply.content_type
            if reply.declare_charset and content_type.startswith("text/"):
                content_type += f"; charset={reply.charset}"
            head = [
                f"HTTP/1.1 {reply.status} {REASONS.get(reply.status, 'Status')}",
                f"Content-Type: {content_type}",
                f"Content-Length: {len(body)}",
                "Server: fixture-web",
                *(f"{k}: {v}" for k, v in reply.headers.items()),
            ]
            writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
            if method != "HEAD":
                writer.write(body)
            await writer.drain()
        finally:
            with self._lock:
                self.in_flight[host] -= 1
                self._total -= 1
        return headers.get("connection", "").lower() != "close"


class _Zone(BaseResolver):
    def __init__(self, dns: FixtureDns):
        self.dns = dns

    def resolve(self, request, handler):
        reply = request.reply()
        name = str(request.q.qname).rstrip(".").lower()
        qtype = QTYPE[request.q.qtype]
        target = self.dns.cnames.get(name)
        if target is not None:
            reply.add_answer(RR(name + ".", QTYPE.CNAME, rdata=CNAME(target + "."), ttl=60))
            name = target
        addresses = self.dns.addresses_of(name)
        if addresses is None:
            reply.header.rcode = RCODE.NXDOMAIN
            return reply
        for address in addresses:
            if qtype == "A" and ":" not in address:
                reply.add_answer(RR(name + ".", QTYPE.A, rdata=A(address), ttl=60))
            elif qtype == "AAAA" and ":" in address:
                reply.add_answer(RR(name + ".", QTYPE.AAAA, rdata=AAAA(address), ttl=60))
        return reply


class FixtureDns:
    """A UDP DNS server on 127.0.0.1: names it holds resolve, every other name is NXDOMAIN."""

    def __init__(self, records: dict[str, list[str]] | None = None):
        self.records: dict[str, list[str]] = defaultdict(list)
        for name, addresses in (records or {}).items():
            self.set(name, addresses)
        self.cnames: dict[str, str] = {}
        self.suffixes: dict[str, list[str]] = {}  # ".bench.test" → addresses for any name in it
        self._server: DNSServer | None = None

    def set(self, name: str, addresses: list[str]) -> FixtureDns:
        self.records[name.lower()] = list(addresses)
        return self

    def remove(self, name: str) -> None:
        """From now on the name is NXDOMAIN (the domain was deregistered)."""
        self.records.pop(name.lower(), None)
        self.cnames.pop(name.lower(), None)

    def addresses_of(self, name: str) -> list[str] | None:
        if name in self.records:
            return self.records[name]
        for suffix, addresses in self.suffixes.items():
            if name.endswith(suffix):
                return addresses
        return None

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.server.server_address[1]

    def start(self) -> FixtureDns:
        logger = DNSLogger(log="-request,-reply,-truncated,-error", logf=lambda s: None)
        self._server = DNSServer(_Zone(self), address="127.0.0.1", port=0, logger=logger)
        self._server.start_thread()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server.server.server_close()

    def __enter__(self) -> FixtureDns:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


@contextmanager
def unchanged_after(*servers: FixtureWeb | FixtureDns) -> Iterator[None]:
    """Put back the routes and records a test added to a server shared by a module's tests."""
    saved = [
        (server, {name: copy.deepcopy(getattr(server, name)) for name in _STATE[type(server)]})
        for server in servers
    ]
    try:
        yield
    finally:
        for server, state in saved:
            for name, value in state.items():
                setattr(server, name, value)


_STATE = {FixtureWeb: ("routes", "default"), FixtureDns: ("records", "cnames", "suffixes")}
