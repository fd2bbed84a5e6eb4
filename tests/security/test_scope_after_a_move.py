"""A unit moved to another county takes its whole subtree along: scopes follow the move.

A target moved to another county's unit leaves its earlier cases where they were: the new
county's supervisor sees how many there are in the repeat chain, never what they say."""

from __future__ import annotations

import re
from datetime import date

import httpx

from services.access import api_tokens, users
from services.cases import transitions
from services.registry import units
from tests.builders import a_case, a_round, a_target, a_unit
from tests.security.world import sign_in
from web.app import create_app


async def test_a_moved_units_sub_units_cases_leave_the_old_countys_scope(app):
    with app.uow() as uow:
        a_unit(uow, "lincang", kind="city_gov")
        a_unit(uow, "gengma", parent_code="lincang", kind="county_gov")
        a_unit(uow, "cangyuan", parent_code="lincang", kind="county_gov")
        a_unit(uow, "gengma_swj", parent_code="gengma", kind="other")
        a_unit(uow, "gengma_swj_zhan", parent_code="gengma_swj", kind="other")
        case = a_case(uow, target_code=a_target(uow, unit_code="gengma_swj_zhan").code)
        tokens = {}
        for county in ("gengma", "cangyuan"):
            users.create_user(uow, username=county, role="supervisor", unit_code=county)
            tokens[county] = api_tokens.issue_token(uow, username=county, name="t").token
        uow.commit()
    web = create_app(app)

    async def status(county: str) -> int:
        transport = httpx.ASGITransport(app=web)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            headers = {"Authorization": f"Bearer {tokens[county]}"}
            return (await c.get(f"/api/v1/cases/{case.id}", headers=headers)).status_code

    assert (await status("gengma"), await status("cangyuan")) == (200, 403)
    with app.uow() as uow:
        moved = units.UnitSpec(
            code="gengma_swj", name="单位gengma_swj", kind="other", parent_code="cangyuan"
        )
        units.upsert_unit(uow, moved)
        uow.commit()
        paths = {u.code: u.path for u in uow.session.scalars(units.select(units.Unit))}

    assert paths["gengma_swj_zhan"] == "/lincang/cangyuan/gengma_swj/gengma_swj_zhan/"
    assert (await status("gengma"), await status("cangyuan")) == (403, 200)


OLD_DESCRIPTION = "耿马旧案：首页“通知公告”栏目长期未更新"
OLD_REFERENCE = "耿政办字〔2021〕9号"
PASSWORD = "correct-horse-battery"


def _a_target_moved_to_another_county(app) -> tuple[int, int]:
    """A target of 耿马's water bureau, notified in 2021Q1 (and by the province), moves to
    沧源's; its problem is found again in 2021Q2: (the old case, the new case)."""
    with app.uow() as uow:
        a_unit(uow, "lincang", kind="city_gov")
        a_unit(uow, "gengma", parent_code="lincang", kind="county_gov")
        a_unit(uow, "cangyuan", parent_code="lincang", kind="county_gov")
        a_unit(uow, "gengma_swj", parent_code="gengma", name="耿马县水务局")
        a_unit(uow, "cangyuan_swj", parent_code="cangyuan", name="沧源县水务局")
        a_round(uow, "2021Q1", doc_number=OLD_REFERENCE)
        a_target(uow, "swj-site", unit_code="gengma_swj", name="水务局网站")
        old = a_case(
            uow,
            state="notified",
            round_code="2021Q1",
            target_code="swj-site",
            description=OLD_DESCRIPTION,
        )
        transitions.record_notice(
            uow,
            case_id=old.id,
            level="province",
            notified_on=date(2021, 5, 6),
            issuer="云南省人民政府办公厅",
            reference="云政办〔2021〕3号",
            actor="测试员",
        )
        a_target(uow, "swj-site", unit_code="cangyuan_swj", name="水务局网站")  # the move
        new = a_case(
            uow,
            state="notified",
            target_code="swj-site",
            previous_case_id=old.id,
            description="沧源新案",
        )
        for county in ("gengma", "cangyuan", "lincang"):
            users.create_user(
                uow, username=county, role="supervisor", unit_code=county, password=PASSWORD
            )
        uow.commit()
        return old.id, new.id


async def _as(web, username: str, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=web)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        await sign_in(client, username, PASSWORD)
        return await client.get(path)


async def _api(app, web, username: str, case_id: int) -> httpx.Response:
    with app.uow() as uow:
        token = api_tokens.issue_token(uow, username=username, name="t").token
        uow.commit()
    transport = httpx.ASGITransport(app=web)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        headers = {"Authorization": f"Bearer {token}"}
        return await client.get(f"/api/v1/cases/{case_id}", headers=headers)


def _leaks(text: str, old_id: int) -> list[str]:
    """What of the old county's case a text shows."""
    shown = [
        s
        for s in (OLD_DESCRIPTION, "耿马县水务局", OLD_REFERENCE, "云政办〔2021〕3号", "2021Q1")
        if s in text
    ]
    return shown + re.findall(rf"/cases/{old_id}\b", text)


async def test_the_new_countys_supervisor_sees_only_a_count_of_the_old_countys_cases(app):
    old, new = _a_target_moved_to_another_county(app)
    web = create_app(app)

    page = await _as(web, "cangyuan", f"/cases/{new}")
    assert page.status_code == 200
    assert "另有 1 个更早的案件不在您的管辖范围内" in page.text
    assert _leaks(page.text, old) == []
    assert "市级 2 次，省级 1 次" in page.text  # the counts behind the repeat rules stay whole

    answer = await _api(app, web, "cangyuan", new)
    assert answer.status_code == 200
    body = answer.json()
    assert (body["chain"], body["earlier_out_of_scope"]) == ([], 1)
    assert {n["case_id"] for n in body["notices"]} == {new}
    assert (body["case"]["notices_city"], body["case"]["notices_province"]) == (2, 1)
    assert _leaks(answer.text, old) == []

    assert (await _as(web, "cangyuan", f"/cases/{old}")).status_code == 403
    assert (await _as(web, "gengma", f"/cases/{new}")).status_code == 403


async def test_a_supervisor_whose_scope_holds_both_counties_sees_the_whole_chain(app):
    old, new = _a_target_moved_to_another_county(app)
    web = create_app(app)

    page = await _as(web, "lincang", f"/cases/{new}")
    assert f'href="/cases/{old}"' in page.text and OLD_REFERENCE in page.text
    assert "不在您的管辖范围内" not in page.text
    body = (await _api(app, web, "lincang", new)).json()
    assert [c["id"] for c in body["chain"]] == [old] and body["earlier_out_of_scope"] == 0
    assert {n["case_id"] for n in body["notices"]} == {old, new}
    assert body["chain"][0]["description"] == OLD_DESCRIPTION
