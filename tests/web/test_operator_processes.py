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
import threading
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
        assert server.poll() is None, "uvicorn exited before it answered /healthz"
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise AssertionError("uvicorn did not answer /healthz within 90 s")


async def burst(base: str, start: int = 0) -> list[httpx.Response]:
    """REQUESTS sign-in pages at once, each on a connection of its own, each with its id."""

    async def one(i: int) -> httpx.Response:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            return await client.get("/login", headers={"X-Request-ID": f"burst-{i}"})

    return list(await asyncio.gather(*(one(i) for i in range(start, start + REQUESTS))))


def login_access(lines: list[str]) -> list[dict]:
    """The JSON access-log entries of the sign-in page among stderr's lines so far."""
    entries = [json.loads(line) for line in list(lines) if line.startswith("{")]
    return [e for e in entries if e["logger"] == "uvicorn.access" and "/login" in e["message"]]


def test_two_processes_are_counted_together_and_log_json_lines_with_request_ids(app, tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(app, tmp_path, port)
    stderr: list[str] = []
    reader = threading.Thread(
        target=lambda: stderr.extend(line.decode() for line in server.stderr), daemon=True
    )
    reader.start()
    answers: list[httpx.Response] = []
    try:
        wait_ready(base, server)
        # The kernel decides which process accepts a connection; one burst may all land on one
        # of them. Burst again (at most 20 times) until both processes have logged a sign-in.
        for _ in range(20):
            answers += asyncio.run(burst(base, start=len(answers)))
            time.sleep(0.2)
            if len({e["pid"] for e in login_access(stderr)}) >= 2:
                break
        scraped = httpx.get(f"{base}/metrics", timeout=30)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
        reader.join(timeout=30)

    sent = {f"burst-{i}" for i in range(len(answers))}
    assert [a.status_code for a in answers] == [200] * len(answers)
    assert {a.headers["x-request-id"] for a in answers} == sent
    count = "rectify_http_request_duration_seconds_count"
    assert sample(scraped.text, count, method="GET", route="/login", status="200") == len(sent)

    lines = [json.loads(line) for line in stderr if line.startswith("{")]
    access = login_access(stderr)
    assert sorted(e["request_id"] for e in access) == sorted(sent)
    serving = {e["pid"] for e in access}
    assert len(serving) == 2, f"every request was answered by one process: {serving}"
    assert all({"time", "level", "message"} <= e.keys() for e in lines)
