"""A national quarter's shared state: the plan, a fresh PostgreSQL database, the fixtures.

Stages (``bench/national/*.py``) take a ``Quarter`` and return ``Done`` (what they did);
the orchestrator (``bench/bench_national.py``) measures each with ``measure.Meter``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from prefect.settings import PREFECT_API_URL, temporary_settings
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.national import fixtures
from bench.national.plan import Plan
from bench.national.prefect_server import prefect_server
from services.bootstrap import App, build_app
from services.core.settings import Settings
from services.db.migrate import upgrade
from services.registry.catalogue import ensure_seeded

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
REACH_SAMPLES = 3
REACH_WINDOW_SECONDS = 2.0


@dataclass
class Done:
    """What a stage did: how many items of which unit, and anything worth reporting."""

    items: int
    unit: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class Quarter:
    plan: Plan
    workdir: Path
    database_url: str
    fixtures: fixtures.Fixtures
    env: dict[str, str] = field(default_factory=dict)  # for child processes (rectify …)
    facts: dict[str, Any] = field(default_factory=dict)  # stages leave results for later ones

    def settings(self, **overrides: Any) -> Settings:
        """Settings of every process of the quarter: this database, the loopback DNS."""
        return Settings(
            database_url=self.database_url,
            data_dir=self.workdir / "data",
            check_dns_nameservers=["127.0.0.1"],
            check_dns_port=self.fixtures.dns_port,
            check_reach_samples=REACH_SAMPLES,
            check_reach_window_seconds=REACH_WINDOW_SECONDS,
            **overrides,
        )

    def app(self, as_of: date | None = None, **overrides: Any) -> App:
        return build_app(self.settings(**overrides), as_of=as_of)

    @contextmanager
    def flow_env(self, **extra: str) -> Iterator[None]:
        """The quarter's ``RECTIFY_*`` (and ``extra``) in this process's environment while a
        flow runs here: it builds its App from the environment, as a worker does, and so do
        the Dask worker processes it starts. Restored afterwards."""
        from cli.deployments import prefect_defaults

        prefect_defaults()
        env = {"RECTIFY_SECRET_KEY": "bench-national", **self.env, **extra}
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            yield
        finally:
            _restore(saved)

    @property
    def excluded_pids(self) -> set[int]:
        """Processes standing in for the outside world: not the system's cost. The set itself
        (``facts["outside_pids"]``), so that a Meter holding it sees a sink a stage starts."""
        outside = self.facts.setdefault("outside_pids", set())
        outside.add(self.fixtures.process.pid)
        return outside


def _restore(saved: dict[str, str | None]) -> None:
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def drain_prefect(timeout: float = 60) -> None:
    """Send the logs and events this process has queued for the quarter's Prefect server
    while it still runs: once it is gone, their workers would retry against it at exit."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for service in (APILogWorker, EventsWorker):
        service.drain_all(timeout=timeout)


def _admin_url(url: str) -> str:
    return make_url(url).set(database="postgres").render_as_string(hide_password=False)


@contextmanager
def fresh_database(base_url: str | None = None) -> Iterator[str]:
    """A new, migrated PostgreSQL database; dropped afterwards."""
    base = base_url or os.environ.get("RECTIFY_TEST_PG_URL", DEFAULT_PG)
    name = f"rectify_national_{uuid.uuid4().hex[:8]}"
    admin = create_engine(_admin_url(base), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    try:
        app = build_app(Settings(database_url=url))
        upgrade(app.engine)
        with app.uow() as uow:  # the category catalogue's seed, as ``rectify db upgrade`` does
            ensure_seeded(uow)
            uow.commit()
        app.close()
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def open_quarter(scale: float, workdir: Path, *, base_url: str | None = None) -> Iterator[Quarter]:
    plan = Plan(scale)
    workdir.mkdir(parents=True, exist_ok=True)
    base = base_url or os.environ.get("RECTIFY_TEST_PG_URL", DEFAULT_PG)
    with fresh_database(base) as url, prefect_server(base, workdir / "prefect") as prefect:
        # Flows run in this process (and its Dask workers) report to the quarter's server.
        saved = {k: os.environ.get(k) for k in prefect}
        os.environ.update(prefect)
        served = fixtures.start(plan)
        try:
            quarter = Quarter(plan=plan, workdir=workdir, database_url=url, fixtures=served)
            quarter.env = {
                **prefect,
                "RECTIFY_DATABASE_URL": url,
                "RECTIFY_DATA_DIR": str(workdir / "data"),
                "RECTIFY_CHECK_DNS_NAMESERVERS": '["127.0.0.1"]',
                "RECTIFY_CHECK_DNS_PORT": str(served.dns_port),
                # The recheck samples a site's reachability over a window (10 minutes in
                # production): waiting, not work. A few samples over a few seconds here.
                "RECTIFY_CHECK_REACH_SAMPLES": str(REACH_SAMPLES),
                "RECTIFY_CHECK_REACH_WINDOW_SECONDS": str(REACH_WINDOW_SECONDS),
            }
            # Also in this process's Prefect settings context: Prefect may have read the
            # environment before (an earlier import, a test session's harness).
            with temporary_settings(updates={PREFECT_API_URL: prefect["PREFECT_API_URL"]}):
                yield quarter
        finally:
            served.stop()
            drain_prefect()
            _restore(saved)
