"""The recheck with several issuing offices: each office's round rechecks its own cases only,
and every office's round of a quarter can be rechecked in one run."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from services.core.errors import ValidationFailed
from services.db.models import Case, CaseEvent, Round
from services.rounds import rechecks, rounds
from tests.builders import a_case, a_unit, an_issuer
from tests.support.flowkit import mark

ACTOR = "quarterly-recheck/测试运行"


def _round(uow, code: str, office: str, quarter: int) -> None:
    start = date(2021, 3 * quarter - 2, 1)
    end = date(2021, 3 * quarter + 1, 1) if quarter < 4 else date(2022, 1, 1)
    rounds.upsert_round(
        uow,
        rounds.RoundSpec(
            code=code,
            period_start=start,
            period_end=date.fromordinal(end.toordinal() - 1),
            issuer_code=office,
        ),
    )


@pytest.fixture
def two_offices(app):
    """Counties east and west, each with its Q2 and Q3 round; in each office a Q2 case fixed
    and a Q2 case still present."""
    with app.uow() as uow:
        for office in ("east", "west"):
            a_unit(uow, office)
            an_issuer(uow, office, level="county")
            _round(uow, f"{office}-Q2", office, 2)
            _round(uow, f"{office}-Q3", office, 3)
        cases = {}
        for office in ("east", "west"):
            for outcome in ("fixed", "present"):
                case = a_case(uow, state="notified", round_code=f"{office}-Q2")
                mark(uow, case, outcome)
                cases[office, outcome] = case.id
        uow.commit()
    return cases


def _recheck(app, codes):
    with app.uow() as uow:
        return rechecks.recheck(
            uow, round_code=codes, provider=rechecks.latest_check_result, actor=ACTOR
        )


def test_an_offices_round_rechecks_only_that_offices_cases(app, two_offices):
    summary = _recheck(app, "east-Q3")

    assert summary.outcomes == {"fixed": 1, "present": 1, "unknown": 0}
    assert (summary.verified, summary.linked) == (1, 1)
    with app.uow() as uow:
        state = dict(uow.session.execute(select(Case.id, Case.state)).all())
        assert state[two_offices["east", "fixed"]] == "verified"
        assert state[two_offices["west", "fixed"]] == "notified"
        linked = uow.session.execute(
            select(Case.previous_case_id, Case.round_id).where(Case.source == "recheck")
        ).all()
        east_q3 = rounds.get_round(uow, "east-Q3").id
        assert linked == [(two_offices["east", "present"], east_q3)]


def test_every_offices_round_of_the_quarter_in_one_run(app, two_offices):
    with app.uow() as uow:
        uow.clock = uow.clock.__class__(date(2021, 8, 1), tz=uow.clock.tz)
        codes = rechecks.current_round_codes(uow)
    assert sorted(codes) == ["east-Q3", "west-Q3"]

    summary = _recheck(app, codes)

    assert summary.outcomes == {"fixed": 2, "present": 2, "unknown": 0}
    assert (summary.verified, summary.linked) == (2, 2)
    with app.uow() as uow:
        verified = uow.session.execute(
            select(CaseEvent.case_id, CaseEvent.data).where(CaseEvent.trigger == "verify")
        ).all()
        rounds_named = {case_id: data["recheck_round"] for case_id, data in verified}
        assert rounds_named == {
            two_offices["east", "fixed"]: "east-Q3",
            two_offices["west", "fixed"]: "west-Q3",
        }
        new_rounds = uow.session.execute(
            select(Case.previous_case_id, Case.round_id).where(Case.source == "recheck")
        ).all()
        code_of = {r.id: r.code for r in uow.session.scalars(select(Round))}
        assert sorted((prev, code_of[r]) for prev, r in new_rounds) == sorted(
            [
                (two_offices["east", "present"], "east-Q3"),
                (two_offices["west", "present"], "west-Q3"),
            ]
        )
    # Run again: nothing more changes.
    again = _recheck(app, codes)
    assert (again.verified, again.linked) == (0, 0)


def test_two_rounds_of_one_office_in_one_run_are_refused(app, two_offices):
    with pytest.raises(ValidationFailed, match="同一发文机关只能有一个轮次"):
        _recheck(app, ["east-Q2", "east-Q3"])


def test_a_round_without_an_office_is_rechecked_alone(app, two_offices):
    with app.uow() as uow:
        rounds.upsert_round(
            uow,
            rounds.RoundSpec(
                code="city-Q3", period_start=date(2021, 7, 1), period_end=date(2021, 9, 30)
            ),
        )
        uow.commit()
    with pytest.raises(ValidationFailed, match="未指定发文机关"):
        _recheck(app, ["city-Q3", "east-Q3"])
    summary = _recheck(app, "city-Q3")  # alone: every round's open cases, as before offices
    assert summary.outcomes == {"fixed": 2, "present": 2, "unknown": 0}
