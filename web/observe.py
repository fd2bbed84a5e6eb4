"""Every request gets an id and is timed: ``X-Request-ID`` and the latency histogram.

An ``X-Request-ID`` the client (or the reverse proxy) sends is kept when it is a plain token
(letters, digits, ``._:-``, at most 64); otherwise one is made. It is in the response's header
and in every log line written while the request is answered (``services.core.logs``).

The histogram is labelled by the route's template (``/cases/{case_id}``), never the path a
visitor typed, so its series stay few. With several server processes
(``uvicorn --workers N``) each process counts its own requests; set
``PROMETHEUS_MULTIPROC_DIR`` to an empty directory (the same for every process, emptied
before the server starts) and ``/metrics`` sums them all (prometheus-client's multiprocess
mode).
"""

from __future__ import annotations

import os
import re
import time
import uuid

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.core.logs import REQUEST_ID

HEADER = "X-Request-ID"
_VALID_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def multiprocess_dir() -> str | None:
    """prometheus-client's multiprocess directory, when this process is one of several."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class RequestMetrics:
    """The request-latency histogram of one web app."""

    def __init__(self) -> None:
        self.latency = Histogram(
            "rectify_http_request_duration_seconds",
            "Time to answer a request, by method, route template and status",
            ["method", "route", "status"],
            buckets=BUCKETS,
            registry=None,
        )

    def add_to(self, registry: CollectorRegistry) -> None:
        """Put the request metrics of this process (or of every process) in ``registry``."""
        directory = multiprocess_dir()
        if directory:
            MultiProcessCollector(registry, path=directory)
        else:
            registry.register(self.latency)


def request_id_from(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            given = value.decode("latin-1")
            if _VALID_ID.fullmatch(given):
                return given
            break
    return uuid.uuid4().hex


def route_of(scope: Scope) -> str:
    """The matched route's template, ``unmatched`` for a path no route serves."""
    route = scope.get("route")
    return getattr(route, "path", None) or "unmatched"


class Observe:
    """ASGI middleware: the request id (context, header) and the timing of every request."""

    def __init__(self, app: ASGIApp, metrics: RequestMetrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(scope)
        token = REQUEST_ID.set(request_id)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self.metrics.latency.labels(scope["method"], route_of(scope), str(status)).observe(
                time.perf_counter() - started
            )
            REQUEST_ID.reset(token)


def install(web: FastAPI) -> RequestMetrics:
    """Wrap the app's whole middleware stack (inside the security headers, outside the error
    pages), so a 500 answer is timed and carries its id too."""
    metrics = RequestMetrics()
    build = web.build_middleware_stack

    def build_observed() -> ASGIApp:
        return Observe(build(), metrics)

    web.build_middleware_stack = build_observed  # type: ignore[method-assign]
    return metrics
