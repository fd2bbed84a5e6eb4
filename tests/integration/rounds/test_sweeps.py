"""The overdue sweep: escalate once per deadline, remind before, on and after the day."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from services.cases import transitions
from services.core.clock import Clock
from services.db.models import Case, CaseEvent, OutboxMessage
from services.rounds import sweeps
from tests.builders import a_case, a_round, a_target, a_unit
from tests.support.flowkit import at, count

ACTOR = "overdue-sweep/测试运行"


def _sweep(app, day: date):
    with at(app, day).uow() as uow:
        return sweeps.sweep(uow, actor=ACTOR)


def _cases_due_on_the_29th(app) -> dict[str, int]:
    with app.uow() as uow:
        a_round(uow, "2021Q2", deadline=date(2021, 7, 29))
        a_unit(uow, "gengma")
        ids = {}
        for name, state in [("late", "notified"), ("working", "rectifying"), ("sent", "submitted")]:
            target = a_target(uow, f"t-{name}", unit_code="gengma")
            ids[name] = a_case(uow, state=state, target_code=target.code).id
        ids["extended"] = a_case(uow, state="notified").id
        transitions.extend_deadline(
            uow,
            case_id=ids["extended"],
            new_deadline=date(2021, 8, 10),
            reason="申请延期",
            actor="测试员",
        )
        uow.commit()
    return ids


def test_the_sweep_escalates_exactly_the_overdue_cases_and_a_second_sweep_changes_nothing(app):
    ids = _cases_due_on_the_29th(app)
    summary = _sweep(app, date(2021, 7, 30))
    assert summary.escalated == 2
    assert summary.escalated_per_unit == {"gengma": 2}
    with app.uow() as uow:
        states = {name: uow.session.get(Case, i).state for name, i in ids.items()}
        late = uow.session.get(Case, ids["late"])
        late_level = (late.escalation_level, late.escalated_for_deadline)
    assert states == {
        "late": "escalated",
        "working": "escalated",
        "sent": "submitted",
        "extended": "notified",
    }
    assert late_level == (1, date(2021, 7, 29))
    before = (count(app, CaseEvent), count(app, OutboxMessage))
    again = _sweep(app, date(2021, 7, 30))
    assert (again.escalated, again.units_reminded) == (0, 0)
    assert (count(app, CaseEvent), count(app, OutboxMessage)) == before
    assert _sweep(app, date(2021, 8, 5)).escalated == 0  # once per deadline, not per day


def test_a_new_deadline_missed_again_is_escalated_again(app):
    ids = _cases_due_on_the_29th(app)
    _sweep(app, date(2021, 7, 30))
    with app.uow() as uow:
        uow.clock = Clock(date(2021, 7, 31))  # the day after the sweep escalated it
        transitions.extend_deadline(
            uow,
            case_id=ids["late"],
            new_deadline=date(2021, 8, 3),
            reason="再给一次机会",
            actor="测试员",
        )
        uow.commit()
    summary = _sweep(app, date(2021, 8, 4))
    assert summary.escalated == 1
    with app.uow() as uow:
        assert uow.session.get(Case, ids["late"]).escalation_level == 2


def test_reminders_go_out_before_on_and_after_the_deadline_once_a_day(app):
    _cases_due_on_the_29th(app)
    reminded = {}
    for day in [date(2021, 7, 26), date(2021, 7, 28), date(2021, 7, 29), date(2021, 7, 30)]:
        reminded[day.day] = _sweep(app, day).reminders
    assert reminded[26] == {"before": 2}  # three days before; the submitted case needs none
    assert reminded[28] == {"before": 2}
    assert reminded[29] == {"due": 2}
    assert reminded[30] == {"after": 2}
    assert _sweep(app, date(2021, 7, 30)).units_reminded == 0
    with app.uow() as uow:
        digests = uow.session.scalars(
            select(OutboxMessage.key).where(OutboxMessage.template == "reminder_digest")
        ).all()
    assert sorted(digests) == [f"reminder:gengma:2021-07-{d}" for d in (26, 28, 29, 30)]


def test_a_case_continued_in_a_later_round_is_not_swept(app):
    with app.uow() as uow:
        a_round(uow, "2021Q2", deadline=date(2021, 7, 29))
        old = a_case(uow, state="notified")
        a_round(uow, "2021Q3")
        a_case(uow, round_code="2021Q3", target_code=old.target.code, previous_case_id=old.id)
        uow.commit()
    assert _sweep(app, date(2021, 7, 30)).escalated == 0
