"""A recheck in a process of its own that stops after its first committed batch, to be killed.

``python -m tests.integration.recheck_child DATABASE_URL AS_OF BATCH_SIZE``
"""

from __future__ import annotations

import sys
import time
from datetime import date

from services import rechecks
from services.bootstrap import build_app
from services.settings import Settings

ACTOR = "quarterly-recheck/kill-test"


def run(database_url: str, as_of: date, batch_size: int, *, pause: bool) -> rechecks.RecheckSummary:
    """Run the 2021Q3 recheck on marks; with ``pause``, hang after the first batch commits."""

    def after_batch(_part: rechecks.RecheckSummary) -> None:
        if pause:
            print("batch committed", flush=True)
            time.sleep(600)

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
    run(sys.argv[1], date.fromisoformat(sys.argv[2]), int(sys.argv[3]), pause=True)
