"""The unit portal's read side: a link opens one unit's cases, and only those.

The home page lists the open cases first, by deadline, each with the days it has left; then,
read only, the cases carried over to a later round (with the case that continues each) and
the verified ones. A case's page shows the unit's submissions and the office's replies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select

from services.access import unit_links
from services.cases import detail, queries, submissions, succession
from services.cases.succession import Successor
from services.core.deadlines import days_left
from services.core.errors import Forbidden, NotFound
from services.core.uow import UnitOfWork
from services.db.models import Case, Submission, Unit
from states import OPEN_STATES, CaseState, Standing, standing

_FAR = date.max
#: Open cases in which the unit owes nothing against a deadline now, and why.
_WAITING = {CaseState.FOUND: "待下发整改通知", CaseState.SUBMITTED: "已提交，待审核"}


@dataclass(frozen=True)
class PortalUnit:
    unit_id: int
    unit_code: str
    unit_name: str


@dataclass(frozen=True)
class PortalCase:
    """One case as the unit reads it: where it stands today and, when carried over, where to."""

    row: queries.CaseRow
    standing: Standing
    days_left: int | None
    successor: Successor | None = None
    #: The unit's link opens the successor (it is the unit's own case).
    successor_reachable: bool = False

    @property
    def due(self) -> str:
        """The deadline as the unit owes work against it: 「剩余 5 天」, 「今天到期」,
        「超期 3 天」; why there is none to meet; empty for a closed case."""
        if self.row.state in _WAITING:
            return _WAITING[self.row.state]
        if not self.standing.submittable or self.days_left is None:
            return ""
        if self.standing.overdue_days:
            return f"超期 {self.standing.overdue_days} 天"
        return "今天到期" if self.days_left == 0 else f"剩余 {self.days_left} 天"

    @property
    def late(self) -> bool:
        return self.standing.overdue_days > 0


@dataclass(frozen=True)
class PortalHome:
    open: list[PortalCase]  # by deadline, nearest first; no deadline last
    closed: list[PortalCase]  # carried over or verified: read only, newest first


@dataclass(frozen=True)
class SubmissionEntry:
    """One submission of the unit and the office's reply to it."""

    number: int  # 第 n 次提交
    submitted_at: datetime
    text: str
    responsible_person: str
    phone: str | None
    attachments: list[tuple[int, str]]  # (id, file name)
    result: str | None  # accepted | rejected | None (not reviewed)
    reply: str  # 核验通过 / 退回整改 / 待审核 …
    reviewer: str | None
    comment: str | None
    reviewed_at: datetime | None

    @property
    def rejected(self) -> bool:
        return self.result == "rejected"


@dataclass
class PortalCasePage:
    detail: detail.CaseDetail
    case: PortalCase
    #: Why the unit may not submit now (Chinese), None when the form is shown.
    refusal: str | None
    history: list[SubmissionEntry] = field(default_factory=list)

    @property
    def can_submit(self) -> bool:
        return self.refusal is None


def open_portal(uow: UnitOfWork, *, token: str) -> PortalUnit:
    """The unit a link opens (LinkRefused if unknown, expired or revoked); notes its use."""
    link = unit_links.resolve_link(uow, token)
    unit = uow.session.get(Unit, link.unit_id)
    uow.commit()
    return PortalUnit(unit.id, unit.code, unit.name)


def _portal_cases(uow: UnitOfWork, rows: list[queries.CaseRow], unit_id: int) -> list[PortalCase]:
    today = uow.clock.today()
    continued = [r.id for r in rows if r.state == CaseState.CONTINUED]
    later = succession.successors(uow.session, continued) if continued else {}
    return [
        PortalCase(
            row=r,
            standing=standing(r.state, r.deadline, today),
            days_left=days_left(r.deadline, today),
            successor=later.get(r.id),
            successor_reachable=r.id in later and later[r.id].reachable_by(unit_id),
        )
        for r in rows
    ]


def unit_home(uow: UnitOfWork, *, unit_id: int) -> PortalHome:
    """The unit's cases: open ones first by deadline, then the read-only ones newest first."""
    rows = queries.list_cases(uow, queries.CaseFilters(unit_id=unit_id, descending=True))
    cases = _portal_cases(uow, rows, unit_id)
    open_ = [c for c in cases if c.row.state in OPEN_STATES]
    open_.sort(key=lambda c: (c.row.deadline is None, c.row.deadline or _FAR, c.row.id))
    return PortalHome(open_, [c for c in cases if c.row.state not in OPEN_STATES])


def unit_case(uow: UnitOfWork, *, unit_id: int, case_id: int) -> PortalCasePage:
    """One of the unit's cases with its submissions; another unit's case is refused."""
    case = uow.session.get(Case, case_id)
    if case is None:
        raise NotFound(f"案件 {case_id} 不存在")
    if case.unit_id != unit_id:
        raise Forbidden("该案件不属于本单位，无权查看或提交")
    read = detail.case_detail(uow, case_id)
    [portal_case] = _portal_cases(uow, [read.case], unit_id)
    return PortalCasePage(
        detail=read,
        case=portal_case,
        refusal=submissions.refusal(uow.session, case),
        history=_history(uow, case_id, case.state),
    )


def _reply(result: str | None, state: str) -> str:
    if result == "accepted":
        return "核验通过"
    if result == "rejected":
        return "退回整改"
    if state == CaseState.CONTINUED:
        return "未审核（该问题已转入下一轮）"
    return "待审核"


def _history(uow: UnitOfWork, case_id: int, state: str) -> list[SubmissionEntry]:
    """The unit's submissions of the case, oldest first, each with the office's reply."""
    found = uow.session.scalars(
        select(Submission).where(Submission.case_id == case_id).order_by(Submission.id)
    )
    return [
        SubmissionEntry(
            number=n,
            submitted_at=s.submitted_at,
            text=s.text,
            responsible_person=s.responsible_person,
            phone=s.phone,
            attachments=[(a.id, a.filename) for a in sorted(s.attachments, key=lambda a: a.id)],
            result=s.review_result,
            reply=_reply(s.review_result, state),
            reviewer=s.reviewer,
            comment=s.review_comment,
            reviewed_at=s.reviewed_at,
        )
        for n, s in enumerate(found, start=1)
    ]
