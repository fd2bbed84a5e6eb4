"""The units and targets pages: 50 rows a page with 第 N 页 / 共 M 条, and their filters."""

from __future__ import annotations

import html
import re

import pytest

from tests.builders import a_target, a_unit
from tests.web.conftest import a_user, client_for, login

CODES = re.compile(r"<tr><td>([^<]+)</td>")
NEXT = re.compile(r'<a href="([^"]+)" rel="next">下一页')
PREVIOUS = re.compile(r'<a href="([^"]+)" rel="prev">← 上一页')


def codes(page) -> list[str]:
    return CODES.findall(page.text)


def next_of(page) -> str | None:
    found = NEXT.search(page.text)
    return html.unescape(found.group(1)) if found else None


@pytest.fixture
def tree(app):
    """临沧 → 耿马 (county, 60 towns below it) and 沧源 (county, 3 towns); 66 units."""
    with app.uow() as uow:
        a_unit(uow, "lincang", name="临沧市人民政府", kind="city_gov")
        a_unit(uow, "gengma", parent_code="lincang", name="耿马县人民政府", kind="county_gov")
        a_unit(uow, "cangyuan", parent_code="lincang", name="沧源县人民政府", kind="county_gov")
        for n in range(60):
            a_unit(uow, f"gm{n:02d}", parent_code="gengma", name=f"耿马{n:02d}镇", kind="other")
        for n in range(3):
            a_unit(uow, f"cy{n}", parent_code="cangyuan", name=f"沧源{n}乡", kind="other")
        uow.commit()


async def test_units_come_50_a_page_with_the_page_and_the_count(tree, supervisor):
    first = await supervisor.get("/registry/units")

    assert "第 1 页 / 共 2 页 · 共 66 条" in first.text
    assert len(codes(first)) == 50 and codes(first)[:2] == ["lincang", "cangyuan"]  # tree order
    assert PREVIOUS.search(first.text) is None
    second = await supervisor.get(next_of(first))
    assert "第 2 页 / 共 2 页 · 共 66 条" in second.text and next_of(second) is None
    assert len(codes(second)) == 16 and not set(codes(first)) & set(codes(second))
    assert html.unescape(PREVIOUS.search(second.text).group(1)) == "/registry/units"
    past_the_end = await supervisor.get("/registry/units?page=9")
    assert "第 2 页 / 共 2 页" in past_the_end.text and codes(past_the_end) == codes(second)


async def test_units_filter_by_text_kind_and_subtree_and_pages_keep_the_filters(tree, supervisor):
    by_name = await supervisor.get("/registry/units", params={"q": "耿马0"})
    assert "共 10 条" in by_name.text and set(codes(by_name)) == {f"gm0{n}" for n in range(10)}
    by_code = await supervisor.get("/registry/units", params={"q": "CY"})  # any case
    assert set(codes(by_code)) == {"cy0", "cy1", "cy2"}
    counties = await supervisor.get("/registry/units", params={"kind": "county_gov"})
    assert set(codes(counties)) == {"gengma", "cangyuan"}
    cangyuan = await supervisor.get("/registry/units", params={"under": "cangyuan"})
    assert set(codes(cangyuan)) == {"cangyuan", "cy0", "cy1", "cy2"}
    towns = await supervisor.get("/registry/units", params={"under": "gengma", "kind": "other"})
    assert "第 1 页 / 共 2 页 · 共 60 条" in towns.text
    following = await supervisor.get(next_of(towns))
    assert "under=gengma" in next_of(towns) and "kind=other" in next_of(towns)
    assert len(codes(following)) == 10 and all(c.startswith("gm") for c in codes(following))
    nothing = await supervisor.get("/registry/units", params={"q": "100%_"})
    assert "没有符合条件的单位" in nothing.text and "共 0 条" in nothing.text


async def test_a_county_supervisor_pages_through_the_county_only(app, web_app, tree):
    created = a_user(app, "gm", unit_code="cangyuan")
    async with client_for(web_app) as client:
        await login(client, "gm", created.password)
        page = await client.get("/registry/units")
        assert "共 4 条" in page.text and set(codes(page)) == {"cangyuan", "cy0", "cy1", "cy2"}
        outside = await client.get("/registry/units", params={"under": "gengma"})
        assert "共 0 条" in outside.text


@pytest.fixture
def targets(app, tree):
    """耿马: 55 websites (5 offline) and 3 columns in its towns; 沧源: 2 new-media accounts."""
    with app.uow() as uow:
        for n in range(55):
            status = "offline" if n < 5 else "operating"
            a_target(
                uow, f"gw{n:02d}", unit_code=f"gm{n:02d}", name=f"耿马{n:02d}网站", status=status
            )
        for n in range(3):
            a_target(uow, f"gc{n}", unit_code="gengma", kind="column", name=f"耿马公开专栏{n}")
        for n in range(2):
            a_target(
                uow,
                f"cm{n}",
                unit_code=f"cy{n}",
                kind="new_media",
                name=f"沧源发布{n}",
                platform="wechat",
                account_name=f"cangyuan_fabu{n}",
            )
        uow.commit()


async def test_targets_come_50_a_page_and_filter_by_kind_status_unit_and_text(targets, supervisor):
    first = await supervisor.get("/registry/targets")
    assert "第 1 页 / 共 2 页 · 共 60 条" in first.text and len(codes(first)) == 50
    second = await supervisor.get(next_of(first))
    assert len(codes(second)) == 10 and not set(codes(first)) & set(codes(second))

    columns = await supervisor.get("/registry/targets", params={"kind": "column"})
    assert set(codes(columns)) == {"gc0", "gc1", "gc2"} and "信息公开专栏" in columns.text
    media = await supervisor.get("/registry/targets", params={"kind": "new_media"})
    assert set(codes(media)) == {"cm0", "cm1"} and "政务新媒体" in media.text
    offline = await supervisor.get("/registry/targets", params={"status": "offline"})
    assert set(codes(offline)) == {f"gw0{n}" for n in range(5)}
    in_cangyuan = await supervisor.get("/registry/targets", params={"unit": "cangyuan"})
    assert set(codes(in_cangyuan)) == {"cm0", "cm1"}  # its towns' accounts
    by_account = await supervisor.get("/registry/targets", params={"q": "FABU1"})
    assert codes(by_account) == ["cm1"]
    websites = await supervisor.get(
        "/registry/targets", params={"kind": "website", "status": "operating", "unit": "gengma"}
    )
    assert "第 1 页 / 共 1 页 · 共 50 条" in websites.text and next_of(websites) is None
    sites = await supervisor.get("/registry/targets", params={"kind": "website"})
    assert "共 55 条" in sites.text and "kind=website" in next_of(sites)
    rest = await supervisor.get(next_of(sites))
    assert "第 2 页 / 共 2 页 · 共 55 条" in rest.text and len(codes(rest)) == 5
