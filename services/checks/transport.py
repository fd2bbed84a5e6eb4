"""The checks' HTTP transport: our DNS resolver, and one small connection pool per origin.

httpcore's pool scans every connection it holds for every request, so one pool shared by
hundreds of hosts spends its time in that scan; a pool per origin keeps it a few entries.
Pools idle past the keep-alive time, or beyond a cap, are closed oldest first, so
thousands of hosts do not leave thousands of sockets open.
"""

from __future__ import annotations

import ssl
import time
from collections import Counter, OrderedDict
from collections.abc import Awaitable, Callable

import httpcore
import httpx

from services.checks.resolve import Lookup, is_ip

Origin = tuple[str, str, int | None]
KEEPALIVE = 5.0  # seconds an idle connection (and an idle origin's pool) is kept


class ResolvingBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, connecting to the addresses our resolver found."""

    def __init__(self, lookup: Callable[[str], Awaitable[Lookup]]):
        self._lookup = lookup
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        if is_ip(host):
            addresses = [host]
        else:
            found = await self._lookup(host)
            if not found.addresses:
                raise httpcore.ConnectError(f"域名无法解析：{host}")
            addresses = found.addresses
        last: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _Tracked(httpx.AsyncByteStream):
    """A response body that tells the transport when it is closed."""

    def __init__(self, stream: httpx.AsyncByteStream, done: Callable[[], None]):
        self._stream = stream
        self._done = done

    async def __aiter__(self):
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            self._done()


class PerOriginTransport(httpx.AsyncBaseTransport):
    """Dispatch each request to its origin's own small pool (at most ``per_origin`` sockets)."""

    def __init__(
        self, *, lookup: Callable[[str], Awaitable[Lookup]], per_origin: int, max_pools: int
    ):
        # Rechecks read public pages: an expired or self-signed certificate still "serves".
        self._ssl = ssl.create_default_context()
        self._ssl.check_hostname = False
        self._ssl.verify_mode = ssl.CERT_NONE
        self._backend = ResolvingBackend(lookup)
        self._per_origin = per_origin
        self._max_pools = max_pools
        self._pools: OrderedDict[Origin, httpx.AsyncHTTPTransport] = OrderedDict()
        self._busy: Counter[Origin] = Counter()
        self._used: dict[Origin, float] = {}

    def _new_pool(self) -> httpx.AsyncHTTPTransport:
        transport = httpx.AsyncHTTPTransport(verify=self._ssl)
        # httpx does not expose httpcore's network_backend; give the pool one using our DNS.
        transport._pool = httpcore.AsyncConnectionPool(
            ssl_context=self._ssl,
            max_connections=self._per_origin,
            max_keepalive_connections=self._per_origin,
            keepalive_expiry=KEEPALIVE,
            network_backend=self._backend,
        )
        return transport

    def _pool_for(self, origin: Origin) -> tuple[httpx.AsyncHTTPTransport, list]:
        """The origin's pool, and idle pools to close (oldest first, past keep-alive or cap)."""
        now = time.monotonic()
        if origin in self._pools:
            self._pools.move_to_end(origin)
            self._used[origin] = now
            return self._pools[origin], []
        closing = []
        for stale in list(self._pools):
            if len(self._pools) < self._max_pools and self._used[stale] > now - KEEPALIVE:
                break
            if not self._busy[stale]:
                closing.append(self._pools.pop(stale))
                del self._busy[stale], self._used[stale]
        self._pools[origin] = pool = self._new_pool()
        self._used[origin] = now
        return pool, closing

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        origin = (request.url.scheme, request.url.host, request.url.port)
        pool, closing = self._pool_for(origin)
        self._busy[origin] += 1  # before any await: a busy pool is never closed

        def done() -> None:
            self._busy[origin] -= 1

        try:
            for stale in closing:
                await stale.aclose()
            response = await pool.handle_async_request(request)
        except BaseException:
            done()
            raise
        response.stream = _Tracked(response.stream, done)
        return response

    async def aclose(self) -> None:
        pools = list(self._pools.values())
        self._pools.clear()
        for pool in pools:
            await pool.aclose()
