"""Through the pages: every card and table row of the dashboard links to a case list with
exactly as many rows as the figure says (read page by page, five rows a page), for the city
supervisor and for a county's; the page says when its data was counted."""

from __future__ import annotations

import html
import re

from services.registry import units
from tests.integration.reports.dashboard_scenario import COUNTY, EXPECTED, build
from tests.web.conftest import a_user, client_for, login

CARD = re.compile(
    r'<a class="card[^"]*" data-card="(\w+)" href="([^"]+)"><div class="muted">([^<]+)</div>'
    r'<div class="big">(\d+)</div></a>'
)
ROW = re.compile(
    r'<tr><td><a href="(/cases\?[^"]+)">([^<]+)</a></td><td class="num">(\d+)</td></tr>'
)
NEXT = re.compile(r'<a href="(/cases\?[^"]+)">下一页 →</a>')


def _figures(page: str) -> list[tuple[str, str, int]]:
    """(label, link, count) of every card and linked table row."""
    cards = [(label, html.unescape(href), int(n)) for _, href, label, n in CARD.findall(page)]
    rows = [(label, html.unescape(href), int(n)) for href, label, n in ROW.findall(page)]
    return cards + rows


async def _rows_listed(client, link: str) -> list[str]:
    """Case ids the list shows, following 下一页 to the end, five rows a page."""
    url, ids = link + ("&" if "?" in link else "?") + "size=5", []
    while url:
        page = await client.get(url)
        assert page.status_code == 200, url
        ids += re.findall(r'name="case_ids" value="(\d+)"', page.text)
        found = NEXT.search(page.text)
        url = html.unescape(found.group(1)) if found else None
    return ids


async def _check_every_link(client, expected: dict[str, int]) -> list[tuple[str, str, int]]:
    page = await client.get("/")
    assert page.status_code == 200
    assert "数据截至 2021年7月19日 09:00（北京时间）" in page.text
    figures = _figures(page.text)
    cards = {key: int(n) for key, _, _, n in CARD.findall(page.text)}
    assert cards == expected
    for label, link, count in figures:
        ids = await _rows_listed(client, link)
        assert len(ids) == count, (label, link)
        assert len(set(ids)) == len(ids), (label, link)  # no row twice across pages
    return figures


def _unit_id(app, code: str) -> int:
    with app.uow() as uow:
        return units.unit_by_code(uow, code).id


async def test_every_card_and_row_of_the_city_lists_exactly_its_count(app, supervisor):
    build(app)
    figures = await _check_every_link(supervisor, EXPECTED[None])
    labels = [label for label, _, _ in figures]
    # Cards, each state, open cases per category, per unit and cases per round: all linked.
    assert labels[:5] == ["案件总数", "未结案件", "已超期", "已升级督办", "已转入下一轮"]
    assert {"已转入下一轮", "样例县水务局", "2021Q1", "2021Q2"} <= set(labels)
    assert ("样例县水务局", f"/cases?unit_id={_unit_id(app, 'water')}&open=1", 3) in figures


async def test_every_card_and_row_of_a_county_lists_exactly_its_count(app, web_app):
    build(app)
    created = a_user(app, "wang", unit_code="county")
    async with client_for(web_app) as county:
        assert (await login(county, "wang", created.password)).status_code == 303
        figures = await _check_every_link(county, EXPECTED[COUNTY])
    assert "样例市教育局" not in {label for label, _, _ in figures}  # the city's, not the county's


async def test_the_list_shows_a_continued_case_with_its_successor_and_no_overdue(app, supervisor):
    cases = build(app)
    page = await supervisor.get("/cases?state=continued")
    row = next(
        r for r in page.text.split("<tr>") if f'name="case_ids" value="{cases.carried}"' in r
    )
    assert "已转入下一轮" in row and f'href="/cases/{cases.successor}"' in row
    assert "超期" not in row  # its deadline passed, but the unit no longer owes it
    overdue = await supervisor.get("/cases?overdue=1")
    assert f'name="case_ids" value="{cases.carried}"' not in overdue.text
    late = next(
        r for r in overdue.text.split("<tr>") if f'name="case_ids" value="{cases.overdue}"' in r
    )
    assert '<span class="overdue">超期 88 天</span>' in late  # 22 April to 19 July


async def test_the_exact_unit_and_open_filters_are_named_and_kept_by_the_export(app, supervisor):
    build(app)
    water = _unit_id(app, "water")
    page = await supervisor.get(f"/cases?unit_id={water}&open=1")
    assert "仅限单位：样例县水务局（不含下级单位）" in page.text
    assert 'name="open" value="1" checked' in page.text
    assert f'href="/cases/export.csv?unit_id={water}&amp;open=1"' in page.text
    export = await supervisor.get(f"/cases/export.csv?unit_id={water}&open=1")
    lines = export.content.decode("utf-8-sig").strip().splitlines()
    assert len(lines) == 1 + 3 and all("样例县水务局" in line for line in lines[1:])


async def test_a_unit_id_past_its_range_is_refused_naming_it(supervisor):
    page = await supervisor.get("/cases?unit_id=99999999999&open=1")
    assert page.status_code == 400
    assert "参数 unit_id 超出范围" in page.text
