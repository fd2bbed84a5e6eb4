"""Web latency with 1,000,000 cases on SQLite: the case list (first and deep keyset page) and
the dashboard, requested by concurrent clients over loopback from a real ``rectify serve``.

Baselines in the same run: the same pages through the service call alone (no HTTP, no
template), the deep page fetched with OFFSET instead of a keyset cursor, and the dashboard
through the service call alone (it is live: computed at each request from the counters,
``services.db.counts``, which the load recounts since it writes cases behind the services).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import insert, select

from services.access import users
from services.bootstrap import App
from services.cases import queries
from services.core.clock import SHANGHAI, Clock
from services.core.settings import Settings
from services.db import counts
from services.db.engine import make_engine, make_session_factory
from services.db.migrate import upgrade
from services.db.models import Case, Category, Round, Target, Unit, Verdict
from services.registry.catalogue import ensure_seeded
from services.reports import dashboard as board_service

CASES = 1_000_000
ROUNDS = ("2020Q4", "2021Q1", "2021Q2", "2021Q3")
COUNTIES, DEPTS_PER_COUNTY, TARGETS = 20, 9, 20_000
STATES = ("verified", "verified", "notified", "rectifying", "submitted", "escalated", "found")
CLIENTS, REQUESTS = 4, 200
AS_OF = date(2021, 10, 20)
NOW = datetime(2021, 10, 20, 9, 0, tzinfo=SHANGHAI)
TARGETS_MS = {"list_p95": 100, "deep_page_p95": 100, "dashboard_p95": 300}
LIST = "/cases?state=notified&round=2021Q3"


def _settings(path: Path) -> Settings:
    return Settings(database_url=f"sqlite:///{path}", data_dir=path.parent / "data")


def _app(path: Path) -> App:
    settings = _settings(path)
    engine = make_engine(settings.database_url)
    return App(settings, engine, make_session_factory(engine), Clock(AS_OF))


def _prepare(path: Path, n: int) -> None:
    """Units (a city, counties, departments), targets, rounds, verdicts and ``n`` cases."""
    upgrade(make_engine(f"sqlite:///{path}"))
    app = _app(path)
    with app.uow() as uow:
        ensure_seeded(uow)
        users.create_user(uow, username="bench", role="admin", password="bench-password")
        uow.commit()
    with app.engine.begin() as conn:
        categories = list(conn.scalars(select(Category.code).order_by(Category.code)))
        conn.execute(insert(Round.__table__), [_round(code) for code in ROUNDS])
        units = [{"code": "city", "name": "市政府", "kind": "city_gov", "path": "/city/"}]
        for c in range(COUNTIES):
            units.append(
                {"code": f"c{c}", "name": f"县{c}", "kind": "county_gov", "path": f"/city/c{c}/"}
            )
            units += [
                {
                    "code": f"c{c}d{d}",
                    "name": f"县{c}部门{d}",
                    "kind": "city_dept",
                    "path": f"/city/c{c}/c{c}d{d}/",
                }
                for d in range(DEPTS_PER_COUNTY)
            ]
        conn.execute(insert(Unit.__table__), [{**u, "synthetic": True} for u in units])
        kinds = ("website", "column", "new_media")
        conn.execute(
            insert(Target.__table__),
            [
                {
                    "code": f"t{i}",
                    "unit_id": i % len(units) + 1,
                    "kind": kinds[i % 3],
                    "name": f"对象{i}",
                    "status": "operating",
                    "synthetic": True,
                }
                for i in range(TARGETS)
            ],
        )
        conn.execute(
            insert(Verdict.__table__),
            [
                {"round_id": r + 1, "target_id": t + 1, "inspected": True}
                for r in range(len(ROUNDS))
                for t in range(0, TARGETS, 4)
            ],
        )
        per_chunk = 50_000
        for start in range(0, n, per_chunk):
            conn.execute(
                insert(Case.__table__),
                [_case(i, categories, len(units)) for i in range(start, min(n, start + per_chunk))],
            )
        conn.exec_driver_sql("ANALYZE")
    with app.uow() as uow:
        counts.recount(uow.session)  # the cases were written behind the services' back
        uow.commit()
    app.close()


def _round(code: str) -> dict:
    year, quarter = int(code[:4]), int(code[-1])
    start = date(year, 3 * quarter - 2, 1)
    return {
        "code": code,
        "period_start": start,
        "period_end": start + timedelta(days=89),
        "deadline": start + timedelta(days=120),
        "notice_texts": {},
    }


def _case(i: int, categories: list[str], units: int) -> dict:
    round_index = i % len(ROUNDS)
    target = (i // len(ROUNDS)) % TARGETS
    state = STATES[i % len(STATES)] if round_index == len(ROUNDS) - 1 else "verified"
    deadline = date(2021, 10, 10) if i % 3 else date(2021, 11, 10)
    return {
        "round_id": round_index + 1,
        "target_id": target + 1,
        "unit_id": target % units + 1,
        "category_code": categories[i // (len(ROUNDS) * TARGETS)],
        "severity": "veto" if i % 5 == 0 else "deduction",
        "description": f"问题描述{i}",
        "evidence": {},
        "source": "bench",
        "state": state,
        "deadline": None if state == "found" else deadline,
        "escalation_level": 1 if state == "escalated" else 0,
        "notices_city": 0 if state == "found" else 1,
        "notices_province": 0,
        "synthetic": True,
        "created_at": NOW,
        "updated_at": NOW,
        "version": 1,
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(path: Path, port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "RECTIFY_DATABASE_URL": f"sqlite:///{path}",
        "RECTIFY_DATA_DIR": str(path.parent / "data"),
        "RECTIFY_SECRET_KEY": "bench",
    }
    command = [sys.executable, "-c", "from cli.main import app; app()", "--as-of"]
    server = subprocess.Popen(
        [*command, AS_OF.isoformat(), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/login", timeout=1)
            return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("the web server did not start")


def _client(base: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30)
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = client.post(
        "/login", data={"username": "bench", "password": "bench-password", "csrf_token": token}
    )
    assert response.status_code == 303, response.text
    return client


def _load(base: str, paths: list[str], *, clients: int, requests: int) -> dict:
    """``clients`` threads share ``requests`` GETs of ``paths`` (round robin); latencies in ms."""
    sessions = [_client(base) for _ in range(clients)]
    latencies: list[float] = []
    lock = threading.Lock()
    counter = iter(range(requests))

    def worker(client: httpx.Client) -> None:
        for i in counter:
            started = time.perf_counter()
            response = client.get(paths[i % len(paths)])
            elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == 200, response.status_code
            with lock:
                latencies.append(elapsed)

    threads = [threading.Thread(target=worker, args=(s,)) for s in sessions]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    for s in sessions:
        s.close()
    return _summary(latencies, wall)


def _summary(latencies: list[float], wall: float | None = None) -> dict:
    ordered = sorted(latencies)
    result = {
        "requests": len(ordered),
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 1),
        "max_ms": round(ordered[-1], 1),
    }
    if wall:
        result["per_second"] = round(len(ordered) / wall, 1)
    return result


def _deep_cursor(base: str, *, pages: int) -> str:
    """Follow the list's own next links ``pages`` deep; returns that page's path."""
    client = _client(base)
    path = LIST
    for _ in range(pages):
        found = re.search(r'href="(/cases\?[^"]*cursor=[^"]*)"', client.get(path).text)
        path = found.group(1).replace("&amp;", "&")
    client.close()
    return path


def _timed(path: Path, work, *, runs: int) -> dict:
    app = _app(path)
    latencies = []
    for _ in range(runs):
        started = time.perf_counter()
        with app.uow() as uow:
            work(uow)
        latencies.append((time.perf_counter() - started) * 1000)
    app.close()
    return _summary(latencies)


def _filters(**extra) -> queries.CaseFilters:
    return queries.CaseFilters(state="notified", round_code="2021Q3", **extra)


def _offset_page(uow, *, offset: int) -> None:
    """The deep page as OFFSET would fetch it (the same joins and filters as page_cases)."""
    query = (
        queries.case_rows_query()
        .where(Case.state == "notified", Round.code == "2021Q3")
        .order_by(Case.id)
        .offset(offset)
        .limit(51)
    )
    uow.session.execute(query).all()


def run(scale: float = 1.0) -> dict:
    n = max(10_000, int(CASES * scale))
    folder = Path(tempfile.mkdtemp(prefix="rectify-bench-web-"))
    path = folder / "web.db"
    try:
        started = time.perf_counter()
        _prepare(path, n)
        prepare_seconds = round(time.perf_counter() - started, 1)
        port = _free_port()
        server = _serve(path, port)
        base = f"http://127.0.0.1:{port}"
        try:
            # The dashboard's first request after the start (figure below), then the lists.
            cold_client = _client(base)
            t0 = time.perf_counter()
            cold_client.get("/")
            dashboard_first_ms = round((time.perf_counter() - t0) * 1000, 1)
            cold_client.close()
            pages = min(200, n // 7 // 4 // 50 - 1)
            deep = _deep_cursor(base, pages=pages)
            cursor = parse_qs(urlsplit(deep).query)["cursor"][0]
            first = _load(base, [LIST], clients=CLIENTS, requests=REQUESTS)
            deep_page = _load(base, [deep], clients=CLIENTS, requests=REQUESTS)
            dashboard = _load(base, ["/"], clients=CLIENTS, requests=REQUESTS // 2)
        finally:
            server.terminate()
            server.wait(timeout=30)
        result = {
            "cases": n,
            "clients": CLIENTS,
            "prepare_seconds": prepare_seconds,
            "list_first_page": first,
            "list_deep_page": {**deep_page, "page": pages + 1},
            "dashboard": dashboard,
            "dashboard_first_request_ms": dashboard_first_ms,
            "baseline_service_first_page": _timed(
                path, lambda uow: queries.page_cases(uow, _filters(), size=50), runs=50
            ),
            "baseline_service_deep_page_keyset": _timed(
                path,
                lambda uow: queries.page_cases(uow, _filters(cursor=cursor), size=50),
                runs=50,
            ),
            "baseline_service_deep_page_offset": _timed(
                path, lambda uow: _offset_page(uow, offset=pages * 50), runs=20
            ),
            "baseline_service_dashboard": _timed(
                path, lambda uow: board_service.dashboard(uow), runs=20
            ),
            "targets_ms": TARGETS_MS,
        }
        result["targets_met"] = (
            first["p95_ms"] < TARGETS_MS["list_p95"]
            and deep_page["p95_ms"] < TARGETS_MS["deep_page_p95"]
            and dashboard["p95_ms"] < TARGETS_MS["dashboard_p95"]
        )
        return result
    finally:
        shutil.rmtree(folder, ignore_errors=True)
