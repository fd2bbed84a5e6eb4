"""HTTP for the checks: one client, our DNS, a user agent, timeouts, per-host and overall limits."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import yarl

from services.checks.charset import decode_page
from services.checks.pages import PageReading, read_page
from services.checks.resolve import Lookup, lookup, make_resolver
from services.checks.transport import MAX_REDIRECTS, NoAddress, PerOriginPools

KEPT_HEADERS = frozenset(
    {"content-type", "content-length", "server", "last-modified", "date", "location"}
)
MAX_BODY = 5 * 1024 * 1024
#: Origins whose connections are kept open, per overall request slot (bounds open sockets).
POOLS_PER_REQUEST_SLOT = 5


class FetchFailed(Exception):
    """A visit that got no HTTP answer: ``kind`` is timeout, dns, connect or protocol."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


@dataclass
class Page:
    """One visit's answer: status, where redirects led, headers, the decoded page."""

    url: str
    final_url: str
    status: int
    headers: dict[str, str]
    redirects: list[str]
    body: bytes
    text: str
    charset: str
    seconds: float
    sha256: str = field(init=False)
    #: The page read as ``read_page`` reads it, by ``links``: checks of one page share it.
    _readings: dict[bool, PageReading] = field(init=False, default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.sha256 = hashlib.sha256(self.body).hexdigest()

    def reading(self, *, links: bool = True) -> PageReading:
        """The page's entries and links (read once per page however many checks ask)."""
        if links not in self._readings:
            self._readings[links] = read_page(self.text, links=links)
        return self._readings[links]

    @property
    def ok(self) -> bool:
        return self.status < 400

    def evidence(self, *, keep_chars: int) -> dict[str, Any]:
        """What is stored with the case: enough to show the page as it was seen."""
        return {
            "url": self.url,
            "final_url": self.final_url,
            "status": self.status,
            "redirects": self.redirects,
            "headers": self.headers,
            "charset": self.charset,
            "bytes": len(self.body),
            "sha256": self.sha256,
            "seconds": round(self.seconds, 3),
            "page_excerpt": self.text[:keep_chars],
        }


class Fetcher:
    """Shared by all checks of a run: connection pools, DNS cache and concurrency limits."""

    def __init__(self, settings: Any):
        self.settings = settings
        self.timeout = settings.check_timeout_seconds
        self._resolver = make_resolver(
            nameservers=settings.check_dns_nameservers,
            port=settings.check_dns_port,
            timeout=settings.check_dns_timeout_seconds,
        )
        self._lookups: dict[str, asyncio.Task[Lookup]] = {}
        self._overall = asyncio.Semaphore(settings.check_max_concurrency)
        per_host = settings.check_per_host_concurrency
        self._hosts: defaultdict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(per_host)
        )
        self._pools = PerOriginPools(
            lookup=self.lookup,
            per_origin=per_host,
            max_pools=settings.check_max_concurrency * POOLS_PER_REQUEST_SLOT,
            headers={"User-Agent": settings.check_user_agent},
        )

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self._pools.aclose()

    async def lookup(self, host: str) -> Lookup:
        """Resolve a host once per run (concurrent callers share the answer)."""
        key = host.lower().rstrip(".")
        if key not in self._lookups:
            self._lookups[key] = asyncio.ensure_future(lookup(self._resolver, key))
        return await asyncio.shield(self._lookups[key])

    async def get(self, url: str, *, read_body: bool = True, timeout: float | None = None) -> Page:
        """Visit ``url`` within the limits; raise FetchFailed when no HTTP answer came."""
        seconds = timeout or self.timeout
        try:
            parts = urlsplit(url)
            host, scheme, port = (parts.hostname or "").lower(), parts.scheme.lower(), parts.port
            target = yarl.URL(url)
        except ValueError as exc:
            raise FetchFailed("protocol", f"InvalidURL: {exc}") from None
        if scheme not in ("http", "https") or not host:
            raise FetchFailed("protocol", f"UnsupportedProtocol: {url}")
        origin = (scheme, host, port)
        async with self._hosts[host], self._overall:
            started = time.perf_counter()
            pool, closing = self._pools.acquire(origin)
            try:
                for stale in closing:
                    await stale.close()
                async with asyncio.timeout(seconds):
                    return await self._visit(pool, url, target, read_body, started)
            except TimeoutError:
                raise FetchFailed("timeout", f"{seconds:g} 秒内未打开") from None
            except aiohttp.TooManyRedirects:
                raise FetchFailed("protocol", "重定向次数过多") from None
            except aiohttp.ClientConnectorError as exc:
                if isinstance(exc.os_error, NoAddress):
                    raise FetchFailed("dns", str(exc.os_error)) from None
                raise FetchFailed("connect", str(exc.os_error) or "无法连接") from None
            except (aiohttp.ClientError, ValueError) as exc:
                raise FetchFailed("protocol", f"{type(exc).__name__}: {exc}") from None
            finally:
                self._pools.release(origin)

    async def _visit(
        self, pool, url: str, target: yarl.URL, read_body: bool, started: float
    ) -> Page:
        async with pool.get(target, max_redirects=MAX_REDIRECTS) as response:
            body = b""
            if read_body:
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.content.iter_any():
                    chunks.append(chunk)
                    size += len(chunk)
                    if size >= MAX_BODY:
                        break
                body = b"".join(chunks)
            content_type = response.headers.get("Content-Type")
            text, charset = decode_page(body, content_type) if body else ("", "")
            return Page(
                url=url,
                final_url=str(response.url),
                status=response.status,
                headers={
                    k.lower(): v for k, v in response.headers.items() if k.lower() in KEPT_HEADERS
                },
                redirects=[r.headers.get("Location", "") for r in response.history],
                body=body,
                text=text,
                charset=charset,
                seconds=time.perf_counter() - started,
            )
