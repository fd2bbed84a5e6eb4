"""Sessions, API tokens and unit links: they expire, can be revoked, and a forged one fails."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import httpx
from itsdangerous import TimestampSigner

from services.access import accounts, api_tokens, unit_links, users, web_sessions
from services.core.clock import Clock
from services.db.access_models import ApiToken, User
from tests.builders import a_unit
from tests.security.world import sign_in
from web.app import SESSION_HOURS, create_app

COOKIE = "rectify_session"


def client_of(web) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=web, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


def flipped(text: str, at: int) -> str:
    """``text`` with one character changed (a forged or mistyped copy)."""
    char = text[at]
    return text[:at] + ("A" if char != "A" else "B") + text[at + 1 :]


def small_world(app) -> tuple[str, str]:
    """One county with a portal link and one supervisor 'zhang': (link, password)."""
    with app.uow() as uow:
        county = a_unit(uow, "gengma", kind="county_gov")
        link = unit_links.issue_link(uow, unit_id=county.id).token
        password = users.create_user(uow, username="zhang", role="supervisor").password
        uow.commit()
    return link, password


async def signed_in(app, web) -> tuple[httpx.AsyncClient, str]:
    _, password = small_world(app)
    client = client_of(web)
    csrf = await sign_in(client, "zhang", password)
    assert (await client.get("/")).status_code == 200
    return client, csrf


async def test_a_session_older_than_its_lifetime_is_sent_back_to_the_login_page(app, monkeypatch):
    web = create_app(app)
    client, _ = await signed_in(app, web)
    later = TimestampSigner.get_timestamp(TimestampSigner("x")) + SESSION_HOURS * 3600 + 60
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: later)

    answer = await client.get("/cases")

    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
    await client.aclose()


async def test_a_tampered_session_cookie_is_refused(app):
    web = create_app(app)
    client, _ = await signed_in(app, web)
    cookie = client.cookies[COOKIE]
    wrong = []
    for at in (0, 10, len(cookie) - 2):  # a last base64 char may only hold padding bits
        async with client_of(web) as forger:
            forger.cookies.set(COOKIE, flipped(cookie, at))
            answer = await forger.get("/cases")
            if answer.status_code != 303 or not answer.headers["location"].startswith("/login"):
                wrong.append(at)
    async with client_of(web) as copier:
        copier.cookies.set(COOKIE, cookie)
        assert (await copier.get("/cases")).status_code == 200  # the untouched copy works
    assert wrong == []
    await client.aclose()


async def test_a_deactivated_users_session_and_api_token_stop_working(app):
    web = create_app(app)
    client, _ = await signed_in(app, web)
    with app.uow() as uow:
        token = api_tokens.issue_token(uow, username="zhang", name="脚本").token
        uow.session.query(User).filter(User.username == "zhang").update({"active": False})
        uow.commit()

    page = await client.get("/cases")
    api = await client.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"})

    assert page.status_code == 303 and page.headers["location"].startswith("/login")
    assert api.status_code == 401 and "停用" in api.json()["detail"]
    await client.aclose()


async def test_an_api_token_works_until_revoked_and_a_tampered_one_never(app):
    small_world(app)
    with app.uow() as uow:
        issued = api_tokens.issue_token(uow, username="zhang", name="脚本")
        uow.commit()
    web = create_app(app)

    async def status(token: str) -> tuple[int, str]:
        async with client_of(web) as client:
            answer = await client.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"})
        return answer.status_code, answer.json().get(
            "detail", ""
        ) if answer.status_code != 200 else ""

    assert await status(issued.token) == (200, "")
    assert await status(flipped(issued.token, len(issued.token) - 3)) == (401, "API 令牌无效")
    assert await status(issued.token.upper()) == (401, "API 令牌无效")
    assert (await status(""))[1].startswith("缺少 API 令牌")
    with app.uow() as uow:
        api_tokens.revoke_token(uow, token_id=issued.token_id)
        uow.commit()
    assert await status(issued.token) == (401, "API 令牌已被撤销")
    with app.uow() as uow:
        assert uow.session.get(ApiToken, issued.token_id).revoked_at is not None


async def test_a_unit_link_expires_can_be_revoked_and_a_tampered_one_opens_nothing(app):
    link_a, _ = small_world(app)
    with app.uow() as uow:
        expiring = unit_links.issue_link(uow, unit_id=1, ttl=timedelta(days=1))
        uow.commit()
    today, tomorrow = (
        create_app(app),
        create_app(
            dataclasses.replace(app, clock=Clock(app.clock.now() + timedelta(days=1, minutes=1)))
        ),
    )

    async def answer(web, token: str) -> tuple[int, bool]:
        async with client_of(web) as client:
            page = await client.get(f"/portal/{token}")
        return page.status_code, page.text

    assert (await answer(today, expiring.token))[0] == 200
    status, text = await answer(tomorrow, expiring.token)
    assert status == 403 and "该链接已过期" in text
    status, text = await answer(today, flipped(link_a, 5))
    assert status == 403 and "链接无效" in text
    assert (await answer(today, link_a))[0] == 200
    with app.uow() as uow:
        gengma = unit_links.resolve_link(uow, link_a).unit_id
        unit_links.revoke_links(uow, unit_id=gengma)
        uow.commit()
    status, text = await answer(today, link_a)
    assert status == 403 and "该链接已被撤销" in text


async def test_a_copy_of_the_session_cookie_stops_working_once_its_owner_signs_out(app):
    web = create_app(app)
    client, csrf = await signed_in(app, web)
    copy = client.cookies[COOKIE]

    signed_out = await client.post("/logout", data={"csrf_token": csrf})
    async with client_of(web) as thief:
        thief.cookies.set(COOKIE, copy)
        reused = await thief.get("/cases")

    assert signed_out.status_code == 303
    assert reused.status_code == 303 and reused.headers["location"].startswith("/login")
    await client.aclose()


async def test_a_password_reset_ends_the_accounts_open_sessions(app):
    web = create_app(app)
    client, _ = await signed_in(app, web)

    with app.uow() as uow:
        accounts.reset_password(uow, username="zhang")
        uow.commit()
    answer = await client.get("/cases")

    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
    await client.aclose()


async def test_a_session_ends_on_the_server_after_its_lifetime_by_the_apps_clock(app):
    client, _ = await signed_in(app, create_app(app))
    later = dataclasses.replace(app, clock=Clock(app.clock.now() + web_sessions.LIFETIME))
    transport = httpx.ASGITransport(app=create_app(later), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as same:
        same.cookies.set(COOKIE, client.cookies[COOKIE])
        answer = await same.get("/cases")

    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
    await client.aclose()
