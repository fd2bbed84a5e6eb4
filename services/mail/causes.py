"""Which emails a case transition, a round's publication or a reminder causes: outbox rows.

Every row is written in the caller's transaction, under a unique key derived from its
cause, so a retried flow or a re-run command writes no second row (checked first; the
unique constraint is the last line of defence, behind a savepoint).

A recipient without a valid address never raises in a flow: the row is written with
status ``failed`` and a Chinese ``last_error`` naming the unit and the field to fix,
linked to the case (``case_id``) or unit and round, so supervisors see it in
``rectify outbox list --status failed`` and on the case. ``outbox.retry`` re-reads the
unit's contacts once they are fixed.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from notifications.message import split_addresses
from services.access.unit_links import issue_link
from services.core.errors import NotFound, ValidationFailed
from services.core.uow import UnitOfWork
from services.db import bulk
from services.db.models import Case, CaseEvent, OutboxMessage, Round, Submission, Unit
from services.registry.units import EMAIL_FIELDS
from states.lifecycle import EVENT_LABELS, Trigger

REMINDER_KINDS = ("before", "due", "after")


def mails(trigger: str, data: dict | None) -> bool:
    """Whether an event of ``trigger`` with ``data`` causes an email (``queue_for_transition``).

    A step replayed from an import (``data.imported``) mailed when it happened: none now;
    a notify of a round's publication is mailed in the unit's round notice instead.
    """
    data = data or {}
    if data.get("imported"):
        return False
    if trigger == Trigger.NOTIFY:
        return not data.get("publication")
    return trigger in (Trigger.REJECT, Trigger.ESCALATE, Trigger.SUBMIT)


def queue_for_transition(uow: UnitOfWork, *, case: Case, event: CaseEvent) -> None:
    """Write the outbox rows ``event`` causes (reject, escalate, submit, a single notify)."""
    if not mails(event.trigger, event.data):
        return
    key = f"case:{case.id}:{event.trigger}:{event.id}"
    if event.trigger == Trigger.REJECT:
        context = _case_context(uow, case) | {
            "reason": event.note or "",
            "reviewer": event.actor,
            **_portal(uow, case.unit, round_id=case.round_id),
        }
        _queue(uow, key=key, template="rejection", context=context, to=case.unit, case=case)
    elif event.trigger == Trigger.ESCALATE:
        _queue_escalation(uow, key=key, case=case, event=event)
    elif event.trigger == Trigger.SUBMIT:
        _queue_submission(uow, key=key, case=case, event=event)
    elif event.trigger == Trigger.NOTIFY:
        context = _case_context(uow, case) | _portal(uow, case.unit, round_id=case.round_id)
        _queue(uow, key=key, template="case_notice", context=context, to=case.unit, case=case)


def queue_round_notice(
    uow: UnitOfWork, *, round_id: int, unit_id: int, case_ids: list[int]
) -> OutboxMessage | None:
    """One notice per unit per round listing all its cases; None if already queued."""
    round_ = _get(uow, Round, round_id, "检查轮次")
    unit = _get(uow, Unit, unit_id, "单位")
    key = f"round-notice:{round_.code}:{unit.code}"
    if _exists(uow, key):
        return None
    cases = _cases(uow, case_ids, unit_id=unit.id)
    context = {
        "unit_name": unit.name,
        "office": uow.settings.mail_from_name,
        "round": {"code": round_.code, "title": round_.title, "doc_number": round_.doc_number},
        "cases": [_case_summary(c) for c in cases],
        **_portal(uow, unit, round_id=round_.id),
    }
    return _queue(
        uow, key=key, template="round_notice", context=context, to=unit, round_id=round_.id
    )


def queue_reminder_digest(
    uow: UnitOfWork, *, unit_id: int, day: date, items: list[tuple[int, str]]
) -> OutboxMessage | None:
    """One reminder per unit per day gathering its cases before, on and after the deadline."""
    unit = _get(uow, Unit, unit_id, "单位")
    bad = sorted({kind for _, kind in items if kind not in REMINDER_KINDS})
    if bad:
        raise ValidationFailed(
            [f"提醒类型 {kind} 无效（应为 before、due 或 after）" for kind in bad]
        )
    key = f"reminder:{unit.code}:{day.isoformat()}"
    if not items or _exists(uow, key):
        return None
    by_id = {c.id: c for c in _cases(uow, [case_id for case_id, _ in items], unit_id=unit.id)}
    groups: dict[str, list[dict[str, Any]]] = {kind: [] for kind in REMINDER_KINDS}
    for case_id, kind in dict.fromkeys(items):
        groups[kind].append(_case_summary(by_id[case_id]))
    context = {
        "unit_name": unit.name,
        "office": uow.settings.mail_from_name,
        "day": day.isoformat(),
        **groups,
        **_portal(uow, unit, round_id=None),
    }
    return _queue(uow, key=key, template="reminder_digest", context=context, to=unit)


def recipients_of(unit: Unit | None, *, field: str = "contact_email") -> tuple[list[str], str]:
    """A unit's valid addresses in ``field``, or none and the reason in Chinese."""
    if unit is None:
        return [], "没有上级单位，无法确定督办邮件的收件人"
    raw = getattr(unit, field)
    valid, invalid = split_addresses(raw)
    if valid:
        return valid, ""
    if invalid:
        return [], f"单位「{unit.name}」的{EMAIL_FIELDS[field]}格式不正确（{raw}），邮件未发送"
    return [], f"单位「{unit.name}」没有填写{EMAIL_FIELDS[field]}，邮件未发送"


def _queue_escalation(uow: UnitOfWork, *, key: str, case: Case, event: CaseEvent) -> None:
    events = uow.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.at, CaseEvent.id)
    ).all()
    _write(uow, key=key, **_escalation(uow, case=case, event=event, history=events))


def _escalation(uow: UnitOfWork, *, case: Case, event, history) -> dict[str, Any]:
    """The escalation email's template, context, recipients and links (``_write`` keywords)."""
    parent = case.unit.parent
    context = _case_context(uow, case) | {
        "leader_name": parent.leader_name if parent else None,
        "parent_unit_name": parent.name if parent else "",
        "level": case.escalation_level,
        "reason": (event.data or {}).get("reason") or "",
        "note": event.note,
        "notices_city": case.notices_city,
        "notices_province": case.notices_province,
        "history": [
            {
                "at": e.at.isoformat(),
                "label": EVENT_LABELS.get(e.trigger, e.trigger),
                "actor": e.actor,
                "note": e.note,
            }
            for e in history
        ],
    }
    to, problem = recipients_of(parent, field="leader_email")
    cc, _ = split_addresses(case.unit.contact_email)
    return {
        "template": "escalation",
        "context": context,
        "to": to,
        "cc": [a for a in cc if a not in to],
        "problem": problem,
        "case_id": case.id,
        "unit_id": case.unit_id,
        "round_id": case.round_id,
    }


def queue_escalations(uow: UnitOfWork, pairs: list[tuple[Case, Any]]) -> int:
    """The escalation emails of many (case, event) pairs in a few statements; rows written.

    The same rows as ``queue_for_transition`` one by one: histories read in one query, keys
    checked in one query, rows inserted with one executemany (a batch's event ids are new,
    so no concurrent run can hold their keys).
    """
    if not pairs:
        return 0
    ids = [case.id for case, _ in pairs]
    history: dict[int, list[CaseEvent]] = {}
    query = (
        select(CaseEvent)
        .where(bulk.ids_in(uow.session, CaseEvent.case_id, ids))
        .order_by(CaseEvent.case_id, CaseEvent.at, CaseEvent.id)
    )
    for e in uow.session.scalars(query):
        history.setdefault(e.case_id, []).append(e)
    keys = {case.id: f"case:{case.id}:{event.trigger}:{event.id}" for case, event in pairs}
    taken = set(
        uow.session.scalars(select(OutboxMessage.key).where(OutboxMessage.key.in_(keys.values())))
    )
    now = uow.clock.now()
    rows = []
    for case, event in pairs:
        if keys[case.id] in taken:
            continue
        made = _escalation(uow, case=case, event=event, history=history.get(case.id, []))
        rows.append(
            {
                "key": keys[case.id],
                "template": made["template"],
                "context": made["context"],
                "to_addrs": made["to"],
                "cc_addrs": made["cc"],
                "status": "failed" if made["problem"] else "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "last_error": made["problem"] or None,
                "created_at": now,
                "case_id": made["case_id"],
                "unit_id": made["unit_id"],
                "round_id": made["round_id"],
            }
        )
    if rows:
        uow.session.execute(insert(OutboxMessage.__table__), rows)
    return len(rows)


def _queue_submission(uow: UnitOfWork, *, key: str, case: Case, event: CaseEvent) -> None:
    submission = uow.session.get(Submission, (event.data or {}).get("submission_id"))
    context = _case_context(uow, case) | {
        "submitted_at": (submission.submitted_at if submission else event.at).isoformat(),
        "responsible_person": submission.responsible_person if submission else event.actor,
        "text": submission.text if submission else (event.note or ""),
    }
    _queue(
        uow,
        key=f"{key}:unit",
        template="submission_received",
        context=context,
        to=case.unit,
        case=case,
    )
    supervisor = uow.settings.supervisor_email
    if supervisor:
        base = uow.settings.base_url.rstrip("/")
        review = context | {"case_url": f"{base}/cases/{case.id}"}
        to, _ = split_addresses(supervisor)
        problem = f"监管人员邮箱（RECTIFY_SUPERVISOR_EMAIL）格式不正确：{supervisor}"
        _write(
            uow,
            key=f"{key}:supervisor",
            template="submission_for_review",
            context=review,
            to=to,
            cc=[],
            problem="" if to else problem,
            case_id=case.id,
            unit_id=case.unit_id,
            round_id=case.round_id,
        )


def _queue(
    uow: UnitOfWork,
    *,
    key: str,
    template: str,
    context: dict[str, Any],
    to: Unit,
    case: Case | None = None,
    round_id: int | None = None,
) -> OutboxMessage | None:
    addresses, problem = recipients_of(to)
    return _write(
        uow,
        key=key,
        template=template,
        context=context,
        to=addresses,
        cc=[],
        problem=problem,
        case_id=case.id if case else None,
        unit_id=to.id,
        round_id=case.round_id if case else round_id,
    )


def _write(
    uow: UnitOfWork,
    *,
    key: str,
    template: str,
    context: dict[str, Any],
    to: list[str],
    cc: list[str],
    problem: str,
    case_id: int | None,
    unit_id: int | None,
    round_id: int | None,
) -> OutboxMessage | None:
    """Add the row unless its key exists; a row without recipients is born ``failed``."""
    if _exists(uow, key):
        return None
    now = uow.clock.now()
    row = OutboxMessage(
        key=key,
        template=template,
        context=context,
        to_addrs=to,
        cc_addrs=cc,
        status="failed" if problem else "pending",
        attempts=0,
        next_attempt_at=now,
        last_error=problem or None,
        created_at=now,
        case_id=case_id,
        unit_id=unit_id,
        round_id=round_id,
    )
    try:
        with uow.session.begin_nested():
            uow.session.add(row)
    except IntegrityError:
        return None  # written meanwhile by a concurrent run of the same cause
    return row


def _exists(uow: UnitOfWork, key: str) -> bool:
    return uow.session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == key)) is not None


def _get(uow: UnitOfWork, model: type, id_: int, label: str):
    row = uow.session.get(model, id_)
    if row is None:
        raise NotFound(f"{label} {id_} 不存在")
    return row


def _cases(uow: UnitOfWork, case_ids: list[int], *, unit_id: int) -> list[Case]:
    ids = list(dict.fromkeys(case_ids))
    cases = uow.session.scalars(select(Case).where(Case.id.in_(ids))).all()
    found = {c.id: c for c in cases}
    errors = [f"案件 {i} 不存在" for i in ids if i not in found]
    errors += [f"案件 {c.id} 不属于该单位" for c in cases if c.unit_id != unit_id]
    if errors:
        raise ValidationFailed(errors)
    return sorted(cases, key=lambda c: (c.deadline or date.max, c.category.sort_order, c.id))


def _case_summary(case: Case) -> dict[str, Any]:
    return {
        "id": case.id,
        "category": case.category.name,
        "target": case.target.name,
        "target_url": case.target.url,
        "description": case.description,
        "deadline": case.deadline.isoformat() if case.deadline else None,
    }


def _case_context(uow: UnitOfWork, case: Case) -> dict[str, Any]:
    return {
        "unit_name": case.unit.name,
        "office": uow.settings.mail_from_name,
        "case": _case_summary(case),
    }


def _portal(uow: UnitOfWork, unit: Unit, *, round_id: int | None) -> dict[str, Any]:
    link = issue_link(uow, unit_id=unit.id, round_id=round_id)
    return {"portal_url": link.url, "link_expires": link.expires_at.date().isoformat()}
