"""Several workers share a recheck or a sweep: ranges never overlap, a dead worker's range is
finished by another once its lease runs out, and every case is processed exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from datetime import date

from sqlalchemy import func, select

from services.bootstrap import build_app
from services.db.models import CaseEvent, WorkClaim
from services.rounds import claims, shared_runs
from tests.builders import a_case, a_round, a_target, a_unit
from tests.integration.rounds.claims_worker import ACTOR, ROUND

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
CASES, BATCH = 40, 4


def _notified_cases(app, n: int) -> list[int]:
    with app.uow() as uow:
        a_round(uow, "2021Q2", deadline=date(2021, 7, 29))
        a_unit(uow, "u1")
        ids = [
            a_case(
                uow, state="notified", target_code=a_target(uow, f"t{i}", unit_code="u1").code
            ).id
            for i in range(n)
        ]
        a_round(uow, ROUND)
        uow.commit()
    return ids


def _worker(url: str, job: str, holder: str, lease: float, mode: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "tests.integration.rounds.claims_worker", url, job, holder]
    return subprocess.Popen(
        [*command, str(lease), mode], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )


def test_a_worker_killed_mid_batch_leaves_its_batch_to_the_other_and_each_case_moves_once(app):
    ids = _notified_cases(app, CASES)
    job = shared_runs.recheck_job(ROUND, "kill-test")
    with app.uow() as uow:
        planned = shared_runs.plan_recheck(uow, job=job, round_code=ROUND, batch_size=BATCH)
    assert planned == CASES // BATCH
    url = app.settings.database_url
    doomed = _worker(url, job, "worker-a", 2.0, "hang")
    try:
        assert doomed.stdout.readline().strip() == "batch written"
        survivor = _worker(url, job, "worker-b", 2.0, "steady")
    finally:
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(timeout=30)
    out, _ = survivor.communicate(timeout=60)
    assert doomed.returncode == -signal.SIGKILL
    assert survivor.returncode == 0, out
    assert out.strip() == f"done {CASES // BATCH} lost 0 verified {CASES}"

    with app.uow() as uow:
        verified = Counter(
            uow.session.scalars(
                select(CaseEvent.case_id).where(
                    CaseEvent.actor == ACTOR, CaseEvent.trigger == "verify"
                )
            )
        )
        batches = uow.session.execute(
            select(WorkClaim.holder, WorkClaim.attempts, WorkClaim.done_at).where(
                WorkClaim.job == job
            )
        ).all()
    assert verified == Counter(ids)  # every case verified, none twice
    assert all(done is not None and holder == "worker-b" for holder, _, done in batches)
    assert sorted(attempts for _, attempts, _ in batches) == [1] * (len(batches) - 1) + [2]


def test_two_concurrent_claimers_never_hold_the_same_range(app):
    job = "recheck:overlap"
    ranges = [(i * 10 + 1, i * 10 + 10) for i in range(60)]
    with app.uow() as uow:
        claims.plan(uow, job=job, ranges=ranges)
        assert claims.plan(uow, job=job, ranges=ranges) == 0  # planning again adds nothing
    taken: dict[str, list[tuple[int, int]]] = {"a": [], "b": []}

    def claimer(holder: str) -> None:
        while True:
            with app.uow() as uow:
                claim = claims.take(uow, job=job, holder=holder, lease_seconds=60, now=1000.0)
                if claim is None:
                    return
                taken[holder].append((claim.first_id, claim.last_id))
                claims.finish(uow, claim, now=1001.0)
                uow.commit()

    threads = [threading.Thread(target=claimer, args=(h,)) for h in taken]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(taken["a"] + taken["b"]) == ranges
    assert not set(taken["a"]) & set(taken["b"])


def test_a_worker_whose_lease_was_taken_over_cannot_finish_its_batch(app):
    with app.uow() as uow:
        claims.plan(uow, job="sweep:lease", ranges=[(1, 10)])
        slow = claims.take(uow, job="sweep:lease", holder="slow", lease_seconds=5, now=100.0)
        assert (
            claims.take(uow, job="sweep:lease", holder="fast", lease_seconds=5, now=104.0) is None
        )
        fast = claims.take(uow, job="sweep:lease", holder="fast", lease_seconds=5, now=106.0)
        assert (fast.first_id, fast.last_id) == (slow.first_id, slow.last_id)
        claims.finish(uow, fast, now=107.0)
        uow.commit()
        try:
            claims.finish(uow, slow, now=108.0)
        except claims.LeaseLost as exc:
            assert "已过期并由其他工作进程接手" in str(exc)
        else:
            raise AssertionError("the slow worker finished a batch it no longer held")
        assert claims.remaining(uow, job="sweep:lease") == 0


def test_two_sweep_workers_escalate_each_overdue_case_once(app):
    with app.uow() as uow:
        a_round(uow, "2021Q2", deadline=date(2021, 7, 29))
        a_unit(uow, "u1")
        ids = [
            a_case(
                uow, state="notified", target_code=a_target(uow, f"s{i}", unit_code="u1").code
            ).id
            for i in range(12)
        ]
        uow.commit()
    late = build_app(app.settings, as_of=date(2021, 8, 2))
    job = shared_runs.sweep_job("2021-08-02", "test")
    with late.uow() as uow:
        assert shared_runs.plan_sweep(uow, job=job, batch_size=3) == 4
    results = {}

    def worker(holder: str) -> None:
        results[holder] = shared_runs.sweep_worker(late, job=job, actor="sweep", holder=holder)

    threads = [threading.Thread(target=worker, args=(h,)) for h in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    with late.uow() as uow:
        escalations = Counter(
            uow.session.scalars(select(CaseEvent.case_id).where(CaseEvent.trigger == "escalate"))
        )
        left = uow.session.scalar(select(func.count()).select_from(WorkClaim).where(
            WorkClaim.job == job, WorkClaim.done_at.is_(None)))  # fmt: skip
    late.close()
    assert escalations == Counter(ids)
    assert sum(s.escalated for s, _ in results.values()) == 12
    assert left == 0
