"""The domain's rules beyond the moves: overdue, repeat offenders, refusals (states.rules)."""

from __future__ import annotations

from datetime import date

import pytest

from states import CaseState, Trigger, rules
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


# -- standing: where a case stands today, as every list, count and page tells it ------------
TODAY = date(2021, 7, 19)


@pytest.mark.parametrize(
    ("state", "deadline", "key", "label", "days", "is_open", "submittable"),
    [
        ("found", None, "open", "已发现", 0, True, False),
        ("notified", date(2021, 7, 19), "open", "已通知", 0, True, True),
        ("notified", date(2021, 7, 14), "overdue", "超期 5 天", 5, True, True),
        ("rectifying", date(2021, 7, 18), "overdue", "超期 1 天", 1, True, True),
        ("submitted", date(2021, 7, 1), "open", "已提交", 0, True, False),
        ("escalated", date(2021, 7, 9), "escalated", "已升级督办，超期 10 天", 10, True, True),
        ("escalated", date(2021, 8, 9), "escalated", "已升级督办", 0, True, True),
        ("verified", date(2021, 7, 1), "closed", "已核验", 0, False, False),
        ("continued", date(2021, 1, 29), "continued", "已转入下一轮", 0, False, False),
    ],
)
def test_a_cases_standing_reads_its_state_and_deadline_one_way(
    state, deadline, key, label, days, is_open, submittable
):
    standing = rules.standing(state, deadline, TODAY)
    assert (standing.key, standing.label, standing.overdue_days) == (key, label, days)
    assert (standing.is_open, standing.submittable) == (is_open, submittable)
    assert rules.overdue_days(state, deadline, TODAY) == days


def test_a_continued_case_is_never_overdue_however_old_its_deadline():
    assert not rules.is_overdue("continued", date(2020, 1, 1), TODAY)
    assert rules.overdue_days("continued", date(2020, 1, 1), TODAY) == 0


def test_an_extension_must_end_after_the_current_deadline_and_after_today():
    spec = {"case_id": 3, "state": "notified", "deadline": date(2021, 7, 10), "reason": "需审批"}
    assert rules.extension_refusal(**spec, new_deadline=date(2021, 7, 15), today=TODAY) == [
        "新期限 2021-07-15 必须晚于今天 2021-07-19"
    ]
    assert rules.extension_refusal(**spec, new_deadline=date(2021, 7, 20), today=TODAY) == []
    assert rules.extension_refusal(**spec, new_deadline=date(2021, 7, 5), today=TODAY) == [
        "新期限 2021-07-05 必须晚于原期限 2021-07-10",
        "新期限 2021-07-05 必须晚于今天 2021-07-19",
    ]


def test_an_action_is_never_stamped_before_the_cases_last_event():
    from datetime import UTC, datetime

    last = datetime(2021, 7, 30, 1, 0, tzinfo=UTC)
    assert rules.stamp_refusal(last, datetime(2021, 7, 30, 1, 0, tzinfo=UTC)) is None
    assert rules.stamp_refusal(None, datetime(2021, 7, 1, tzinfo=UTC)) is None
    refused = rules.stamp_refusal(last, datetime(2021, 7, 19, 1, 0, tzinfo=UTC))
    assert refused is not None and "早于该案件最近一次记录的时间" in refused


@pytest.mark.parametrize(
    ("actor", "kind", "shown"),
    [
        ("张三", "user", "张三"),
        ("临沧工业园区管理委员会", "unit", "临沧工业园区管理委员会"),
        ("系统", "system", "系统"),
        ("system", "system", "系统"),
        ("数据导入", "system", "系统（数据导入）"),
        ("quarterly-recheck/witty-fox", "system", "系统（季度复查）"),
        ("overdue-sweep/brave-owl", "system", "系统（逾期巡查）"),
        ("publish-round", "system", "系统（发布通报）"),
    ],
)
def test_every_system_action_is_named_the_same_way(actor, kind, shown):
    assert rules.actor_label(actor, kind) == shown
