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

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from notifications.message import split_addresses
from services.access import unit_links
from services.access.users import UserView
from services.core.errors import NotFound, ValidationFailed
from services.core.uow import UnitOfWork
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
    round_ = _get(uow, Round, round_id, "检查轮次")
    unit = _get(uow, Unit, unit_id, "单位")
    key = f"round-notice:{round_.code}:{unit.code}"
    if _exists(uow, key) or _told_by_robots(uow, key, unit):
        return None
    earlier = {i: day for i, day in (earlier or {}).items() if i not in set(case_ids)}
    listed = _cases(uow, [*case_ids, *earlier], unit_id=unit.id)
    context = {
        "unit_name": unit.name,
        # The round's issuing office signs its notice (none: the installation's sender name).
        "office": round_.issuer.name if round_.issuer else uow.settings.mail_from_name,
        "round": {"code": round_.code, "title": round_.title, "doc_number": round_.doc_number},
        "cases": [c.summary() for c in listed if c.id not in earlier],
        "earlier": [
            c.summary() | {"notified_on": earlier[c.id]} for c in listed if c.id in earlier
        ],
        **(_portal(uow, unit, round_id=round_.id) if case_ids else {}),
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
    addresses_, problem = recipients_of(to)
    values = outbox_row(
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
    rows = [OutboxMessage(**row) for row in with_robots(uow, [values], unaddressed=unaddressed)]
    if not rows:
        return None  # the unit's robots were told by an earlier run
    try:
        with uow.session.begin_nested():
            uow.session.add_all(rows)
    except IntegrityError:
        return None  # written meanwhile by a concurrent run of the same cause
    return rows[0]  # the email, or (a unit without an address) its first robot's row


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
    ids = list(dict.fromkeys(case_ids))
    found = case_views(uow, ids)
    errors = [f"案件 {i} 不存在" for i in ids if i not in found]
    errors += [f"案件 {c.id} 不属于该单位" for c in found.values() if c.unit_id != unit_id]
    if errors:
        raise ValidationFailed(errors)
    return sorted(found.values(), key=CaseMailView.listing_order)


def _portal(uow: UnitOfWork, unit: Unit, *, round_id: int | None) -> dict[str, Any]:
    return portal_contexts(uow, [(unit.id, round_id)])[0]
