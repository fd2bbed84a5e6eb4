"""Several web processes: refused without a shared key, correct with one.

Real ``uvicorn web.asgi:make_app --factory --workers 4`` processes on a loopback port. With
``RECTIFY_SECRET_KEY`` set, a browser whose requests alternate between the processes signs
in, posts forms and signs out without a CSRF refusal or a bounce to the login page, and the
lockout counts failures made in different processes together. Without the key, uvicorn does
not start (nor does ``rectify serve``) and says how to set one.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from cli.main import app as cli
from services.access import users
from services.bootstrap import build_app
from services.core.settings import Settings
from services.db.migrate import upgrade
from services.registry.catalogue import ensure_seeded
from tests.conftest import PG_URL
from tests.support.mailserver import free_port

ROOT = Path(__file__).resolve().parents[2]
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
#: An access-log line with the serving process: "<pid> 127.0.0.1:<port> - "GET /x HTTP/1.1" 200".
ACCESS = re.compile(r'^(\d+) 127\.0\.0\.1:(\d+) - "(\w+) (\S+) HTTP/[\d.]+" (\d+)', re.M)
STARTED = re.compile(r"^(\d+) Application startup complete", re.M)
LOG_CONFIG = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"pid": {"format": "%(process)d %(message)s"}},
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "pid",
            "stream": "ext://sys.stderr",
        }
    },
    "loggers": {
        "uvicorn": {"handlers": ["stderr"], "level": "INFO"},
        "uvicorn.access": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
    },
}
PASSWORD = "right-password-1"


def uvicorn_command(*options: str) -> list[str]:
    installed = Path(sys.executable).with_name("uvicorn")
    start = [str(installed)] if installed.exists() else [sys.executable, "-m", "uvicorn"]
    return [*start, "web.asgi:make_app", "--factory", *options]


def server_env(database_url: str, data_dir: Path, secret_key: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RECTIFY_", "WEB_CONC"))}
    env.update(
        PYTHONPATH=str(ROOT), RECTIFY_DATABASE_URL=database_url, RECTIFY_DATA_DIR=str(data_dir)
    )
    if secret_key:
        env["RECTIFY_SECRET_KEY"] = secret_key
    return env


def stop(process: subprocess.Popen) -> None:
    """The server and its worker processes (one process group), however the test ended."""
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


@dataclass
class Server:
    port: int
    log: Path

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@contextmanager
def served(tmp_path: Path, env: dict[str, str], workers: int) -> Iterator[Server]:
    """``uvicorn --workers N`` on a free loopback port, until every worker has started."""
    (tmp_path / "log.json").write_text(json.dumps(LOG_CONFIG))
    server = Server(port=free_port(), log=tmp_path / "uvicorn.log")
    command = uvicorn_command(
        *("--workers", str(workers), "--host", "127.0.0.1", "--port", str(server.port)),
        *("--log-config", str(tmp_path / "log.json")),
    )
    with server.log.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=tmp_path, env=env, stdout=log, stderr=log, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 120
        while len(set(STARTED.findall(server.text()))) < workers:
            assert process.poll() is None, f"uvicorn stopped:\n{server.text()[-3000:]}"
            assert time.monotonic() < deadline, f"uvicorn did not start:\n{server.text()[-3000:]}"
            time.sleep(0.2)
        yield server
    finally:
        stop(process)


@dataclass
class Browser:
    """One browser whose requests go over connections held open to different processes."""

    server: Server
    lanes: list[httpx.Client]
    cookie: str = ""
    turn: int = 0
    served_by: list[str] = field(default_factory=list)

    def request(self, method: str, path: str, **kwargs) -> httpx.Response:
        lane = self.lanes[self.turn % len(self.lanes)]
        self.turn += 1
        headers = {"Cookie": f"rectify_session={self.cookie}"} if self.cookie else {}
        answer = lane.request(method, self.server.url(path), headers=headers, **kwargs)
        self.cookie = answer.cookies.get("rectify_session") or self.cookie
        lane.cookies.clear()  # the browser's cookie is this one, whichever lane carried it
        return answer

    def form(self, path: str) -> str:
        page = self.request("GET", path)
        assert page.status_code == 200, (path, page.status_code, page.headers.get("location"))
        return CSRF.search(page.text).group(1)

    def sign_in(self, username: str, password: str) -> httpx.Response:
        data = {"username": username, "password": password, "next": "/"}
        return self.request("POST", "/login", data={**data, "csrf_token": self.form("/login")})


def lanes_to_different_processes(server: Server, count: int = 16) -> list[httpx.Client]:
    """Kept-alive connections, ordered so that consecutive ones reach different processes."""
    clients, ports = [], {}
    for _ in range(count):
        client = httpx.Client(limits=httpx.Limits(max_connections=1), follow_redirects=False)
        answer = client.get(server.url("/login"))
        client.cookies.clear()
        stream = answer.extensions["network_stream"]
        ports[stream.get_extra_info("client_addr")[1]] = client
        clients.append(client)
    time.sleep(0.3)  # the access log lines of those requests
    by_pid: dict[str, list[httpx.Client]] = {}
    for pid, port, *_ in ACCESS.findall(server.text()):
        if int(port) in ports:
            by_pid.setdefault(pid, []).append(ports.pop(int(port)))
    assert len(by_pid) >= 2, f"all {count} connections reached one process: {by_pid.keys()}"
    groups = list(by_pid.values())
    return [g[i] for i in range(max(map(len, groups))) for g in groups if i < len(g)]


def processes_that_served(server: Server, method: str, path: str) -> set[str]:
    return {pid for pid, _, m, p, _ in ACCESS.findall(server.text()) if (m, p) == (method, path)}


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL database of this test's own, migrated, with two supervisors; dropped after."""
    name = f"rectify_d_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        application = build_app(Settings(database_url=url))
        upgrade(application.engine)
        with application.uow() as uow:
            ensure_seeded(uow)
            for username in ("zhang", "wang"):
                users.create_user(uow, username=username, role="supervisor", password=PASSWORD)
            uow.commit()
        application.close()
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.slow
@pytest.mark.postgres
def test_four_processes_share_sessions_csrf_and_the_lockout(pg_url, tmp_path):
    env = server_env(pg_url, tmp_path / "data", secret_key="k" * 64)
    max_failures = Settings().login_max_failures
    with served(tmp_path, env, workers=4) as server:
        lanes = lanes_to_different_processes(server)
        browser = Browser(server, lanes)
        for round_ in range(20):  # each request on a lane to another process than the last
            signed_in = browser.sign_in("zhang", PASSWORD)
            assert (signed_in.status_code, signed_in.headers.get("location")) == (303, "/"), (
                round_,
                signed_in.text[:300],
            )
            signed_out = browser.request("POST", "/logout", data={"csrf_token": browser.form("/")})
            assert signed_out.status_code == 303, (round_, signed_out.text[:300])
            assert signed_out.headers["location"] == "/login"
            assert browser.request("GET", "/").headers.get("location", "").startswith("/login")

        guesses = [browser.sign_in("wang", f"guess-{n}") for n in range(max_failures)]
        locked = browser.sign_in("wang", PASSWORD)  # the right password, after the failures
        still = browser.sign_in("zhang", PASSWORD)  # another account is not locked
        for lane in lanes:
            lane.close()
        time.sleep(0.3)
        login_processes = processes_that_served(server, "POST", "/login")

    assert [(g.status_code, "用户名或密码错误" in g.text) for g in guesses] == [
        (400, True)
    ] * max_failures
    assert locked.status_code == 400 and "登录失败次数过多" in locked.text
    assert still.status_code == 303
    assert len(login_processes) >= 2, login_processes


def refused_start(tmp_path: Path, sqlite_template: Path, *options: str) -> tuple[int, str]:
    database = tmp_path / "rectify.db"
    shutil.copy(sqlite_template, database)
    env = server_env(f"sqlite:///{database}", tmp_path / "data", secret_key=None)
    command = uvicorn_command("--port", str(free_port()), *options)
    process = subprocess.Popen(
        command,
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=120)
    finally:
        stop(process)
    return process.returncode, output.decode(errors="replace")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("options", "told"),
    [
        (("--workers", "2", "--host", "127.0.0.1"), "以 2 个进程"),
        (("--host", "0.0.0.0"), "本机以外可访问的地址（0.0.0.0）"),
    ],
)
def test_uvicorn_without_a_key_refuses_to_start_and_says_how_to_set_one(
    tmp_path, sqlite_template, options, told
):
    code, output = refused_start(tmp_path, sqlite_template, *options)

    assert "未配置密钥 RECTIFY_SECRET_KEY" in output and told in output, output[-2000:]
    assert 'export RECTIFY_SECRET_KEY=$(python -c "import secrets' in output
    assert "Application startup complete" not in output
    if "--workers" not in options:  # (several workers: uvicorn's parent stops, exiting 0)
        assert code == uvicorn.config.STARTUP_FAILURE, output


@pytest.mark.parametrize(
    ("options", "told", "started_with"),
    [
        (["--workers", "2"], "以 2 个进程", (2, "127.0.0.1")),
        (["--host", "0.0.0.0"], "本机以外可访问的地址（0.0.0.0）", (1, "0.0.0.0")),
    ],
)
def test_rectify_serve_without_a_key_refuses_several_processes_or_an_outside_address(
    app, monkeypatch, options, told, started_with
):
    monkeypatch.setenv("RECTIFY_DATABASE_URL", app.settings.database_url)
    monkeypatch.delenv("RECTIFY_SECRET_KEY", raising=False)
    started = []
    monkeypatch.setattr(uvicorn, "run", lambda target, **kw: started.append(kw))

    refused = CliRunner().invoke(cli, ["serve", *options])
    assert refused.exit_code == 2 and started == []
    assert "未配置密钥 RECTIFY_SECRET_KEY" in refused.output and told in refused.output
    assert "首次运行" not in refused.output  # refused before an admin was created

    monkeypatch.setenv("RECTIFY_SECRET_KEY", "k" * 64)
    allowed = CliRunner().invoke(cli, ["serve", *options])
    assert allowed.exit_code == 0, allowed.output
    assert [(kw["workers"], kw["host"]) for kw in started] == [started_with]
