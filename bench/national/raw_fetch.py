"""The checks' fetch limit: the same pages at the same concurrency, fetched and thrown away.

Two ways, both in this process (the fixture servers are another process) and both bounded
like the checks (overall ``concurrency``, ``check_per_host_concurrency`` per host, one DNS
lookup per host through the quarter's loopback DNS, connections kept alive per host):

* ``streams``: asyncio streams — open a connection to the address, write a GET, read the
  head and ``Content-Length`` bytes of body; nothing parsed beyond that;
* ``client``: the HTTP transport the checks use (``transport.Connections``: httptools on
  asyncio protocols, kept-alive connections per origin), each body read and dropped.

The limit is the variant with the lower client CPU per page (both are reported).
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from urllib.parse import urlsplit

from bench.national.measure import timed
from services.checks.fetch import IDLE_PER_REQUEST_SLOT
from services.checks.resolve import Lookup, lookup, make_resolver
from services.checks.transport import Connections


def _figures(items: int, seconds: float, cpu: float, what: str) -> dict:
    return {
        "items": items,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),
        "per_second": round(items / seconds, 1) if seconds else 0.0,
        "cpu_ms_per_page": round(cpu * 1000 / items, 3) if items else 0.0,
        "pages_per_cpu_second": round(items / cpu, 1) if cpu else 0.0,
        "what": what,
    }


class _Limits:
    """Overall and per-host semaphores and a per-host DNS cache, as ``Fetcher`` keeps them."""

    def __init__(self, settings, concurrency: int):
        self.overall = asyncio.Semaphore(concurrency)
        per_host = settings.check_per_host_concurrency
        self.hosts: defaultdict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(per_host)
        )
        self.resolver = make_resolver(
            nameservers=settings.check_dns_nameservers,
            port=settings.check_dns_port,
            timeout=settings.check_dns_timeout_seconds,
        )
        self.lookups: dict[str, asyncio.Task[Lookup]] = {}

    async def lookup(self, host: str) -> Lookup:
        if host not in self.lookups:
            self.lookups[host] = asyncio.ensure_future(lookup(self.resolver, host))
        return await asyncio.shield(self.lookups[host])


async def _streams(urls: list[str], settings, concurrency: int) -> int:
    limits = _Limits(settings, concurrency)
    idle: defaultdict[tuple[str, int], list] = defaultdict(list)  # kept-alive connections

    async def get(url: str) -> int:
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port or 80
        async with limits.hosts[host], limits.overall:
            pool = idle[(host, port)]
            if pool:
                reader, writer = pool.pop()
            else:
                address = (await limits.lookup(host)).addresses[0]
                reader, writer = await asyncio.open_connection(address, port)
            writer.write(
                f"GET {parts.path or '/'} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                "Accept: */*\r\n\r\n".encode("ascii")
            )
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            body = await reader.readexactly(length)
            pool.append((reader, writer))
            return len(body)

    try:
        sizes = await asyncio.gather(*(get(url) for url in urls))
    finally:
        for pool in idle.values():
            for _, writer in pool:
                writer.close()
    return sum(sizes)


async def _client(urls: list[str], settings, concurrency: int) -> int:
    limits = _Limits(settings, concurrency)
    connections = Connections(lookup=limits.lookup, max_idle=concurrency * IDLE_PER_REQUEST_SLOT)

    async def get(url: str) -> int:
        parts = urlsplit(url)
        host = parts.hostname or ""
        async with limits.hosts[host], limits.overall:
            response = await connections.get(("http", host, parts.port or 80), parts.path or "/")
            return len(response.body)

    try:
        return sum(await asyncio.gather(*(get(url) for url in urls)))
    finally:
        connections.close()


VARIANTS = {
    "streams": (_streams, "asyncio streams: GET, read head + Content-Length body, keep-alive"),
    "client": (
        _client,
        "the checks' HTTP transport (httptools, kept-alive connections), body dropped",
    ),
}


def raw_fetch_limit(q, urls: list[str], concurrency: int) -> dict:
    """Fetch ``urls`` both ways at ``concurrency``; the lower client CPU per page is the limit."""
    settings = q.settings()
    per_host = settings.check_per_host_concurrency
    variants = {}
    for name, (fetch, what) in VARIANTS.items():
        _, seconds, cpu = timed(asyncio.run, fetch(urls, settings, concurrency))
        variants[name] = _figures(
            len(urls), seconds, cpu, f"{what}; {concurrency} at once, {per_host} per host"
        )
    best = min(variants.values(), key=lambda v: v["cpu_ms_per_page"])
    return {**best, "variants": variants}


#: Column pages fetched for the limit: an even sample of the quarter's (all of them when fewer).
LIMIT_SAMPLE = 20_000


def column_urls(q) -> list[str]:
    """The column pages of an even sample of the quarter's operating sites (every column of
    a sampled site, as the inspection visits a site's pages together), as the registry
    stores them: at most ``LIMIT_SAMPLE`` pages."""
    port, columns = q.fixtures.port, q.plan.sizes.columns
    sites = [
        s for s in q.plan.websites if q.plan.site_problem(s.index) not in ("closed", "unreachable")
    ]
    step = max(1, len(sites) * columns // LIMIT_SAMPLE)
    return [
        f"http://{site.host}:{port}{site.column_path(column)}"
        for site in sites[::step][: max(1, LIMIT_SAMPLE // columns)]
        for column in range(columns)
    ]


def checks_alone(q, urls: list[str]) -> dict:
    """``run_checks`` on the same pages as the inspection asks a column page (freshness; then
    blankness where no dated entry was found), nothing stored: the checks' own client CPU per
    page. In a process of its own, so that the outcomes it holds (each with its evidence)
    leave no weight in this one."""
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=spawn) as pool:
        return pool.submit(_checks_alone, q.settings(), urls).result()


def _checks_alone(settings, urls: list[str]) -> dict:
    from services.checks import CheckRequest, run_checks
    from services.core.clock import Clock

    clock = Clock(_inspection_day())

    async def inspect() -> list:
        fresh = [
            CheckRequest(check="column_fresh", target_code=f"p{i}", url=url, column_type="news")
            for i, url in enumerate(urls)
        ]
        outcomes = await run_checks(fresh, settings=settings, clock=clock)
        blank = [
            CheckRequest(check="column_blank", target_code=r.target_code, url=r.url)
            for r, o in zip(fresh, outcomes, strict=True)
            if o.outcome == "present" and o.details.get("dated_entries") == 0
        ]
        return outcomes + await run_checks(blank, settings=settings, clock=clock)

    outcomes, seconds, cpu = timed(asyncio.run, inspect())
    figures = _figures(
        len(urls), seconds, cpu, "run_checks: column_fresh, then column_blank where undated"
    )
    figures["outcomes"] = dict(Counter(f"{o.check}:{o.outcome}" for o in outcomes))
    return figures


def _inspection_day():
    from bench.national.plan import INSPECTION_DAY

    return INSPECTION_DAY


def limit_for(q) -> dict:
    """The inspection's limit (raw fetch of a sample of its column pages at the checks'
    concurrency) and, beside it, the checks alone on the same pages. The fixtures are back
    in the inspection's phase for both."""
    urls = column_urls(q)
    concurrency = q.settings().check_max_concurrency
    limit = raw_fetch_limit(q, urls, concurrency)
    limit["checks_alone"] = checks_alone(q, urls)
    return limit
