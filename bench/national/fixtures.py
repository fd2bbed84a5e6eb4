"""The outside world of a national quarter: every website's pages and its DNS, on loopback.

One child process runs a DNS server (every ``*.gov.test`` name → 127.0.0.1, the closed
sites' names included: their domains were not deregistered; at the recheck the fixed ones are
NXDOMAIN) and one HTTP server answering
each request after ``LATENCY`` seconds, like a remote site, with the page the plan says:

* homepage ``/``: a menu of links to its 30 columns and 5 articles, dated rows; a ``broken``
  site's homepage also links to ``GONE_LINKS`` pages that answer 404; an ``unreachable`` site
  answers 500 everywhere;
* column ``/col/NN/``: 20 dated rows, newest a few days old; ``stale``: newest 200 days old;
  ``blank``: no rows;
* anything else (articles): a small page.

``phase(day, recheck=True)`` switches to the recheck: each planted problem is fixed unless
``plan.still_present`` says it is still there, and dates are relative to the new day.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import resource
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import httptools

from bench.national.plan import GONE_LINKS, HOST_SUFFIX, INSPECTION_DAY, Plan

LATENCY = 0.05


@lru_cache(maxsize=256)
def _rows(day: date, *, age_days: int, count: int = 20) -> str:
    return "".join(
        f"<li><a href='/art/{i}.html' title='关于做好第{i}项工作的通知'>关于做好第{i}项工作的通知</a>"
        f"<span class='date'>{(day - timedelta(days=age_days + i)).isoformat()}</span></li>"
        for i in range(count)
    )


@lru_cache(maxsize=256)
def _menu(columns: int, broken: bool) -> str:
    menu = "".join(f"<li><a href='/col/{c:02d}/'>栏目{c}</a></li>" for c in range(columns))
    menu += "".join(f"<li><a href='/art/{i}.html'>要闻{i}</a></li>" for i in range(5))
    if broken:
        menu += "".join(
            f"<li><a href='/gone/{i}.html'>旧链接{i}</a></li>" for i in range(GONE_LINKS)
        )
    return menu


@lru_cache(maxsize=1024)
def _page(title: str, menu: str, rows: str) -> str:
    """A page of a typical size (about 12 KB): styles, a script, a menu, rows, a footer."""
    script = "<script>var nav = {" + ",".join(f"'k{i}': {i}" for i in range(300)) + "};</script>"
    style = "<style>" + "".join(f".c{i}{{margin:{i}px}}" for i in range(300)) + "</style>"
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title>"
        f"{style}{script}</head><body><nav><ul class='menu'>{menu}</ul></nav>"
        f"<div class='main'><h2>{title}</h2><ul class='list'>{rows}</ul></div>"
        "<footer><p>主办：人民政府办公室 网站标识码：0000000000</p></footer></body></html>"
    )


class Pages:
    """What each (host, path) answers in the current phase."""

    def __init__(self, plan: Plan):
        self.plan = plan
        self.day = INSPECTION_DAY
        self.recheck = False
        self.columns = plan.sizes.columns

    def _present(self, problem: str | None, *key: object) -> str | None:
        if problem is None or not self.recheck:
            return problem
        return problem if self.plan.still_present(*key) else None

    def resolves(self, name: str) -> bool:
        """Every site's name resolves; a closed site's stops once it is fixed (deregistered)."""
        if not name.endswith(HOST_SUFFIX) or not name.startswith("s"):
            return False
        site = int(name[1 : -len(HOST_SUFFIX)])
        problem = self.plan.site_problem(site)
        return problem != "closed" or self._present(problem, site) is not None

    def answer(self, host: str, path: str) -> tuple[int, str]:
        if not host.endswith(HOST_SUFFIX) or not host.startswith("s"):
            return 404, "not found"
        site = int(host[1 : -len(HOST_SUFFIX)])
        problem = self._present(self.plan.site_problem(site), site)
        if problem == "unreachable":
            return 500, "<html><body>Internal Server Error</body></html>"
        if path == "/":
            menu = _menu(self.columns, problem == "broken")
            return 200, _page("首页", menu, _rows(self.day, age_days=1))
        if path.startswith("/col/"):
            column = int(path[5:7])
            page = self._present(self.plan.page_problem(site, column), site, column)
            if page == "blank":
                return 200, _page(f"栏目{column}", "", "")
            age = 200 if page == "stale" else 2
            return 200, _page(f"栏目{column}", "", _rows(self.day, age_days=age))
        if path.startswith("/gone/"):
            return 404, "<html><body>404 Not Found</body></html>"
        return 200, "<html><body><h1>文章</h1><p>正文</p></body></html>"


class _Site(asyncio.Protocol):
    """One connection of the sites' server: each request answered after ``LATENCY``.

    An asyncio protocol writing whole canned answers (head and body encoded once per page):
    the sites stand in for machines elsewhere, so what they cost this machine's cores is
    kept as small as serving can be."""

    def __init__(self, server: _Sites):
        self.server = server
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.url = b""
        self.host = b""

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.server.connections += 1

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.transport.close()

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() == b"host":
            self.host = value

    def on_message_complete(self) -> None:
        host = self.host.decode("latin-1").split(":")[0].lower()
        answer = self.server.answer(host, self.url.decode("latin-1"))
        self.url = self.host = b""
        self.server.in_flight += 1
        self.server.peak_in_flight = max(self.server.peak_in_flight, self.server.in_flight)
        asyncio.get_running_loop().call_later(LATENCY, self._send, answer)

    def _send(self, answer: bytes) -> None:
        self.server.in_flight -= 1
        if not self.transport.is_closing():
            self.transport.write(answer)


class _Sites:
    """Every site's pages, one port: what each (host, path) answers, as HTTP bytes."""

    def __init__(self, pages: Pages):
        self.pages = pages
        self.connections = 0
        self.in_flight = 0
        self.peak_in_flight = 0

    @lru_cache(maxsize=1024)  # noqa: B019  # one server per process, pages few and small
    def encoded(self, status: int, body: str) -> bytes:
        data = body.encode()
        reason = {200: "OK", 404: "Not Found", 500: "Internal Server Error"}[status]
        return (
            f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/html; charset=utf-8\r\n"
            f"Content-Length: {len(data)}\r\nServer: national-fixtures\r\n\r\n"
        ).encode() + data

    def answer(self, host: str, path: str) -> bytes:
        return self.encoded(*self.pages.answer(host, path))


def _serve(plan_args: tuple, conn) -> None:
    """The child process: DNS and HTTP until told to stop; phase changes through ``conn``."""
    from tests.support.servers import FixtureDns

    scale, seed = plan_args
    pages = Pages(Plan(scale, seed=seed))

    class Dns(FixtureDns):
        def addresses_of(self, name: str) -> list[str] | None:
            return ["127.0.0.1"] if pages.resolves(name) else None

    dns = Dns()
    dns.start()
    sites = _Sites(pages)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: _Site(sites), "127.0.0.1", 0, backlog=4096)
        conn.send((server.sockets[0].getsockname()[1], dns.port))
        while True:
            message = await loop.run_in_executor(None, conn.recv)
            if message[0] == "phase":
                pages.day, pages.recheck = message[1], message[2]
                sites.encoded.cache_clear()
                conn.send("ok")
            elif message[0] == "stats":
                usage = resource.getrusage(resource.RUSAGE_SELF)
                conn.send({"connections": sites.connections, "peak_in_flight": sites.peak_in_flight,
                           "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2)})  # fmt: skip
            else:
                break
        server.close()

    asyncio.run(main())
    dns.stop()


@dataclass
class Fixtures:
    """Handle of the fixture process: its ports and its phase."""

    process: multiprocessing.Process
    conn: object
    port: int
    dns_port: int

    def phase(self, day: date, *, recheck: bool) -> None:
        self.conn.send(("phase", day, recheck))
        assert self.conn.recv() == "ok"

    def stats(self) -> dict:
        self.conn.send(("stats",))
        return self.conn.recv()

    def stop(self) -> None:
        try:
            self.conn.send(("stop",))
        except OSError:
            pass
        self.process.join(10)
        if self.process.is_alive():
            self.process.kill()


def start(plan: Plan) -> Fixtures:
    parent, child = multiprocessing.get_context("spawn").Pipe()
    process = multiprocessing.get_context("spawn").Process(
        target=_serve, args=((plan.scale, plan.seed), child), daemon=True, name="national-fixtures"
    )
    process.start()
    if not parent.poll(60) or not process.is_alive():
        process.kill()
        raise RuntimeError("the fixture servers did not start within 60 s")
    port, dns_port = parent.recv()
    return Fixtures(process, parent, port, dns_port)
