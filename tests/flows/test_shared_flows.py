"""Two runs of the shared sweep flow with one run key escalate each overdue case once."""

from __future__ import annotations

from collections import Counter
from datetime import date

from sqlalchemy import select

from flows.publish import publish_round
from flows.shared import shared_sweep
from services.bootstrap import build_app
from services.db.models import CaseEvent
from services.rounds.sweeps import overdue_ids

NOTICE_DAY, SWEEP_DAY = date(2021, 7, 19), date(2021, 7, 30)


async def test_two_shared_sweep_runs_escalate_each_overdue_case_once(demo):
    await publish_round("2021Q2", as_of=NOTICE_DAY)
    later = build_app(demo.settings, as_of=SWEEP_DAY)
    with later.uow() as uow:
        overdue = overdue_ids(uow)
    later.close()
    first = shared_sweep(run_key="test", as_of=SWEEP_DAY)
    second = shared_sweep(run_key="test", as_of=SWEEP_DAY)
    assert first["escalated"] == len(overdue) > 0 and second["escalated"] == 0
    with demo.uow() as uow:
        escalations = Counter(
            uow.session.scalars(
                select(CaseEvent.case_id).where(
                    CaseEvent.trigger == "escalate",
                    CaseEvent.actor.startswith("shared-overdue-sweep"),
                )
            )
        )
    assert escalations == Counter(overdue)
