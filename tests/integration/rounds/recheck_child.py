"""A recheck in a process of its own that hangs at a chosen point, to be killed there.

``python -m tests.integration.rounds.recheck_child DATABASE_URL AS_OF BATCH_SIZE POINT`` where POINT is
``after-commit`` (the first batch committed) or ``mid-batch`` (the second batch's rows written,
not committed).
"""

from __future__ import annotations

import sys
import time
from datetime import date

from services.bootstrap import build_app
from services.cases import batch
from services.core.settings import Settings
from services.rounds import rechecks

ACTOR = "quarterly-recheck/kill-test"


def _hang(message: str) -> None:
    print(message, flush=True)
    time.sleep(600)


def hang_mid_batch() -> None:
    """Make the second batch hang once its rows are written and before it commits."""
    write = batch.write
    calls = []

    def write_then_hang(*args, **kwargs):
        written = write(*args, **kwargs)
        calls.append(1)
        if len(calls) == 2:
            _hang("batch written")
        return written

    batch.write = write_then_hang


def run(database_url: str, as_of: date, batch_size: int, *, pause: bool) -> rechecks.RecheckSummary:
    """Run the 2021Q3 recheck on marks; with ``pause``, hang after the first batch commits."""

    def after_batch(_part: rechecks.RecheckSummary) -> None:
        if pause:
            _hang("batch committed")

    app = build_app(Settings(database_url=database_url, secret_key="test-secret"), as_of=as_of)
    try:
        with app.uow() as uow:
            return rechecks.recheck(
                uow,
                round_code="2021Q3",
                provider=rechecks.latest_check_result,
                actor=ACTOR,
                batch_size=batch_size,
                after_batch=after_batch,
            )
    finally:
        app.close()


if __name__ == "__main__":
    point = sys.argv[4]
    if point == "mid-batch":
        hang_mid_batch()
    run(
        sys.argv[1],
        date.fromisoformat(sys.argv[2]),
        int(sys.argv[3]),
        pause=point == "after-commit",
    )
