"""Read side: plain dataclasses for listings and the case page, never ORM objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, exists, or_, select
from sqlalchemy.orm import aliased

from services.db.models import (
    Case,
    CaseEvent,
    CaseNotice,
    Category,
    CheckResult,
    Round,
    Submission,
    Target,
    Unit,
)
from services.deadlines import days_left, overdue_days
from services.errors import NotFound
from services.uow import UnitOfWork
from states import OPEN_STATES, CaseState, allowed_triggers

OVERDUE_STATES = [str(s) for s in (CaseState.NOTIFIED, CaseState.RECTIFYING, CaseState.ESCALATED)]


@dataclass(frozen=True)
class CaseRow:
    id: int
    round: str
    unit: str
    target: str
    target_kind: str
    category: str
    category_name: str
    severity: str
    state: str
    deadline: date | None
    overdue_days: int
    escalation_level: int
    notices_city: int
    notices_province: int
    description: str
    version: int


@dataclass
class CaseFilters:
    state: str | None = None
    unit_code: str | None = None  # the unit and its whole subtree
    round_code: str | None = None
    category: str | None = None
    overdue: bool = False
    escalated: bool = False
    text: str | None = None
    after_id: int | None = None  # keyset pagination
    limit: int | None = None


def _case_rows_query() -> Select:
    return (
        select(Case, Round.code, Unit.name, Target.name, Target.kind, Category.name)
        .join(Round, Round.id == Case.round_id)
        .join(Unit, Unit.id == Case.unit_id)
        .join(Target, Target.id == Case.target_id)
        .join(Category, Category.code == Case.category_code)
    )


def not_superseded():
    """A case is current unless a later round's case continues its repeat chain."""
    later = aliased(Case)
    return ~exists().where(later.previous_case_id == Case.id)


def list_cases(uow: UnitOfWork, filters: CaseFilters | None = None) -> list[CaseRow]:
    """Cases matching the filters, oldest first (ids ascending, for keyset pages)."""
    f = filters or CaseFilters()
    today = uow.clock.today()
    query = _case_rows_query()
    if f.state:
        query = query.where(Case.state == f.state)
    if f.round_code:
        query = query.where(Round.code == f.round_code)
    if f.category:
        query = query.where(Case.category_code == f.category)
    if f.unit_code:
        unit = uow.session.scalar(select(Unit).where(Unit.code == f.unit_code))
        if unit is None:
            raise NotFound(f"单位 {f.unit_code} 不存在")
        query = query.where(Unit.path.startswith(unit.path))
    if f.overdue:
        query = query.where(Case.state.in_(OVERDUE_STATES), Case.deadline < today, not_superseded())
    if f.escalated:
        query = query.where(Case.state == CaseState.ESCALATED)
    if f.text:
        like = f"%{f.text}%"
        query = query.where(
            or_(Case.description.like(like), Target.name.like(like), Unit.name.like(like))
        )
    if f.after_id:
        query = query.where(Case.id > f.after_id)
    query = query.order_by(Case.id)
    if f.limit:
        query = query.limit(f.limit)
    return [
        _row(case, round_code, unit_name, target_name, target_kind, category_name, today)
        for case, round_code, unit_name, target_name, target_kind, category_name in uow.session.execute(
            query
        )
    ]


def _row(
    case: Case, round_code, unit_name, target_name, target_kind, category_name, today
) -> CaseRow:
    overdue = overdue_days(case.deadline, today) if case.state in OVERDUE_STATES else 0
    return CaseRow(
        id=case.id,
        round=round_code,
        unit=unit_name,
        target=target_name,
        target_kind=target_kind,
        category=case.category_code,
        category_name=category_name,
        severity=case.severity,
        state=case.state,
        deadline=case.deadline,
        overdue_days=overdue,
        escalation_level=case.escalation_level,
        notices_city=case.notices_city,
        notices_province=case.notices_province,
        description=case.description,
        version=case.version,
    )


@dataclass(frozen=True)
class EventView:
    id: int
    at: datetime
    trigger: str
    from_state: str | None
    to_state: str
    actor: str
    actor_kind: str
    note: str | None
    data: dict[str, Any]


@dataclass(frozen=True)
class NoticeView:
    case_id: int
    round: str
    level: str
    issuer: str
    notified_on: date
    reference: str | None


@dataclass(frozen=True)
class SubmissionView:
    id: int
    text: str
    responsible_person: str
    phone: str | None
    submitted_at: datetime
    review_result: str | None
    reviewer: str | None
    review_comment: str | None
    attachments: list[dict[str, Any]]


@dataclass(frozen=True)
class CheckView:
    id: int
    check: str
    outcome: str
    summary: str
    checked_at: datetime
    details: dict[str, Any]


@dataclass
class CaseDetail:
    case: CaseRow
    unit_code: str
    target_code: str
    target_url: str | None
    evidence: dict[str, Any]
    source: str
    days_left: int | None
    allowed_triggers: list[str]
    chain: list[CaseRow] = field(default_factory=list)  # earlier rounds' cases, oldest first
    notices: list[NoticeView] = field(default_factory=list)  # along the whole chain
    events: list[EventView] = field(default_factory=list)
    submissions: list[SubmissionView] = field(default_factory=list)
    checks: list[CheckView] = field(default_factory=list)


def case_detail(uow: UnitOfWork, case_id: int) -> CaseDetail:
    """Everything the case page and ``rectify case show`` print."""
    session = uow.session
    today = uow.clock.today()
    found = session.execute(_case_rows_query().where(Case.id == case_id)).first()
    if found is None:
        raise NotFound(f"案件 {case_id} 不存在")
    case = found[0]
    row = _row(*found, today)
    chain: list[CaseRow] = []
    previous_id = case.previous_case_id
    while previous_id is not None:
        earlier = session.execute(_case_rows_query().where(Case.id == previous_id)).first()
        chain.insert(0, _row(*earlier, today))
        previous_id = earlier[0].previous_case_id
    chain_ids = [c.id for c in chain] + [case.id]
    notices = [
        NoticeView(n.case_id, code, n.level, n.issuer, n.notified_on, n.reference)
        for n, code in session.execute(
            select(CaseNotice, Round.code)
            .join(Case, Case.id == CaseNotice.case_id)
            .join(Round, Round.id == Case.round_id)
            .where(CaseNotice.case_id.in_(chain_ids))
            .order_by(CaseNotice.notified_on, CaseNotice.id)
        )
    ]
    events = [
        EventView(
            e.id, e.at, e.trigger, e.from_state, e.to_state, e.actor, e.actor_kind, e.note, e.data
        )
        for e in session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
        )
    ]
    submissions = [
        SubmissionView(
            s.id,
            s.text,
            s.responsible_person,
            s.phone,
            s.submitted_at,
            s.review_result,
            s.reviewer,
            s.review_comment,
            [
                {
                    "id": a.id,
                    "filename": a.filename,
                    "size": a.size,
                    "content_type": a.content_type,
                    "sha256": a.sha256,
                }
                for a in s.attachments
            ],
        )
        for s in session.scalars(
            select(Submission).where(Submission.case_id == case_id).order_by(Submission.id)
        )
    ]
    checks = [
        CheckView(c.id, c.check, c.outcome, c.summary, c.checked_at, c.details)
        for c in session.scalars(
            select(CheckResult).where(CheckResult.case_id == case_id).order_by(CheckResult.id)
        )
    ]
    return CaseDetail(
        case=row,
        unit_code=case.unit.code,
        target_code=case.target.code,
        target_url=case.target.url,
        evidence=case.evidence,
        source=case.source,
        days_left=days_left(case.deadline, today) if case.state in OVERDUE_STATES else None,
        allowed_triggers=[str(t) for t in allowed_triggers(case.state)],
        chain=chain,
        notices=notices,
        events=events,
        submissions=submissions,
        checks=checks,
    )


def open_state_values() -> list[str]:
    return [str(s) for s in OPEN_STATES]


__all__ = ["CaseDetail", "CaseFilters", "CaseRow", "case_detail", "list_cases"]
