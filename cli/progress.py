"""A progress bar on stderr for long commands, drawn only when stderr is a terminal.

It is transient (gone when the work ends) and never on stdout, so what a command prints
there (a table, ``--json``) reads the same piped or redirected, with or without the bar.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from cli.context import err_console
from services.core.progress import Progress as Advance
from services.core.progress import silent


@contextmanager
def progress_bar(description: str) -> Iterator[Advance]:
    """A ``(done, total)`` callback drawing ``description`` with a bar while the block runs."""
    if not err_console.is_terminal:
        yield silent
        return
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("已用"),
        TimeElapsedColumn(),
        TextColumn("剩余"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task(description, total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield advance
