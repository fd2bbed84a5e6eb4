"""The quarterly recheck: fixed → verified, still present → linked case, repeat offenders."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import select

from services.cases import queries, transitions
from services.core.clock import SHANGHAI, Clock
from services.db.models import Case, CaseEvent, OutboxMessage
from services.rounds import rechecks
from tests.builders import a_case, a_round, a_target, a_unit
from tests.support.flowkit import count, mark

ACTOR = "quarterly-recheck/测试运行"


def _recheck(app, round_code: str):
    with app.uow() as uow:
        return rechecks.recheck(
            uow, round_code=round_code, provider=rechecks.latest_check_result, actor=ACTOR
        )


def test_a_case_proved_fixed_is_verified_by_the_recheck_as_the_system(app):
    with app.uow() as uow:
        case = a_case(uow, state="rectifying")
        mark(uow, case, "fixed")
        uow.commit()
    summary = _recheck(app, "2021Q2")
    assert summary.outcomes == {"fixed": 1, "present": 0, "unknown": 0}
    assert summary.verified == 1
    with app.uow() as uow:
        assert uow.session.get(Case, case.id).state == "verified"
        event = uow.session.scalars(select(CaseEvent).order_by(CaseEvent.id.desc())).first()
        assert (event.trigger, event.actor, event.actor_kind) == ("verify", ACTOR, "system")
        assert event.data["proven_fixed"] is True


def test_a_problem_still_present_at_a_new_round_is_a_linked_case_escalated_at_once(app):
    with app.uow() as uow:
        a_unit(uow, "park", leader_email="leader.park@units.test")
        a_target(uow, "park-domain", unit_code="park")
        old = a_case(
            uow, state="notified", target_code="park-domain", category="domain_not_deregistered"
        )
        transitions.record_notice(
            uow, case_id=old.id, level="province", notified_on=old.round.period_end, actor="测试员"
        )
        mark(uow, old, "present")
        a_round(uow, "2021Q3")
        uow.commit()
    summary = _recheck(app, "2021Q3")
    assert (summary.linked, summary.escalated) == (1, 1)
    assert summary.per_unit["park"] == {"present": 1, "escalated": 1}
    with app.uow() as uow:
        new = uow.session.scalar(select(Case).where(Case.previous_case_id == old.id))
        assert new.round.code == "2021Q3"
        assert (new.notices_city, new.notices_province) == (2, 1)
        assert (new.state, new.escalation_level) == ("escalated", 1)
        assert uow.session.get(Case, old.id).state == "continued"  # 已转入下一轮
        carried = uow.session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == old.id).order_by(CaseEvent.id)
        ).all()[-1]
        assert (carried.trigger, carried.from_state, carried.data) == (
            "carry_over",
            "notified",
            {"successor_case_id": new.id},
        )
        templates = uow.session.scalars(
            select(OutboxMessage.template).where(OutboxMessage.case_id == new.id)
        ).all()
        assert "escalation" in templates


def test_a_first_repeat_below_the_threshold_is_notified_but_not_escalated(app):
    app.settings.repeat_offender_threshold = 3
    with app.uow() as uow:
        old = a_case(uow, state="rectifying")
        mark(uow, old, "present")
        a_round(uow, "2021Q3")
        uow.commit()
    summary = _recheck(app, "2021Q3")
    assert (summary.linked, summary.escalated) == (1, 0)
    with app.uow() as uow:
        new = uow.session.scalar(select(Case).where(Case.previous_case_id == old.id))
        assert (new.state, new.notices_city) == ("notified", 2)


def test_the_continued_case_leaves_the_overdue_list_and_the_new_one_takes_its_place(app):
    with app.uow() as uow:
        old = a_case(uow, state="notified")
        mark(uow, old, "present")
        a_round(uow, "2021Q3")
        uow.commit()
    _recheck(app, "2021Q3")
    late = app.clock.today() + timedelta(days=400)
    with app.uow() as uow:
        new = uow.session.scalar(select(Case).where(Case.previous_case_id == old.id))
        assert (uow.session.get(Case, old.id).state, new.state) == ("continued", "escalated")
        uow.clock = Clock(datetime.combine(late, time(9), tzinfo=SHANGHAI))
        overdue = queries.list_cases(uow, queries.CaseFilters(overdue=True))
        assert [row.id for row in overdue] == [new.id]


def test_cases_no_check_can_decide_are_listed_for_a_supervisor(app):
    with app.uow() as uow:
        unchecked = a_case(uow, state="notified", category="serious_wording")
        present = a_case(uow, state="notified")
        mark(uow, present, "present")
        uow.commit()
    summary = _recheck(app, "2021Q2")
    assert summary.needs_supervisor == [unchecked.id]
    assert summary.outcomes == {"fixed": 0, "present": 1, "unknown": 1}
    assert summary.linked == 0  # still present within its own round: nothing to open


def test_a_recheck_run_again_changes_nothing(app):
    with app.uow() as uow:
        for outcome in ["fixed", "present", "fixed", "present"]:
            mark(uow, a_case(uow, state="notified"), outcome)
        verified = a_case(uow, state="verified")
        mark(uow, verified, "present")
        a_round(uow, "2021Q3")
        uow.commit()
    first = _recheck(app, "2021Q3")
    assert (first.verified, first.linked) == (2, 3)
    before = (count(app, CaseEvent), count(app, OutboxMessage), count(app, Case))
    second = _recheck(app, "2021Q3")
    assert (second.verified, second.linked, second.escalated) == (0, 0, 0)
    assert (count(app, CaseEvent), count(app, OutboxMessage), count(app, Case)) == before


def _one_problem_twice(app, unit: str, states: tuple[str, str]) -> tuple[int, int]:
    """One problem of ``unit``'s site with a case in 2021Q2 and, found again without a link,
    one in 2021Q3 (in ``states``), both still present for the 2021Q4 recheck; their ids."""
    with app.uow() as uow:
        a_unit(uow, unit)
        a_target(uow, f"{unit}-site", unit_code=unit)
        cases = [
            a_case(uow, state=state, target_code=f"{unit}-site", round_code=round_code)
            for state, round_code in zip(states, ("2021Q2", "2021Q3"), strict=True)
        ]
        for case in cases:
            mark(uow, case, "present")
        a_round(uow, "2021Q4")
        uow.commit()
        return cases[0].id, cases[1].id


def _two_open_predecessors(app):
    """The same problem left open in 2021Q2 and, found again without a link, in 2021Q3."""
    return _one_problem_twice(app, "lake", ("notified", "notified"))


def _recheck_batches(app, case_ids: list[int]) -> None:
    for case_id in case_ids:  # one batch per case, in the given order
        with app.uow() as uow:
            rechecks.recheck_range(
                uow,
                round_code="2021Q4",
                first_id=case_id,
                last_id=case_id,
                provider=rechecks.latest_check_result,
                actor=ACTOR,
            )


def test_two_open_cases_of_one_problem_both_continue_whichever_batch_runs_first(app):
    older, newer = _two_open_predecessors(app)
    _recheck_batches(app, [newer, older])  # the later batch first, as parallel workers may
    with app.uow() as uow:
        successor = uow.session.scalar(
            select(Case)
            .where(Case.round_id != uow.session.get(Case, older).round_id)
            .where(Case.previous_case_id.in_([older, newer]))
        )
        assert successor.round.code == "2021Q4"
        for case_id in (older, newer):
            case = uow.session.get(Case, case_id)
            assert case.state == "continued", case_id
            carried = uow.session.scalars(
                select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
            ).all()[-1]
            assert carried.data == {"successor_case_id": successor.id}
        opened = uow.session.scalars(select(Case).where(Case.round.has(code="2021Q4"))).all()
        assert len(opened) == 1


@pytest.mark.parametrize("order", ["older first", "newer first"])
def test_the_new_case_continues_the_latest_open_case_whichever_batch_runs_first(app, order):
    older, newer = _two_open_predecessors(app)
    with app.uow() as uow:  # the newer case carries a notice more: its counts must be taken
        uow.session.get(Case, older).notices_city = 1
        uow.session.get(Case, newer).notices_city = 2
        uow.commit()
    _recheck_batches(app, [older, newer] if order == "older first" else [newer, older])
    with app.uow() as uow:
        [successor] = uow.session.scalars(select(Case).where(Case.round.has(code="2021Q4")))
        assert successor.previous_case_id == newer
        assert successor.notices_city >= 2
        assert {uow.session.get(Case, c).state for c in (older, newer)} == {"continued"}


@pytest.mark.parametrize("order", ["open case first", "verified case first"])
def test_a_problem_open_since_an_earlier_round_and_verified_in_the_last_is_continued_from_the_open_case(
    app, order
):
    """An escalated case of 2021Q2 was never fixed; 2021Q3's case of the same problem was
    verified; the 2021Q4 recheck finds both present. The new case continues the open one (its
    escalation and notices are what the unit has been told), whichever batch runs first."""
    ids = list(_one_problem_twice(app, "hill", ("escalated", "verified")))
    with app.uow() as uow:
        open_level = uow.session.get(Case, ids[0]).escalation_level
    _recheck_batches(app, ids if order == "open case first" else ids[::-1])
    with app.uow() as uow:
        [successor] = uow.session.scalars(select(Case).where(Case.round.has(code="2021Q4")))
        assert successor.previous_case_id == ids[0]
        assert successor.escalation_level > open_level >= 1  # escalated again, a repeat
        states = [uow.session.get(Case, case_id).state for case_id in ids]
        assert states == ["continued", "verified"]
