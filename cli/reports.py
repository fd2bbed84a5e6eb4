"""``rectify notice ROUND`` and ``rectify ledger ROUND``: the quarterly notice and the ledger."""

from __future__ import annotations

from pathlib import Path

import typer

from cli.context import console, handled_errors, open_app
from services.errors import ValidationFailed
from services.reports.docx import render_docx
from services.reports.ledger import ledger_csv, ledger_rows, ledger_xlsx
from services.reports.notice import build_notice
from services.reports.render import render_html, render_markdown
from services.reports.trends import trend_rows

NOTICE_FORMATS = ("md", "html", "docx")
LEDGER_FORMATS = ("csv", "xlsx")


def register(app: typer.Typer) -> None:
    app.command("notice")(notice)
    app.command("ledger")(ledger)


def _check_format(value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise typer.BadParameter(
            f"格式应为 {'、'.join(allowed)} 之一：{value}", param_hint="--format"
        )
    return value


def notice(
    round_code: str = typer.Argument(..., help="检查轮次，如 2021Q2"),
    fmt: str = typer.Option("md", "--format", help="输出格式：md、html 或 docx"),
    output: Path = typer.Option(None, "-o", "--output", help="输出文件；md 和 html 默认输出到屏幕"),
) -> None:
    """Generate a round's quarterly notice (通报) from the database."""
    _check_format(fmt, NOTICE_FORMATS)
    if fmt == "docx" and output is None:
        raise typer.BadParameter("docx 格式必须用 -o 指定输出文件", param_hint="-o")
    with handled_errors(), open_app() as application, application.uow() as uow:
        model = build_notice(uow, round_code)
        if fmt == "md":
            content: bytes = render_markdown(model).encode("utf-8")
        elif fmt == "html":
            trends = trend_rows(uow, until=round_code)
            content = render_html(model, trends=trends).encode("utf-8")
        else:
            content = render_docx(model)
    _write(content, output)


def ledger(
    round_code: str = typer.Argument(..., help="检查轮次，如 2021Q2"),
    fmt: str = typer.Option("csv", "--format", help="输出格式：csv 或 xlsx"),
    output: Path = typer.Option(None, "-o", "--output", help="输出文件；csv 默认输出到屏幕"),
) -> None:
    """Export a round's rectification ledger (整改台账): every case with its dates."""
    _check_format(fmt, LEDGER_FORMATS)
    if fmt == "xlsx" and output is None:
        raise typer.BadParameter("xlsx 格式必须用 -o 指定输出文件", param_hint="-o")
    with handled_errors(), open_app() as application, application.uow() as uow:
        rows = ledger_rows(uow, round_code)
    content = ledger_csv(rows) if fmt == "csv" else ledger_xlsx(rows, title=f"{round_code}整改台账")
    _write(content, output)


def _write(content: bytes, output: Path | None) -> None:
    if output is None:
        typer.echo(content.decode("utf-8-sig"), nl=False)
        return
    with handled_errors():
        try:
            output.write_bytes(content)
        except OSError as exc:
            raise ValidationFailed([f"无法写入文件 {output}：{exc.strerror}"]) from None
    console.print(f"已生成 {output}（{len(content)} 字节）", highlight=False)
