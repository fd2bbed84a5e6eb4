"""The dashboard: urgent cases first, pass rates, and its short-lived snapshot."""

from __future__ import annotations

from services.dashboard import SnapshotCache
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
