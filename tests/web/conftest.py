"""Web tests: the real app over httpx's ASGI transport, on both databases."""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx
import pytest
from argon2 import PasswordHasher

from services.access import unit_links, users
from services.bootstrap import App
from tests.builders import a_case, a_target, a_unit
from web.app import create_app

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(page: httpx.Response) -> str:
    found = CSRF.search(page.text)
    assert found, f"no CSRF token on {page.request.url}"
    return found.group(1)


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch):
    """Argon2 with minimal cost: the same code path, milliseconds instead of a second a test."""
    monkeypatch.setattr(users, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024))


@pytest.fixture
def web_app(app: App):
    return create_app(app)


def client_for(web_app) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=web_app), base_url="http://testserver"
    )


@pytest.fixture
async def anon(web_app):
    async with client_for(web_app) as client:
        yield client


async def login(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    page = await client.get("/login")
    return await client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(page)},
    )


def a_user(app: App, username: str, *, role: str = "supervisor", unit_code: str | None = None):
    with app.uow() as uow:
        created = users.create_user(
            uow, username=username, role=role, unit_code=unit_code, display_name=f"{username}员"
        )
        uow.commit()
    return created


@pytest.fixture
async def supervisor(app: App, web_app):
    created = a_user(app, "zhang")
    async with client_for(web_app) as client:
        response = await login(client, "zhang", created.password)
        assert response.status_code == 303
        yield client


@dataclass
class TwoUnits:
    """Two units with one notified case each, and a portal link for each unit."""

    unit_a: int
    unit_b: int
    case_a: int
    case_b: int
    token_a: str
    token_b: str


@pytest.fixture
def two_units(app: App) -> TwoUnits:
    with app.uow() as uow:
        a = a_unit(uow, "gengma", name="耿马县人民政府", kind="county_gov")
        b = a_unit(uow, "cangyuan", name="沧源县人民政府", kind="county_gov")
        case_a = a_case(uow, state="notified", target_code=a_target(uow, unit_code=a.code).code)
        case_b = a_case(uow, state="notified", target_code=a_target(uow, unit_code=b.code).code)
        link_a = unit_links.issue_link(uow, unit_id=a.id)
        link_b = unit_links.issue_link(uow, unit_id=b.id)
        uow.commit()
        return TwoUnits(a.id, b.id, case_a.id, case_b.id, link_a.token, link_b.token)
