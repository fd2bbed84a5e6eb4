"""A unit moved to another county takes its whole subtree along: scopes follow the move."""

from __future__ import annotations

import httpx

from services.access import api_tokens, users
from services.registry import units
from tests.builders import a_case, a_target, a_unit
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
