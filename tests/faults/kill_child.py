"""A publish, sweep or recheck in a process of its own that hangs at a chosen point, to be killed.

``python -m tests.faults.kill_child DATABASE_URL STEP POINT`` prints ``paused`` when it reaches
POINT and sleeps there: ``batch`` is after the first committed batch, ``step`` is after every
batch committed and before the step that follows (unit notices / reminders / the last batch).
"""

from __future__ import annotations

import sys
import time

from services.rounds import publication, sweeps
from tests.faults.scenario import file_app, run_step


def _pause() -> None:
    print("paused", flush=True)
    time.sleep(600)


def _after_first_call(module, name: str) -> None:
    original = getattr(module, name)

    def wrapped(*args, **kwargs):
        result = original(*args, **kwargs)
        _pause()
        return result

    setattr(module, name, wrapped)


def _before(module, name: str) -> None:
    original = getattr(module, name)

    def wrapped(*args, **kwargs):
        _pause()
        return original(*args, **kwargs)

    setattr(module, name, wrapped)


def main(url: str, step: str, point: str) -> None:
    after_batch = None
    if step == "publish":
        (_after_first_call if point == "batch" else _before)(
            publication, "notify_range" if point == "batch" else "queue_unit_notices"
        )
    elif step == "sweep":
        (_after_first_call if point == "batch" else _before)(
            sweeps, "escalate_range" if point == "batch" else "queue_reminders"
        )
    else:
        done = []

        def after_batch(_part) -> None:
            done.append(1)
            if len(done) == (1 if point == "batch" else 3):
                _pause()

    app = file_app(url)
    try:
        run_step(app, step, after_batch=after_batch)
    finally:
        app.close()


if __name__ == "__main__":
    main(*sys.argv[1:4])
