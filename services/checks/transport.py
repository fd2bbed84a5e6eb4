"""The checks' HTTP transport: HTTP/1.1 GET over asyncio protocols, parsed by httptools.

Why not a general-purpose client: CPU per page bounds how many pages a core checks (a
national quarter is 434,000 pages), and a check only ever GETs a public page and reads it.
aiohttp spent 0.67 ms of CPU per page on loopback, 3.5 times what a raw fetch of the same
pages costs; most of it was per-request machinery a check never uses (cookies, tracing,
middlewares, a session and a request object per call). This transport is that one request:
a protocol per connection feeding httptools (llhttp, the parser uvicorn serves with), a few
kept-alive connections per origin, nothing else.

What a visit gets: bodies by ``Content-Length``, chunked or delimited by close; gzip and
deflate bodies decoded; https without certificate verification (rechecks read public pages:
an expired or self-signed certificate still "serves"); a body cap; a retry on a fresh
connection when a kept-alive one turns out closed before any answer (GET is idempotent).
Idle connections are closed after ``KEEPALIVE`` seconds and beyond ``max_idle``, oldest first,
so thousands of hosts do not leave thousands of sockets open. Redirects, DNS and limits are
the caller's (``fetch.Fetcher``).
"""

from __future__ import annotations

import asyncio
import ssl
import time
import zlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httptools

from services.checks.resolve import Lookup, is_ip

Origin = tuple[str, str, int]  # scheme, host, port
KEEPALIVE = 5.0  # seconds an idle connection is kept
MAX_BODY = 5 * 1024 * 1024
#: A body not read (``read_body=False``) is still drained to reuse the connection, up to this.
DRAIN_LIMIT = 64 * 1024


class NoAddress(OSError):
    """The DNS gave no address for the name: the visit fails as a DNS failure."""


class CannotConnect(OSError):
    """No address of the host accepted a connection (refused, unreachable, TLS refused)."""


class ProtocolError(Exception):
    """The server's answer was not HTTP, or the connection ended in the middle of it."""


#: The answer's headers a visit reads or keeps as evidence (cookies, caching and the like
#: are not decoded at all).
READ_HEADERS = {
    name.encode(): name
    for name in (
        "content-type", "content-length", "content-encoding", "transfer-encoding", "location",
        "server", "last-modified", "date",
    )
}  # fmt: skip


@dataclass(frozen=True)
class Response:
    """One HTTP answer: status, the headers of ``READ_HEADERS`` (names lower-case, the last
    one wins), body."""

    status: int
    headers: dict[str, str]
    body: bytes
    truncated: bool = False


def _decoded(value: bytes) -> str:
    return value.decode("utf-8", "replace")


class _Connection(asyncio.Protocol):
    """One connection: requests one after another, each answer parsed as it arrives."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.closed = False
        self.idle_since = 0.0
        self._waiter: asyncio.Future[Response] | None = None
        self._reset(read_body=True)

    def _reset(self, *, read_body: bool) -> None:
        self._read_body = read_body
        self._headers: dict[str, str] = {}
        self._chunks: list[bytes] = []
        self._size = 0
        self._received = False  # any byte of the current answer
        self._head_done = False
        self._done = False

    # -- asyncio.Protocol -----------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self._received = True
        if self._waiter is None or self._waiter.done():
            self.close()  # bytes nobody asked for: the connection cannot be trusted
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(ProtocolError(f"HTTP 应答无法解析：{exc}"))

    def eof_received(self) -> bool:
        delimited = "content-length" in self._headers or "transfer-encoding" in self._headers
        if self._head_done and not self._done and not delimited:
            self.on_message_complete()  # a body delimited by the end of the connection
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._waiter is not None and not self._waiter.done():
            reason = f"：{exc}" if exc else ""
            self._waiter.set_exception(
                ProtocolError(f"连接在应答完成前被关闭{reason}")
                if self._received
                else ConnectionResetError("连接在应答前被关闭")
            )

    # -- httptools callbacks --------------------------------------------------------------
    def on_header(self, name: bytes, value: bytes) -> None:
        name = name.lower()
        if name in READ_HEADERS:
            self._headers[READ_HEADERS[name]] = _decoded(value)

    def on_headers_complete(self) -> None:
        self._head_done = True
        if not self._read_body and not self._small_body():
            self._finish(truncated=True, reusable=False)

    def on_body(self, body: bytes) -> None:
        if self._done:
            return
        self._size += len(body)
        if self._read_body:
            self._chunks.append(body)
            if self._size >= MAX_BODY:
                self._finish(truncated=True, reusable=False)
        elif self._size > DRAIN_LIMIT:
            self._finish(truncated=True, reusable=False)

    def on_message_complete(self) -> None:
        if not self._done:
            self._finish(truncated=False, reusable=self.parser.should_keep_alive())

    # -- the connection's side ------------------------------------------------------------
    def _small_body(self) -> bool:
        length = self._headers.get("content-length", "")
        return length.isdigit() and int(length) <= DRAIN_LIMIT

    def _finish(self, *, truncated: bool, reusable: bool) -> None:
        self._done = True
        if not reusable:
            self.close()
        try:
            body = _decompress(b"".join(self._chunks), self._headers.get("content-encoding"))
        except zlib.error as exc:
            self._fail(ProtocolError(f"压缩内容无法解开：{exc}"))
            return
        if self._waiter is not None and not self._waiter.done():
            status = self.parser.get_status_code()
            self._waiter.set_result(Response(status, self._headers, body, truncated))

    def _fail(self, exc: Exception) -> None:
        self._done = True
        self.close()
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(exc)

    async def request(self, head: bytes, *, read_body: bool) -> Response:
        self._reset(read_body=read_body)
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            self.transport.write(head)  # type: ignore[union-attr]
            return await self._waiter
        finally:
            if not self._done:  # cancelled or timed out in the middle: not reusable
                self.close()
            self._waiter = None

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


def _decompress(body: bytes, encoding: str | None) -> bytes:
    if not body or not encoding:
        return body
    encoding = encoding.strip().lower()
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(body, MAX_BODY)
    if encoding == "deflate":  # zlib-wrapped as the standard says, or raw as some servers send
        try:
            return zlib.decompressobj().decompress(body, MAX_BODY)
        except zlib.error:
            return zlib.decompressobj(-zlib.MAX_WBITS).decompress(body, MAX_BODY)
    return body


def _insecure_tls() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


class Connections:
    """Kept-alive connections by origin; ``get`` sends one GET and returns its answer."""

    def __init__(
        self,
        *,
        lookup: Callable[[str], Awaitable[Lookup]],
        max_idle: int,
        headers: dict[str, str] | None = None,
    ):
        self._lookup = lookup
        self._max_idle = max_idle
        self._extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        self._idle: OrderedDict[_Connection, Origin] = OrderedDict()  # oldest first
        self._by_origin: dict[Origin, list[_Connection]] = {}
        self._tls: ssl.SSLContext | None = None
        self.opened = 0  # connections opened (a figure for the benchmark)

    async def get(self, origin: Origin, target: str, *, read_body: bool = True) -> Response:
        """GET ``target`` (path and query) of ``origin``: on a kept-alive connection when one
        is idle, else on a new one."""
        scheme, host, port = origin
        authority = host if port == (443 if scheme == "https" else 80) else f"{host}:{port}"
        head = (
            f"GET {target} HTTP/1.1\r\nHost: {authority}\r\n{self._extra}"
            "Accept: */*\r\nAccept-Encoding: gzip, deflate\r\n\r\n"
        ).encode()
        connection = self._take(origin)
        if connection is not None:
            try:
                return await self._send(origin, connection, head, read_body)
            except ConnectionResetError:
                pass  # the server closed it while idle: once more on a fresh connection
        return await self._send(origin, await self._open(origin), head, read_body)

    async def _send(
        self, origin: Origin, connection: _Connection, head: bytes, read_body: bool
    ) -> Response:
        response = await connection.request(head, read_body=read_body)
        if not connection.closed:
            self._give_back(origin, connection)
        return response

    def _take(self, origin: Origin) -> _Connection | None:
        idle = self._by_origin.get(origin)
        now = time.monotonic()
        while idle:
            connection = idle.pop()
            del self._idle[connection]
            if not connection.closed and now - connection.idle_since < KEEPALIVE:
                return connection
            connection.close()
        return None

    def _give_back(self, origin: Origin, connection: _Connection) -> None:
        connection.idle_since = time.monotonic()
        self._by_origin.setdefault(origin, []).append(connection)
        self._idle[connection] = origin
        while len(self._idle) > self._max_idle:
            oldest, its_origin = self._idle.popitem(last=False)
            self._by_origin[its_origin].remove(oldest)
            oldest.close()

    async def _open(self, origin: Origin) -> _Connection:
        scheme, host, port = origin
        if is_ip(host):
            addresses = [host.strip("[]")]
        else:
            addresses = (await self._lookup(host)).addresses
            if not addresses:
                raise NoAddress(f"域名无法解析：{host}")
        tls = None
        if scheme == "https":
            tls = self._tls = self._tls or _insecure_tls()
        loop = asyncio.get_running_loop()
        failure: OSError | None = None
        for address in addresses:  # the first address that answers, in the DNS's order
            try:
                _, connection = await loop.create_connection(
                    _Connection,
                    address,
                    port,
                    ssl=tls,
                    server_hostname=host.strip("[]") if tls else None,
                )
            except OSError as exc:
                failure = exc
                continue
            self.opened += 1
            return connection
        raise CannotConnect(str(failure or "") or f"无法连接：{host}") from failure

    def close(self) -> None:
        for connection in self._idle:
            connection.close()
        self._idle.clear()
        self._by_origin.clear()
