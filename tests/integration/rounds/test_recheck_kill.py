"""A recheck killed (SIGKILL) after a committed batch and run again ends as one run would."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from datetime import date

import pytest
from sqlalchemy import select

from services.bootstrap import App
from services.core.clock import Clock
from services.core.settings import Settings
from services.db.engine import make_engine, make_session_factory
from services.db.models import Case, CaseEvent
from services.registry.catalogue import ensure_seeded
from tests.builders import a_case, a_round, a_target, a_unit
from tests.integration.rounds.recheck_child import run
from tests.support.flowkit import mark, snapshot

AS_OF = date(2021, 10, 1)
BATCH = 5
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def _app(path) -> App:
    settings = Settings(database_url=f"sqlite:///{path}", secret_key="test-secret")
    engine = make_engine(settings.database_url)
    return App(settings, engine, make_session_factory(engine), Clock(AS_OF))


@pytest.fixture
def scenario(sqlite_template, tmp_path):
    """30 notified cases of 2021Q2 in three units: a third fixed, a third present, a third unknown."""
    path = tmp_path / "killed.db"
    shutil.copy(sqlite_template, path)
    app = _app(path)
    with app.uow() as uow:
        ensure_seeded(uow)
        a_round(uow, "2021Q2", deadline=date(2021, 7, 29))
        for unit in ("u1", "u2", "u3"):
            a_unit(uow, unit)
        for i in range(30):
            target = a_target(uow, f"t{i}", unit_code=f"u{i % 3 + 1}")
            case = a_case(uow, state="notified", target_code=target.code)
            if i % 3 != 2:
                mark(uow, case, "fixed" if i % 3 == 0 else "present", day=date(2021, 9, 30))
        a_round(uow, "2021Q3")
        uow.commit()
    app.close()
    return path


@pytest.mark.parametrize(
    ("point", "says"), [("after-commit", "batch committed"), ("mid-batch", "batch written")]
)
def test_a_recheck_killed_mid_run_and_run_again_ends_like_an_uninterrupted_one(
    scenario, tmp_path, point, says
):
    baseline = tmp_path / "baseline.db"
    shutil.copy(scenario, baseline)
    run(f"sqlite:///{baseline}", AS_OF, BATCH, pause=False)

    command = [
        sys.executable,
        "-m",
        "tests.integration.rounds.recheck_child",
        f"sqlite:///{scenario}",
    ]
    child = subprocess.Popen(
        [*command, AS_OF.isoformat(), str(BATCH), point],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout.readline().strip() == says
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL

    killed = _app(scenario)
    with killed.uow() as uow:
        moved = uow.session.scalars(
            select(CaseEvent.case_id).where(CaseEvent.actor == "quarterly-recheck/kill-test")
        ).all()
        open_left = uow.session.scalars(select(Case.id).where(Case.state == "notified")).all()
    assert moved and len(open_left) > 10  # the first batch only: the second never committed
    killed.close()

    again = run(f"sqlite:///{scenario}", AS_OF, BATCH, pause=False)
    assert again.outcomes["fixed"] + again.outcomes["present"] > 0
    assert snapshot(_app(scenario)) == snapshot(_app(baseline))
