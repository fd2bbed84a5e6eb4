"""Two runs of the shared sweep flow with one run key escalate each overdue case once."""

from __future__ import annotations

from collections import Counter
from datetime import date

from sqlalchemy import select

from flows.publish import publish_round
from flows.shared import shared_sweep
from services.bootstrap import build_app
from services.db.models import Case, CaseEvent, Round
from services.rounds.sweeps import overdue_ids

NOTICE_DAY, SWEEP_DAY = date(2021, 7, 19), date(2021, 7, 30)


async def test_two_shared_sweep_runs_escalate_each_overdue_case_once(demo):
    await publish_round("2021Q2", as_of=NOTICE_DAY)
    # Independently of the application's overdue list: the publication gave the demo's nine
    # 2021Q2 cases the deadline 2021-07-29, so on 2021-07-30 exactly those are overdue.
    with demo.uow() as uow:
        rows = uow.session.execute(
            select(Case.id, Case.state, Case.deadline).join(Round).where(Round.code == "2021Q2")
        ).all()
    assert {(state, deadline) for _, state, deadline in rows} == {("notified", date(2021, 7, 29))}
    overdue = [case_id for case_id, _, _ in rows]
    assert len(overdue) == 9
    later = build_app(demo.settings, as_of=SWEEP_DAY)
    with later.uow() as uow:
        assert sorted(overdue_ids(uow)) == sorted(overdue)
    later.close()
    first = shared_sweep(run_key="test", as_of=SWEEP_DAY)
    second = shared_sweep(run_key="test", as_of=SWEEP_DAY)
    assert (first["escalated"], second["escalated"]) == (9, 0)
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
