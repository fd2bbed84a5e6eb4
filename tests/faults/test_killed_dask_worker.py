"""A Dask worker process killed (SIGKILL) while the quarterly recheck's batches run.

Two copies of one generated PostgreSQL database: on one the recheck runs undisturbed, on the
other one of its two worker processes is killed once a few batches have committed. The
scheduler gives the killed worker's batch to another worker; its transaction never committed.
Every case must end as on the undisturbed copy, no case verified twice, the live counters equal
to a recount.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from datetime import date

import psutil
import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from bench.generate import RECHECK_ROUND, generate
from services.db import counts
from services.db.engine import make_engine
from services.db.migrate import upgrade
from services.db.models import Case, CaseEvent
from services.registry.catalogue import ensure_seeded
from tests.conftest import PG_URL
from tests.flows.conftest import prefect_server  # noqa: F401

AS_OF = date(2021, 10, 20)


@pytest.fixture
def two_copies():
    """Worker processes share a PostgreSQL database (SQLite runs one worker in-process), so
    this test always runs on PostgreSQL, whatever ``--db`` says."""
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    base = f"rectify_kill_{uuid.uuid4().hex[:8]}"
    names = [base, f"{base}_a", f"{base}_b"]
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{base}"'))
    engine = make_engine(_url(base))
    upgrade(engine)
    with Session(engine) as session:
        ensure_seeded_session(session)
    generate(engine, units=50, cases=20_000, seed=3)
    engine.dispose()
    with admin.connect() as conn:
        for name in names[1:]:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{base}"'))
    yield _url(names[1]), _url(names[2])
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def ensure_seeded_session(session: Session) -> None:
    from services.bootstrap import App
    from services.core.clock import Clock
    from services.core.settings import Settings
    from services.db.engine import make_session_factory

    engine = session.get_bind()
    app = App(Settings(secret_key="k"), engine, make_session_factory(engine), Clock(AS_OF))
    with app.uow() as uow:
        ensure_seeded(uow)
        uow.commit()


def _url(name: str) -> str:
    return PG_URL.rsplit("/", 1)[0] + f"/{name}"


def _run_recheck(url: str, monkeypatch, tmp_path) -> dict:
    import flows.recheck

    monkeypatch.setenv("RECTIFY_DATABASE_URL", url)
    monkeypatch.setenv("RECTIFY_SECRET_KEY", "test-secret")
    monkeypatch.setenv("RECTIFY_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RECTIFY_BATCH_WORKERS", "2")
    monkeypatch.delenv("RECTIFY_DASK_ADDRESS", raising=False)
    monkeypatch.setattr(flows.recheck, "BATCH_SIZE", 100)  # many batches, each short
    return flows.recheck.quarterly_recheck(RECHECK_ROUND, as_of=AS_OF, outcomes="all-fixed")


def _dask_workers() -> list[psutil.Process]:
    """The local cluster's worker processes: spawned children of this test process."""
    return [
        p
        for p in psutil.Process().children(recursive=True)
        if any("spawn_main" in part for part in p.cmdline())
    ]


def _end_state(url: str, since: int) -> tuple[dict, dict, int]:
    engine = create_engine(url)
    with Session(engine) as session:
        cases = {
            row.id: (row.state, row.version, row.escalation_level)
            for row in session.execute(
                select(Case.id, Case.state, Case.version, Case.escalation_level)
            )
        }
        per_case = (
            select(CaseEvent.case_id, CaseEvent.trigger, func.count().label("n"))
            .where(CaseEvent.id > since)
            .group_by(CaseEvent.case_id, CaseEvent.trigger)
        )
        events = {(r.case_id, r.trigger): r.n for r in session.execute(per_case)}
        wrong = len(counts.mismatches(session))
    engine.dispose()
    return cases, events, wrong


def _last_event(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        last = conn.scalar(select(func.max(CaseEvent.id))) or 0
    engine.dispose()
    return last


def _verified_since(url: str, since: int) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        n = conn.scalar(
            select(func.count()).where(CaseEvent.id > since, CaseEvent.trigger == "verify")
        )
    engine.dispose()
    return n


@pytest.mark.postgres
@pytest.mark.usefixtures("prefect_server")
def test_a_worker_killed_mid_recheck_loses_nothing_and_verifies_nothing_twice(
    two_copies, monkeypatch, tmp_path
):
    undisturbed, disturbed = two_copies
    since = _last_event(undisturbed)
    expected = _run_recheck(undisturbed, monkeypatch, tmp_path)
    assert expected["verified"] > 1_500

    killed: list[tuple[int, int]] = []

    def kill_one_worker_mid_run() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            done = _verified_since(disturbed, since)
            workers = _dask_workers()
            if done >= 300 and len(workers) == 2:
                os.kill(workers[0].pid, signal.SIGKILL)
                killed.append((workers[0].pid, done))
                return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_one_worker_mid_run, daemon=True)
    killer.start()
    summary = _run_recheck(disturbed, monkeypatch, tmp_path)
    killer.join(timeout=5)

    assert killed, "no worker was killed: the run ended before any batch committed"
    pid, done_at_kill = killed[0]
    assert done_at_kill < expected["verified"], "the worker was killed after the run's work"
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert summary["verified"] == expected["verified"]
    cases_a, events_a, wrong_a = _end_state(undisturbed, since)
    cases_b, events_b, wrong_b = _end_state(disturbed, since)
    assert cases_b == cases_a  # every case: same state, same version, same escalation level
    assert events_b == events_a  # the same events per case and trigger
    assert max(n for (_, trigger), n in events_b.items() if trigger == "verify") == 1
    assert (wrong_a, wrong_b) == (0, 0)
