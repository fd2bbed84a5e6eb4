"""The Prefect API as ``/readyz`` and ``/metrics`` see it: reachable, and the failed runs.

Only where the web process is given ``PREFECT_API_URL`` (the same server the workers use):
without it Prefect would start a temporary server of its own, so nothing is asked and the
figures are left out. Prefect is imported on first use, in a thread (it takes a second);
every question has a short timeout, and the answers are kept a few seconds, so a scrape
every 15 s asks the server at most once per process.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import anyio

#: Deployments counted: those of prefect.yaml carry this tag.
TAG = "rectify"
#: Failed and crashed flow runs counted over this window (by expected start time).
WINDOW = timedelta(hours=24)
TIMEOUT_SECONDS = 3.0
KEEP_SECONDS = 10.0


def api_url() -> str | None:
    """The Prefect API this process is configured with (``PREFECT_API_URL``), if any."""
    return os.environ.get("PREFECT_API_URL") or None


@dataclass
class FlowFailures:
    """Failed or crashed runs per rectify deployment in the window; ``error`` when the API
    could not be asked (then ``by_deployment`` is empty)."""

    by_deployment: dict[str, int] = field(default_factory=dict)
    error: str | None = None


@dataclass
class PrefectStatus:
    """One process's cached view of the Prefect API."""

    _at: float = -1e9
    _failures: FlowFailures | None = None
    _lock: asyncio.Lock | None = None

    async def problem(self) -> str | None:
        """None when the API answers its health check in time; else why not (Chinese)."""
        await _import_prefect()  # not timed: a second, once per process
        try:
            failed = await asyncio.wait_for(_healthcheck(), TIMEOUT_SECONDS)
        except Exception as exc:  # a timeout, a bad URL
            failed = exc
        if failed is None:
            return None
        detail = str(failed).strip().splitlines()[0] if str(failed).strip() else ""
        return f"Prefect API（{api_url()}）无法访问：{type(failed).__name__} {detail}"[:300]

    async def failures(self) -> FlowFailures:
        """The failed runs, asked at most once every ``KEEP_SECONDS``."""
        self._lock = self._lock or asyncio.Lock()
        async with self._lock:
            if self._failures is None or time.monotonic() - self._at > KEEP_SECONDS:
                await _import_prefect()
                try:
                    found = await asyncio.wait_for(_count_failures(), TIMEOUT_SECONDS)
                    self._failures = FlowFailures(by_deployment=found)
                except Exception as exc:
                    self._failures = FlowFailures(error=f"{type(exc).__name__}: {exc}"[:300])
                self._at = time.monotonic()
            return self._failures


async def _import_prefect() -> None:
    await anyio.to_thread.run_sync(__import__, "prefect.client.orchestration")


def _client():
    """A client of the configured API itself: never a server another part of this process
    set in Prefect's settings context (a test harness, a temporary server)."""
    from prefect.client.orchestration import PrefectClient

    return PrefectClient(api=api_url())


async def _healthcheck() -> Exception | None:
    async with _client() as client:
        return await client.api_healthcheck()


async def _count_failures() -> dict[str, int]:
    from prefect.client.schemas import filters as f
    from prefect.client.schemas.objects import StateType

    since = datetime.now(UTC) - WINDOW
    failed = f.FlowRunFilter(
        state=f.FlowRunFilterState(
            type=f.FlowRunFilterStateType(any_=[StateType.FAILED, StateType.CRASHED])
        ),
        expected_start_time=f.FlowRunFilterExpectedStartTime(after_=since),
    )
    async with _client() as client:
        deployments = await client.read_deployments(
            deployment_filter=f.DeploymentFilter(tags=f.DeploymentFilterTags(all_=[TAG]))
        )
        result = {}
        for deployment in deployments:
            result[deployment.name] = await client.count_flow_runs(
                flow_run_filter=failed,
                deployment_filter=f.DeploymentFilter(id=f.DeploymentFilterId(any_=[deployment.id])),
            )
    return result
