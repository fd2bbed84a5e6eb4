"""How a batch reads and writes cases with SQLAlchemy Core: rows, executemany, read-back ids.

``services.cases.batch`` decides what moves; this module only moves data, in a handful of
statements per batch, inside the caller's transaction. It knows nothing of email: ``write``
returns the events it wrote, with their ids, for the cases the caller names, and the caller
hands them to the mail seam (``services.mail.case_mail.queue_for_events``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import selectinload

from services.core.errors import ConcurrencyConflict
from services.core.uow import UnitOfWork
from services.db import bulk, event_chain
from services.db.models import Case, CaseEvent, CaseNotice, Category, Round, Submission

CASES = Case.__table__
EVENTS = CaseEvent.__table__
NOTICES = CaseNotice.__table__
SUBMISSIONS = Submission.__table__
FIELDS = (
    "state",
    "deadline",
    "deadline_mode",
    "notified_at",
    "escalation_level",
    "escalated_for_deadline",
    "notices_city",
    "notices_province",
    "notices_county",
)
LOADED = ("id", "version", "round_id", "category_code", "unit_id", *FIELDS)
EVENT_COLUMNS = (
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
#: An inserted event row: its fields and its link in the case's hash chain.
HASHED_EVENT_COLUMNS = (*EVENT_COLUMNS, "hash")
NOTICE_COLUMNS = ("case_id", "level", "issuer", "notified_on", "reference")


REVIEW_COLUMNS = ("review_result", "reviewer", "review_comment", "reviewed_at")


@dataclass(slots=True)
class Row:
    """A case as the effects see it: its columns and, for the moves that read them
    (``with_places``), its round and its category."""

    id: int
    version: int
    round_id: int
    category_code: str
    unit_id: int
    state: str
    deadline: date | None
    deadline_mode: str | None
    notified_at: datetime | None
    escalation_level: int
    escalated_for_deadline: date | None
    notices_city: int
    notices_province: int
    notices_county: int
    round: Any = None
    category: Any = None


class CoreSink:
    """Collects notices and reviews for executemany; submissions are rare and go one by one."""

    def __init__(self, uow: UnitOfWork, case_ids: list[int]):
        self.uow = uow
        self.notices: list[dict[str, Any]] = []
        self.reviews: list[dict[str, Any]] = []
        self._case_ids = case_ids
        self._pending: dict[int, int] | None = None

    @property
    def pending(self) -> dict[int, int]:
        """Each case's latest unreviewed submission, read at the first move that needs it (a
        batch of escalations never does)."""
        if self._pending is None:
            latest = (
                select(SUBMISSIONS.c.case_id, func.max(SUBMISSIONS.c.id))
                .where(
                    bulk.ids_in(self.uow.session, SUBMISSIONS.c.case_id, self._case_ids),
                    SUBMISSIONS.c.review_result.is_(None),
                )
                .group_by(SUBMISSIONS.c.case_id)
            )
            found = self.uow.session.execute(latest).all() if self._case_ids else []
            self._pending = dict(found)
        return self._pending

    def add_notice(self, case, *, level, issuer, notified_on, reference) -> None:
        self.notices.append(
            {
                "case_id": case.id,
                "level": level,
                "issuer": issuer,
                "notified_on": notified_on,
                "reference": reference,
            }
        )

    def add_submission(self, case, *, text, responsible_person, phone, at) -> int:
        values = {
            "case_id": case.id,
            "text": text,
            "responsible_person": responsible_person,
            "phone": phone,
            "submitted_at": at,
        }
        statement = insert(SUBMISSIONS).returning(SUBMISSIONS.c.id)
        submission_id = self.uow.session.execute(statement, values).scalar_one()
        self.pending[case.id] = submission_id
        return submission_id

    def review_latest_submission(self, case, *, result, reviewer, comment, at) -> int | None:
        submission_id = self.pending.pop(case.id, None)
        if submission_id is not None:
            self.reviews.append(
                {
                    "id": submission_id,
                    "review_result": result,
                    "reviewer": reviewer,
                    "review_comment": comment,
                    "reviewed_at": at,
                }
            )
        return submission_id

    def write(self) -> None:
        """Write the collected notices and reviews (``bulk``: a statement each)."""
        bulk.insert_rows(self.uow.session, NOTICES, NOTICE_COLUMNS, self.notices)
        bulk.update_rows(self.uow.session, SUBMISSIONS, REVIEW_COLUMNS, self.reviews)


@dataclass(frozen=True)
class StoredEvent:
    """An event row as ``write`` stored it, with the id it was given."""

    id: int
    case_id: int
    trigger: str
    from_state: str | None
    to_state: str
    actor: str
    actor_kind: str
    at: datetime
    note: str | None
    data: dict[str, Any]
    hash: str  # its link in the case's hash chain


#: The columns a batch reads of each case; select them to hand ``transition_many`` known rows.
ROW_COLUMNS = [CASES.c[name] for name in LOADED]


def load_rows(uow: UnitOfWork, case_ids: Iterable[int]) -> dict[int, Row]:
    """The given cases as plain rows (Core select), without their rounds and categories."""
    ids = list(case_ids)
    if not ids:
        return {}
    result = uow.session.execute(
        select(*ROW_COLUMNS).where(bulk.ids_in(uow.session, CASES.c.id, ids))
    )
    return rows_from(result.all())


def rows_from(selected: list) -> dict[int, Row]:
    """Rows from results starting with ``ROW_COLUMNS`` (more may follow)."""
    width = len(LOADED)
    return {r[0]: Row(*r[:width]) for r in selected}


def with_places(uow: UnitOfWork, rows: Iterable[Row]) -> None:
    """Give ``rows`` their rounds (with issuers) and categories: two queries, made only for
    the moves whose effects read them (a notice: its deadline, level and issuer); a batch of
    verifications or escalations loads no ORM object at all."""
    rows = [row for row in rows if row.round is None]
    if not rows:
        return
    round_ids = {row.round_id for row in rows}
    rounds = {
        r.id: r
        for r in uow.session.scalars(
            select(Round).where(Round.id.in_(round_ids)).options(selectinload(Round.issuer))
        )
    }
    categories = {c.code: c for c in uow.session.scalars(select(Category))}
    for row in rows:
        row.round, row.category = rounds[row.round_id], categories[row.category_code]


def write(
    uow: UnitOfWork,
    *,
    updates: dict,
    events: list[dict[str, Any]],
    sink: CoreSink,
    read_back: Collection[int] = (),
) -> list[StoredEvent]:
    """Write a batch: versioned case updates, notices and reviews, then its events.

    ``updates`` maps (wave, changed fields) to row dicts for ``bulk.update_versioned``.
    Returns the events of the ``read_back`` cases with their ids, in insertion order; their
    ids cost two queries, so with no ``read_back`` none is read and none returned.
    """
    session = uow.session
    expected = changed = 0
    for (_wave, fields), rows in sorted(updates.items()):
        changed += bulk.update_versioned(session, CASES, fields, rows)
        expected += len(rows)
    if changed != expected:
        session.rollback()
        raise ConcurrencyConflict(
            f"本批 {expected} 次变更中有 {expected - changed} 个案件已被他人修改；本批未保存"
        )
    sink.write()
    wanted = set(read_back)
    event_ids = _insert_events(uow, events, read_back=wanted)
    session.expire_all()  # the ORM's copies of what was written here are stale
    written = [e for e in events if e["case_id"] in wanted]
    return [
        StoredEvent(id=event_id, **values)
        for event_id, values in zip(event_ids, written, strict=True)
    ]


def _insert_events(
    uow: UnitOfWork, events: list[dict[str, Any]], *, read_back: set[int]
) -> list[int]:
    """Insert the events; the ids of those of the ``read_back`` cases, in insertion order.

    ``INSERT .. RETURNING`` in parameter order degrades to one statement per row on SQLite;
    instead the new ids are read back: a transaction's rows for the batch's cases get
    ascending ids in the order they were inserted, on SQLite and PostgreSQL alike.
    """
    session = uow.session
    before = session.scalar(select(func.coalesce(func.max(EVENTS.c.id), 0))) if read_back else 0
    event_chain.add_hashes(session, events)  # one query: each case's latest hash
    bulk.insert_rows(session, EVENTS, HASHED_EVENT_COLUMNS, events)
    if not read_back:
        return []
    query = (
        select(EVENTS.c.id, EVENTS.c.case_id)
        .where(EVENTS.c.id > before, bulk.ids_in(session, EVENTS.c.case_id, read_back))
        .order_by(EVENTS.c.id)
    )
    rows = session.execute(query).all()
    if [case_id for _, case_id in rows] != [
        e["case_id"] for e in events if e["case_id"] in read_back
    ]:
        raise ConcurrencyConflict("写入案件历史时与其他操作冲突；本批未保存")
    return [event_id for event_id, _ in rows]
