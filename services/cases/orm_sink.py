"""The single-case path's sink: the rows a trigger adds (notices, submissions, reviews),
written through the unit of work's ORM session (the batch path's is ``store.CoreSink``)."""

from __future__ import annotations

from sqlalchemy import select

from services.core.uow import UnitOfWork
from services.db.models import CaseNotice, Submission


class OrmSink:
    """Writes the rows a trigger adds through the unit of work's session."""

    def __init__(self, uow: UnitOfWork):
        self.uow = uow

    def add_notice(self, case, *, level, issuer, notified_on, reference) -> None:
        self.uow.session.add(
            CaseNotice(
                case_id=case.id,
                level=level,
                issuer=issuer,
                notified_on=notified_on,
                reference=reference,
            )
        )

    def add_submission(self, case, *, text, responsible_person, phone, at) -> int:
        submission = Submission(
            case_id=case.id,
            text=text,
            responsible_person=responsible_person,
            phone=phone,
            submitted_at=at,
        )
        self.uow.session.add(submission)
        self.uow.flush()
        return submission.id

    def review_latest_submission(self, case, *, result, reviewer, comment, at) -> int | None:
        return review_latest_submission(
            self.uow.session,
            case_id=case.id,
            result=result,
            reviewer=reviewer,
            comment=comment,
            at=at,
        )


def review_latest_submission(
    session, *, case_id: int, result: str, reviewer: str, comment: str | None, at
) -> int | None:
    """Mark the case's latest unreviewed submission accepted or rejected; its id, if any."""
    submission = session.scalar(
        select(Submission)
        .where(Submission.case_id == case_id, Submission.review_result.is_(None))
        .order_by(Submission.id.desc())
        .limit(1)
    )
    if submission is None:
        return None
    submission.review_result = result
    submission.reviewer = reviewer
    submission.review_comment = comment
    submission.reviewed_at = at
    return submission.id
