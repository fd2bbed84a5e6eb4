"""Two real uvicorn processes: /metrics counts the requests of both, logs are JSON with ids.

``PROMETHEUS_MULTIPROC_DIR`` set: each process writes its histogram to the directory and a
scrape (answered by either process) sums them. ``RECTIFY_LOG_FORMAT=json``: every access
line on stderr is one JSON object carrying the request's ``X-Request-ID`` and its process.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support.mailserver import free_port
from tests.web.test_operator_endpoints import sample

ROOT = Path(__file__).resolve().parents[2]
REQUESTS = 40


def start_server(app, tmp_path: Path, port: int) -> subprocess.Popen:
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RECTIFY_", "PREFECT_API"))}
    env.update(
        PYTHONPATH=str(ROOT),
        RECTIFY_DATABASE_URL=app.settings.database_url,
        RECTIFY_DATA_DIR=str(tmp_path / "data"),
        RECTIFY_SECRET_KEY="shared-by-both-processes",
        RECTIFY_LOG_FORMAT="json",
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
    )
    command = [sys.executable, "-m", "uvicorn", "web.asgi:make_app", "--factory",
               "--workers", "2", "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
    return subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        start_new_session=True,
    )  # fmt: skip


def wait_ready(base: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert server.poll() is None, server.stderr.read().decode()
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise AssertionError("uvicorn did not answer /healthz within 90 s")


async def burst(base: str) -> list[httpx.Response]:
    """REQUESTS sign-in pages at once, each on a connection of its own, each with its id."""

    async def one(i: int) -> httpx.Response:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            return await client.get("/login", headers={"X-Request-ID": f"burst-{i}"})

    return await asyncio.gather(*(one(i) for i in range(REQUESTS)))


def test_two_processes_are_counted_together_and_log_json_lines_with_request_ids(app, tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(app, tmp_path, port)
    try:
        wait_ready(base, server)
        answers = asyncio.run(burst(base))
        scraped = httpx.get(f"{base}/metrics", timeout=30)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        _, stderr = server.communicate(timeout=60)

    assert [a.status_code for a in answers] == [200] * REQUESTS
    assert {a.headers["x-request-id"] for a in answers} == {f"burst-{i}" for i in range(REQUESTS)}
    count = "rectify_http_request_duration_seconds_count"
    assert sample(scraped.text, count, method="GET", route="/login", status="200") == REQUESTS

    lines = [json.loads(line) for line in stderr.decode().splitlines() if line.startswith("{")]
    access = [e for e in lines if e["logger"] == "uvicorn.access" and "/login" in e["message"]]
    assert sorted(e["request_id"] for e in access) == sorted(f"burst-{i}" for i in range(REQUESTS))
    serving = {e["pid"] for e in access}
    assert len(serving) == 2, f"every request was answered by one process: {serving}"
    assert all({"time", "level", "message"} <= e.keys() for e in lines)
