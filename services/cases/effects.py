"""What each trigger does to a case besides its state: defined once, for both write paths.

``services.cases.transition`` applies it to an ORM ``Case``; ``services.batch`` applies it
to a plain row object loaded with SQLAlchemy Core. Rows a trigger adds (a notice, a
submission, a review) go through a ``Sink`` each path implements.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from services.core import deadlines
from services.core.settings import Settings
from states import NOTICE_COUNTS, NOTICE_LEVELS, Trigger


class Sink(Protocol):
    """Where the rows a trigger adds besides the case and its event are written."""

    def add_notice(
        self, case: Any, *, level: str, issuer: str, notified_on: date, reference: str | None
    ) -> None: ...

    def add_submission(
        self, case: Any, *, text: str, responsible_person: str, phone: str | None, at: datetime
    ) -> int: ...

    def review_latest_submission(
        self, case: Any, *, result: str, reviewer: str, comment: str | None, at: datetime
    ) -> int | None: ...


@dataclass(frozen=True)
class Moment:
    """The clock reading and settings one transition runs with."""

    now: datetime
    today: date
    settings: Settings


def deadline_for(case: Any, *, settings: Settings, start: date) -> tuple[date, str]:
    """The round's explicit deadline, else days from the round, the category or settings.

    A case notified on or after the round's deadline gets its days from ``start`` instead: a
    deadline is never set on or before the day of its notice."""
    round_, category = case.round, case.category
    mode = round_.deadline_mode or category.deadline_mode or settings.default_deadline_mode
    if round_.deadline is not None and round_.deadline > start:
        return round_.deadline, mode
    days = round_.deadline_days or category.deadline_days or settings.default_deadline_days
    return deadlines.add_days(start, days, mode), mode


def apply(
    case: Any,
    *,
    trigger: str,
    actor: str,
    note: str | None,
    data: dict[str, Any],
    proven_fixed: bool,
    moment: Moment,
    sink: Sink,
) -> dict[str, Any]:
    """Change ``case``'s side fields for ``trigger`` and return the event data to record."""
    data = dict(data)
    if trigger == Trigger.NOTIFY:
        _notify(case, data, moment=moment, sink=sink)
    elif trigger == Trigger.ESCALATE:
        case.escalation_level += 1
        data["level"] = case.escalation_level
        if data.get("reason") == "overdue":
            case.escalated_for_deadline = case.deadline
    elif trigger == Trigger.SUBMIT:
        data["submission_id"] = sink.add_submission(
            case,
            text=data.pop("text", None) or note or "",
            responsible_person=data.pop("responsible_person", None) or actor,
            phone=data.pop("phone", None),
            at=moment.now,
        )
    elif trigger in (Trigger.VERIFY, Trigger.REJECT):
        submission_id = sink.review_latest_submission(
            case,
            result="accepted" if trigger == Trigger.VERIFY else "rejected",
            reviewer=actor,
            comment=note,
            at=moment.now,
        )
        if submission_id is not None:
            data["submission_id"] = submission_id
    if proven_fixed:
        data["proven_fixed"] = True
    return data


def _notify(case: Any, data: dict[str, Any], *, moment: Moment, sink: Sink) -> None:
    if case.deadline is None:
        case.deadline, case.deadline_mode = deadline_for(
            case, settings=moment.settings, start=moment.today
        )
    case.notified_at = moment.now
    round_ = case.round
    # The round's issuing office notifies at its own level; a round without one is the city's.
    issuer = round_.issuer
    level = issuer.level if issuer is not None else "city"
    count = NOTICE_COUNTS[level]
    setattr(case, count, getattr(case, count) + 1)
    sink.add_notice(
        case,
        level=level,
        issuer=issuer.name if issuer is not None else NOTICE_LEVELS["city"],
        notified_on=round_.notice_date or moment.today,
        reference=round_.doc_number,
    )
    data["deadline"] = case.deadline.isoformat()
    data["deadline_mode"] = case.deadline_mode
