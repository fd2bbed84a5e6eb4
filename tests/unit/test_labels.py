"""What a person reads: the Chinese names of states, moves, history entries and severities,
and the exact wording of a refused move (states.lifecycle)."""

from __future__ import annotations

import pytest

from states import CaseState, InvalidTransition, Trigger, allowed_triggers, fire
from states.lifecycle import (
    EVENT_LABELS,
    OPEN_STATES,
    SEVERITY_LABELS,
    STATE_LABELS,
    TRANSITIONS,
    TRIGGER_LABELS,
)


def test_every_state_has_its_chinese_label():
    assert {str(s): label for s, label in STATE_LABELS.items()} == {
        "found": "已发现",
        "notified": "已通知",
        "rectifying": "整改中",
        "submitted": "已提交",
        "verified": "已核验",
        "escalated": "已升级",
        "continued": "已转入下一轮",
    }


def test_every_trigger_has_its_chinese_label():
    assert {str(t): label for t, label in TRIGGER_LABELS.items()} == {
        "notify": "通知",
        "start": "开始整改",
        "submit": "提交整改",
        "verify": "核验通过",
        "reject": "退回",
        "escalate": "升级督办",
        "carry_over": "转入下一轮",
    }


def test_a_cases_history_names_every_entry_in_chinese():
    assert EVENT_LABELS == {
        "created": "立案",
        "notify": "通知",
        "start": "开始整改",
        "submit": "提交整改",
        "verify": "核验通过",
        "reject": "退回",
        "escalate": "升级督办",
        "carry_over": "转入下一轮",
        "extend_deadline": "延长整改期限",
        "record_notice": "记录通报",
    }


def test_severities_are_named_as_the_inspection_rules_name_them():
    assert SEVERITY_LABELS == {"veto": "单项否决", "deduction": "扣分项"}


def test_the_states_and_triggers_keep_their_stored_values():
    assert [str(s) for s in CaseState] == [
        "found",
        "notified",
        "rectifying",
        "submitted",
        "verified",
        "escalated",
        "continued",
    ]
    assert [str(t) for t in Trigger] == [
        "notify",
        "start",
        "submit",
        "verify",
        "reject",
        "escalate",
        "carry_over",
    ]
    assert OPEN_STATES == set(CaseState) - {CaseState.VERIFIED, CaseState.CONTINUED}


def test_a_refused_move_names_the_case_its_state_and_the_move_in_chinese():
    with pytest.raises(InvalidTransition) as refused:
        fire("verified", "reject", case_id=12)
    assert str(refused.value) == "案件 12当前状态为「已核验」(verified)，不能执行「退回」(reject)"
    assert refused.value.reason == ""
    assert refused.value.http_status == 409


def test_a_refused_move_without_a_case_id_says_case():
    with pytest.raises(InvalidTransition) as refused:
        fire("found", "submit")
    assert str(refused.value) == "案件当前状态为「已发现」(found)，不能执行「提交整改」(submit)"
    assert refused.value.case_id is None


def test_a_verify_without_proof_gives_the_reason_after_the_refusal():
    with pytest.raises(InvalidTransition) as refused:
        fire("rectifying", "verify", case_id=3)
    assert str(refused.value) == (
        "案件 3当前状态为「整改中」(rectifying)，不能执行「核验通过」(verify)"
        "：未经复查证明已整改，须先由责任单位提交整改材料"
    )


def test_unknown_states_and_triggers_are_printed_as_given_with_the_reason():
    with pytest.raises(InvalidTransition) as refused:
        fire("archived", "notify", case_id=7)
    assert str(refused.value) == (
        "案件 7当前状态为「archived」(archived)，不能执行「通知」(notify)：未知状态"
    )
    with pytest.raises(InvalidTransition) as refused:
        fire("found", "delete")
    assert (
        str(refused.value)
        == "案件当前状态为「已发现」(found)，不能执行「delete」(delete)：未知操作"
    )
    assert refused.value.reason == "未知操作"


def test_proof_from_a_recheck_is_what_the_machine_is_told():
    assert fire("found", "verify", proven_fixed=1) == CaseState.VERIFIED
    with pytest.raises(InvalidTransition):
        fire("found", "verify", proven_fixed=0)


@pytest.mark.parametrize(
    "state, allowed",
    [
        ("found", ["notify"]),
        ("notified", ["start", "submit", "escalate"]),
        ("rectifying", ["submit", "escalate"]),
        ("submitted", ["verify", "reject"]),
        ("verified", []),
        ("escalated", ["start", "submit", "escalate"]),
    ],
)
def test_the_buttons_a_person_sees_for_each_state(state, allowed):
    assert [str(t) for t in allowed_triggers(state)] == allowed


def test_the_transitions_table_is_the_designed_one():
    as_text = [
        (str(t["trigger"]), sorted(map(str, t["source"])), str(t["dest"]), "conditions" in t)
        for t in TRANSITIONS
    ]
    assert as_text == [
        ("notify", ["found"], "notified", False),
        ("start", ["escalated", "notified"], "rectifying", False),
        ("submit", ["escalated", "notified", "rectifying"], "submitted", False),
        ("verify", ["submitted"], "verified", False),
        ("verify", ["escalated", "found", "notified", "rectifying"], "verified", True),
        ("reject", ["submitted"], "rectifying", False),
        ("escalate", ["escalated", "notified", "rectifying"], "escalated", False),
        (
            "carry_over",
            ["escalated", "found", "notified", "rectifying", "submitted"],
            "continued",
            True,
        ),
    ]


@pytest.mark.parametrize("trigger", ["to_verified", "to_found", "delete"])
def test_a_move_the_design_does_not_name_is_an_unknown_operation(trigger):
    with pytest.raises(InvalidTransition) as refused:
        fire("found", trigger)
    assert refused.value.reason == "未知操作"


def test_a_refusal_raised_elsewhere_without_a_reason_ends_at_the_move():
    refused = InvalidTransition(case_id=4, state="submitted", trigger="escalate")
    assert refused.reason == ""
    assert str(refused) == "案件 4当前状态为「已提交」(submitted)，不能执行「升级督办」(escalate)"
