"""Batches several workers share: each claims an id range under a lease, finishes it once.

A job (one recheck or one sweep) is planned as rows of ``work_claims``, one per id range.
A worker claims the first free range (``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL;
on SQLite, one writer at a time, the same conditional UPDATE decides), processes it, and
marks it done in the same transaction as the batch's own writes: a batch is either done
and written, or neither. A worker that dies leaves its range claimed until the lease runs
out; then another worker takes it. A worker whose lease was taken over cannot mark the
range done, so its writes roll back (and the versioned UPDATE refuses a second move anyway).

Leases are measured in the machines' epoch seconds, not the app's clock: a run with a fixed
``--as-of`` day still needs dead workers' leases to expire.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import and_, func, insert, or_, select, update

from services.core.errors import ServiceError
from services.core.uow import UnitOfWork
from services.db.models import WorkClaim

CLAIMS = WorkClaim.__table__


class LeaseLost(ServiceError):
    """Another worker took the range over after this worker's lease ran out."""


@dataclass(frozen=True)
class Claim:
    id: int
    job: str
    first_id: int
    last_id: int
    holder: str


@dataclass
class WorkerReport:
    holder: str
    done: list[tuple[int, int]] = field(default_factory=list)
    lost: list[tuple[int, int]] = field(default_factory=list)


def plan(uow: UnitOfWork, *, job: str, ranges: list[tuple[int, int]]) -> int:
    """Record the job's ranges (ranges already planned are kept as they are); commits."""
    known = set(uow.session.scalars(select(CLAIMS.c.first_id).where(CLAIMS.c.job == job)))
    rows = [
        {"job": job, "first_id": first, "last_id": last, "attempts": 0}
        for first, last in ranges
        if first not in known
    ]
    if rows:
        uow.session.execute(insert(CLAIMS), rows)
    uow.commit()
    return len(rows)


def _free(job: str, now: float):
    return and_(
        CLAIMS.c.job == job,
        CLAIMS.c.done_at.is_(None),
        or_(CLAIMS.c.lease_until.is_(None), CLAIMS.c.lease_until < now),
    )


def take(uow: UnitOfWork, *, job: str, holder: str, lease_seconds: float, now: float):
    """Claim the job's first free range for ``lease_seconds``; None when none is free. Commits."""
    while True:
        query = (
            select(CLAIMS.c.id, CLAIMS.c.first_id, CLAIMS.c.last_id)
            .where(_free(job, now))
            .order_by(CLAIMS.c.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        row = uow.session.execute(query).first()
        if row is None:
            uow.commit()
            return None
        taken = uow.session.execute(
            update(CLAIMS)
            .where(CLAIMS.c.id == row.id, _free(job, now))
            .values(holder=holder, lease_until=now + lease_seconds, attempts=CLAIMS.c.attempts + 1)
        ).rowcount
        uow.commit()
        if taken:
            return Claim(row.id, job, row.first_id, row.last_id, holder)


def finish(uow: UnitOfWork, claim: Claim, *, now: float) -> None:
    """Mark the range done inside the batch's transaction; LeaseLost if it is no longer ours."""
    done = uow.session.execute(
        update(CLAIMS)
        .where(
            CLAIMS.c.id == claim.id,
            CLAIMS.c.holder == claim.holder,
            CLAIMS.c.done_at.is_(None),
        )
        .values(done_at=now)
    ).rowcount
    if not done:
        raise LeaseLost(
            f"批次 {claim.first_id}–{claim.last_id} 的租约已过期并由其他工作进程接手；本批未保存"
        )


def remaining(uow: UnitOfWork, *, job: str) -> int:
    """Ranges of the job not done yet (claimed or free)."""
    query = select(func.count()).where(CLAIMS.c.job == job, CLAIMS.c.done_at.is_(None))
    return uow.session.scalar(query)


def work_through(
    app,
    *,
    job: str,
    holder: str,
    handle: Callable[[UnitOfWork, Claim, Callable[[UnitOfWork], None]], object],
    lease_seconds: float = 300.0,
    poll_seconds: float = 0.5,
    clock: Callable[[], float] = time.time,
) -> WorkerReport:
    """Claim and handle ranges until the job is done, waiting out other workers' leases.

    ``handle(uow, claim, seal)`` processes one range and calls ``seal(uow)`` just before its
    commit; a range whose lease was lost in the meantime is reported, not written.
    """
    report = WorkerReport(holder=holder)
    while True:
        with app.uow() as uow:
            claim = take(uow, job=job, holder=holder, lease_seconds=lease_seconds, now=clock())
            left = remaining(uow, job=job) if claim is None else 1
        if claim is None:
            if not left:
                return report
            time.sleep(poll_seconds)  # ranges held by others: done soon, or their lease expires
            continue
        try:
            with app.uow() as uow:
                handle(uow, claim, lambda u, c=claim: finish(u, c, now=clock()))
        except LeaseLost:
            report.lost.append((claim.first_id, claim.last_id))
            continue
        report.done.append((claim.first_id, claim.last_id))
