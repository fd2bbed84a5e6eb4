"""What every flow shares: the app of a run, the run as an actor, batches in waves."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from prefect import Task
from prefect.runtime import flow_run
from prefect.utilities.annotations import quote

from services.bootstrap import App, build_app
from services.core.errors import ServiceError
from states import InvalidTransition

#: Cases per task: one service call, one commit, one retry boundary.
BATCH_SIZE = 1000
#: Batches at once on PostgreSQL (about the connection pool); SQLite has one writer.
POSTGRES_CONCURRENCY = 4
#: Batches one distributed task works through (each its own commit). A task run costs a few
#: hundred milliseconds of bookkeeping (its API calls, its trip to a Dask worker), a batch about
#: a tenth of a second of database work: ten batches per task keep that under a fifth of the
#: time, and at least ``MIN_TASKS`` tasks keep every worker busy to the end of a small run.
BATCHES_PER_TASK = 10
MIN_TASKS = 12


@contextmanager
def run_app(as_of: date | None) -> Iterator[App]:
    """The app for one flow run, its clock at ``as_of``; None: the installation's day stored in
    the database (``rectify clock``, ``rectify demo``) or ``RECTIFY_AS_OF``, else real time:
    the same day as the web app and the commands on that database."""
    app = build_app(as_of=as_of)
    try:
        yield app
    finally:
        app.close()


def transient(_task: Task, _task_run: Any, state: Any) -> bool:
    """Retry what may pass next time (network, a locked database), never a refused request."""
    try:
        state.result()
    except (ServiceError, InvalidTransition):
        return False
    except Exception:  # anything else may be transient: let Prefect retry it
        return True
    return True


def run_actor(default: str) -> str:
    """The flow run as the actor of the events it writes, e.g. quarterly-recheck/witty-fox."""
    name = flow_run.get_name()
    flow_name = flow_run.get_flow_name() or default
    return f"{flow_name}/{name}" if name else default


def task_groups(ranges: list[tuple[int, int]]) -> list[list[tuple[int, int]]]:
    """The id ranges grouped for distributed tasks, in order: at most ``BATCHES_PER_TASK``
    per task, fewer when that would leave fewer than ``MIN_TASKS`` tasks."""
    size = max(1, min(BATCHES_PER_TASK, len(ranges) // MIN_TASKS))
    return [ranges[start : start + size] for start in range(0, len(ranges), size)]


def concurrency(app: App) -> int:
    """How many batches may run at once against this database."""
    return 1 if app.engine.dialect.name == "sqlite" else POSTGRES_CONCURRENCY


def in_waves(
    task: Task, ranges: list[tuple[int, int]], *, app: App, **kwargs: Any
) -> Iterator[tuple[int, Any]]:
    """Run ``task`` once per id range, at most ``concurrency(app)`` at a time, in order."""
    width = concurrency(app)
    for start in range(0, len(ranges), width):
        futures = [
            task.submit(quote(app), first_id=first, last_id=last, **kwargs)
            for first, last in ranges[start : start + width]
        ]
        for offset, future in enumerate(futures):
            yield start + offset + 1, future.result()
