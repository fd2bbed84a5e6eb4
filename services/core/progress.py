"""How a long use case tells its caller how far it got: a command draws a bar from it."""

from __future__ import annotations

from collections.abc import Callable

#: Called as work advances with (done, total), in the use case's own unit (rows, cases).
Progress = Callable[[int, int], None]


def silent(done: int, total: int) -> None:
    """The progress of a caller that shows none."""
