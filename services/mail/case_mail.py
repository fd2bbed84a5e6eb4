"""THE seam between case history and email: the outbox rows the written events cause.

Both write paths hand over the events they wrote, with their ids: a single transition
(``services.cases.transitions.transition``) its ORM ``CaseEvent``, a batch
(``services.cases.batch.transition_many``) the rows ``services.cases.store.write`` returns.
Storage writes events; this module alone decides which of them mail whom (``mails``) and
what the emails say, from one read model of their cases (``views.CaseMailView``).

A batch costs a constant number of statements, whatever its size: none at all when no event
mails anybody; otherwise one query for the keys already taken, one for the read model, one
for the escalations' histories, one for the submissions, one INSERT of portal links and one
of the outbox rows. Keys are ``case:{case id}:{trigger}:{event id}`` (a submission's two
emails add ``:unit`` and ``:supervisor``); an event id is new in the writing transaction, so
no concurrent run can hold its key and no savepoint is needed (a key already taken, by a
second call with the same event, is skipped).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select

from notifications.message import split_addresses
from services.core.uow import UnitOfWork
from services.db import bulk
from services.db.models import CaseEvent, OutboxMessage, Submission
from services.mail.causes import NO_PARENT, OUTBOX_COLUMNS, addresses, outbox_row, unaddressed
from services.mail.links import portal_contexts
from services.mail.robots import with_robots
from services.mail.views import CaseMailView, case_views
from states.lifecycle import EVENT_LABELS, Trigger
from states.rules import actor_label

#: The triggers whose email links the unit to its portal.
PORTAL_TRIGGERS = (Trigger.REJECT, Trigger.NOTIFY)


class WrittenEvent(Protocol):
    """An event as written, with its id: an ORM ``CaseEvent`` or a batch's event row."""

    id: int
    case_id: int
    trigger: str
    actor: str
    at: datetime
    note: str | None
    data: dict[str, Any] | None


def mails(trigger: str, data: dict | None) -> bool:
    """Whether an event of ``trigger`` with ``data`` causes an email (``queue_for_events``).

    Pure and cheap: a batch asks it to know which event ids storage must read back. A step
    replayed from an import (``data.imported``) mailed when it happened: none now; a notify
    of a round's publication is mailed in the unit's round notice instead.
    """
    data = data or {}
    if data.get("imported"):
        return False
    if trigger == Trigger.NOTIFY:
        return not data.get("publication")
    return trigger in (Trigger.REJECT, Trigger.ESCALATE, Trigger.SUBMIT)


def queue_for_events(uow: UnitOfWork, events: Iterable[WrittenEvent]) -> int:
    """Write the outbox rows the events cause (reject, escalate, submit, a single notify).

    Events that mail nobody cost no statement. Returns how many rows were written (robot
    messages included).
    """
    mailed = [e for e in events if mails(e.trigger, e.data)]
    if not mailed:
        return 0
    keys = {e.id: _keys(uow, e) for e in mailed}
    wanted = [key for e in mailed for key in keys[e.id]]
    keys_taken = select(OutboxMessage.key).where(
        bulk.ids_in(uow.session, OutboxMessage.key, wanted)
    )
    taken = set(uow.session.scalars(keys_taken))
    due = [e for e in mailed if set(keys[e.id]) - taken]
    if not due:
        return 0
    inputs = _Inputs.load(uow, due)
    now = uow.clock.now()
    rows = [
        outbox_row(key=key, now=now, **draft)
        for event in due
        for key, draft in zip(keys[event.id], _drafts(uow, event, inputs), strict=True)
        if key not in taken
    ]
    rows = with_robots(uow, rows, unaddressed=unaddressed)  # the unit's robots say it too
    bulk.insert_rows(uow.session, OutboxMessage.__table__, OUTBOX_COLUMNS, rows)
    return len(rows)


def _key(event: WrittenEvent) -> str:
    return f"case:{event.case_id}:{event.trigger}:{event.id}"


def _keys(uow: UnitOfWork, event: WrittenEvent) -> list[str]:
    """The keys of the rows ``event`` causes, in the order ``_drafts`` makes them."""
    if event.trigger != Trigger.SUBMIT:
        return [_key(event)]
    if not uow.settings.supervisor_email:
        return [f"{_key(event)}:unit"]
    return [f"{_key(event)}:unit", f"{_key(event)}:supervisor"]


@dataclass(frozen=True)
class _Inputs:
    """What the due events' emails read besides the events: one query or INSERT each."""

    views: dict[int, CaseMailView]  # by case id
    histories: dict[int, list[Any]]  # by case id, of the escalated cases: ``_HISTORY`` rows
    submissions: dict[int, Submission]  # by id, of the submit events
    portals: dict[int, dict[str, Any]]  # by event id, of the events linking to the portal

    @classmethod
    def load(cls, uow: UnitOfWork, events: list[WrittenEvent]) -> _Inputs:
        views = case_views(uow, {e.case_id for e in events})
        escalated = [e.case_id for e in events if e.trigger == Trigger.ESCALATE]
        submitted = [_submission_id(e) for e in events if e.trigger == Trigger.SUBMIT]
        linked = [e for e in events if e.trigger in PORTAL_TRIGGERS]
        wanted = [(views[e.case_id].unit_id, views[e.case_id].round_id) for e in linked]
        links = portal_contexts(uow, wanted)
        return cls(
            views=views,
            histories=_histories(uow, escalated),
            submissions=_submissions(uow, [i for i in submitted if i is not None]),
            portals={e.id: link for e, link in zip(linked, links, strict=True)},
        )


#: What the escalation email lists of each event (plain rows: a case has a dozen events, a
#: batch a thousand cases, ORM objects would cost more than the email itself).
_HISTORY = (CaseEvent.case_id, CaseEvent.at, CaseEvent.trigger, CaseEvent.actor)
_HISTORY += (CaseEvent.actor_kind, CaseEvent.note)


def _histories(uow: UnitOfWork, case_ids: list[int]) -> dict[int, list[Any]]:
    """Each case's whole history, oldest first, as the escalation email lists it."""
    if not case_ids:
        return {}
    query = (
        select(*_HISTORY)
        .where(bulk.ids_in(uow.session, CaseEvent.case_id, set(case_ids)))
        .order_by(CaseEvent.case_id, CaseEvent.at, CaseEvent.id)
    )
    history: dict[int, list[Any]] = {}
    for e in uow.session.execute(query):
        history.setdefault(e.case_id, []).append(e)
    return history


def _submissions(uow: UnitOfWork, ids: list[int]) -> dict[int, Submission]:
    if not ids:
        return {}
    query = select(Submission).where(bulk.ids_in(uow.session, Submission.id, set(ids)))
    return {s.id: s for s in uow.session.scalars(query)}


def _submission_id(event: WrittenEvent) -> int | None:
    return (event.data or {}).get("submission_id")


def _drafts(uow: UnitOfWork, event: WrittenEvent, inputs: _Inputs) -> list[dict[str, Any]]:
    """The rows ``event`` causes (``causes.outbox_row`` keywords but key), as ``_keys``."""
    view = inputs.views[event.case_id]
    base = {
        "unit_name": view.unit_name,
        "office": uow.settings.mail_from_name,
        "case": view.summary(),
    }
    if event.trigger == Trigger.ESCALATE:
        return [_escalation(view, event, base, inputs.histories.get(view.id, []))]
    if event.trigger == Trigger.SUBMIT:
        submission = inputs.submissions.get(_submission_id(event))
        return _submission(uow, view, event, base, submission)
    if event.trigger == Trigger.REJECT:
        context = base | {"reason": event.note or "", "reviewer": event.actor}
        return [_to_unit(view, "rejection", context | inputs.portals[event.id])]
    return [_to_unit(view, "case_notice", base | inputs.portals[event.id])]


def _to_unit(view: CaseMailView, template: str, context: dict[str, Any]) -> dict[str, Any]:
    """An email about the case to its unit's contact address."""
    to, problem = addresses(view.unit_name, view.unit_contact_email, "contact_email")
    return _draft(view, template, context, to=to, cc=[], problem=problem)


def _draft(view: CaseMailView, template: str, context: dict[str, Any], **recipients):
    return {
        "template": template,
        "context": context,
        **recipients,
        "case_id": view.id,
        "unit_id": view.unit_id,
        "round_id": view.round_id,
    }


def _escalation(
    view: CaseMailView, event: WrittenEvent, base: dict[str, Any], history: list[Any]
) -> dict[str, Any]:
    """To the parent unit's leader, the unit's contact in copy, with the case's history."""
    context = base | {
        "leader_name": view.parent_leader_name,
        "parent_unit_name": view.parent_name if view.parent_id is not None else "",
        "level": view.escalation_level,
        "reason": (event.data or {}).get("reason") or "",
        "note": event.note,
        "notices_city": view.notices_city,
        "notices_province": view.notices_province,
        "notices_county": view.notices_county,
        "history": [
            {
                "at": e.at.isoformat(),
                "label": EVENT_LABELS.get(e.trigger, e.trigger),
                "actor": actor_label(e.actor, e.actor_kind),
                "note": e.note,
            }
            for e in history
        ],
    }
    if view.parent_id is None:
        to, problem = [], NO_PARENT
    else:
        to, problem = addresses(view.parent_name, view.parent_leader_email, "leader_email")
    cc, _ = split_addresses(view.unit_contact_email)
    cc = [a for a in cc if a not in to]
    return _draft(view, "escalation", context, to=to, cc=cc, problem=problem)


def _submission(
    uow: UnitOfWork,
    view: CaseMailView,
    event: WrittenEvent,
    base: dict[str, Any],
    submission: Submission | None,
) -> list[dict[str, Any]]:
    """A receipt to the unit and, if one is configured, a review request to the supervisor."""
    context = base | {
        "submitted_at": (submission.submitted_at if submission else event.at).isoformat(),
        "responsible_person": submission.responsible_person if submission else event.actor,
        "text": submission.text if submission else (event.note or ""),
    }
    drafts = [_to_unit(view, "submission_received", context)]
    supervisor = uow.settings.supervisor_email
    if supervisor:
        review = context | {"case_url": f"{uow.settings.base_url.rstrip('/')}/cases/{view.id}"}
        to, _ = split_addresses(supervisor)
        problem = f"监管人员邮箱（RECTIFY_SUPERVISOR_EMAIL）格式不正确：{supervisor}"
        drafts.append(
            _draft(
                view, "submission_for_review", review, to=to, cc=[], problem="" if to else problem
            )
        )
    return drafts
