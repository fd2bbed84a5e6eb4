"""Where a recheck's or sweep's batches run: Dask workers, configured by ``RECTIFY_*``."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from flows.distributed import BatchTaskRunner, local_workers, worker_app
from flows.publish import publish_round
from flows.sweep import overdue_sweep
from services.core.settings import Settings
from services.db.models import CaseEvent
from tests.conftest import NOTICE_DAY

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/x"


@pytest.mark.parametrize(
    "url, configured, expected",
    [("sqlite:///x.db", 4, 1), (PG, 3, 3), (PG, 0, None)],
)
def test_a_local_cluster_has_one_worker_on_sqlite_and_the_configured_number_else(
    url, configured, expected
):
    import os

    settings = Settings(database_url=url, batch_workers=configured)
    assert local_workers(settings) == (expected or os.cpu_count())


def test_a_worker_process_builds_its_app_once_per_settings_and_reads_the_day_each_batch(
    app, monkeypatch
):
    monkeypatch.setenv("RECTIFY_DATABASE_URL", app.settings.database_url)
    first = worker_app(date(2021, 7, 30))
    again = worker_app(date(2021, 8, 2))
    assert again.engine is first.engine  # one engine (pool) per process, not per batch
    assert (first.clock.today(), again.clock.today()) == (date(2021, 7, 30), date(2021, 8, 2))
    monkeypatch.setenv("RECTIFY_BATCH_WORKERS", "7")  # other settings: another app
    assert worker_app(None).engine is not first.engine


def test_without_an_address_the_runner_starts_a_local_cluster_sized_by_the_settings(
    monkeypatch,
):
    monkeypatch.setenv("RECTIFY_DATABASE_URL", PG)
    monkeypatch.setenv("RECTIFY_BATCH_WORKERS", "3")
    monkeypatch.delenv("RECTIFY_DASK_ADDRESS", raising=False)
    with BatchTaskRunner() as runner:
        assert runner.address is None
        assert runner.cluster_kwargs["n_workers"] == 3
        assert runner.cluster_kwargs["processes"] is True
    monkeypatch.setenv("RECTIFY_DASK_ADDRESS", "tcp://192.0.2.7:8786")
    with BatchTaskRunner() as runner:
        assert runner.address == "tcp://192.0.2.7:8786"


def test_the_sweeps_batches_run_on_the_dask_cluster_the_settings_name(demo, monkeypatch):
    from distributed import Client, LocalCluster

    publish_round("2021Q2", as_of=NOTICE_DAY)
    with (
        LocalCluster(n_workers=1, processes=False, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        monkeypatch.setenv("RECTIFY_DASK_ADDRESS", cluster.scheduler_address)
        summary = overdue_sweep(as_of=date(2021, 7, 30))
        ran = client.run_on_scheduler(
            lambda dask_scheduler: sorted(
                {ts.prefix.name for ts in dask_scheduler.tasks.values()}
                | set(dask_scheduler.task_prefixes)
            )
        )
    assert summary["escalated"] == 9
    assert any("escalate_batches" in name for name in ran), ran
    with demo.uow() as uow:
        actors = set(
            uow.session.scalars(select(CaseEvent.actor).where(CaseEvent.trigger == "escalate"))
        )
    assert any(actor.startswith("overdue-sweep/") for actor in actors)
