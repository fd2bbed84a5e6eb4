"""The mail server down for an hour of simulated time: afterwards every message arrives once."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from services.cases import transitions
from services.core.clock import Clock
from services.mail import outbox, outbox_admin
from tests.builders import a_case, a_target, a_unit
from tests.support.mailserver import MailServer

UNITS = 5
DOWN = timedelta(hours=1)
TICK = timedelta(minutes=1)  # the dispatcher's schedule


def _one_notified_case_per_unit(app) -> None:
    with app.uow() as uow:
        for n in range(UNITS):
            a_unit(uow, f"u{n}", contact_email=f"u{n}@units.test")
            case = a_case(uow, target_code=a_target(uow, unit_code=f"u{n}").code)
            transitions.transition(uow, case_id=case.id, trigger="notify", actor="测试员")
        uow.commit()


def _statuses(app) -> Counter:
    with app.uow() as uow:
        return Counter(row.status for row in outbox_admin.list_messages(uow))


def test_mail_queued_while_the_server_is_down_for_an_hour_is_delivered_exactly_once_afterwards(
    app,
):
    server = MailServer()  # not started: every connection is refused
    sender = outbox.smtp_sender(app.settings.model_copy(update={"smtp_port": server.port}))
    _one_notified_case_per_unit(app)
    start = app.clock.now()
    queued = sum(_statuses(app).values())
    assert queued >= UNITS

    moment, sent_while_down = start, 0
    while moment < start + DOWN:
        sent_while_down += outbox.dispatch(app, sender=sender, clock=Clock(moment)).sent
        moment += TICK
    assert sent_while_down == 0
    assert server.received == []
    assert set(_statuses(app)) == {"pending"}  # nothing given up during the hour

    server.start()
    try:
        while moment < start + DOWN * 8:  # the dispatcher keeps running after the outage
            outbox.dispatch(app, sender=sender, clock=Clock(moment))
            moment += TICK * 5
    finally:
        server.stop()

    assert _statuses(app) == Counter({"sent": queued})
    ids = Counter(server.message_ids())
    assert len(ids) == queued and set(ids.values()) == {1}
    assert {r for m in server.received for r in m.rcpt_tos} >= {
        f"u{n}@units.test" for n in range(UNITS)
    }
