"""The dashboard: urgent cases first, pass rates, and its short-lived snapshot."""

from __future__ import annotations

import re
import threading

from services.core.snapshots import SnapshotCache
from services.ops.demo import load_demo
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


class FakeClock:
    """Seconds that move only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _refresh_threads(key: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == f"snapshot-{key}"]


def test_an_expired_snapshot_is_served_at_once_while_a_new_one_is_computed():
    clock = FakeClock()
    cache = SnapshotCache(ttl=60, clock=clock)
    assert cache.get("k", lambda: "old") == "old"
    clock.now += 59
    assert cache.get("k", lambda: "not yet") == "old"
    assert _refresh_threads("k") == []  # still fresh: nothing recomputed
    clock.now += 2  # 61 s old: expired
    started, release = threading.Event(), threading.Event()

    def slow() -> str:
        started.set()
        assert release.wait(30), "the test never released the computation"
        return "new"

    # The reader gets the old value while ``slow`` is still blocked (had ``get`` waited for
    # it, it would have returned "new", or hung): no wall-clock bound needed.
    assert cache.get("k", slow) == "old"
    assert started.wait(30), "no background refresh started"
    assert cache.get("k", slow) == "old"  # one refresh at a time, the old value meanwhile
    release.set()
    for thread in _refresh_threads("k"):
        thread.join(30)
    assert cache.get("k", lambda: "newer") == "new"


async def test_the_dashboard_shows_the_demos_counts_and_pass_rates(app, supervisor):
    """The Lincang demo on its notice day (2021-07-19), as the supervisor reads the page."""
    with app.uow() as uow:
        load_demo(uow)
        uow.commit()
    page = await supervisor.get("/")
    assert page.status_code == 200
    cards = dict(
        re.findall(r'<div class="muted">([^<]+)</div><div class="big">(\d+)</div>', page.text)
    )
    assert cards == {"案件总数": "19", "未结案件": "11", "已超期": "0", "已升级督办": "0"}
    assert "没有超期或升级督办的案件。" in page.text
    rows = _rows(page.text)
    assert ["政府网站", "9", "8", "88.88%"] in rows  # as the 2021Q2 notice prints it (truncated)
    assert ["信息公开专栏", "38", "37", "97.37%"] in rows
    assert ["政务新媒体", "194", "191", "98.45%"] in rows
    assert "本轮合格率（2021Q2）" in page.text
    by_state = [r for r in rows if len(r) == 2 and r[0] in STATE_NAMES]
    assert by_state == [
        ["已发现", "9"],
        ["已通知", "0"],
        ["整改中", "0"],
        ["已提交", "0"],
        ["已核验", "8"],
        ["已升级", "2"],
    ]
    assert ["临沧工业园区管理委员会", "4"] in rows and ["临沧市乡村振兴局", "2"] in rows
    assert ["已下线网站域名未注销", "3"] in rows and ["僵尸账号未注销", "3"] in rows
    assert [r for r in rows if len(r) == 2 and r[0][:4] in ("2020", "2021")] == [
        ["2021Q2", "9"],
        ["2021Q1", "9"],
        ["2020Q4", "1"],
    ]


STATE_NAMES = {"已发现", "已通知", "整改中", "已提交", "已核验", "已升级"}


async def test_the_dashboards_pass_rates_are_written_as_the_rounds_notice_writes_them(
    app, supervisor
):
    """The county scenario's office prints rates without decimals (its 通报设置)."""
    with app.uow() as uow:
        load_demo(uow, name="county")
        uow.commit()
    page = await supervisor.get("/")
    rows = _rows(page.text)
    assert "本轮合格率（2023Q3）" in page.text
    assert ["政府网站", "1", "1", "100%"] in rows  # 网站合格率100%
    assert ["信息公开专栏", "13", "11", "85%"] in rows  # 合格率85%
    assert ["政务新媒体", "24", "21", "88%"] in rows  # 合格率88%


def _rows(html: str) -> list[list[str]]:
    """Each table row's cell texts, tags stripped."""
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)]
        for row in re.findall(r"<tr>(.*?)</tr>", html, flags=re.S)
    ]
