"""The case history's hash chain: each event's hash covers the event before it in its case.

``hash = sha256(predecessor's hash, or "" for a case's first event, + canonical event)``,
where the canonical event is the JSON array ``[case_id, trigger, from_state, to_state,
actor, actor_kind, at, note, data]``: ``at`` in UTC as ISO 8601, ``data`` with sorted keys,
no spaces, UTF-8. Both write paths (``services.cases.transitions`` one event at a time, the
batch path in ``services.cases.store``) and migration 0003's backfill compute it here, and
``rectify audit verify`` recomputes it: an event edited in the database, or one removed
from the middle of a case's history, breaks the chain at that point.

The hash is not a signature (anyone who can write the table could recompute it); it makes
an edit visible from the data alone. Archives are signed on top (``services.ops.signing``).
Changing this format needs a migration that recomputes every hash.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.db import bulk
from services.db.models import CaseEvent

#: The fields an event's hash covers, in this order.
FIELDS = (
    "case_id",
    "trigger",
    "from_state",
    "to_state",
    "actor",
    "actor_kind",
    "at",
    "note",
    "data",
)
_ENCODE = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode
EVENTS = CaseEvent.__table__


def utc_iso(at: datetime) -> str:
    """A moment as the chain writes it: UTC, ISO 8601 (microseconds when there are any)."""
    return at.astimezone(UTC).isoformat()


def event_hash(previous: str | None, event: Mapping[str, Any], *, at_iso: str | None = None) -> str:
    """The hash of ``event`` (a mapping holding ``FIELDS``) after its case's ``previous``."""
    fields = [event[name] for name in FIELDS]
    fields[6] = at_iso or utc_iso(event["at"])
    digest = hashlib.sha256((previous or "").encode("ascii"))
    digest.update(_ENCODE(fields).encode("utf-8"))
    return digest.hexdigest()


def chain(events: Iterable[Mapping[str, Any]], previous: dict[int, str]) -> list[str]:
    """The hashes of ``events`` in their order, each case continuing from ``previous``.

    ``previous`` maps a case id to its latest stored hash and is advanced as it goes. A batch
    shares one timestamp object: it is formatted once.
    """
    hashes = []
    formatted: dict[int, str] = {}
    for event in events:
        at = event["at"]
        at_iso = formatted.get(id(at))
        if at_iso is None:
            at_iso = formatted[id(at)] = utc_iso(at)
        case_id = event["case_id"]
        value = previous[case_id] = event_hash(previous.get(case_id), event, at_iso=at_iso)
        hashes.append(value)
    return hashes


def latest(session: Session, case_ids: Collection[int]) -> dict[int, str]:
    """Each case's latest event hash (one query), for the cases that have a hashed event."""
    if not case_ids:
        return {}
    newest = (
        select(func.max(EVENTS.c.id))
        .where(bulk.ids_in(session, EVENTS.c.case_id, case_ids))
        .group_by(EVENTS.c.case_id)
    )
    query = select(EVENTS.c.case_id, EVENTS.c.hash).where(EVENTS.c.id.in_(newest.scalar_subquery()))
    return {case_id: value for case_id, value in session.execute(query) if value}


def add_hashes(session: Session, events: Sequence[dict[str, Any]]) -> None:
    """Set each of a batch's event rows' ``hash`` (in place), its cases' chains continued."""
    previous = latest(session, {event["case_id"] for event in events})
    for event, value in zip(events, chain(events, previous), strict=True):
        event["hash"] = value


def previous_hash(session: Session, case_id: int) -> str | None:
    """The hash of the case's latest event (flushed first), None before its first."""
    return session.scalar(  # ORM columns: the session autoflushes before it reads
        select(CaseEvent.hash)
        .where(CaseEvent.case_id == case_id)
        .order_by(CaseEvent.id.desc())
        .limit(1)
    )
