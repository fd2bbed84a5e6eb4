"""ASGI factory for several server processes, settings from ``RECTIFY_*``.

``uvicorn --factory web.asgi:make_app --workers 4 --host 127.0.0.1 --port 8000`` behind a
reverse proxy; each process removes upload temporaries a killed process left in the
attachment folder at start (``rectify serve`` runs this too).

Several processes, or a process listening beyond loopback, need ``RECTIFY_SECRET_KEY`` (the
same on every process): without it each process would sign cookies with a key of its own.
The factory refuses to build the app then, and uvicorn stops: a worker that exits with
uvicorn's start-up failure code stops its parent too.
"""

from __future__ import annotations

import logging
import os
import sys

import uvicorn
from fastapi import FastAPI
from uvicorn.config import STARTUP_FAILURE

from services.access.web_processes import key_refusal, loopback
from services.bootstrap import build_app
from services.cases import submissions
from web.app import create_app

log = logging.getLogger("uvicorn.error")


def make_app() -> FastAPI:
    """One server process's web app on the configured database."""
    application = build_app()
    workers, local, where = serving()
    refusal = key_refusal(
        application.settings.secret_key, workers=workers, local=local, where=where
    )
    if refusal:
        application.close()
        log.error("%s", refusal)
        sys.exit(STARTUP_FAILURE)
    submissions.remove_stale_incoming(application.settings)
    return create_app(application)


def serving() -> tuple[int, bool, str]:
    """(worker processes, listening on this machine only, where) of the server loading us.

    uvicorn calls the factory from its ``Config.load``: that config is the truth whether it
    came from the command line, ``WEB_CONCURRENCY`` or ``uvicorn.run(...)`` (``rectify
    serve``). Another server: ``WEB_CONCURRENCY`` processes, the address not known.
    """
    frame = sys._getframe(1)
    while frame is not None:
        config = frame.f_locals.get("self")
        if isinstance(config, uvicorn.Config):
            if config.uds:
                return config.workers, True, config.uds
            if config.fd is not None:
                return config.workers, False, f"文件描述符 {config.fd}"
            return config.workers, loopback(config.host), config.host
        frame = frame.f_back
    return int(os.environ.get("WEB_CONCURRENCY") or 1), True, "未知地址"
