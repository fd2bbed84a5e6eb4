"""What an operator's tools ask: ``/healthz``, ``/readyz`` and ``/metrics``.

- ``/healthz``: the process is up and answers (no database): 200 ``{"status": "ok"}``.
- ``/readyz``: the database answers, its schema is at the code's newest migration, and the
  Prefect API answers where ``PREFECT_API_URL`` is given: 200, or 503 with a JSON body
  naming each check that failed and why (in Chinese).
- ``/metrics``: Prometheus text. With ``RECTIFY_METRICS_TOKEN`` set it asks for
  ``Authorization: Bearer <token>`` (401 otherwise); without, it answers only requests from
  loopback that no reverse proxy forwarded (403 otherwise): a scraper on the same machine, or
  anything with the token.
"""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Callable
from typing import TypeVar

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from services.ops import health, metrics
from web import prefect_status

router = APIRouter(include_in_schema=False)
CHECK_SECONDS = 5.0
FORWARDED = (b"x-forwarded-for", b"forwarded", b"x-real-ip")
T = TypeVar("T")


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    app = request.app.state.rectify
    checks: dict[str, str | None] = {
        "database": await _in_thread(lambda: health.database_problem(app.engine)),
    }
    if checks["database"] is None:
        checks["migrations"] = await _in_thread(lambda: health.migrations_problem(app.engine))
    else:
        checks["migrations"] = "数据库无法连接，未能检查结构版本"
    if prefect_status.api_url():
        checks["prefect"] = await request.app.state.prefect.problem()
    failed = [name for name, problem in checks.items() if problem]
    body = {
        "status": "unavailable" if failed else "ready",
        "failed": failed,
        "checks": {name: problem or "ok" for name, problem in checks.items()},
    }
    if not prefect_status.api_url():
        body["checks"]["prefect"] = "未配置（PREFECT_API_URL 为空），未检查"
    return JSONResponse(body, status_code=503 if failed else 200)


@router.get("/metrics")
async def metrics_page(request: Request) -> Response:
    refusal = _refusal(request)
    if refusal is not None:
        return refusal
    app = request.app.state.rectify
    registry = CollectorRegistry(auto_describe=True)
    families: list[GaugeMetricFamily] = []
    figures = await _in_thread(lambda: _figures(app))
    families += _work_families(figures if isinstance(figures, metrics.WorkFigures) else None)
    if prefect_status.api_url():
        families += _flow_families(await request.app.state.prefect.failures())
    registry.register(_Families(families))
    request.app.state.request_metrics.add_to(registry)
    return PlainTextResponse(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


def _refusal(request: Request) -> Response | None:
    token = request.app.state.rectify.settings.metrics_token
    if token:
        given = request.headers.get("authorization", "")
        if secrets.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return None
        return PlainTextResponse(
            "访问 /metrics 需要令牌（Authorization: Bearer …）\n",
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    forwarded = any(name in FORWARDED for name, _ in request.scope.get("headers", []))
    if not forwarded and _is_loopback(request.client.host if request.client else ""):
        return None
    return PlainTextResponse(
        "/metrics 只回答本机的直接请求；从其他机器或经反向代理抓取请设置 RECTIFY_METRICS_TOKEN\n",
        status_code=403,
    )


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def _in_thread(work: Callable[[], T]) -> T | str:
    """Run blocking work in a thread; a timeout is reported as a problem, not awaited for ever."""
    with anyio.move_on_after(CHECK_SECONDS):
        return await anyio.to_thread.run_sync(work, abandon_on_cancel=True)
    return f"{CHECK_SECONDS:.0f} 秒内没有回答"


def _figures(app) -> metrics.WorkFigures | None:
    try:
        with app.uow() as uow:
            return metrics.read(uow)
    except Exception:  # the database is down: /metrics still answers, saying so
        return None


class _Families(Collector):
    """Metric families computed for one scrape."""

    def __init__(self, families: list[GaugeMetricFamily]):
        self.families = families

    def collect(self):
        return iter(self.families)


def _gauge(name: str, documentation: str, value: float | None = None, labels=()):
    return GaugeMetricFamily(name, documentation, value=value, labels=list(labels) or None)


def _work_families(figures: metrics.WorkFigures | None) -> list[GaugeMetricFamily]:
    """The cases and the outbox; only ``rectify_database_up 0`` when the database is down."""
    up = _gauge(
        "rectify_database_up", "1 when the database answered this scrape", 1 if figures else 0
    )
    if figures is None:
        return [up]
    cases = _gauge("rectify_cases", "Cases by state (live counters)", labels=["state"])
    for state, n in sorted(figures.cases_by_state.items()):
        cases.add_metric([state], n)
    outbox = _gauge("rectify_outbox_messages", "Outbox messages by status", labels=["status"])
    for status, n in sorted(figures.outbox_by_status.items()):
        outbox.add_metric([status], n)
    return [
        up,
        cases,
        _gauge("rectify_cases_overdue", "Open cases past their deadline", figures.overdue),
        outbox,
        _gauge(
            "rectify_outbox_waiting",
            "Outbox messages not delivered yet (pending or being sent)",
            figures.outbox_waiting,
        ),
        _gauge(
            "rectify_outbox_oldest_waiting_seconds",
            "Age of the oldest message not delivered yet (0: none waits)",
            figures.outbox_oldest_waiting_seconds,
        ),
    ]


def _flow_families(failures: prefect_status.FlowFailures) -> list[GaugeMetricFamily]:
    """The Prefect API's answer (only asked where PREFECT_API_URL is given)."""
    up = _gauge(
        "rectify_prefect_api_up",
        "1 when the Prefect API answered the last question about flow runs",
        0 if failures.error else 1,
    )
    failed = _gauge(
        "rectify_flow_runs_failed",
        "Failed or crashed flow runs of each rectify deployment expected to start in the last 24 h",
        labels=["deployment"],
    )
    for deployment, n in sorted(failures.by_deployment.items()):
        failed.add_metric([deployment], n)
    return [up, failed]
