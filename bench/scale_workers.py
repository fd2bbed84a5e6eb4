"""The Dask worker processes of ``bench scale``'s recheck runs, and what they measure.

The bench starts a cluster of N worker processes on this machine and points the flow at it
with ``RECTIFY_DASK_ADDRESS``: the code path of a deployment whose batches run on ``dask
worker`` processes (on one machine or several). The workers read their database from
``RECTIFY_*`` like any worker; each counts its batches and the time spent in
``counts.apply``, and can have the live counters turned off (``counters_off``).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

if not os.environ.get("PREFECT_API_URL"):
    # No server configured: the flow runs report to a temporary server of the bench's own
    # (a Prefect home shared with other processes may be locked by them).
    os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="rectify-bench-prefect-"))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")

#: This worker process's figures since it started.
_seen = {"batches": 0, "apply_seconds": 0.0}


def _instrument() -> None:
    """Time ``counts.apply`` and count batches in this worker process (once)."""
    from services.db import counts
    from services.rounds import rechecks

    if getattr(rechecks.recheck_range, "bench_counted", False):
        return
    real_apply, real_range = counts.apply, rechecks.recheck_range

    def timed(session, deltas) -> None:
        started = time.perf_counter()
        real_apply(session, deltas)
        _seen["apply_seconds"] += time.perf_counter() - started

    def counted(*args, **kwargs):
        _seen["batches"] += 1
        return real_range(*args, **kwargs)

    counted.bench_counted = True
    counts.apply, rechecks.recheck_range = timed, counted
    import flows.recheck  # noqa: F401  (imports paid before the run, not during it)


def counters_off() -> None:
    """``counts.apply`` and the batch path's per-case bookkeeping (``key``, ``moved``) as
    no-ops in this worker process: the batch path calls them through the module."""
    from services.db import counts

    counts.apply = counts.key = counts.moved = lambda *args: None


def worker_report() -> dict:
    return dict(_seen)


@contextmanager
def workers_cluster(url: str, workers: int) -> Iterator:
    """``workers`` Dask worker processes on ``url``, warmed up; the flow sent to them."""
    from distributed import Client, LocalCluster
    from prefect.client.orchestration import get_client

    env = {
        "RECTIFY_DATABASE_URL": url,
        "RECTIFY_SECRET_KEY": "bench",
        "RECTIFY_DATA_DIR": tempfile.gettempdir(),
    }
    saved = {k: os.environ.get(k) for k in (*env, "RECTIFY_DASK_ADDRESS")}
    os.environ.update(env)
    with get_client(sync_client=True) as prefect:  # the API up before the clock starts
        prefect.hello()
    cluster = LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
    )
    client = Client(cluster)
    try:
        client.run(_instrument)
        os.environ["RECTIFY_DASK_ADDRESS"] = cluster.scheduler_address
        yield client
    finally:
        client.close()
        cluster.close()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
