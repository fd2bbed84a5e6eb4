"""The quarter's Prefect server: started once, before the first stage, as production runs one.

Its own PostgreSQL database (asyncpg, as Prefect requires), its home under the quarter's
work folder. Every flow a stage runs reports to it through ``PREFECT_API_URL``; the server is
a child process alive before the stages, so each stage's meter counts the CPU it spends
serving that stage's runs, but not its start-up.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

START_SECONDS = 240
SETTINGS = {
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW": "ignore",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def prefect_server(base_url: str, home: Path) -> Iterator[dict[str, str]]:
    """Yield the environment a flow needs to report to the running server."""
    name = f"rectify_national_prefect_{uuid.uuid4().hex[:8]}"
    admin_url = make_url(base_url).set(database="postgres").render_as_string(hide_password=False)
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    database = (
        make_url(base_url)
        .set(drivername="postgresql+asyncpg", database=name)
        .render_as_string(hide_password=False)
    )
    port = _free_port()
    home.mkdir(parents=True, exist_ok=True)
    env = {**SETTINGS, "PREFECT_HOME": str(home)}
    prefect = str(Path(sys.executable).with_name("prefect"))
    server = subprocess.Popen(
        [prefect, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=os.environ | env | {"PREFECT_API_DATABASE_CONNECTION_URL": database},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    api = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"the Prefect server exited with {server.returncode}")
            try:
                if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the Prefect server did not answer within {START_SECONDS} s")
            time.sleep(0.5)
        yield {**env, "PREFECT_API_URL": api}
    finally:
        try:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(60)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(server.pid, signal.SIGKILL)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
