"""Which emails a round's publication or a reminder causes, and what every outbox row shares.

A case's own emails (reject, escalate, submit, a single notify) are decided in
``services.mail.case_mail``; round notices and reminder digests are here, listing their
cases from the same read model (``services.mail.views.CaseMailView``). Every row is written in the caller's transaction, under a unique key derived from its
cause, so a retried flow or a re-run command writes no second row (checked first; the
unique constraint is the last line of defence, behind a savepoint).

A recipient without a valid address never raises in a flow: the row is written with
status ``failed`` and a Chinese ``last_error`` naming the unit and the field to fix,
linked to the case (``case_id``) or unit and round, so supervisors see it in
``rectify outbox list --status failed`` and on the case. ``outbox.retry`` re-reads the
unit's contacts once they are fixed. A unit with no address at all but an enabled group
robot (``services.mail.robots.with_robots``) gets no email row: its robots carry the notice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from notifications.message import split_addresses
from services.access import unit_links
from services.access.users import UserView
from services.core.errors import NotFound, ValidationFailed
from services.core.uow import UnitOfWork
from services.db import bulk
from services.db.models import Case, OutboxMessage, Round, Unit
from services.mail.links import LINK_KEY, portal_contexts
from services.mail.robots import EMAIL, robot_keys, with_robots
from services.mail.views import CaseMailView, case_views
from services.registry.units import EMAIL_FIELDS
from states import SUBMITTABLE_STATES

REMINDER_KINDS = ("before", "due", "after")
NO_PARENT = "没有上级单位，无法确定督办邮件的收件人"
#: The columns ``outbox_row`` fills (the rest keep their defaults).
OUTBOX_COLUMNS = (
    "key",
    "template",
    "context",
    "to_addrs",
    "cc_addrs",
    "status",
    "attempts",
    "next_attempt_at",
    "last_error",
    "created_at",
    "case_id",
    "unit_id",
    "round_id",
    "channel",
    "channel_id",
)


@dataclass(frozen=True)
class RoundNotice:
    """A unit's round notice to queue: the cases the publication notifies (the email's portal
    link is for them) and {case id: day (ISO)} of its cases of the round notified before."""

    unit_id: int
    case_ids: list[int]
    earlier: dict[int, str] = field(default_factory=dict)


def queue_round_notice(
    uow: UnitOfWork,
    *,
    round_id: int,
    unit_id: int,
    case_ids: list[int],
    earlier: dict[int, str] | None = None,
) -> OutboxMessage | None:
    """One notice per unit per round listing its cases; None if already queued.

    ``case_ids``: the cases the round's publication notifies (the email's portal link is
    for them). ``earlier``: {case id: day (ISO)} of the unit's cases of the round notified
    before, on their own: listed apart with that day, not notified again, no link of their
    own; an email listing only those carries no link at all.
    """
    notice = RoundNotice(unit_id, case_ids, earlier or {})
    return queue_round_notices(uow, round_id=round_id, notices=[notice]).get(unit_id)


def queue_round_notices(
    uow: UnitOfWork, *, round_id: int, notices: list[RoundNotice]
) -> dict[int, OutboxMessage]:
    """Each unit's notice of a round (as ``queue_round_notice``), read and written for all of
    them at once: a round notifies dozens of units, a quarter's publication thousands. The
    row queued for each unit that had none (the email, or its first robot's row), by unit."""
    round_ = _get(uow, Round, round_id, "检查轮次")
    units = _units(uow, [n.unit_id for n in notices])
    keys = {n.unit_id: f"round-notice:{round_.code}:{units[n.unit_id].code}" for n in notices}
    queued = set()
    for chunk in bulk.chunked(keys.values()):
        found = select(OutboxMessage.key).where(OutboxMessage.key.in_(chunk))
        queued.update(uow.session.scalars(found))
    todo = [
        n
        for n in notices
        if keys[n.unit_id] not in queued
        and not _told_by_robots(uow, keys[n.unit_id], units[n.unit_id])
    ]
    earlier = {
        n.unit_id: {i: day for i, day in n.earlier.items() if i not in set(n.case_ids)}
        for n in todo
    }
    views = case_views(uow, [i for n in todo for i in (*n.case_ids, *earlier[n.unit_id])])
    linked = [n.unit_id for n in todo if n.case_ids]
    portals = dict(zip(linked, portal_contexts(uow, [(u, round_.id) for u in linked]), strict=True))
    # The round's issuing office signs its notice (none: the installation's sender name).
    office = round_.issuer.name if round_.issuer else uow.settings.mail_from_name
    rows = []
    for notice in todo:
        unit, before = units[notice.unit_id], earlier[notice.unit_id]
        listed = _listed(views, [*notice.case_ids, *before], unit_id=unit.id)
        context = {
            "unit_name": unit.name,
            "office": office,
            "round": {"code": round_.code, "title": round_.title, "doc_number": round_.doc_number},
            "cases": [c.summary() for c in listed if c.id not in before],
            "earlier": [
                c.summary() | {"notified_on": before[c.id]} for c in listed if c.id in before
            ],
            **portals.get(unit.id, {}),
        }
        rows.append(
            _row(uow, key=keys[unit.id], template="round_notice", context=context, to=unit,
                 round_id=round_.id)
        )  # fmt: skip
    return _write(uow, rows)


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
    if not items or _exists(uow, key) or _told_by_robots(uow, key, unit):
        return None
    by_id = {c.id: c for c in _cases(uow, [case_id for case_id, _ in items], unit_id=unit.id)}
    groups: dict[str, list[dict[str, Any]]] = {kind: [] for kind in REMINDER_KINDS}
    for case_id, kind in dict.fromkeys(items):
        groups[kind].append(by_id[case_id].summary())
    context = {
        "unit_name": unit.name,
        "office": uow.settings.mail_from_name,
        "day": day.isoformat(),
        **groups,
        **_portal(uow, unit, round_id=None),
    }
    return _queue(uow, key=key, template="reminder_digest", context=context, to=unit)


def queue_portal_link(
    uow: UnitOfWork, *, unit_code: str, user: UserView | None = None
) -> OutboxMessage | None:
    """A unit's portal link sent again on request (the unit page's 重新发送): a new link of
    its own, to the unit's contacts; refused, nothing written, when the unit has no valid
    address or the user may not manage its links (``unit_links.unit_for_links``)."""
    unit = unit_links.unit_for_links(uow, unit_code, user=user)
    _, problem = recipients_of(unit)
    if problem:
        raise ValidationFailed([problem])
    owed = select(Case.id).where(Case.unit_id == unit.id, Case.state.in_(SUBMITTABLE_STATES))
    cases = _cases(uow, list(uow.session.scalars(owed)), unit_id=unit.id)
    portal = _portal(uow, unit, round_id=None)
    context = {
        "unit_name": unit.name,
        "office": uow.settings.mail_from_name,
        "cases": [c.summary() for c in cases],
        **portal,
    }
    key = f"portal-link:{unit.code}:{portal[LINK_KEY]['id']}"
    return _queue(uow, key=key, template="portal_link", context=context, to=unit)


def recipients_of(unit: Unit | None, *, field: str = "contact_email") -> tuple[list[str], str]:
    """A unit's valid addresses in ``field``, or none and the reason in Chinese."""
    if unit is None:
        return [], NO_PARENT
    return addresses(unit.name, getattr(unit, field), field)


def addresses(unit_name: str, raw: str | None, field: str) -> tuple[list[str], str]:
    """The valid addresses in a unit's ``field`` holding ``raw``, or none and the reason."""
    valid, invalid = split_addresses(raw)
    if valid:
        return valid, ""
    if invalid:
        return [], f"单位「{unit_name}」的{EMAIL_FIELDS[field]}格式不正确（{raw}），邮件未发送"
    return [], f"单位「{unit_name}」没有填写{EMAIL_FIELDS[field]}，邮件未发送"


def unaddressed(row: dict[str, Any]) -> bool:
    """An ``outbox_row`` to a unit's contact that has no address at all (not a wrong one)."""
    unit_name = row["context"].get("unit_name", "")
    return row["last_error"] == addresses(unit_name, None, "contact_email")[1]


def outbox_row(
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
    now: datetime,
) -> dict[str, Any]:
    """An outbox row's ``OUTBOX_COLUMNS``; a row without recipients is born ``failed``."""
    return {
        "key": key,
        "template": template,
        "context": context,
        "to_addrs": to,
        "cc_addrs": cc,
        "status": "failed" if problem else "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "last_error": problem or None,
        "created_at": now,
        "case_id": case_id,
        "unit_id": unit_id,
        "round_id": round_id,
        "channel": EMAIL,
        "channel_id": None,
    }


def _queue(
    uow: UnitOfWork,
    *,
    key: str,
    template: str,
    context: dict[str, Any],
    to: Unit,
    round_id: int | None = None,
) -> OutboxMessage | None:
    """Add a unit's row (and its robots' rows), its key checked by the caller; a concurrent
    run's stops at the key."""
    row = _row(uow, key=key, template=template, context=context, to=to, round_id=round_id)
    return _write(uow, [row]).get(to.id)


def _row(
    uow: UnitOfWork,
    *,
    key: str,
    template: str,
    context: dict[str, Any],
    to: Unit,
    round_id: int | None,
) -> dict[str, Any]:
    addresses_, problem = recipients_of(to)
    return outbox_row(
        key=key,
        template=template,
        context=context,
        to=addresses_,
        cc=[],
        problem=problem,
        case_id=None,
        unit_id=to.id,
        round_id=round_id,
        now=uow.clock.now(),
    )


def _write(uow: UnitOfWork, emails: list[dict[str, Any]]) -> dict[int, OutboxMessage]:
    """Write unit emails and their robots' rows (``with_robots``), all in one savepoint; when
    a concurrent run of the same cause wrote some meanwhile (the key's unique constraint),
    unit by unit, skipping those. The first row written for each unit (the email, or a unit
    without an address its first robot's), by unit."""
    by_unit: dict[int, list[dict[str, Any]]] = {}
    for row in with_robots(uow, emails, unaddressed=unaddressed):
        by_unit.setdefault(row["unit_id"], []).append(row)
    written = _added(uow, [row for rows in by_unit.values() for row in rows])
    if written is not None:
        return {unit_id: written[rows[0]["key"]] for unit_id, rows in by_unit.items()}
    if len(by_unit) == 1:
        return {}  # written meanwhile by a concurrent run of the same cause
    firsts = {}
    for unit_id, rows in by_unit.items():
        if (added := _added(uow, rows)) is not None:
            firsts[unit_id] = added[rows[0]["key"]]
    return firsts


def _added(uow: UnitOfWork, rows: list[dict[str, Any]]) -> dict[str, OutboxMessage] | None:
    """``rows`` added in one savepoint, by key; None when one's key was taken meanwhile."""
    messages = [OutboxMessage(**row) for row in rows]
    try:
        with uow.session.begin_nested():
            uow.session.add_all(messages)
    except IntegrityError:
        return None
    return {m.key: m for m in messages}


def _exists(uow: UnitOfWork, key: str) -> bool:
    return uow.session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == key)) is not None


def _told_by_robots(uow: UnitOfWork, key: str, unit: Unit) -> bool:
    """Whether a unit without any address (its email not written when it has a robot) had
    the cause ``key`` queued to a robot; no query for a unit with an address."""
    if split_addresses(unit.contact_email) != ([], []):
        return False
    keys = robot_keys(uow, unit_id=unit.id, email_key=key)
    found = select(OutboxMessage.id).where(OutboxMessage.key.in_(keys)).limit(1)
    return bool(keys) and uow.session.scalar(found) is not None


def _get(uow: UnitOfWork, model: type, id_: int, label: str):
    row = uow.session.get(model, id_)
    if row is None:
        raise NotFound(f"{label} {id_} 不存在")
    return row


def _cases(uow: UnitOfWork, case_ids: list[int], *, unit_id: int) -> list[CaseMailView]:
    """The unit's cases in the order its emails list them; refused if any is not its own."""
    return _listed(case_views(uow, case_ids), case_ids, unit_id=unit_id)


def _listed(
    found: dict[int, CaseMailView], case_ids: list[int], *, unit_id: int
) -> list[CaseMailView]:
    """``case_ids`` of ``found`` in listing order; refused if any is missing or not the unit's."""
    ids = list(dict.fromkeys(case_ids))
    errors = [f"案件 {i} 不存在" for i in ids if i not in found]
    errors += [f"案件 {i} 不属于该单位" for i in ids if i in found and found[i].unit_id != unit_id]
    if errors:
        raise ValidationFailed(errors)
    return sorted((found[i] for i in ids), key=CaseMailView.listing_order)


def _units(uow: UnitOfWork, unit_ids: list[int]) -> dict[int, Unit]:
    """The units by id, in a query per thousand; NotFound naming the first missing one."""
    units: dict[int, Unit] = {}
    for chunk in bulk.chunked(set(unit_ids)):
        units.update((u.id, u) for u in uow.session.scalars(select(Unit).where(Unit.id.in_(chunk))))
    for unit_id in unit_ids:
        if unit_id not in units:
            raise NotFound(f"单位 {unit_id} 不存在")
    return units


def _portal(uow: UnitOfWork, unit: Unit, *, round_id: int | None) -> dict[str, Any]:
    return portal_contexts(uow, [(unit.id, round_id)])[0]
