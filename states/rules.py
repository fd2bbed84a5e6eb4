"""The domain's rules about a case beyond its moves: which states run against a deadline, who
a notice comes from, when a repeat offender is escalated, and why a move is refused.

One definition each, pure (no I/O): listings, counts, sweeps, rechecks, imports and notices
all ask here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

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


#: States in which the unit may hand in its rectification (the portal's form).
SUBMITTABLE_STATES: frozenset[CaseState] = frozenset({S.NOTIFIED, S.RECTIFYING, S.ESCALATED})
#: How every system action is named as its actor when nothing more specific is given.
SYSTEM_ACTOR = "系统"


def is_overdue(state: str, deadline: date | None, today: date) -> bool:
    """A case is overdue when the unit still owes work and its deadline has passed."""
    return state in OVERDUE_STATES and deadline is not None and deadline < today


def overdue_days(state: str, deadline: date | None, today: date) -> int:
    """Calendar days an overdue case is past its deadline; 0 when it is not overdue."""
    if not is_overdue(state, deadline, today):
        return 0
    return (today - deadline).days


@dataclass(frozen=True)
class Standing:
    """Where a case stands today, as every list, count, page and email tells it."""

    key: str  # overdue | escalated | open | continued | closed
    label: str
    overdue_days: int
    is_open: bool
    submittable: bool


def standing(state: str, deadline: date | None, today: date) -> Standing:
    """The one reading of a case's state and deadline on ``today``."""
    days = overdue_days(state, deadline, today)
    submittable = state in SUBMITTABLE_STATES
    if state == S.CONTINUED:
        return Standing("continued", STATE_LABELS[S.CONTINUED], 0, False, False)
    if state == S.VERIFIED:
        return Standing("closed", STATE_LABELS[S.VERIFIED], 0, False, False)
    if state == S.ESCALATED:
        label = "已升级督办" + (f"，超期 {days} 天" if days else "")
        return Standing("escalated", label, days, True, submittable)
    if days:
        return Standing("overdue", f"超期 {days} 天", days, True, submittable)
    return Standing("open", STATE_LABELS.get(state, state), 0, True, submittable)


#: The scheduled jobs that act on cases, as a person reads them (their runs are stored as
#: ``<job>/<run name>``, e.g. ``quarterly-recheck/witty-fox``).
JOB_LABELS: dict[str, str] = {
    "publish-round": "发布通报",
    "quarterly-recheck": "季度复查",
    "overdue-sweep": "逾期巡查",
    # Runs of the former shared flows still name events written before they were merged.
    "shared-recheck": "季度复查",
    "shared-overdue-sweep": "逾期巡查",
    "dispatch-outbox": "邮件发送",
}


def actor_label(actor: str | None, actor_kind: str | None) -> str:
    """The actor of an event as a person reads it: system actions as 系统 (their source after)."""
    name = (actor or "").strip()
    if actor_kind != "system":
        return name or SYSTEM_ACTOR
    if not name or name in (SYSTEM_ACTOR, "system"):
        return SYSTEM_ACTOR
    if name.startswith(SYSTEM_ACTOR):
        return name
    job = name.split("/", 1)[0]
    return f"{SYSTEM_ACTOR}（{JOB_LABELS.get(job, name)}）"


def stamp_refusal(last_event_at: datetime | None, now: datetime) -> str | None:
    """Why an action may not be recorded at ``now``: never before the case's last event."""
    if last_event_at is not None and now < last_event_at:
        return (
            f"当前系统时间 {now:%Y-%m-%d %H:%M} 早于该案件最近一次记录的时间 "
            f"{last_event_at:%Y-%m-%d %H:%M}，不能记录；请检查系统日期（rectify clock）"
        )
    return None


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
    *,
    case_id: int,
    state: str,
    deadline: date | None,
    new_deadline: date,
    reason: str,
    today: date | None = None,
) -> list[str]:
    """Why a deadline may not be extended so (in Chinese); empty when it may.

    The new deadline must be later than the current one and than ``today``."""
    errors = []
    if not reason or not reason.strip():
        errors.append("延长整改期限必须填写理由")
    if state not in DEADLINE_STATES:
        label = STATE_LABELS.get(state, state)
        errors.append(f"案件 {case_id} 当前状态为「{label}」，没有进行中的整改期限")
        return errors
    if deadline is not None and new_deadline <= deadline:
        errors.append(f"新期限 {new_deadline} 必须晚于原期限 {deadline}")
    if today is not None and new_deadline <= today:
        errors.append(f"新期限 {new_deadline} 必须晚于今天 {today}")
    return errors
