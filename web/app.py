"""The app factory: builds the FastAPI app around an already-built ``services`` App."""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from services.access import users
from services.access.login_throttle import LoginThrottle
from services.bootstrap import App
from services.core import logs
from web import errors, limits, observe, prefect_status, security
from web.routes import (
    api_v1,
    auth,
    cases,
    categories,
    dashboard,
    docs,
    favicon,
    health,
    issuers,
    portal,
    publishing,
    registry,
    round_notice,
)
from web.templating import make_templates

HERE = Path(__file__).resolve().parent
SESSION_HOURS = 8


def create_app(app: App) -> FastAPI:
    """One web app per services App; nothing is created at import time."""
    settings = app.settings
    web = FastAPI(
        title="rectify 整改案件 API",
        version="1",
        docs_url=None,  # the default Swagger UI loads its assets from a CDN: see web.routes.docs
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    logs.configure(settings.log_format)  # RECTIFY_LOG_FORMAT=json: JSON lines with request ids
    web.state.rectify = app
    web.state.prefect = prefect_status.PrefectStatus()  # /readyz, /metrics
    web.state.templates = make_templates(HERE / "templates", clock=app.clock)
    web.state.throttle = LoginThrottle(  # counted in the database: shared by every process
        app.session_factory,
        max_failures=settings.login_max_failures,
        window=timedelta(minutes=settings.login_window_minutes),
    )
    users.dummy_hash()  # made now, so the first unknown name at sign-in costs what others do
    limits.install(web, settings)  # inside the session, before anything reads a body
    web.add_middleware(
        SessionMiddleware,
        # Without a configured key, sessions last as long as the process (never a fixed key);
        # web.asgi refuses several processes, or an address beyond loopback, without one.
        secret_key=settings.secret_key or secrets.token_hex(32),
        session_cookie="rectify_session",
        max_age=SESSION_HOURS * 3600,
        same_site="lax",
        https_only=settings.base_url.startswith("https://"),
    )
    web.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for router in (
        auth.router,
        dashboard.router,
        cases.router,
        registry.router,
        categories.router,
        publishing.router,
        issuers.router,
        round_notice.router,
        portal.router,
        api_v1.router,
        docs.router,
        favicon.router,
        health.router,
    ):
        web.include_router(router)
    errors.install(web)
    web.state.request_metrics = observe.install(web)  # X-Request-ID, latency histogram
    security.install(web)  # outermost: every response, a 500 page too, carries the headers
    return web
