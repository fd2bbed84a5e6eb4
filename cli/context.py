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

import typer
from rich.console import Console
from rich.table import Table

from services.bootstrap import App, build_app
from services.core.errors import ServiceError
from states import InvalidTransition

console = Console()
err_console = Console(stderr=True)


class CliState:
    as_of: date | None = None


STATE = CliState()


@contextmanager
def open_app() -> Iterator[App]:
    """Build the app for one command, and close its engine after."""
    application = build_app(as_of=STATE.as_of)
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


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(v) for k, v in asdict(value).items()}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(_plain(value), ensure_ascii=False, indent=2) + "\n")


def print_table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    table = Table(title=title, show_lines=False)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*["" if v is None else str(v) for v in row])
    console.print(table)
