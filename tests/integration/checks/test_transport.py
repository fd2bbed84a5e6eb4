"""How the checks read pages as real servers send them: compressed, chunked, delimited by
close, over connections the server closes while idle; and a link probe of a page already
visited in the run costs no second request."""

from __future__ import annotations

import asyncio
import gzip
import zlib

import pytest

from services.checks import CheckRequest, run_checks
from services.checks.fetch import Fetcher
from services.core.clock import Clock
from tests.conftest import NOTICE_DAY
from tests.support.sites import check_settings

COLUMN = (
    "<html><head><meta charset='utf-8'><title>通知公告</title></head><body><ul>"
    "<li><a href='/a/1.html'>关于做好防汛工作的通知</a><span>2021-07-12</span></li>"
    "<li><a href='/a/2.html'>关于开展安全检查的通知</a><span>2021-07-05</span></li>"
    "</ul></body></html>"
).encode()


def _head(status: int, *fields: str) -> bytes:
    reason = {200: "OK", 404: "Not Found"}.get(status, "Other")
    return (
        f"HTTP/1.1 {status} {reason}\r\n" + "".join(f"{f}\r\n" for f in fields) + "\r\n"
    ).encode()


def _chunked(body: bytes, size: int = 100) -> bytes:
    parts = [body[i : i + size] for i in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"


#: path → (raw answer, close the connection after it)
ANSWERS = {
    "/gzip": (
        _head(200, "Content-Type: text/html", "Content-Encoding: gzip",
              f"Content-Length: {len(gzip.compress(COLUMN))}") + gzip.compress(COLUMN),
        False,
    ),
    "/deflate": (
        _head(200, "Content-Type: text/html", "Content-Encoding: deflate",
              f"Content-Length: {len(zlib.compress(COLUMN))}") + zlib.compress(COLUMN),
        False,
    ),
    "/chunked": (
        _head(200, "Content-Type: text/html", "Transfer-Encoding: chunked") + _chunked(COLUMN),
        False,
    ),
    "/until-close": (_head(200, "Content-Type: text/html", "Connection: close") + COLUMN, True),
    "/plain": (_head(200, "Content-Type: text/html", f"Content-Length: {len(COLUMN)}") + COLUMN, False),
    "/truncated": (_head(200, "Content-Length: 5000") + COLUMN, True),
}  # fmt: skip


class RawServer:
    """HTTP answers written byte for byte; every request and connection counted."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.connections = 0
        self.close_idle = False  # close each connection right after its answer, unannounced
        self.port = 0
        self._writers: list[asyncio.StreamWriter] = []

    async def start(self) -> None:
        server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        self._server = server

    async def stop(self) -> None:
        for writer in self._writers:
            writer.close()
        self._server.close()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def _serve(self, reader, writer) -> None:
        self.connections += 1
        self._writers.append(writer)
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                path = head.split(b" ")[1].decode()
                self.requests.append(path)
                answer, close = ANSWERS.get(path, (_head(404, "Content-Length: 0"), False))
                if path == "/slow":
                    await asyncio.sleep(0.3)
                    answer = ANSWERS["/plain"][0]
                writer.write(answer)
                await writer.drain()
                if close or self.close_idle:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()


@pytest.fixture
async def server():
    raw = RawServer()
    await raw.start()
    yield raw
    await raw.stop()


async def _fresh(url: str) -> dict:
    request = CheckRequest(check="column_fresh", target_code="c", url=url, column_type="news")
    [outcome] = await run_checks([request], settings=check_settings(53), clock=Clock(NOTICE_DAY))
    return {"outcome": outcome.outcome, "newest": outcome.details.get("newest_dates")}


@pytest.mark.parametrize("path", ["/gzip", "/deflate", "/chunked", "/until-close"])
async def test_a_page_sent_compressed_chunked_or_until_close_is_read_whole(server, path):
    assert await _fresh(server.url(path)) == {
        "outcome": "fixed",
        "newest": ["2021-07-12", "2021-07-05"],
    }


async def test_a_page_cut_off_before_its_length_cannot_tell():
    raw = RawServer()
    await raw.start()
    try:
        request = CheckRequest(check="column_fresh", target_code="c", url=raw.url("/truncated"))
        [outcome] = await run_checks(
            [request], settings=check_settings(53), clock=Clock(NOTICE_DAY)
        )
    finally:
        await raw.stop()
    assert outcome.outcome == "unknown"
    assert outcome.details["kind"] == "protocol"


async def test_connections_are_kept_alive_and_a_closed_idle_one_is_replaced(server):
    async with Fetcher(check_settings(53)) as fetcher:
        for _ in range(3):
            assert (await fetcher.get(server.url("/plain"))).status == 200
        assert server.connections == 1  # one connection for three visits
        server.close_idle = True
        first = await fetcher.get(server.url("/plain"))
        await asyncio.sleep(0.05)  # the server has closed it while it sat idle
        second = await fetcher.get(server.url("/plain"))
    assert (first.status, second.status) == (200, 200)
    assert b"2021-07-12" in second.body
    assert server.connections == 2


async def test_a_link_probe_of_a_page_visited_in_the_run_sends_no_second_request(server):
    async with Fetcher(check_settings(53)) as fetcher:
        page = await fetcher.get(server.url("/plain"))
        probe = await fetcher.get(server.url("/plain"), read_body=False)
        missing = await fetcher.get(server.url("/nowhere"), read_body=False)
        again = await fetcher.get(server.url("/nowhere"), read_body=False)
        reread = await fetcher.get(server.url("/plain"))
    assert (page.status, probe.status, missing.status, again.status) == (200, 200, 404, 404)
    assert reread.body == page.body  # a check that reads the page still visits it
    assert server.requests == ["/plain", "/nowhere", "/plain"]


async def test_a_link_probe_waiting_for_a_visit_that_is_interrupted_visits_itself(server):
    async with Fetcher(check_settings(53)) as fetcher:
        visit = asyncio.ensure_future(fetcher.get(server.url("/slow")))
        await asyncio.sleep(0.05)
        probe = asyncio.ensure_future(fetcher.get(server.url("/slow"), read_body=False))
        await asyncio.sleep(0.05)
        visit.cancel()
        assert (await probe).status == 200
    assert server.requests == ["/slow", "/slow"]
