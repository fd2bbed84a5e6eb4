"""A case carried over to a later round (已转入下一轮) is in no overdue list, is never escalated
by the sweep, and no reminder names it: its unit is reminded of the case that continues it."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from services.cases import queries
from services.db.models import Case, OutboxMessage
from services.rounds import sweeps
from tests.builders import a_case, a_round, a_target, a_unit
from tests.support.flowkit import at

DUE = date(2021, 7, 29)
ACTOR = "overdue-sweep/测试运行"


def _carried_over(app) -> dict[str, int]:
    """gengma: a case due on the 29th carried over to 2021Q3 (its successor due the same day);
    mengding: only a carried-over case due on the 29th (its successor not notified yet)."""
    with app.uow() as uow:
        a_round(uow, "2021Q2", deadline=DUE)
        a_round(uow, "2021Q3", deadline=DUE)
        a_unit(uow, "gengma")
        a_unit(uow, "mengding")
        site = a_target(uow, "t-gengma", unit_code="gengma")
        old = a_case(uow, state="notified", target_code=site.code)
        new = a_case(
            uow,
            state="notified",
            round_code="2021Q3",
            target_code=site.code,
            previous_case_id=old.id,
        )
        other = a_target(uow, "t-mengding", unit_code="mengding")
        lone = a_case(uow, state="rectifying", target_code=other.code)
        later = a_case(uow, round_code="2021Q3", target_code=other.code, previous_case_id=lone.id)
        uow.commit()
        states = {c.id: uow.session.get(Case, c.id).state for c in (old, new, lone, later)}
    assert list(states.values()) == ["continued", "notified", "continued", "found"]
    return {"old": old.id, "new": new.id, "lone": lone.id}


def _digests(app) -> dict[str, list[int]]:
    """Each reminder digest's key → the ids of the cases it lists (due, before or after)."""
    with app.uow() as uow:
        rows = uow.session.scalars(
            select(OutboxMessage).where(OutboxMessage.template == "reminder_digest")
        ).all()
        return {
            m.key: sorted(c["id"] for kind in ("before", "due", "after") for c in m.context[kind])
            for m in rows
        }


def test_a_continued_case_is_reminded_of_nowhere_its_successor_is(app):
    ids = _carried_over(app)
    for day in (date(2021, 7, 26), date(2021, 7, 28), DUE):
        with at(app, day).uow() as uow:
            sweeps.sweep(uow, actor=ACTOR)
    digests = _digests(app)
    # Three days before, the day before and on the day: only gengma, only the successor.
    assert digests == {f"reminder:gengma:2021-07-{d}": [ids["new"]] for d in ("26", "28", "29")}


def test_a_continued_case_past_its_deadline_is_not_escalated_nor_listed_overdue(app):
    ids = _carried_over(app)
    with at(app, date(2021, 7, 30)).uow() as uow:
        summary = sweeps.sweep(uow, actor=ACTOR)
    assert summary.escalated == 1 and summary.escalated_per_unit == {"gengma": 1}
    with at(app, date(2021, 7, 30)).uow() as uow:
        states = {k: uow.session.get(Case, i).state for k, i in ids.items()}
        overdue = [r.id for r in queries.list_cases(uow, queries.CaseFilters(overdue=True))]
    assert states == {"old": "continued", "new": "escalated", "lone": "continued"}
    assert overdue == [ids["new"]]
    # The day after the deadline: the 'after' reminder, again for the successor alone.
    assert _digests(app) == {"reminder:gengma:2021-07-30": [ids["new"]]}
