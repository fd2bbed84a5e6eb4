"""Signing in: its time tells no names, a lock holds from any address, the CSRF token rotates."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from argon2 import PasswordHasher, extract_parameters

from services.access import users
from services.db.access_models import User
from tests.security.world import CSRF
from web.app import create_app

LOCKED = "登录失败次数过多，请稍后再试"


class CountingHasher(PasswordHasher):
    """A cheap argon2 hasher that counts what it computes and keeps the hashes it verifies."""

    def __init__(self):
        super().__init__(time_cost=1, memory_cost=1024)
        self.hashes = 0
        self.verified: list[str] = []

    def hash(self, password, *, salt=None) -> str:
        self.hashes += 1
        return super().hash(password, salt=salt)

    def verify(self, hash, password) -> bool:
        self.verified.append(hash if isinstance(hash, str) else hash.decode())
        return super().verify(hash, password)


@pytest.fixture
def hasher(monkeypatch) -> CountingHasher:
    counting = CountingHasher()
    monkeypatch.setattr(users, "_HASHER", counting)
    return counting


def client_of(web, address: str = "127.0.0.1") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=web, client=(address, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def csrf_of(client: httpx.AsyncClient, path: str = "/login") -> str:
    return CSRF.search((await client.get(path)).text).group(1)


async def sign_in(client, username: str, password: str, headers: dict | None = None):
    data = {"username": username, "password": password, "csrf_token": await csrf_of(client)}
    return await client.post("/login", data=data, headers=headers or {})


def a_user(app, username: str, *, active: bool = True) -> str:
    with app.uow() as uow:
        created = users.create_user(uow, username=username, role="supervisor")
        uow.session.get(User, created.user.id).active = active
        uow.commit()
    return created.password


async def test_an_unknown_name_costs_one_hash_check_like_a_known_one(app, hasher):
    password = a_user(app, "zhang")
    disabled_password = a_user(app, "wang", active=False)
    web = create_app(app)  # a web process makes its dummy hash when it starts
    attempts = {
        "known name, wrong password": ("zhang", "wrong-password"),
        "unknown name": ("nobody", "wrong-password"),
        "disabled account, its password": ("wang", disabled_password),
    }
    work = {}
    async with client_of(web) as client:
        for what, (username, attempt) in attempts.items():
            hasher.hashes, hasher.verified = 0, []
            answer = await sign_in(client, username, attempt)
            assert answer.status_code == 400 and "用户名或密码错误" in answer.text, what
            work[what] = (hasher.hashes, [extract_parameters(h) for h in hasher.verified])
        hasher.verified = []
        assert (await sign_in(client, "zhang", password)).status_code == 303

    real = extract_parameters(hasher.verified[0])
    assert work == {what: (0, [real]) for what in attempts}


async def test_a_locked_account_stays_locked_from_another_address(app):
    password = a_user(app, "zhang")
    web = create_app(app)
    async with client_of(web, "203.0.113.10") as attacker:
        for _ in range(app.settings.login_max_failures):
            refused = await sign_in(attacker, "zhang", "guess")
            assert refused.status_code == 400 and "用户名或密码错误" in refused.text

    async with client_of(web, "198.51.100.20") as elsewhere:
        spoofed = await sign_in(elsewhere, "zhang", password, {"X-Forwarded-For": "192.0.2.30"})
        also = await sign_in(elsewhere, " ZHANG ", password)

    assert spoofed.status_code == 400 and LOCKED in spoofed.text
    assert also.status_code == 400 and LOCKED in also.text


async def test_a_csrf_token_from_before_sign_in_is_refused_after_it(app):
    password = a_user(app, "zhang")
    web = create_app(app)
    async with client_of(web) as client:
        before = await csrf_of(client)
        signed_in = await client.post(
            "/login", data={"username": "zhang", "password": password, "csrf_token": before}
        )
        assert signed_in.status_code == 303
        stale = await client.post("/logout", data={"csrf_token": before})
        assert (await client.get("/")).status_code == 200  # the stale form ended nothing
        after = await csrf_of(client, "/")
        fresh = await client.post("/logout", data={"csrf_token": after})

        assert stale.status_code == 403 and "安全令牌" in stale.text
        assert after != before
        assert fresh.status_code == 303 and (await client.get("/")).status_code == 303
        assert await csrf_of(client) != after  # signing out rotates it too


class SlowHasher(CountingHasher):
    """Checking a password takes a moment: long enough for attempts to overlap."""

    def verify(self, hash, password) -> bool:
        time.sleep(0.05)
        return super().verify(hash, password)


async def test_a_burst_of_guesses_at_once_gets_no_more_password_checks_than_the_limit(
    app, monkeypatch
):
    """Attempts made at the same moment (in several processes or threads) see each other:
    the lock is counted in the database before a password is checked, not after."""
    a_user(app, "zhang")
    slow = SlowHasher()
    monkeypatch.setattr(users, "_HASHER", slow)
    throttle = create_app(app).state.throttle
    start = threading.Barrier(12)

    def guess(n: int) -> str:
        start.wait()
        with app.uow() as uow:
            try:
                users.authenticate(uow, username="zhang", password=f"guess-{n}", throttle=throttle)
            except users.LoginRefused as refused:
                return str(refused)
        return "signed in"

    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(guess, range(12)))

    checked = slow.verified
    # At most the limit's passwords are checked (when every attempt writes its failure before
    # any is counted, none is: all twelve are refused as locked).
    assert len(checked) <= app.settings.login_max_failures
    assert answers.count("用户名或密码错误") == len(checked)
    assert answers.count(LOCKED) == 12 - len(checked)
