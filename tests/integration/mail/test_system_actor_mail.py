"""An escalation email's history names a system action the way the case page and the CLI do."""

from __future__ import annotations

from sqlalchemy import select

from services.cases import transitions
from services.db.models import OutboxMessage
from tests.builders import a_case, a_target, a_unit


def test_the_escalation_history_names_system_actions_as_the_system(app):
    with app.uow() as uow:
        a_unit(uow, "county", kind="county_gov", leader_name="王县长")
        a_unit(uow, "dept", parent_code="county")
        case = a_case(uow, state="found", target_code=a_target(uow, "site", unit_code="dept").code)
        transitions.transition(
            uow, case_id=case.id, trigger="notify", actor="数据导入", actor_kind="system"
        )
        transitions.transition(
            uow,
            case_id=case.id,
            trigger="escalate",
            actor="系统",
            actor_kind="system",
            data={"reason": "overdue"},
        )
        uow.commit()
        mail = uow.session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.case_id == case.id, OutboxMessage.template == "escalation"
            )
        ).one()
        history = mail.context["history"]

    actors = [(h["label"], h["actor"]) for h in history]
    assert ("立案", "测试员") in actors
    assert ("通知", "系统（数据导入）") in actors
    assert ("升级督办", "系统") in actors
