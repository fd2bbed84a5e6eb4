"""Publishing a round: every found case notified, deadlines set, one email per unit."""

from __future__ import annotations

from sqlalchemy import select

from services.db.models import Case, CaseEvent, OutboxMessage
from services.rounds import publication
from tests.builders import a_case, a_round, a_target, a_unit
from tests.support.flowkit import count


def _two_units_with_cases(app):
    with app.uow() as uow:
        a_round(uow, "2021Q2", deadline=None, deadline_days=10)
        a_round(uow, "2021Q3")
        a_unit(uow, "gengma")
        a_unit(uow, "park")
        for code, unit in [("t1", "gengma"), ("t2", "gengma"), ("t3", "park")]:
            a_target(uow, code, unit_code=unit)
            a_case(uow, target_code=code)
        a_case(uow, target_code="t1", category="site_unreachable", round_code="2021Q3")
        uow.commit()


def test_publishing_a_round_notifies_every_found_case_and_queues_one_email_per_unit(app):
    _two_units_with_cases(app)
    with app.uow() as uow:
        summary = publication.publish_round(uow, round_code="2021Q2", actor="测试员", batch_size=2)
    assert summary.notified == 3
    assert summary.cases_per_unit == {"gengma": 2, "park": 1}
    with app.uow() as uow:
        states = list(uow.session.scalars(select(Case.state)))
        q2 = uow.session.scalars(select(Case).where(Case.round.has(code="2021Q2"))).all()
        assert {c.state for c in q2} == {"notified"}
        assert {str(c.deadline) for c in q2} == {"2021-07-29"}
        assert all(c.notices_city == 1 for c in q2)
        assert states.count("found") == 1  # the 2021Q3 case waits for its own round
        notices = uow.session.scalars(select(OutboxMessage)).all()
        assert sorted(m.template for m in notices) == ["round_notice", "round_notice"]
        assert sorted(m.to_addrs[0] for m in notices) == ["gengma@units.test", "park@units.test"]
        events = uow.session.scalars(select(CaseEvent).where(CaseEvent.trigger == "notify")).all()
        assert len(events) == 3 and all(e.data["publication"] for e in events)


def test_publishing_a_round_again_changes_nothing(app):
    _two_units_with_cases(app)
    with app.uow() as uow:
        publication.publish_round(uow, round_code="2021Q2", actor="测试员")
    before = (count(app, CaseEvent), count(app, OutboxMessage))
    with app.uow() as uow:
        again = publication.publish_round(uow, round_code="2021Q2", actor="测试员")
    assert again.notified == 0
    assert (count(app, CaseEvent), count(app, OutboxMessage)) == before
