"""The case state machine, defined once and applied to plain state holders.

The transitions ``Machine`` is built at import with no models bound to it;
``fire`` runs one trigger against a throw-away holder of a state string and
returns the new state. The database row stays the truth: callers copy the
result back. No callbacks with side effects live here (a failing callback
after the state change could not roll it back).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from transitions import Machine, MachineError


class CaseState(StrEnum):
    FOUND = "found"
    NOTIFIED = "notified"
    RECTIFYING = "rectifying"
    SUBMITTED = "submitted"
    VERIFIED = "verified"
    ESCALATED = "escalated"
    #: A later round's case has taken the problem over (已转入下一轮): closed here.
    CONTINUED = "continued"


class Trigger(StrEnum):
    NOTIFY = "notify"
    START = "start"
    SUBMIT = "submit"
    VERIFY = "verify"
    REJECT = "reject"
    ESCALATE = "escalate"
    #: System-only: a later round's case takes the problem over (needs ``successor=True``).
    CARRY_OVER = "carry_over"


S = CaseState
#: States in which a case still needs work from someone.
OPEN_STATES: frozenset[CaseState] = frozenset(
    {S.FOUND, S.NOTIFIED, S.RECTIFYING, S.SUBMITTED, S.ESCALATED}
)
#: States in which nothing is owed any more: fixed, or followed in a later round's case.
CLOSED_STATES: frozenset[CaseState] = frozenset({S.VERIFIED, S.CONTINUED})
#: States from which an automated recheck may prove a case fixed.
_PROVABLE = [S.FOUND, S.NOTIFIED, S.RECTIFYING, S.ESCALATED]

STATE_LABELS: dict[CaseState, str] = {
    S.FOUND: "已发现",
    S.NOTIFIED: "已通知",
    S.RECTIFYING: "整改中",
    S.SUBMITTED: "已提交",
    S.VERIFIED: "已核验",
    S.ESCALATED: "已升级",
    S.CONTINUED: "已转入下一轮",
}
TRIGGER_LABELS: dict[Trigger, str] = {
    Trigger.NOTIFY: "通知",
    Trigger.START: "开始整改",
    Trigger.SUBMIT: "提交整改",
    Trigger.VERIFY: "核验通过",
    Trigger.REJECT: "退回",
    Trigger.ESCALATE: "升级督办",
    Trigger.CARRY_OVER: "转入下一轮",
}
#: The triggers a person may fire (the system alone carries a case over to the next round).
PERSON_TRIGGERS: tuple[Trigger, ...] = tuple(t for t in Trigger if t != Trigger.CARRY_OVER)
#: How a case's history names each entry: its transitions and the acts that change no state.
EVENT_LABELS: dict[str, str] = {
    "created": "立案",
    **{str(trigger): label for trigger, label in TRIGGER_LABELS.items()},
    "extend_deadline": "延长整改期限",
    "record_notice": "记录通报",
}
SEVERITY_LABELS: dict[str, str] = {"veto": "单项否决", "deduction": "扣分项"}


def _proven_fixed(event) -> bool:
    return bool(event.kwargs.get("proven_fixed"))


def _has_successor(event) -> bool:
    return bool(event.kwargs.get("successor"))


#: The lifecycle, as data. ``verify`` from an open state other than ``submitted``
#: needs proof from a recheck (``proven_fixed=True``).
TRANSITIONS: list[dict] = [
    {"trigger": Trigger.NOTIFY, "source": [S.FOUND], "dest": S.NOTIFIED},
    {"trigger": Trigger.START, "source": [S.NOTIFIED, S.ESCALATED], "dest": S.RECTIFYING},
    {
        "trigger": Trigger.SUBMIT,
        "source": [S.NOTIFIED, S.RECTIFYING, S.ESCALATED],
        "dest": S.SUBMITTED,
    },
    {"trigger": Trigger.VERIFY, "source": [S.SUBMITTED], "dest": S.VERIFIED},
    {
        "trigger": Trigger.VERIFY,
        "source": _PROVABLE,
        "dest": S.VERIFIED,
        "conditions": [_proven_fixed],
    },
    {"trigger": Trigger.REJECT, "source": [S.SUBMITTED], "dest": S.RECTIFYING},
    {
        "trigger": Trigger.ESCALATE,
        "source": [S.NOTIFIED, S.RECTIFYING, S.ESCALATED],
        "dest": S.ESCALATED,
    },
    {
        "trigger": Trigger.CARRY_OVER,
        "source": sorted(OPEN_STATES),
        "dest": S.CONTINUED,
        "conditions": [_has_successor],
    },
]


def _as_strings(spec: dict) -> dict:
    out = dict(spec)
    out["trigger"] = str(spec["trigger"])
    out["source"] = [str(s) for s in spec["source"]]
    out["dest"] = str(spec["dest"])
    return out


_MACHINE = Machine(
    model=None,
    states=[str(s) for s in CaseState],
    transitions=[_as_strings(t) for t in TRANSITIONS],
    initial=None,
    auto_transitions=False,
    send_event=True,
)


class InvalidTransition(Exception):
    """A trigger the case's current state does not allow; nothing was changed."""

    #: The status an HTTP entry point answers with (409 Conflict: the case's state forbids it).
    http_status = 409

    def __init__(self, *, case_id: int | None, state: str, trigger: str, reason: str = ""):
        self.case_id = case_id
        self.state = state
        self.trigger = trigger
        self.reason = reason
        label = f"案件 {case_id}" if case_id is not None else "案件"
        state_label = STATE_LABELS.get(state, state)
        trigger_label = TRIGGER_LABELS.get(trigger, trigger)
        message = (
            f"{label}当前状态为「{state_label}」({state})，不能执行「{trigger_label}」({trigger})"
        )
        if reason:
            message += f"：{reason}"
        super().__init__(message)


@dataclass
class _Holder:
    state: str


_NEEDS_PROOF = "未经复查证明已整改，须先由责任单位提交整改材料"
_NEEDS_SUCCESSOR = "只有后续轮次的案件接续跟踪该问题时，系统才会将案件转入下一轮"


def _run_machine(state: str, trigger: str, proven_fixed: bool, successor: bool) -> CaseState | str:
    """Ask the machine: the state ``trigger`` leads to, or the refusal reason ("" if none)."""
    holder = _Holder(str(state))
    try:
        moved = _MACHINE.events[str(trigger)].trigger(
            holder, proven_fixed=proven_fixed, successor=successor
        )
    except MachineError:
        return ""
    if moved:
        return CaseState(holder.state)
    return _NEEDS_SUCCESSOR if str(trigger) == Trigger.CARRY_OVER else _NEEDS_PROOF


#: Every answer of the machine, asked once at import. The machine has no callbacks and its
#: conditions read ``proven_fixed`` and ``successor``, so (state, trigger, proof, successor)
#: decides each move; the
#: batched paths fire tens of thousands of moves a second and pay a lookup, not a run
#: (tests/unit/test_lifecycle.py checks the table against the machine for every key).
_OUTCOMES: dict[tuple[str, str, bool, bool], CaseState | str] = {
    (str(s), str(t), proof, successor): _run_machine(s, t, proof, successor)
    for s in CaseState
    for t in Trigger
    for proof in (False, True)
    for successor in (False, True)
}


def fire(
    state: str,
    trigger: str,
    *,
    case_id: int | None = None,
    proven_fixed: bool = False,
    successor: bool = False,
) -> CaseState:
    """Return the state ``trigger`` leads to from ``state``, or raise InvalidTransition."""
    outcome = _OUTCOMES.get((str(state), str(trigger), bool(proven_fixed), bool(successor)))
    if outcome is None:
        if str(trigger) not in _MACHINE.events:
            reason = "未知操作"
        else:
            reason = "未知状态"
        raise InvalidTransition(case_id=case_id, state=state, trigger=trigger, reason=reason)
    if isinstance(outcome, CaseState):
        return outcome
    raise InvalidTransition(case_id=case_id, state=state, trigger=trigger, reason=outcome)


def allowed_triggers(state: str) -> list[Trigger]:
    """Triggers a person may fire from ``state`` (recheck-only and system moves excluded)."""
    allowed = []
    for trigger in PERSON_TRIGGERS:
        try:
            fire(state, trigger)
        except InvalidTransition:
            continue
        allowed.append(trigger)
    return allowed
