"""How a long use case tells its caller how far it got: a command draws a bar from it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

#: Called as work advances with (done, total), in the use case's own unit (rows, cases).
Progress = Callable[[int, int], None]


def silent(done: int, total: int) -> None:
    """The progress of a caller that shows none."""


#: The progress callback of the command that runs a long use case in this process (a flow
#: called by ``rectify recheck`` reports here; a flow run by a worker reports to nobody).
_current: ContextVar[Progress] = ContextVar("rectify_progress", default=silent)


def report(done: int, total: int) -> None:
    """Tell the caller that set ``reporting`` how far the work got."""
    _current.get()(done, total)


@contextmanager
def reporting(callback: Progress) -> Iterator[None]:
    """Let the use cases run inside this block report to ``callback``."""
    token = _current.set(callback)
    try:
        yield
    finally:
        _current.reset(token)
