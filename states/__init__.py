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

__all__ = [
    "OPEN_STATES",
    "TRANSITIONS",
    "CaseState",
    "InvalidTransition",
    "Trigger",
    "allowed_triggers",
    "fire",
]
