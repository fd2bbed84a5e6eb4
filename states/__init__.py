"""Pure domain: the case lifecycle (states, triggers, rules). Imports only stdlib and transitions."""

from states.lifecycle import (
    OPEN_STATES,
    TRANSITIONS,
    CaseState,
    InvalidTransition,
    Trigger,
    allowed_triggers,
    fire,
)
from states.rules import (
    DEADLINE_STATES,
    NOTICE_COUNTS,
    NOTICE_LEVELS,
    OVERDUE_STATES,
    is_overdue,
    is_repeat_offender,
    notices_with_this_one,
    refusal,
)

__all__ = [
    "DEADLINE_STATES",
    "NOTICE_COUNTS",
    "NOTICE_LEVELS",
    "OPEN_STATES",
    "OVERDUE_STATES",
    "TRANSITIONS",
    "CaseState",
    "InvalidTransition",
    "Trigger",
    "allowed_triggers",
    "fire",
    "is_overdue",
    "is_repeat_offender",
    "notices_with_this_one",
    "refusal",
]
