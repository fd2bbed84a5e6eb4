"""The dashboard: urgent cases first, pass rates, and its short-lived snapshot."""

from __future__ import annotations

import threading
import time

from services.core.snapshots import SnapshotCache
from tests.builders import a_case


async def test_the_dashboard_lists_escalated_cases_first_and_links_them(app, supervisor):
    with app.uow() as uow:
        escalated = a_case(uow, state="escalated").id
        a_case(uow, state="notified")
        uow.commit()
    page = await supervisor.get("/")
    assert page.status_code == 200
    assert f'href="/cases/{escalated}"' in page.text
    assert "政府网站" in page.text and "<svg" in page.text


def test_the_snapshot_is_computed_once_per_scope_until_it_expires():
    calls = []
    cache = SnapshotCache(ttl=60)
    assert cache.get("/a/", lambda: calls.append("a") or "A") == "A"
    assert cache.get("/a/", lambda: calls.append("a") or "A2") == "A"
    assert cache.get(None, lambda: calls.append("all") or "ALL") == "ALL"
    assert calls == ["a", "all"]
    uncached = SnapshotCache(ttl=0)
    assert [uncached.get(None, lambda n=n: n) for n in range(2)] == [0, 1]


def test_an_expired_snapshot_is_served_at_once_while_a_new_one_is_computed():
    cache = SnapshotCache(ttl=0.2)
    assert cache.get("k", lambda: "old") == "old"
    time.sleep(0.25)
    release = threading.Event()

    def slow() -> str:
        release.wait(5)
        return "new"

    started = time.monotonic()
    assert cache.get("k", slow) == "old"
    assert time.monotonic() - started < 0.1
    release.set()
    deadline = time.monotonic() + 5
    while cache.get("k", slow) != "new":
        assert time.monotonic() < deadline, "the snapshot was never refreshed"
        time.sleep(0.01)
