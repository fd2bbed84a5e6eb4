"""What an operator revokes from the command line stops working at once.

Portal links (``rectify link``), API tokens by the id ``token add`` prints, everything an
account had open when its password is reset or it is disabled; and the last admin stays.
"""

from __future__ import annotations

import json
import re

import httpx
import pytest
from argon2 import PasswordHasher
from typer.testing import CliRunner

from cli.main import app as cli
from services.access import api_tokens, unit_links, users
from tests.builders import a_round, a_unit
from tests.conftest import NOTICE_DAY
from tests.security.world import CSRF
from web.app import create_app


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch):
    """Argon2 with minimal cost: the same code path, milliseconds instead of a second a login."""
    monkeypatch.setattr(users, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024))


@pytest.fixture
def rectify(app, monkeypatch):
    """Run ``rectify --as-of <the app's day> ARGS`` on the test database: (exit code, output)."""
    monkeypatch.setenv("RECTIFY_DATABASE_URL", app.settings.database_url)
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(cli, ["--as-of", NOTICE_DAY.isoformat(), *args])
        return result.exit_code, result.output

    return run


@pytest.fixture
def web_app(app):
    return create_app(app)


def client_of(web_app) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=web_app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


def a_county_with_links(app, count: int) -> list[str]:
    with app.uow() as uow:
        county = a_unit(uow, "gengma", name="耿马县人民政府", kind="county_gov")
        a_round(uow, "2021Q2")
        tokens = [unit_links.issue_link(uow, unit_id=county.id).token for _ in range(count)]
        uow.commit()
    return tokens


def an_account(app, username: str = "zhang", role: str = "supervisor") -> str:
    with app.uow() as uow:
        password = users.create_user(uow, username=username, role=role).password
        uow.commit()
    return password


async def portal(web_app, token: str) -> httpx.Response:
    async with client_of(web_app) as client:
        return await client.get(f"/portal/{token}")


async def api(web_app, token: str) -> httpx.Response:
    async with client_of(web_app) as client:
        return await client.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"})


async def sign_in(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    page = await client.get("/login")
    csrf = CSRF.search(page.text).group(1)
    return await client.post(
        "/login", data={"username": username, "password": password, "csrf_token": csrf}
    )


def bounced(answer: httpx.Response) -> bool:
    return answer.status_code == 303 and answer.headers["location"].startswith("/login")


def statuses(rectify, unit_code: str) -> dict[int, str]:
    """Link id -> status as ``rectify link list --json`` tells."""
    code, output = rectify("link", "list", unit_code, "--json")
    assert code == 0, output
    return {row["id"]: row["status"] for row in json.loads(output)}


async def test_links_revoked_from_the_cli_answer_403_with_a_chinese_page(app, web_app, rectify):
    first, second = a_county_with_links(app, 2)
    code, listing = rectify("link", "list", "gengma")
    assert code == 0 and "北京时间" in listing and "耿马县人民政府" in listing
    first_id, second_id = sorted(statuses(rectify, "gengma"))

    code, said = rectify("link", "revoke", "gengma", "--id", str(first_id))
    assert code == 0 and f"门户链接 {first_id} 已撤销" in said
    refused = await portal(web_app, first)
    assert refused.status_code == 403 and "该链接已被撤销" in refused.text
    assert (await portal(web_app, second)).status_code == 200  # only the one named

    code, said = rectify("link", "revoke", "gengma")
    assert code == 0 and "已撤销单位 gengma 的 1 个有效门户链接" in said
    assert (await portal(web_app, second)).status_code == 403
    assert statuses(rectify, "gengma") == {first_id: "已撤销", second_id: "已撤销"}


async def test_a_link_issued_from_the_cli_opens_the_units_portal(app, web_app, rectify):
    a_county_with_links(app, 0)

    code, said = rectify("link", "issue", "gengma", "--round", "2021Q2", "--days", "7")

    assert code == 0 and "只显示这一次" in said and "2021-07-26 09:00" in said
    token = re.search(r"/portal/(\S+)", said).group(1)
    opened = await portal(web_app, token)
    assert opened.status_code == 200 and "耿马县人民政府" in opened.text
    code, listing = rectify("link", "list", "gengma", "--json")
    [row] = json.loads(listing)
    assert row["round_code"] == "2021Q2" and row["status"] == "有效"
    assert row["expires_at"] == "2021-07-26T09:00:00+08:00" and token not in listing
    code, said = rectify("link", "issue", "nowhere")
    assert code == 2 and "单位 nowhere 不存在" in said


async def test_the_token_id_printed_at_creation_revokes_it_and_the_api_answers_401(
    app, web_app, rectify
):
    an_account(app)
    code, said = rectify("token", "add", "zhang", "--name", "检测器")
    assert code == 0
    token_id = re.search(r"编号 (\d+)", said).group(1)
    token = re.search(r"(rct_\S+)", said).group(1)
    assert (await api(web_app, token)).status_code == 200
    _, listing = rectify("token", "list", "--user", "zhang", "--json")
    [row] = json.loads(listing)
    assert (row["id"], row["name"], row["revoked_at"]) == (int(token_id), "检测器", None)

    code, said = rectify("token", "revoke", token_id)

    assert code == 0 and f"API 令牌 {token_id} 已撤销" in said
    refused = await api(web_app, token)
    assert refused.status_code == 401 and refused.json()["detail"] == "API 令牌已被撤销"
    [row] = json.loads(rectify("token", "list", "--user", "zhang", "--json")[1])
    assert row["revoked_at"] is not None


async def test_a_password_reset_ends_the_open_session_and_revokes_the_tokens(app, web_app, rectify):
    password = an_account(app)
    with app.uow() as uow:
        token = api_tokens.issue_token(uow, username="zhang", name="脚本").token
        uow.commit()
    async with client_of(web_app) as browser:
        assert (await sign_in(browser, "zhang", password)).status_code == 303

        code, said = rectify("user", "password", "zhang")

        assert code == 0 and "API 令牌均已撤销" in said
        assert bounced(await browser.get("/cases"))
    assert (await api(web_app, token)).status_code == 401
    new_password = re.search(r"新密码：(\S+)（只显示这一次）", said).group(1)
    async with client_of(web_app) as browser:
        assert (await sign_in(browser, "zhang", password)).status_code == 400
        assert (await sign_in(browser, "zhang", new_password)).status_code == 303


async def test_a_disabled_user_cannot_sign_in_and_its_session_and_token_stop(app, web_app, rectify):
    password = an_account(app)
    with app.uow() as uow:
        token = api_tokens.issue_token(uow, username="zhang", name="脚本").token
        uow.commit()
    async with client_of(web_app) as browser:
        assert (await sign_in(browser, "zhang", password)).status_code == 303

        code, said = rectify("user", "disable", "zhang")

        assert code == 0 and "已停用" in said
        assert bounced(await browser.get("/cases"))
    assert (await api(web_app, token)).status_code == 401
    async with client_of(web_app) as browser:
        disabled = await sign_in(browser, "zhang", password)
        wrong = await sign_in(browser, "zhang", "not-the-password")
    # The same answer as a wrong password: nothing tells that the account exists, disabled.
    assert disabled.status_code == wrong.status_code == 400
    assert "用户名或密码错误" in disabled.text and "停用" not in disabled.text


async def test_enabling_a_disabled_user_lets_it_sign_in_again(app, web_app, rectify):
    password = an_account(app)
    assert rectify("user", "disable", "zhang")[0] == 0

    code, said = rectify("user", "enable", "zhang")

    assert code == 0 and "已启用" in said
    async with client_of(web_app) as browser:
        assert (await sign_in(browser, "zhang", password)).status_code == 303
        assert (await browser.get("/cases")).status_code == 200


async def test_the_last_active_admin_cannot_be_disabled(app, web_app, rectify):
    password = an_account(app, "li", role="admin")

    code, said = rectify("user", "disable", "li")

    assert code == 2 and "最后一个启用的管理员" in said
    async with client_of(web_app) as browser:
        assert (await sign_in(browser, "li", password)).status_code == 303
    an_account(app, "wu", role="admin")
    assert rectify("user", "disable", "li")[0] == 0  # with another admin, it may go
