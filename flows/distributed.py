"""Batches of one flow run spread over worker processes and machines: Dask, via prefect-dask.

The recheck and the sweep submit one Prefect task per id range to ``BatchTaskRunner``. It
connects to the Dask scheduler at ``RECTIFY_DASK_ADDRESS`` (``dask scheduler`` on one machine,
``dask worker tcp://host:8786`` on as many as wanted: each worker adds throughput), or, when
none is configured, starts a local cluster of ``RECTIFY_BATCH_WORKERS`` processes for the
flow run (the CPU count on PostgreSQL; on SQLite one worker thread in the flow's process, as
the database has one writer).

Each task runs in a Dask worker: Prefect's task engine reports it to the flow run's Prefect
API (taken from the flow run, so that the workers of a flow run without a configured server
report to its temporary server instead of each starting one), and the batch builds its
database access from the worker's own ``RECTIFY_*`` environment, once per process
(``worker_app``): an App is never sent over the wire.

A worker killed mid-batch: its transaction never committed; the scheduler runs the batch
again on another worker, and a batch rerun changes only what is still to change (verified
cases are no longer candidates, an escalation happens once per deadline).
"""

from __future__ import annotations

import gc
import logging
import os
import threading
from contextlib import nullcontext
from dataclasses import replace
from datetime import date
from typing import Any

from prefect.context import FlowRunContext
from prefect.settings import PREFECT_API_URL, temporary_settings
from prefect_dask import DaskTaskRunner

from services.bootstrap import App, build_app, resolve_clock
from services.core.settings import Settings, load_settings

#: Apps kept per worker process (one per distinct settings; tests change them).
_KEPT = 4
_apps: dict[str, App] = {}
_lock = threading.Lock()


def local_workers(settings: Settings) -> int:
    """Worker processes of a local cluster: ``batch_workers``, else the CPU count; 1 on SQLite."""
    if settings.database_url.startswith("sqlite"):
        return 1
    return settings.batch_workers or os.cpu_count() or 1


def worker_app(as_of: date | None) -> App:
    """This process's App for these settings, built once; its clock resolved per call (the
    day stored in the database may change between runs of a long-lived worker)."""
    settings = load_settings()
    key = settings.model_dump_json()
    with _lock:
        app = _apps.get(key)
        if app is None:
            while len(_apps) >= _KEPT:
                _apps.pop(next(iter(_apps))).close()
            app = _apps[key] = build_app(settings, as_of=as_of)
            # What lives as long as the worker (modules, mappers, the App) out of the cycle
            # collector's way: a full collection then walks only what batches allocate.
            gc.freeze()
    return replace(app, clock=resolve_clock(app.settings, app.engine, as_of=as_of))


class _ThreadTimeoutNotice(logging.Filter):
    """Drops Prefect's notice, once per task run, that a timeout in a worker thread cannot
    interrupt blocking calls: a batch's blocking calls are short database statements and
    checks with their own timeouts (``check_timeout_seconds``); between them the timeout does
    interrupt it. A thousand identical warnings per recheck would hide the ones that matter."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "running in a worker thread" not in str(record.msg)


logging.getLogger("prefect.task_runs").addFilter(_ThreadTimeoutNotice())


class BatchTaskRunner(DaskTaskRunner):
    """A ``DaskTaskRunner`` configured when the flow run starts, from the settings then."""

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self._api_url: str | None = None

    def duplicate(self) -> BatchTaskRunner:
        return type(self)()

    def __enter__(self) -> BatchTaskRunner:
        settings = load_settings()
        if not self._cluster and not self.address:
            if settings.dask_address:
                self.address = settings.dask_address
            else:
                workers = local_workers(settings)
                self.cluster_kwargs = {
                    "n_workers": workers,
                    "threads_per_worker": 1,
                    "processes": workers > 1,
                    "dashboard_address": None,
                    **self.cluster_kwargs,
                }
        return super().__enter__()

    def submit(self, task, parameters, wait_for=None, dependencies=None):
        """Submit with the flow run's API URL in the context the worker restores."""
        if self._api_url is None:
            self._api_url = _flow_run_api_url() or ""  # the flow run's context exists now
        pinned = temporary_settings({PREFECT_API_URL: self._api_url}) if self._api_url else None
        with pinned or nullcontext():
            return super().submit(task, parameters, wait_for, dependencies)


def _flow_run_api_url() -> str | None:
    """The API the flow run reports to: the configured one, else its temporary server's."""
    if PREFECT_API_URL.value():
        return None  # already in the settings every worker restores
    context = FlowRunContext.get()
    client = context.client if context else None
    url = str(client.api_url) if client is not None else ""
    return url if url.startswith("http") else None
