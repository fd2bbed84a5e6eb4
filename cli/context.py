"""What every command shares: the app built from settings, output helpers, error exits."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

import typer
from rich.console import Console, RenderableType
from rich.measure import Measurement
from rich.table import Table

from services.bootstrap import App, build_app
from services.core.clock import SHANGHAI, local_text, zone_label
from services.core.errors import ServiceError
from states import InvalidTransition

#: Piped, a long line is written whole (the reader's program wraps it), never broken at 80.
console = Console(soft_wrap=not sys.stdout.isatty())
err_console = Console(stderr=True, soft_wrap=not sys.stderr.isatty())  # whole lines when piped


class CliState:
    as_of: date | None = None
    #: The zone every time a command prints is in (RECTIFY_TIMEZONE, set by ``open_app``).
    zone: ZoneInfo = SHANGHAI


STATE = CliState()


@contextmanager
def open_app() -> Iterator[App]:
    """Build the app for one command, and close its engine after."""
    application = build_app(as_of=STATE.as_of)
    STATE.zone = application.clock.tz
    try:
        yield application
    finally:
        application.close()


@contextmanager
def handled_errors() -> Iterator[None]:
    """Turn a service error into one line on stderr and a non-zero exit; nothing is half-done."""
    try:
        yield
    except InvalidTransition as exc:
        err_console.print(f"[red]操作被拒绝：[/red]{exc}", highlight=False)
        raise typer.Exit(code=3) from None
    except ServiceError as exc:
        err_console.print(f"[red]错误：[/red]{exc}", highlight=False)
        for line in getattr(exc, "errors", [])[5:]:
            err_console.print(f"  {line}", highlight=False)
        raise typer.Exit(code=2) from None


def refuse(message: str) -> NoReturn:
    """A command line a command cannot run: one Chinese line on stderr and exit 2, like a
    service's refusal (not click's English "Invalid value for ...")."""
    err_console.print(f"[red]错误：[/red]{message}", highlight=False)
    raise typer.Exit(code=2)


def local(moment: datetime | None, *, empty: str = "—") -> str:
    """A moment as a person at the terminal reads it: local time to the minute."""
    return local_text(moment, STATE.zone, empty=empty)


def zone_name() -> str:
    """The zone the times printed are in, as a person names it: 北京时间."""
    return zone_label(STATE.zone)


def zone_note() -> str:
    """What a table's title says of its times: 时间为北京时间（Asia/Shanghai）."""
    return f"时间为{zone_label(STATE.zone)}（{STATE.zone.key}）"


def time_header(name: str = "时间") -> str:
    """A column of times, its zone named: 时间（北京时间）."""
    return f"{name}（{zone_name()}）"


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(v) for k, v in asdict(value).items()}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(STATE.zone).isoformat()  # +08:00, as the tables show it
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(_plain(value), ensure_ascii=False, indent=2) + "\n")


#: The widest line a table piped to a file or another program is printed at.
PIPED_MAX_WIDTH = 4000


def print_wide(renderable: RenderableType) -> None:
    """Print a table whole: on a terminal at its width (long cells folded, never cut with …);
    piped or redirected, at the table's own width, so that no line is cut at 80 columns."""
    if console.is_terminal:
        console.print(renderable)
        return
    options = console.options.update_width(PIPED_MAX_WIDTH)
    width = Measurement.get(console, options, renderable).maximum
    Console(file=console.file, width=max(width, 1), highlight=False).print(renderable)


def print_table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    table = Table(title=title, show_lines=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*["" if v is None else str(v) for v in row])
    print_wide(table)
