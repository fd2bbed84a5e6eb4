"""A publish, sweep or recheck SIGKILLed between two steps and run again ends as one run would.

Complements ``tests/integration/rounds/test_recheck_kill.py`` (a recheck killed after its first batch)
with kills in publication and the sweep, and between later steps; the comparison is the flows
engineer's ``snapshot`` (cases, events and outbox rows by natural keys, no ids or times).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys

import pytest

from services.db.models import CaseEvent
from services.registry.catalogue import ensure_seeded
from tests.faults.scenario import ACTOR, file_app, found_cases, published, run_step
from tests.support.flowkit import count, snapshot

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KILL_POINTS = [
    ("publish", "batch"),  # after the first committed batch of notifications
    ("publish", "step"),  # every case notified, the unit notices not yet queued
    ("sweep", "batch"),  # after the first committed batch of escalations
    ("sweep", "step"),  # every escalation committed, the reminders not yet queued
    ("recheck", "step"),  # three of four batches committed, the last one not begun
]


def _prepared(sqlite_template, path, step: str) -> str:
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    app = file_app(url)
    with app.uow() as uow:
        ensure_seeded(uow)
        uow.commit()
    found_cases(app)
    if step != "publish":
        published(app)
    app.close()
    return url


def _state(url: str) -> dict:
    app = file_app(url)
    try:
        return snapshot(app) | {"moves": count(app, CaseEvent, CaseEvent.actor == ACTOR)}
    finally:
        app.close()


def _kill_at(url: str, step: str, point: str) -> None:
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.faults.kill_child", url, step, point],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout.readline().strip() == "paused"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL


@pytest.mark.parametrize(("step", "point"), KILL_POINTS)
def test_a_step_killed_between_two_steps_and_run_again_ends_like_an_uninterrupted_run(
    sqlite_template, tmp_path, step, point
):
    baseline = _prepared(sqlite_template, tmp_path / "baseline.db", step)
    killed = _prepared(sqlite_template, tmp_path / "killed.db", step)
    app = file_app(baseline)
    run_step(app, step)
    app.close()
    before_kill = _state(killed)

    _kill_at(killed, step, point)
    half_way = _state(killed)
    assert half_way != before_kill  # the kill came after something was committed
    assert half_way != _state(baseline)  # ... and before the end

    app = file_app(killed)
    run_step(app, step)
    app.close()
    assert _state(killed) == _state(baseline)
