"""Between cases and checks: requests built from cases, outcomes stored as CheckResult rows."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from services.checks.model import CheckOutcome, CheckRequest
from services.core.errors import NotFound, ValidationFailed
from services.core.settings import Settings
from services.core.uow import UnitOfWork
from services.db import bulk
from services.db.models import Case, Category, CheckResult, Target


def request_for(
    target: Target,
    *,
    check: str | None,
    category_code: str | None,
    settings: Settings,
    case_id: int | None = None,
) -> CheckRequest:
    """The check request for one target (and case, when there is one)."""
    return CheckRequest(
        check=check,
        target_code=target.code,
        url=target.url,
        domain=target.domain,
        column_type=target.column_type or ("homepage" if target.kind == "website" else None),
        category_code=category_code,
        case_id=case_id,
        stale_days=settings.column_stale_days_by_target.get(target.code),
    )


def requests_for_cases(uow: UnitOfWork, case_ids: list[int]) -> list[CheckRequest]:
    """One request per case, its check taken from the case's category (None: manual)."""
    rows = uow.session.scalars(
        select(Case)
        .where(bulk.ids_in(uow.session, Case.id, case_ids))
        .options(joinedload(Case.target), joinedload(Case.category))
    ).all()
    by_id = {case.id: case for case in rows}
    missing = [str(i) for i in case_ids if i not in by_id]
    if missing:
        raise NotFound(f"案件不存在：{'、'.join(missing)}")
    return [
        request_for(
            by_id[i].target,
            check=by_id[i].category.check,
            category_code=by_id[i].category_code,
            settings=uow.settings,
            case_id=i,
        )
        for i in case_ids
    ]


def request_for_target(uow: UnitOfWork, *, target_code: str, category_code: str) -> CheckRequest:
    """A one-off request for a target and a category, outside any case."""
    target = uow.session.scalar(select(Target).where(Target.code == target_code))
    if target is None:
        raise NotFound(f"监测对象不存在：{target_code}")
    category = uow.session.get(Category, category_code)
    if category is None:
        raise NotFound(f"问题类别不存在：{category_code}")
    return request_for(
        target, check=category.check, category_code=category.code, settings=uow.settings
    )


def save_outcomes(uow: UnitOfWork, outcomes: list[CheckOutcome], *, run_ref: str) -> None:
    """Store each outcome as a CheckResult row with the case (the caller commits)."""
    case_ids = {o.case_id for o in outcomes if o.case_id is not None}
    targets_of_cases = dict(
        uow.session.execute(
            select(Case.id, Case.target_id).where(bulk.ids_in(uow.session, Case.id, case_ids))
        ).all()
    )
    codes = {o.target_code for o in outcomes if o.case_id is None}
    targets_by_code = dict(
        uow.session.execute(select(Target.code, Target.id).where(Target.code.in_(codes))).all()
    )
    rows = []
    for outcome in outcomes:
        if outcome.case_id is not None:
            target_id = targets_of_cases.get(outcome.case_id)
        else:
            target_id = targets_by_code.get(outcome.target_code)
        if target_id is None:
            raise ValidationFailed([f"检查结果找不到对应的案件或监测对象：{outcome.target_code}"])
        rows.append(
            CheckResult(
                case_id=outcome.case_id,
                target_id=target_id,
                check=outcome.check,
                outcome=outcome.outcome,
                summary=outcome.summary,
                details=outcome.details,
                checked_at=outcome.checked_at or uow.clock.now(),
                run_ref=run_ref,
            )
        )
    uow.session.add_all(rows)
    uow.flush()
