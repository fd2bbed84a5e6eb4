"""The domain's rules about a case beyond its moves: which states run against a deadline, who
a notice comes from, when a repeat offender is escalated, and why a move is refused.

One definition each, pure (no I/O): listings, counts, sweeps, rechecks, imports and notices
all ask here.
"""

from __future__ import annotations

from datetime import date

from states.lifecycle import STATE_LABELS, CaseState, Trigger

S = CaseState

#: States in which the unit owes work against its deadline: past it, the case is overdue.
#: (A submitted case waits for the office, not the unit; a found one has no deadline yet.)
#: In this order: queries write them out as literals that must repeat the partial index's
#: WHERE term (``ix_cases_open_deadline``) exactly.
OVERDUE_STATES: tuple[CaseState, ...] = (S.NOTIFIED, S.RECTIFYING, S.ESCALATED)
#: States that have a running deadline, which a supervisor may extend.
DEADLINE_STATES: frozenset[CaseState] = frozenset({*OVERDUE_STATES, S.SUBMITTED})

#: The levels a problem can be notified at (通报层级), with the default issuer of each.
NOTICE_LEVELS: dict[str, str] = {
    "city": "市政府办公室",
    "province": "省政府办公厅",
    "county": "县政府办公室",
}
#: The case's running count of notices at each level (a column of ``cases``).
NOTICE_COUNTS: dict[str, str] = {level: f"notices_{level}" for level in NOTICE_LEVELS}


def is_overdue(state: str, deadline: date | None, today: date) -> bool:
    """A case is overdue when the unit still owes work and its deadline has passed."""
    return state in OVERDUE_STATES and deadline is not None and deadline < today


def notices_with_this_one(*, city: int, province: int, county: int) -> int:
    """How many times a problem found again has been notified, counting this round's notice."""
    return city + province + county + 1


def is_repeat_offender(notices: int, *, threshold: int) -> bool:
    """A problem notified ``threshold`` times or more is escalated at once (屡查屡犯)."""
    return notices >= threshold


def refusal(*, trigger: str, note: str | None) -> str | None:
    """Why ``trigger`` may not be fired with these details (in Chinese), or None."""
    if trigger == Trigger.REJECT and not (note and note.strip()):
        return "退回整改必须填写理由"
    return None


def extension_refusal(
    *, case_id: int, state: str, deadline: date | None, new_deadline: date, reason: str
) -> list[str]:
    """Why a deadline may not be extended so (in Chinese); empty when it may."""
    errors = []
    if not reason or not reason.strip():
        errors.append("延长整改期限必须填写理由")
    if state not in DEADLINE_STATES:
        label = STATE_LABELS.get(state, state)
        errors.append(f"案件 {case_id} 当前状态为「{label}」，没有进行中的整改期限")
    elif deadline is not None and new_deadline <= deadline:
        errors.append(f"新期限 {new_deadline} 必须晚于原期限 {deadline}")
    return errors
