"""One cause, one outbox row: re-runs write nothing, and a race is stopped by the unique key."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from services.cases import transitions
from services.db.models import OutboxMessage, Unit
from services.mail import causes
from tests.builders import a_case, a_target, a_unit


def _count(app) -> int:
    with app.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(OutboxMessage))


def test_a_transition_queues_its_mail_in_its_own_transaction(app):
    with app.uow() as uow:
        a_unit(uow, "yongde")
        case = a_case(uow, target_code=a_target(uow, unit_code="yongde").code)
        uow.commit()
    with app.uow() as uow:
        transitions.transition(uow, case_id=case.id, trigger="notify", actor="测试员")
        # leaving without commit: the transition and its email are both rolled back

    assert _count(app) == 0


def test_a_race_past_the_existence_check_is_stopped_by_the_unique_key(app, monkeypatch):
    with app.uow() as uow:
        unit = a_unit(uow, "yongde")
        case = a_case(uow, target_code=a_target(uow, unit_code="yongde").code, state="notified")
        uow.commit()
    items = [(case.id, "before")]
    with app.uow() as other:
        causes.queue_reminder_digest(other, unit_id=unit.id, day=date(2021, 7, 26), items=items)
        other.commit()

    monkeypatch.setattr(causes, "_exists", lambda uow, key: False)  # as if checked meanwhile
    with app.uow() as uow:
        uow.session.get(Unit, unit.id).contact_name = "张三"  # other work of the same transaction
        written = causes.queue_reminder_digest(
            uow, unit_id=unit.id, day=date(2021, 7, 26), items=items
        )
        uow.commit()

    assert written is None
    assert _count(app) == 2  # the case notice and one reminder
    with app.uow() as uow:
        assert uow.session.get(Unit, unit.id).contact_name == "张三"  # the rest was kept


def test_reminders_on_different_days_are_different_emails(app):
    with app.uow() as uow:
        unit = a_unit(uow, "yongde")
        case = a_case(uow, target_code=a_target(uow, unit_code="yongde").code, state="notified")
        for day in (date(2021, 7, 26), date(2021, 7, 27), date(2021, 7, 27)):
            causes.queue_reminder_digest(uow, unit_id=unit.id, day=day, items=[(case.id, "due")])
        uow.commit()

    with app.uow() as uow:
        keys = uow.session.scalars(select(OutboxMessage.key).order_by(OutboxMessage.id)).all()
    assert keys[1:] == ["reminder:yongde:2021-07-26", "reminder:yongde:2021-07-27"]
