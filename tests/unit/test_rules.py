"""The domain's rules beyond the moves: overdue, repeat offenders, refusals (states.rules)."""

from __future__ import annotations

from datetime import date

import pytest

from states import CaseState, Trigger
from states.rules import (
    DEADLINE_STATES,
    NOTICE_LEVELS,
    OVERDUE_STATES,
    extension_refusal,
    is_overdue,
    is_repeat_offender,
    notices_with_this_one,
    refusal,
)

TODAY = date(2021, 7, 19)


@pytest.mark.parametrize(
    "state, deadline, overdue",
    [
        (CaseState.NOTIFIED, date(2021, 7, 18), True),
        (CaseState.RECTIFYING, date(2021, 7, 18), True),
        (CaseState.ESCALATED, date(2021, 7, 18), True),
        (CaseState.NOTIFIED, TODAY, False),  # the deadline day itself is still in time
        (CaseState.NOTIFIED, None, False),
        (CaseState.SUBMITTED, date(2021, 7, 1), False),  # waits for the office, not the unit
        (CaseState.FOUND, date(2021, 7, 1), False),
        (CaseState.VERIFIED, date(2021, 7, 1), False),
    ],
)
def test_a_case_is_overdue_only_while_the_unit_owes_work_past_its_deadline(
    state, deadline, overdue
):
    assert is_overdue(str(state), deadline, TODAY) is overdue


def test_the_overdue_states_keep_the_order_of_the_partial_index():
    assert [str(s) for s in OVERDUE_STATES] == ["notified", "rectifying", "escalated"]
    assert DEADLINE_STATES == {*OVERDUE_STATES, CaseState.SUBMITTED}


def test_a_problem_notified_again_counts_this_rounds_notice_towards_the_threshold():
    notices = notices_with_this_one(city=1, province=0, county=0)
    assert notices == 2
    assert is_repeat_offender(notices, threshold=2)
    assert not is_repeat_offender(notices_with_this_one(city=0, province=0, county=0), threshold=2)
    assert is_repeat_offender(notices_with_this_one(city=1, province=1, county=0), threshold=3)
    assert is_repeat_offender(notices_with_this_one(city=0, province=0, county=2), threshold=3)


def test_notice_levels_name_their_default_issuers():
    assert NOTICE_LEVELS == {
        "city": "市政府办公室",
        "province": "省政府办公厅",
        "county": "县政府办公室",
    }


@pytest.mark.parametrize("note", [None, "", "   "])
def test_a_rejection_needs_a_reason(note):
    assert refusal(trigger=Trigger.REJECT, note=note) == "退回整改必须填写理由"


def test_other_moves_and_a_reasoned_rejection_are_not_refused_here():
    assert refusal(trigger=Trigger.REJECT, note="材料不全") is None
    assert refusal(trigger=Trigger.VERIFY, note=None) is None


def test_an_extension_needs_a_reason_a_running_deadline_and_a_later_day():
    def refused(**overrides):
        spec = {
            "case_id": 7,
            "state": "rectifying",
            "deadline": date(2021, 8, 1),
            "new_deadline": date(2021, 8, 10),
            "reason": "需上级审批",
        } | overrides
        return extension_refusal(**spec)

    assert refused() == []
    assert refused(reason=" ") == ["延长整改期限必须填写理由"]
    assert refused(state="verified") == ["案件 7 当前状态为「已核验」，没有进行中的整改期限"]
    assert refused(new_deadline=date(2021, 8, 1)) == ["新期限 2021-08-01 必须晚于原期限 2021-08-01"]
    assert refused(state="found", reason="") == [
        "延长整改期限必须填写理由",
        "案件 7 当前状态为「已发现」，没有进行中的整改期限",
    ]
