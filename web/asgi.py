"""ASGI factory for several server processes, settings from ``RECTIFY_*``.

``uvicorn --factory web.asgi:make_app --workers 4 --host 127.0.0.1 --port 8000`` behind a
reverse proxy; each process removes upload temporaries a killed process left in the
attachment folder at start (``rectify serve`` runs this too).
"""

from __future__ import annotations

from fastapi import FastAPI

from services.bootstrap import build_app
from services.cases import submissions
from web.app import create_app


def make_app() -> FastAPI:
    """One server process's web app on the configured database."""
    application = build_app()
    submissions.remove_stale_incoming(application.settings)
    return create_app(application)
