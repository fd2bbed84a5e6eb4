"""HTTP for the checks: one client, our DNS, a user agent, timeouts, per-host and overall limits."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

from services.checks.charset import decode_page
from services.checks.pages import PageReading, read_page
from services.checks.resolve import Lookup, lookup, make_resolver
from services.checks.transport import (
    CannotConnect,
    Connections,
    NoAddress,
    Origin,
    ProtocolError,
    Response,
)

KEPT_HEADERS = frozenset(
    {"content-type", "content-length", "server", "last-modified", "date", "location"}
)
MAX_REDIRECTS = 5
REDIRECTS = frozenset({301, 302, 303, 307, 308})
#: Idle connections kept open, per overall request slot (bounds open sockets).
IDLE_PER_REQUEST_SLOT = 5


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
    """Shared by all checks of a run: connections, DNS cache and concurrency limits."""

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
        #: What each address answered in this run (status, headers; no body), settled when
        #: its first visit ends: a link probe of an address already visited (or being
        #: visited) by a check takes that answer instead of a request of its own.
        self._answers: dict[str, asyncio.Future[Page | FetchFailed | None]] = {}
        self.connections = Connections(
            lookup=self.lookup,
            max_idle=settings.check_max_concurrency * IDLE_PER_REQUEST_SLOT,
            headers={"User-Agent": settings.check_user_agent},
        )

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc_info) -> None:
        self.connections.close()

    async def lookup(self, host: str) -> Lookup:
        """Resolve a host once per run (concurrent callers share the answer)."""
        key = host.lower().rstrip(".")
        if key not in self._lookups:
            self._lookups[key] = asyncio.ensure_future(lookup(self._resolver, key))
        return await asyncio.shield(self._lookups[key])

    async def get(self, url: str, *, read_body: bool = True, timeout: float | None = None) -> Page:
        """Visit ``url`` within the limits; raise FetchFailed when no HTTP answer came.

        Without ``read_body`` (a link probe) an address visited earlier in the run is not
        visited again: its answer then is the answer (the body is not kept)."""
        known = self._answers.get(url)
        if not read_body and known is not None:
            answered = await asyncio.shield(known)
            if isinstance(answered, FetchFailed):
                raise FetchFailed(answered.kind, str(answered))
            if answered is not None:
                return answered
            known = self._answers.get(url)  # that visit was interrupted: visit it here
        mine = None
        if known is None:
            mine = self._answers[url] = asyncio.get_running_loop().create_future()
        try:
            page = await self._get(url, read_body, timeout)
        except FetchFailed as exc:
            if mine is not None:
                mine.set_result(exc)
            raise
        except BaseException:  # cancelled: whoever waits for this visit goes itself
            if mine is not None:
                del self._answers[url]
                mine.set_result(None)
            raise
        if mine is not None:
            mine.set_result(replace(page, body=b"", text="") if page.body else page)
        return page

    async def _get(self, url: str, read_body: bool, timeout: float | None) -> Page:
        seconds = timeout or self.timeout
        first = _origin_and_target(url)
        async with self._hosts[first[0][1]], self._overall:
            started = time.perf_counter()
            try:
                async with asyncio.timeout(seconds):
                    return await self._visit(url, first, read_body, started)
            except TimeoutError:
                raise FetchFailed("timeout", f"{seconds:g} 秒内未打开") from None
            except NoAddress as exc:
                raise FetchFailed("dns", str(exc)) from None
            except CannotConnect as exc:
                raise FetchFailed("connect", str(exc) or "无法连接") from None
            except (ProtocolError, OSError) as exc:
                raise FetchFailed("protocol", f"{type(exc).__name__}: {exc}") from None

    async def _visit(
        self, url: str, first: tuple[Origin, str], read_body: bool, started: float
    ) -> Page:
        """GET ``url`` (``first``: its origin and target), following redirects (at most
        ``MAX_REDIRECTS``)."""
        redirects: list[str] = []
        current, (origin, target) = url, first
        while True:
            response = await self.connections.get(origin, target, read_body=read_body)
            location = response.headers.get("location")
            if response.status not in REDIRECTS or not location:
                return _page(url, current, response, redirects, started)
            if len(redirects) == MAX_REDIRECTS:
                raise FetchFailed("protocol", "重定向次数过多")
            redirects.append(location)
            current = urljoin(current, location)
            origin, target = _origin_and_target(current)


def _origin_and_target(url: str) -> tuple[Origin, str]:
    """(scheme, host, port) and the request target of an http(s) URL; FetchFailed if none."""
    try:
        parts = urlsplit(url)
        host, scheme, port = (parts.hostname or "").lower(), parts.scheme.lower(), parts.port
    except ValueError as exc:
        raise FetchFailed("protocol", f"InvalidURL: {exc}") from None
    if scheme not in ("http", "https") or not host:
        raise FetchFailed("protocol", f"UnsupportedProtocol: {url}")
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    if not target.isascii() or " " in target:
        target = quote(target, safe="/?&=%:@!$'()*+,;~-._")
    default = 443 if scheme == "https" else 80
    return (scheme, host if ":" not in host else f"[{host}]", port or default), target


def _page(url: str, final: str, response: Response, redirects: list[str], started: float) -> Page:
    body = response.body
    content_type = response.headers.get("content-type")
    text, charset = decode_page(body, content_type) if body else ("", "")
    return Page(
        url=url,
        final_url=final,
        status=response.status,
        headers={k: v for k, v in response.headers.items() if k in KEPT_HEADERS},
        redirects=redirects,
        body=body,
        text=text,
        charset=charset,
        seconds=time.perf_counter() - started,
    )
