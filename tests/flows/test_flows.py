"""The flows on the demo scenario: publish 2021Q2, recheck at 2021Q3, sweep on 2021-07-30."""

from __future__ import annotations

from datetime import date

from prefect.client.orchestration import get_client
from sqlalchemy import select

from flows.dispatch import dispatch_outbox
from flows.publish import publish_round
from flows.recheck import quarterly_recheck
from flows.sweep import overdue_sweep
from services.cases.queries import CaseFilters, list_cases
from services.core import progress
from services.db.models import Case, CaseEvent, OutboxMessage, Round, Target
from tests.builders import a_round
from tests.support.flowkit import at, count, mark
from tests.support.mailserver import MailServer

NOTICE_DAY = date(2021, 7, 19)


def _cases_of(app, round_code: str) -> list:
    with app.uow() as uow:
        query = select(Case.id, Case.state, Case.deadline, Case.unit_id, Case.escalation_level)
        return uow.session.execute(query.join(Round).where(Round.code == round_code)).all()


async def test_publishing_2021q2_notifies_every_found_case_and_mails_each_unit_once(demo):
    found = [c for c in _cases_of(demo, "2021Q2") if c.state == "found"]
    assert len(found) == 9  # the demo's 2021Q2 cases, all found
    summary = publish_round("2021Q2", as_of=NOTICE_DAY)
    assert summary["notified"] == 9
    after = {c.id: c for c in _cases_of(demo, "2021Q2")}
    assert {after[c.id].state for c in found} == {"notified"}
    assert {after[c.id].deadline for c in found} == {date(2021, 7, 29)}
    with demo.uow() as uow:
        notices = uow.session.scalars(
            select(OutboxMessage).where(OutboxMessage.template == "round_notice")
        ).all()
        assert sorted(m.unit_id for m in notices) == sorted({c.unit_id for c in found})
        assert count(demo, OutboxMessage, OutboxMessage.template == "case_notice") == 0
    again = publish_round("2021Q2", as_of=NOTICE_DAY)
    assert again["notified"] == 0
    assert count(demo, OutboxMessage) == len(notices)


async def test_a_recheck_at_2021q3_escalates_the_park_at_once_and_verifies_fixed_cases(demo):
    publish_round("2021Q2", as_of=NOTICE_DAY)
    with demo.uow() as uow:
        a_round(uow, "2021Q3")
        q2 = dict(
            uow.session.execute(
                select(Target.code, Case).join(Target).join(Round).where(Round.code == "2021Q2")
            ).all()
        )
        park = q2["web-gyyq"]
        mark(uow, park, "present", day=date(2021, 9, 30))
        fixed = [q2["web-yongde"], q2["col-xczx"]]
        for case in fixed:
            mark(uow, case, "fixed", day=date(2021, 9, 30))
        park = (park.id, park.escalation_level)
        fixed = [case.id for case in fixed]
        uow.commit()
    seen: list[tuple[int, int]] = []
    with progress.reporting(lambda done, total: seen.append((done, total))):
        state = quarterly_recheck(
            "2021Q3", as_of=date(2021, 10, 1), outcomes="marks", return_state=True
        )
    summary = await state.aresult()
    # `rectify recheck` draws its bar from these: batches done of all, ending complete.
    assert seen and seen[-1][0] == seen[-1][1] >= 1, seen
    assert (summary["linked"], summary["escalated"]) == (1, 1)
    assert summary["per_unit"]["gyyq"]["escalated"] == 1
    async with get_client() as client:
        run = await client.read_flow_run(state.state_details.flow_run_id)
        artifacts = await client.read_artifacts()
    actor = f"quarterly-recheck/{run.name}"
    assert any("仍存在" in (a.data or "") for a in artifacts)
    with demo.uow() as uow:
        linked = uow.session.scalar(select(Case).where(Case.previous_case_id == park[0]))
        assert linked.round.code == "2021Q3"
        assert (linked.notices_city, linked.notices_province) == (4, 1)
        assert (linked.state, linked.escalation_level) == ("escalated", park[1] + 1)
        mails = uow.session.scalars(
            select(OutboxMessage.template).where(OutboxMessage.case_id == linked.id)
        ).all()
        assert "escalation" in mails
        for case_id in fixed:
            assert uow.session.get(Case, case_id).state == "verified"
            event = uow.session.scalars(
                select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
            ).all()[-1]
            assert (event.trigger, event.actor, event.actor_kind) == ("verify", actor, "system")


async def test_the_sweep_on_2021_07_30_escalates_exactly_the_overdue_cases_once(demo):
    q2 = {c.id for c in _cases_of(demo, "2021Q2")}
    publish_round("2021Q2", as_of=NOTICE_DAY)
    # Worked out from the demo, not from the application's overdue list: the publication
    # notifies the nine 2021Q2 cases with the deadline 2021-07-29; the earlier rounds' cases
    # are verified or escalated already. On 2021-07-30 exactly those nine are overdue.
    after = _cases_of(demo, "2021Q2")
    assert {(c.state, c.deadline) for c in after} == {("notified", date(2021, 7, 29))}
    overdue = q2
    assert len(overdue) == 9
    with at(demo, date(2021, 7, 30)).uow() as uow:
        listed = {row.id for row in list_cases(uow, CaseFilters(overdue=True))}
    assert listed == overdue  # the list the supervisors see agrees
    summary = overdue_sweep(as_of=date(2021, 7, 30))
    assert summary["escalated"] == 9
    with demo.uow() as uow:
        escalated_now = set(
            uow.session.scalars(
                select(CaseEvent.case_id).where(
                    CaseEvent.trigger == "escalate", CaseEvent.actor.like("overdue-sweep/%")
                )
            )
        )
    assert escalated_now == overdue
    before = (count(demo, CaseEvent), count(demo, OutboxMessage))
    again = overdue_sweep(as_of=date(2021, 7, 30))
    assert (again["escalated"], again["units_reminded"]) == (0, 0)
    assert (count(demo, CaseEvent), count(demo, OutboxMessage)) == before


async def test_the_dispatch_flow_delivers_each_units_notice_once(demo, monkeypatch):
    server = MailServer().start()
    monkeypatch.setenv("RECTIFY_SMTP_PORT", str(server.port))
    try:
        publish_round("2021Q2", as_of=NOTICE_DAY)
        with demo.uow() as uow:
            pending = uow.session.scalars(
                select(OutboxMessage).where(OutboxMessage.status == "pending")
            ).all()
            addresses = sorted(m.to_addrs[0] for m in pending)
        first = await dispatch_outbox()
        second = await dispatch_outbox()
    finally:
        server.stop()
    assert (first["sent"], second["sent"]) == (len(pending), 0)
    assert sorted(r.rcpt_tos[0] for r in server.received) == addresses
