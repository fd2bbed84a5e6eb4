"""A unit's portal links on its registry page: revoked with a button, a new one shown once."""

from __future__ import annotations

import re

import pytest

from services.access import unit_links
from tests.web.conftest import a_user, client_for, csrf_of, login

REVOKE = re.compile(r'action="/registry/units/gengma/links/(\d+)/revoke"')
NEW_URL = re.compile(r'value="(http[^"]*/portal/([^"]+))"')


@pytest.fixture
async def admin(app, web_app):
    created = a_user(app, "li", role="admin")
    async with client_for(web_app) as client:
        assert (await login(client, "li", created.password)).status_code == 303
        yield client


def id_of(app, token: str) -> str:
    with app.uow() as uow:
        return str(unit_links.resolve_link(uow, token).id)


async def test_a_link_revoked_on_the_unit_page_answers_403_with_a_chinese_page(
    app, admin, anon, two_units
):
    assert (await anon.get(f"/portal/{two_units.token_a}")).status_code == 200
    page = await admin.get("/registry/units?code=gengma")
    assert "门户链接：耿马县人民政府" in page.text
    link_id = id_of(app, two_units.token_a)
    assert link_id in REVOKE.findall(page.text)

    answer = await admin.post(
        f"/registry/units/gengma/links/{link_id}/revoke", data={"csrf_token": csrf_of(page)}
    )

    assert answer.status_code == 303
    after = await admin.get(answer.headers["location"])
    assert f"门户链接 {link_id} 已撤销" in after.text and "已撤销</td>" in after.text
    assert link_id not in REVOKE.findall(after.text)  # its 撤销 button is gone
    refused = await anon.get(f"/portal/{two_units.token_a}")
    assert refused.status_code == 403 and "该链接已被撤销" in refused.text
    assert (await anon.get(f"/portal/{two_units.token_b}")).status_code == 200  # other unit


async def test_a_link_issued_on_the_unit_page_is_shown_once_and_opens_the_portal(
    admin, anon, two_units
):
    page = await admin.get("/registry/units?code=gengma")
    live = len(REVOKE.findall(page.text))

    issued = await admin.post("/registry/units/gengma/links", data={"csrf_token": csrf_of(page)})

    assert issued.status_code == 200 and "只显示这一次" in issued.text
    url, token = NEW_URL.search(issued.text).groups()
    assert url.startswith("http") and token != two_units.token_a
    opened = await anon.get(f"/portal/{token}")
    assert opened.status_code == 200 and "耿马县人民政府" in opened.text
    again = await admin.get("/registry/units?code=gengma")
    assert token not in again.text and len(REVOKE.findall(again.text)) == live + 1


async def test_viewers_and_supervisors_of_another_county_cannot_touch_a_units_links(
    app, web_app, anon, two_units
):
    passwords = {
        "wang": a_user(app, "wang", role="viewer").password,
        "zhao": a_user(app, "zhao", role="supervisor", unit_code="cangyuan").password,
    }
    for username, password in passwords.items():
        async with client_for(web_app) as client:
            assert (await login(client, username, password)).status_code == 303
            page = await client.get("/registry/units?code=gengma")
            assert "生成新链接" not in page.text
            form = {"csrf_token": csrf_of(page)}
            issued = await client.post("/registry/units/gengma/links", data=form)
            revoked = await client.post(
                f"/registry/units/gengma/links/{id_of(app, two_units.token_a)}/revoke", data=form
            )
            assert issued.status_code == revoked.status_code == 403, username
            assert "门户链接" in revoked.text
    assert (await anon.get(f"/portal/{two_units.token_a}")).status_code == 200
