"""A recheck worker in a process of its own, sharing a planned job with others.

``python -m tests.integration.rounds.claims_worker DATABASE_URL JOB HOLDER LEASE_SECONDS MODE`` where
MODE is ``hang`` (the first batch's rows written, then it hangs before marking the batch done
and committing — to be killed there) or ``steady`` (a short pause per batch, to overlap).
"""

from __future__ import annotations

import sys
import time
from datetime import date

from services.bootstrap import build_app
from services.core.settings import Settings
from services.rounds import claims, rechecks, shared_runs

AS_OF = date(2021, 10, 1)
ROUND = "2021Q3"
ACTOR = "quarterly-recheck/claims-test"


def hang_before_first_finish() -> None:
    """The first batch writes its moves, then hangs where it would mark itself done."""

    def finish_hanging(*_args, **_kwargs) -> None:
        print("batch written", flush=True)
        time.sleep(600)

    claims.finish = finish_hanging


def steady(uow, case_ids: list[int]) -> dict[int, str]:
    """Every case fixed, after a short pause (a check's own time), so workers overlap."""
    time.sleep(0.05)
    return rechecks.all_fixed(uow, case_ids)


def main(database_url: str, job: str, holder: str, lease: float, mode: str) -> None:
    if mode == "hang":
        hang_before_first_finish()
    app = build_app(Settings(database_url=database_url, secret_key="test-secret"), as_of=AS_OF)
    try:
        summary, report = shared_runs.recheck_worker(
            app,
            job=job,
            round_code=ROUND,
            provider=steady,
            actor=ACTOR,
            holder=holder,
            lease_seconds=lease,
        )
    finally:
        app.close()
    print(f"done {len(report.done)} lost {len(report.lost)} verified {summary.verified}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), sys.argv[5])
