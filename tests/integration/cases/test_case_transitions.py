"""Transitions on a real database: state, history and side fields change together or not at all."""

import dataclasses
from datetime import date

import pytest
from sqlalchemy import func, select

from services.cases import transitions
from services.core.clock import Clock
from services.core.errors import ConcurrencyConflict, ValidationFailed
from services.db.models import Case, CaseEvent, CaseNotice, Submission
from states import InvalidTransition
from tests.builders import PATH_TO, a_case, a_round


def history(uow, case_id):
    return [
        (e.trigger, e.from_state, e.to_state)
        for e in uow.session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
        )
    ]


@pytest.mark.parametrize("state", list(PATH_TO))
def test_each_state_is_reached_through_recorded_transitions(app, state):
    with app.uow() as uow:
        case = a_case(uow, state=state)
        uow.commit()
        case_id = case.id
    with app.uow() as uow:
        stored = uow.session.get(Case, case_id)
        assert stored.state == state
        assert [t for t, _, _ in history(uow, case_id)] == ["created", *PATH_TO[state]]
        assert stored.version == 1 + len(PATH_TO[state])  # one versioned write per transition


def test_notify_sets_the_round_deadline_and_counts_a_city_notice(app):
    with app.uow() as uow:
        a_round(
            uow,
            "2021Q2",
            notice_date=date(2021, 7, 19),
            deadline=date(2021, 7, 29),
            doc_number="临政办字〔2021〕72号",
        )
        case = a_case(uow, state="notified")
        uow.commit()
        assert case.deadline == date(2021, 7, 29)
        assert case.notices_city == 1
        notice = uow.session.scalar(select(CaseNotice).where(CaseNotice.case_id == case.id))
        assert (notice.level, notice.reference) == ("city", "临政办字〔2021〕72号")


def test_notify_without_a_round_deadline_counts_working_days_over_national_day(app):
    with app.uow() as uow:
        a_round(uow, "2021Q3", deadline_days=3, deadline_mode="working")
        uow.clock = type(uow.clock)(date(2021, 9, 30))
        case = a_case(uow, state="notified", round_code="2021Q3")
        uow.commit()
        assert (case.deadline, case.deadline_mode) == (date(2021, 10, 11), "working")


def test_refused_transition_changes_neither_the_case_nor_its_history(app):
    with app.uow() as uow:
        case = a_case(uow, state="found")
        uow.commit()
        case_id, version = case.id, case.version
    with app.uow() as uow:
        before = history(uow, case_id)
        with pytest.raises(InvalidTransition, match=f"案件 {case_id}"):
            transitions.transition(uow, case_id=case_id, trigger="verify", actor="张三")
        uow.commit()
    with app.uow() as uow:
        stored = uow.session.get(Case, case_id)
        assert (stored.state, stored.version) == ("found", version)
        assert history(uow, case_id) == before


def test_reject_requires_a_reason_and_marks_the_submission_rejected(app):
    with app.uow() as uow:
        case = a_case(uow, state="submitted")
        with pytest.raises(ValidationFailed, match="理由"):
            transitions.transition(uow, case_id=case.id, trigger="reject", actor="李四", note="  ")
        transitions.transition(
            uow, case_id=case.id, trigger="reject", actor="李四", note="缺少签字扫描件"
        )
        uow.commit()
        submission = uow.session.scalar(select(Submission).where(Submission.case_id == case.id))
        assert (submission.review_result, submission.review_comment) == (
            "rejected",
            "缺少签字扫描件",
        )
        assert case.state == "rectifying"


def test_escalation_raises_the_level_each_time(app):
    with app.uow() as uow:
        case = a_case(uow, state="escalated")
        transitions.transition(
            uow, case_id=case.id, trigger="escalate", actor="系统", actor_kind="system"
        )
        uow.commit()
        assert case.escalation_level == 2


def test_concurrent_changes_to_one_case_one_wins_the_other_is_told(app):
    with app.uow() as uow:
        case = a_case(uow, state="submitted")
        uow.commit()
        case_id = case.id
    first, second = app.uow(), app.uow()
    with first, second:
        # Both supervisors have the case open; the first decides and saves first.
        seen_by_first = first.session.get(Case, case_id)
        seen_by_second = second.session.get(Case, case_id)
        assert seen_by_first.state == seen_by_second.state == "submitted"
        transitions.transition(first, case_id=case_id, trigger="verify", actor="甲")
        first.commit()
        with pytest.raises(ConcurrencyConflict, match="已被他人修改"):
            transitions.transition(
                second, case_id=case_id, trigger="reject", actor="乙", note="材料不全"
            )
            second.commit()
    with app.uow() as uow:
        stored = uow.session.get(Case, case_id)
        assert stored.state == "verified"
        assert [t for t, _, _ in history(uow, case_id)][-1] == "verify"
        rejects = uow.session.scalar(
            select(func.count())
            .select_from(CaseEvent)
            .where(CaseEvent.case_id == case_id, CaseEvent.trigger == "reject")
        )
        assert rejects == 0


def test_stale_version_from_a_form_is_refused(app):
    with app.uow() as uow:
        case = a_case(uow, state="submitted")
        uow.commit()
        stale = case.version - 1
    with app.uow() as uow:
        with pytest.raises(ConcurrencyConflict):
            transitions.transition(
                uow, case_id=case.id, trigger="verify", actor="甲", expected_version=stale
            )


def test_deadline_extension_is_an_event_not_a_state_change(app):
    with app.uow() as uow:
        a_round(uow, "2021Q2", deadline=date(2021, 7, 29))
        case = a_case(uow, state="rectifying")
        transitions.extend_deadline(
            uow,
            case_id=case.id,
            new_deadline=date(2021, 8, 10),
            reason="需上级审批注销",
            actor="王五",
        )
        uow.commit()
        assert case.state == "rectifying" and case.deadline == date(2021, 8, 10)
        assert history(uow, case.id)[-1] == ("extend_deadline", "rectifying", "rectifying")
        with pytest.raises(ValidationFailed, match="晚于"):
            transitions.extend_deadline(
                uow, case_id=case.id, new_deadline=date(2021, 8, 1), reason="x", actor="王五"
            )


def test_timestamps_come_back_time_zone_aware(app):
    with app.uow() as uow:
        case = a_case(uow, state="notified")
        uow.commit()
        case_id = case.id
    with app.uow() as uow:
        stored = uow.session.get(Case, case_id)
        assert stored.notified_at.tzinfo is not None
        assert stored.notified_at.utcoffset() is not None


def test_the_same_finding_again_leaves_the_case_and_its_version_alone(app):
    """A re-import (or a recheck meeting one problem twice) of what the case already says does
    not write it, so a supervisor's open form does not turn stale; a new description does."""
    with app.uow() as uow:
        case = a_case(uow, state="notified", description="栏目三个月未更新")
        uow.commit()
        finding = transitions.Finding(
            round_code=case.round.code,
            target_code=case.target.code,
            category_code=case.category_code,
            description="栏目三个月未更新",
        )
        case_id, version = case.id, case.version
    with app.uow() as uow:
        uow.clock = Clock(date(2021, 9, 1), tz=uow.clock.tz)  # found again a quarter later
        again, created = transitions.open_case(uow, finding, actor="测试员")
        uow.commit()
        assert (again.id, created, again.version) == (case_id, False, version)
    with app.uow() as uow:
        changed, _ = transitions.open_case(
            uow, dataclasses.replace(finding, description="栏目半年未更新"), actor="测试员"
        )
        uow.commit()
        assert (changed.id, changed.description, changed.version) == (
            case_id,
            "栏目半年未更新",
            version + 1,
        )
