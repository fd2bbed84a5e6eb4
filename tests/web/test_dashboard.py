"""The dashboard: urgent cases first, pass rates, counted live."""

from __future__ import annotations

import re

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
    assert cards == {
        "案件总数": "19",
        "未结案件": "9",
        "已超期": "0",
        "已升级督办": "0",
        "已转入下一轮": "2",  # cases 1 and 2: taken over by 2021Q2's cases
    }
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
        ["已升级", "0"],
        ["已转入下一轮", "2"],
    ]
    # Open cases only: the park's two taken-over (continued) cases are no longer counted.
    assert ["临沧工业园区管理委员会", "2"] in rows and ["临沧市乡村振兴局", "2"] in rows
    assert ["已下线网站域名未注销", "1"] in rows and ["僵尸账号未注销", "3"] in rows
    assert [r for r in rows if len(r) == 2 and r[0][:4] in ("2020", "2021")] == [
        ["2021Q2", "9"],
        ["2021Q1", "9"],
        ["2020Q4", "1"],
    ]


STATE_NAMES = {"已发现", "已通知", "整改中", "已提交", "已核验", "已升级", "已转入下一轮"}


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
