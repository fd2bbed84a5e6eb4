"""Batched transitions: the same rows as one-by-one transitions, and no case moved twice."""

from __future__ import annotations

from sqlalchemy import select

from services.cases import batch, transitions
from services.db.models import Case, CaseEvent, CaseNotice, OutboxMessage, Submission
from tests.builders import a_case, a_round

ACTOR = "测试流程"


def _row(uow, case_id: int) -> tuple:
    case = uow.session.get(Case, case_id)
    events = uow.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
    ).all()
    notices = uow.session.scalars(select(CaseNotice).where(CaseNotice.case_id == case_id)).all()
    mails = uow.session.scalars(
        select(OutboxMessage.template).where(OutboxMessage.case_id == case_id)
    ).all()
    return (
        case.state,
        case.version,
        case.deadline,
        case.notices_city,
        case.escalation_level,
        case.escalated_for_deadline,
        [(e.trigger, e.from_state, e.to_state, e.actor, e.actor_kind, e.data) for e in events[1:]],
        [(n.level, n.notified_on) for n in notices],
        sorted(mails),
    )


def test_a_batch_writes_what_single_transitions_write(app):
    steps = [("notify", {}), ("escalate", {"reason": "overdue"}), ("verify", {})]
    with app.uow() as uow:
        a_round(uow, "2021Q2", deadline_days=10)
        single, batched = a_case(uow).id, a_case(uow).id
        for trigger, data in steps:
            proven = trigger == "verify"
            transitions.transition(
                uow,
                case_id=single,
                trigger=trigger,
                actor=ACTOR,
                actor_kind="system",
                data=data,
                proven_fixed=proven,
            )
            moves = [batch.Move(batched, trigger, proven_fixed=proven, data=data)]
            assert len(batch.transition_many(uow, moves, actor=ACTOR).moved) == 1
        uow.commit()
    with app.uow() as uow:
        assert _row(uow, batched) == _row(uow, single)
        assert _row(uow, batched)[0] == "verified"


def test_two_moves_of_one_case_in_one_batch_are_written_in_order(app):
    with app.uow() as uow:
        case_id = a_case(uow).id
        moves = [batch.Move(case_id, "notify"), batch.Move(case_id, "escalate")]
        result = batch.transition_many(uow, moves, actor=ACTOR)
        uow.commit()
    assert [m.to_state for m in result.moved] == ["notified", "escalated"]
    with app.uow() as uow:
        assert (uow.session.get(Case, case_id).state, uow.session.get(Case, case_id).version) == (
            "escalated",
            3,
        )


def test_a_case_changed_by_someone_else_mid_batch_is_reported_not_moved_twice(app, monkeypatch):
    with app.uow() as uow:
        ids = [a_case(uow).id for _ in range(3)]
        uow.commit()
    load_rows = batch.load_rows
    interfered = []

    def load_then_interfere(uow, case_ids):
        rows = load_rows(uow, case_ids)
        if not interfered:  # someone notifies the second case after our read
            interfered.append(ids[1])
            with app.uow() as other:
                transitions.transition(other, case_id=ids[1], trigger="notify", actor="张三")
                other.commit()
        return rows

    monkeypatch.setattr(batch, "load_rows", load_then_interfere)
    with app.uow() as uow:
        result = batch.retrying(
            uow,
            lambda: batch.transition_many(uow, [batch.Move(i, "notify") for i in ids], actor=ACTOR),
        )
    assert [m.case_id for m in result.moved] == [ids[0], ids[2]]
    assert [case_id for case_id, _ in result.refused] == [ids[1]]
    with app.uow() as uow:
        notifies = uow.session.scalars(
            select(CaseEvent.case_id).where(CaseEvent.trigger == "notify")
        ).all()
    assert sorted(notifies) == sorted(ids)


def test_a_batch_review_settles_each_case_own_latest_submission(app):
    with app.uow() as uow:
        a_round(uow, "2021Q2", deadline_days=10)
        accepted, rejected = a_case(uow).id, a_case(uow).id
        both = (accepted, rejected)
        batch.transition_many(uow, [batch.Move(i, "notify") for i in both], actor=ACTOR)
        submit = {"text": "已整改", "responsible_person": "张三"}
        batch.transition_many(
            uow, [batch.Move(i, "submit", data=submit) for i in both], actor=ACTOR
        )
        moves = [
            batch.Move(accepted, "verify"),
            batch.Move(rejected, "reject", note="截图不清晰"),
        ]
        assert len(batch.transition_many(uow, moves, actor="审核员").moved) == 2
        uow.commit()
    with app.uow() as uow:
        reviews = {
            s.case_id: (s.review_result, s.reviewer, s.review_comment, s.reviewed_at is not None)
            for s in uow.session.scalars(select(Submission).where(Submission.case_id.in_(both)))
        }
        verified = uow.session.scalar(
            select(CaseEvent.data).where(
                CaseEvent.case_id == accepted, CaseEvent.trigger == "verify"
            )
        )
        submission = uow.session.scalar(select(Submission.id).where(Submission.case_id == accepted))
    assert reviews == {
        accepted: ("accepted", "审核员", None, True),
        rejected: ("rejected", "审核员", "截图不清晰", True),
    }
    assert verified["submission_id"] == submission
