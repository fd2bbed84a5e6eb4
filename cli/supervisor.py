"""``rectify up``: a local Prefect server, the worker and the web app as child processes.

Every child runs on one clock: the day stored in the database (``rectify clock``), which
each reads at start, or the ``--as-of`` given to ``rectify up``, handed to all of them as
``RECTIFY_AS_OF``."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from cli.context import STATE, console, err_console, open_app
from cli.deployments import PREFECT_DEFAULTS

STARTUP_TIMEOUT = 90
STOP_TIMEOUT = 20

#: The local Prefect server's housekeeping, unless the environment says otherwise: flow runs
#: (dispatch alone makes 1,440 a day) and their logs are deleted 30 days after they ended; events
#: are kept Prefect's default 7 days. Prefect's own settings (prefect.settings.models.server).
RETENTION = {
    "PREFECT_SERVER_SERVICES_DB_VACUUM_ENABLED": "events,flow_runs",
    "PREFECT_SERVER_SERVICES_DB_VACUUM_RETENTION_PERIOD": str(30 * 24 * 3600),
}


def prefect_env(port: int, data_dir: Path) -> dict[str, str]:
    """Environment of every child: Prefect's home, database and API under the data directory's
    prefect/, the retention of old runs, ``services.*`` logs in the UI, and the day of
    ``rectify --as-of DAY up`` for the web app, the worker and every flow run alike."""
    home = data_dir / "prefect"
    home.mkdir(parents=True, exist_ok=True)
    env = RETENTION | PREFECT_DEFAULTS | os.environ
    env |= {
        "PREFECT_HOME": str(home),
        "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{home / 'prefect.db'}",
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "RECTIFY_DATA_DIR": str(data_dir),
    }
    if STATE.as_of is not None:
        env["RECTIFY_AS_OF"] = STATE.as_of.isoformat()
    return env


def _bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def _wait_healthy(port: int, server: subprocess.Popen) -> bool:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    return False


def _start(command: list[str], env: dict[str, str]) -> subprocess.Popen:
    """A child in a process group of its own, so stopping it stops what it started too."""
    return subprocess.Popen(command, env=env, start_new_session=True)


def _signal_group(child: subprocess.Popen, sig: signal.Signals) -> None:
    try:
        os.killpg(child.pid, sig)
    except ProcessLookupError:
        pass


def _stop(children: list[tuple[str, subprocess.Popen]]) -> None:
    """Stop each child and its process group (last started first); kill what does not stop."""
    for name, child in reversed(children):
        console.print(f"正在停止{name}……", highlight=False)
        _signal_group(child, signal.SIGINT)
        try:
            child.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        _signal_group(child, signal.SIGKILL)  # a flow run still going, a server's helpers


def _interrupt(_signum, _frame) -> None:
    raise KeyboardInterrupt


def run_all(*, prefect_port: int, web_port: int) -> int:
    """Start everything, wait until Ctrl-C or a child dies, stop everything; the exit code."""
    with open_app() as application:
        console.print(application.clock.describe(), highlight=False)
        env = prefect_env(prefect_port, application.settings.data_dir.resolve())
    console.print(f"数据目录：{env['RECTIFY_DATA_DIR']}", highlight=False)
    children: list[tuple[str, subprocess.Popen]] = []
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        server = _start(
            [
                _bin("prefect"),
                "server",
                "start",
                "--host",
                "127.0.0.1",
                "--port",
                str(prefect_port),
            ],
            env,
        )
        children.append(("Prefect 服务", server))
        if not _wait_healthy(prefect_port, server):
            err_console.print("[red]Prefect 服务未能启动[/red]", highlight=False)
            return 1
        console.print(f"Prefect 界面：http://127.0.0.1:{prefect_port}/", highlight=False)
        children.append(("流程执行器", _start([_bin("rectify"), "worker"], env)))
        if importlib.util.find_spec("web") is not None:
            web = _start([_bin("rectify"), "serve", "--port", str(web_port)], env)
            children.append(("监管工作台", web))
        console.print("全部已启动；按 Ctrl-C 停止", highlight=False)
        while all(child.poll() is None for _, child in children):
            time.sleep(1)
        dead = [name for name, child in children if child.poll() is not None]
        err_console.print(f"[red]{'、'.join(dead)}已退出，正在停止其余进程[/red]", highlight=False)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        _stop(children)
