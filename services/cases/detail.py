"""The case page's read model: a case with its repeat chain, notices, history, submissions
and check results (also ``rectify case show`` and the API), as plain dataclasses."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from services.cases.queries import CaseRow, case_row, case_rows_query
from services.core.deadlines import days_left
from services.core.errors import Forbidden, NotFound
from services.core.uow import UnitOfWork
from services.db.models import Case, CaseEvent, CaseNotice, CheckResult, Round, Submission, Unit
from states import OVERDUE_STATES, allowed_triggers, rules


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

    @property
    def actor_label(self) -> str:
        """Who acted, as every page, email and command names it (system actions: 系统)."""
        return rules.actor_label(self.actor, self.actor_kind)

    @property
    def change(self) -> str | None:
        """What the event changed beside the state, as a person reads it: an extension's
        「延长整改期限：2021-08-10 → 2021-08-20」; None for other events."""
        if self.trigger != "extend_deadline":
            return None
        old = self.data.get("old_deadline") or "未定"
        return f"延长整改期限：{old} → {self.data.get('new_deadline')}"


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
    #: Earlier rounds' cases the viewer may see, oldest first.
    chain: list[CaseRow] = field(default_factory=list)
    #: Notices of the case and of the earlier cases in ``chain`` (the cumulative counts on
    #: ``case`` still count every notice of the problem, wherever its earlier cases are).
    notices: list[NoticeView] = field(default_factory=list)
    events: list[EventView] = field(default_factory=list)
    submissions: list[SubmissionView] = field(default_factory=list)
    checks: list[CheckView] = field(default_factory=list)
    continued_by: int | None = None  # the later round's case for the same problem
    #: Earlier cases of the chain outside the viewer's scope (a target moved from another
    #: county): counted, never shown.
    earlier_out_of_scope: int = 0


def case_detail(uow: UnitOfWork, case_id: int, *, scope_path: str | None = None) -> CaseDetail:
    """Everything the case page and ``rectify case show`` print (within the viewer's scope)."""
    session = uow.session
    today = uow.clock.today()
    found = session.execute(case_rows_query().where(Case.id == case_id)).first()
    if found is None:
        raise NotFound(f"案件 {case_id} 不存在")
    case = found[0]
    if scope_path is not None and not case.unit.path.startswith(scope_path):
        raise Forbidden(f"案件 {case_id} 不在您的管辖范围内")
    row = case_row(*found, today)
    chain, out_of_scope = _chain(session, case, today, scope_path)
    notices = _notices(session, [c.id for c in chain] + [case.id])
    events = _events(session, case_id)
    submissions = _submissions(session, case_id)
    checks = _checks(session, case_id)
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
        continued_by=session.scalar(select(Case.id).where(Case.previous_case_id == case.id)),
        earlier_out_of_scope=out_of_scope,
    )


def _chain(session, case: Case, today, scope_path: str | None) -> tuple[list[CaseRow], int]:
    """The earlier cases this one continues that the viewer may see, oldest first, and how
    many others there are (a target moved from a unit outside the viewer's scope)."""
    chain: list[CaseRow] = []
    hidden = 0
    previous_id = case.previous_case_id
    query = case_rows_query().add_columns(Unit.path)
    while previous_id is not None:
        *earlier, path = session.execute(query.where(Case.id == previous_id)).one()
        if scope_path is None or path.startswith(scope_path):
            chain.insert(0, case_row(*earlier, today))
        else:
            hidden += 1
        previous_id = earlier[0].previous_case_id
    return chain, hidden


def _notices(session, chain_ids: list[int]) -> list[NoticeView]:
    """The notices of the given cases of the chain, oldest first."""
    return [
        NoticeView(n.case_id, code, n.level, n.issuer, n.notified_on, n.reference)
        for n, code in session.execute(
            select(CaseNotice, Round.code)
            .join(Case, Case.id == CaseNotice.case_id)
            .join(Round, Round.id == Case.round_id)
            .where(CaseNotice.case_id.in_(chain_ids))
            .order_by(CaseNotice.notified_on, CaseNotice.id)
        )
    ]


def _events(session, case_id: int) -> list[EventView]:
    return [
        EventView(
            e.id, e.at, e.trigger, e.from_state, e.to_state, e.actor, e.actor_kind, e.note, e.data
        )
        for e in session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
        )
    ]


def _submissions(session, case_id: int) -> list[SubmissionView]:
    return [
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


def _checks(session, case_id: int) -> list[CheckView]:
    return [
        CheckView(c.id, c.check, c.outcome, c.summary, c.checked_at, c.details)
        for c in session.scalars(
            select(CheckResult).where(CheckResult.case_id == case_id).order_by(CheckResult.id)
        )
    ]
