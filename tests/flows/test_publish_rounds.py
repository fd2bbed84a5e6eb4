"""``publish-rounds``: many rounds published in one flow run, each as ``publish-round`` would."""

from __future__ import annotations

from sqlalchemy import func, select

from flows import publish
from services.db.models import Case, OutboxMessage, Round
from tests.support.flowkit import count

NOTICE_DAY = publish.date(2021, 7, 19)


def _found_units_by_round(app) -> dict[str, set[int]]:
    with app.uow() as uow:
        rows = uow.session.execute(
            select(Round.code, Case.unit_id).join(Round).where(Case.state == "found")
        ).all()
    grouped: dict[str, set[int]] = {}
    for code, unit_id in rows:
        grouped.setdefault(code, set()).add(unit_id)
    return grouped


async def test_one_run_publishes_every_round_and_mails_each_unit_once_per_round(demo, monkeypatch):
    monkeypatch.setattr(publish, "ROUNDS_PER_TASK", 1)  # a task per round: several groups
    with demo.uow() as uow:
        codes = list(uow.session.scalars(select(Round.code).order_by(Round.code)))
    waiting = _found_units_by_round(demo)
    found = count(demo, Case, Case.state == "found")
    assert len(codes) >= 2 and found > 0

    summary = publish.publish_rounds(codes, as_of=NOTICE_DAY)

    assert summary["rounds"] == len(codes) and summary["notified"] == found
    assert count(demo, Case, Case.state == "found") == 0
    published = Round.published_at.is_not(None)
    assert count(demo, Round, published, Round.code.in_(waiting)) == len(waiting)
    with demo.uow() as uow:
        mailed = uow.session.execute(
            select(Round.code, OutboxMessage.unit_id, func.count())
            .join(Round, Round.id == OutboxMessage.round_id)
            .where(OutboxMessage.template == "round_notice", OutboxMessage.channel == "email")
            .group_by(Round.code, OutboxMessage.unit_id)
        ).all()
    assert {(code, unit) for code, unit, _ in mailed} >= {
        (code, unit) for code, units in waiting.items() for unit in units
    }
    assert {n for _, _, n in mailed} == {1}  # one email per unit and round
    emails = count(demo, OutboxMessage)
    again = publish.publish_rounds(codes, as_of=NOTICE_DAY)
    assert again["notified"] == 0 and count(demo, OutboxMessage) == emails
