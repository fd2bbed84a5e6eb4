"""bench national's sweep and recheck stages report what the database's events say they did,
and their limits write the same rows (PostgreSQL only: the bench runs on it)."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, func, select

from bench.national import rechecks
from bench.national.quarter import open_quarter
from services.db.models import Case, CaseEvent


@pytest.fixture
def quarter(tmp_path, monkeypatch):
    """A quarter on a PostgreSQL database of its own (the national bench's database), whatever
    ``--db`` says, as the pipeline test."""
    monkeypatch.setenv("RECTIFY_BATCH_WORKERS", "1")
    with open_quarter(0.001, tmp_path) as q:
        rechecks._generated(q, 3_000)  # open cases in rounds, some overdue by the sweep's day
        yield q


def _events(q, trigger: str) -> int:
    engine = create_engine(q.database_url)
    with engine.connect() as conn:
        n = conn.scalar(select(func.count()).where(CaseEvent.trigger == trigger))
    engine.dispose()
    return n


def test_the_stages_count_what_their_events_record_and_the_limits_write_as_many(quarter):
    before = _events(quarter, "escalate"), _events(quarter, "verify")

    swept = rechecks.sweep(quarter)
    sweep_limit = rechecks.sweep_limit(quarter, repeats=1)
    rechecked = rechecks.recheck(quarter, outcomes="all-fixed")
    recheck_limit = rechecks.recheck_limit(quarter, repeats=1)

    escalated = _events(quarter, "escalate") - before[0]
    verified = _events(quarter, "verify") - before[1]
    assert swept.items == escalated > 0
    assert swept.details["emails_queued"] >= 1
    assert rechecked.details["verified"] == verified > 0
    assert rechecked.items == rechecked.details["candidates"] >= verified
    # The limits write exactly the rows the product moved, from the same state.
    variants = sweep_limit["variants"]
    assert {v["items"] for v in variants.values()} == {escalated}
    variants = recheck_limit["variants"]
    assert {v["items"] for v in variants.values()} == {verified}
    assert "snapshot_seconds" in swept.details  # no orchestrator snapshot: the stage took one
    assert not any(key.endswith("_snapshot") for key in quarter.facts)  # copies dropped
    engine = create_engine(quarter.database_url)
    with engine.connect() as conn:  # every candidate is verified now (all proved fixed)
        assert conn.scalar(select(func.count()).where(Case.state == "verified")) >= verified
    engine.dispose()
