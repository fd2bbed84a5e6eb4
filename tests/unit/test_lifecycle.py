"""The state machine alone: every allowed move, every refused one."""

import pytest

from states import CaseState, InvalidTransition, Trigger, allowed_triggers, fire
from states.lifecycle import _run_machine

ALLOWED = {
    ("found", "notify"): "notified",
    ("notified", "start"): "rectifying",
    ("escalated", "start"): "rectifying",
    ("notified", "submit"): "submitted",
    ("rectifying", "submit"): "submitted",
    ("escalated", "submit"): "submitted",
    ("submitted", "verify"): "verified",
    ("submitted", "reject"): "rectifying",
    ("notified", "escalate"): "escalated",
    ("rectifying", "escalate"): "escalated",
    ("escalated", "escalate"): "escalated",
}
ALL_MOVES = [(s.value, t.value) for s in CaseState for t in Trigger]


@pytest.mark.parametrize(("state", "trigger"), list(ALLOWED))
def test_allowed_move_reaches_the_designed_state(state, trigger):
    assert fire(state, trigger) == ALLOWED[(state, trigger)]


@pytest.mark.parametrize(
    ("state", "trigger"), [m for m in ALL_MOVES if m not in ALLOWED and m[1] != "verify"]
)
def test_move_outside_the_design_is_refused_with_case_state_and_trigger_named(state, trigger):
    with pytest.raises(InvalidTransition) as refused:
        fire(state, trigger, case_id=42)
    assert (refused.value.case_id, refused.value.state, refused.value.trigger) == (
        42,
        state,
        trigger,
    )
    assert (
        "42" in str(refused.value) and state in str(refused.value) and trigger in str(refused.value)
    )


@pytest.mark.parametrize("state", ["found", "notified", "rectifying", "escalated"])
def test_verify_of_an_open_case_needs_a_recheck_proving_it_fixed(state):
    with pytest.raises(InvalidTransition, match="复查"):
        fire(state, "verify")
    assert fire(state, "verify", proven_fixed=True) == "verified"


def test_a_verified_case_cannot_be_verified_again_even_with_proof():
    with pytest.raises(InvalidTransition):
        fire("verified", "verify", proven_fixed=True)


def test_unknown_trigger_is_refused():
    with pytest.raises(InvalidTransition, match="未知操作"):
        fire("found", "delete")


def test_allowed_triggers_lists_what_a_person_may_do():
    assert allowed_triggers("found") == ["notify"]
    assert allowed_triggers("submitted") == ["verify", "reject"]
    assert allowed_triggers("verified") == []


@pytest.mark.parametrize("successor", [False, True])
@pytest.mark.parametrize("proven_fixed", [False, True])
@pytest.mark.parametrize(("state", "trigger"), ALL_MOVES)
def test_fire_answers_exactly_what_the_transitions_machine_answers(
    state, trigger, proven_fixed, successor
):
    machine = _run_machine(state, trigger, proven_fixed, successor)
    if isinstance(machine, CaseState):
        assert fire(state, trigger, proven_fixed=proven_fixed, successor=successor) == machine
    else:
        with pytest.raises(InvalidTransition) as refused:
            fire(state, trigger, proven_fixed=proven_fixed, successor=successor)
        assert refused.value.reason == machine


@pytest.mark.parametrize("state", ["found", "notified", "rectifying", "submitted", "escalated"])
def test_only_a_successor_carries_an_open_case_over_and_then_nothing_more_is_possible(state):
    with pytest.raises(InvalidTransition, match="后续轮次"):
        fire(state, "carry_over")
    assert fire(state, "carry_over", successor=True) == "continued"
    assert allowed_triggers("continued") == []
    assert "carry_over" not in allowed_triggers(state)
    for trigger in ("notify", "start", "submit", "verify", "reject", "escalate"):
        with pytest.raises(InvalidTransition):
            fire("continued", trigger, proven_fixed=True)


def test_closed_cases_cannot_be_carried_over():
    with pytest.raises(InvalidTransition):
        fire("verified", "carry_over", successor=True)


def test_an_unknown_state_is_refused_not_guessed():
    with pytest.raises(InvalidTransition, match="未知状态"):
        fire("archived", "notify", case_id=7)
