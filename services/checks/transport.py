"""The checks' HTTP transport: aiohttp, our DNS resolver, one small connection pool per origin.

aiohttp parses HTTP in C: a column check's visit costs a fraction of the CPU that httpx
(pure-Python h11 under anyio) spent, and CPU per page bounds how many pages a core checks.
One pool (a session with its own connector) per origin keeps each pool a few sockets; pools
idle past the keep-alive time, or beyond a cap, are closed oldest first, so thousands of
hosts do not leave thousands of sockets open.
"""

from __future__ import annotations

import socket
import time
from collections import Counter, OrderedDict
from collections.abc import Awaitable, Callable

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from services.checks.resolve import Lookup, is_ip

Origin = tuple[str, str, int | None]
KEEPALIVE = 5.0  # seconds an idle connection (and an idle origin's pool) is kept
MAX_REDIRECTS = 5


class NoAddress(OSError):
    """The DNS gave no address for the name: the visit fails as a DNS failure."""


class CachedResolver(AbstractResolver):
    """aiohttp's resolver, answering from the run's own lookups (one query per host)."""

    def __init__(self, lookup: Callable[[str], Awaitable[Lookup]]):
        self._lookup = lookup

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if is_ip(host):
            addresses = [host.strip("[]")]
        else:
            addresses = (await self._lookup(host)).addresses
            if not addresses:
                raise NoAddress(f"域名无法解析：{host}")
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for address in addresses
        ]

    async def close(self) -> None:
        return None


class PerOriginPools:
    """A session per origin (at most ``per_origin`` sockets each), opened when first visited."""

    def __init__(
        self,
        *,
        lookup: Callable[[str], Awaitable[Lookup]],
        per_origin: int,
        max_pools: int,
        headers: dict[str, str] | None = None,
    ):
        self._resolver = CachedResolver(lookup)
        self._per_origin = per_origin
        self._max_pools = max_pools
        self._headers = headers or {}
        self._pools: OrderedDict[Origin, aiohttp.ClientSession] = OrderedDict()
        self._busy: Counter[Origin] = Counter()
        self._used: dict[Origin, float] = {}

    def _new_pool(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            limit=self._per_origin,
            limit_per_host=self._per_origin,
            resolver=self._resolver,
            use_dns_cache=False,  # the run's lookups are the cache
            keepalive_timeout=KEEPALIVE,
            # Rechecks read public pages: an expired or self-signed certificate still "serves".
            ssl=False,
        )
        return aiohttp.ClientSession(
            connector=connector,
            headers=self._headers,
            timeout=aiohttp.ClientTimeout(total=None),  # the caller bounds each visit
            max_line_size=65536,
            max_field_size=65536,
        )

    def _pool_for(self, origin: Origin) -> tuple[aiohttp.ClientSession, list]:
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

    def acquire(self, origin: Origin) -> tuple[aiohttp.ClientSession, list]:
        """The origin's pool, marked busy (release it with ``release``) and pools to close."""
        pool, closing = self._pool_for(origin)
        self._busy[origin] += 1  # before any await: a busy pool is never closed
        return pool, closing

    def release(self, origin: Origin) -> None:
        if self._busy[origin] > 0:
            self._busy[origin] -= 1

    async def aclose(self) -> None:
        pools = list(self._pools.values())
        self._pools.clear()
        for pool in pools:
            await pool.close()
