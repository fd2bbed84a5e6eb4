"""An escalation email written by a batch is the one a single transition writes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from services.cases import batch, transitions
from services.db.models import OutboxMessage
from tests.builders import a_case, a_round, a_target, a_unit

ACTOR = "逾期巡查"


def _instants(context: dict) -> dict:
    """The context with history times as instants (one path writes UTC, the other +08:00)."""
    history = [{**h, "at": datetime.fromisoformat(h["at"])} for h in context["history"]]
    return {k: v for k, v in context.items() if k != "case"} | {"history": history}


def _mail(uow, case_id: int) -> OutboxMessage:
    return uow.session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.case_id == case_id, OutboxMessage.template == "escalation"
        )
    ).one()


def test_a_batch_escalation_email_names_the_same_leader_history_and_recipients(app):
    with app.uow() as uow:
        a_round(uow, "2021Q2", deadline_days=10)
        a_unit(uow, "county", kind="county_gov", leader_name="王县长")
        a_unit(uow, "dept", parent_code="county")
        single, batched = (
            a_case(uow, state="notified", target_code=a_target(uow, code, unit_code="dept").code)
            for code in ("site-a", "site-b")
        )
        single, batched = single.id, batched.id
        transitions.transition(
            uow,
            case_id=single,
            trigger="escalate",
            actor=ACTOR,
            actor_kind="system",
            data={"reason": "overdue"},
        )
        move = batch.Move(batched, "escalate", data={"reason": "overdue"})
        assert len(batch.transition_many(uow, [move], actor=ACTOR).moved) == 1
        uow.commit()
        one, many = _mail(uow, single), _mail(uow, batched)
        assert (many.to_addrs, many.cc_addrs, many.status) == (
            one.to_addrs,
            one.cc_addrs,
            "pending",
        )
        assert many.to_addrs == ["leader.county@units.test"]
        assert many.cc_addrs == ["dept@units.test"]
        assert _instants(many.context) == _instants(one.context)
        assert many.context["leader_name"] == "王县长"
        assert many.context["case"] | {
            "id": single,
            "target": "",
            "description": "",
        } == one.context["case"] | {"target": "", "description": ""}
