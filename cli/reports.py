"""``rectify notice ROUND`` and ``rectify ledger ROUND``: the quarterly notice and the ledger."""

from __future__ import annotations

from pathlib import Path

import typer

from cli.context import console, err_console, handled_errors, open_app, refuse
from services.reports.exports import (
    LEDGER_FORMATS,
    NOTICE_FORMATS,
    Download,
    ledger_download,
    notice_download,
)

BINARY = ("docx", "xlsx")


def register(app: typer.Typer) -> None:
    app.command("notice", help="由数据库生成检查轮次的季度通报（Markdown、HTML 或 Word）")(notice)
    app.command("ledger", help="导出检查轮次的整改台账：每个案件及其各环节日期（CSV 或 Excel）")(
        ledger
    )


def _check(fmt: str, allowed: dict[str, str], output: Path | None) -> None:
    if fmt not in allowed:
        refuse(f"--format 格式应为 {'、'.join(allowed)} 之一：{fmt}")
    if fmt in BINARY and output is None:
        refuse(f"{fmt} 格式必须用 -o 指定输出文件")


def notice(
    round_code: str = typer.Argument(..., help="检查轮次，如 2021Q2"),
    fmt: str = typer.Option("md", "--format", help="输出格式：md、html 或 docx"),
    output: Path = typer.Option(None, "-o", "--output", help="输出文件；md 和 html 默认输出到屏幕"),
) -> None:
    """Generate a round's quarterly notice (通报) from the database."""
    _check(fmt, NOTICE_FORMATS, output)
    with handled_errors(), open_app() as application, application.uow() as uow:
        download = notice_download(uow, round_code, fmt=fmt)
    _write(download, output)


def ledger(
    round_code: str = typer.Argument(..., help="检查轮次，如 2021Q2"),
    fmt: str = typer.Option("csv", "--format", help="输出格式：csv 或 xlsx"),
    output: Path = typer.Option(None, "-o", "--output", help="输出文件；csv 默认输出到屏幕"),
) -> None:
    """Export a round's rectification ledger (整改台账): every case with its dates."""
    _check(fmt, LEDGER_FORMATS, output)
    with handled_errors(), open_app() as application, application.uow() as uow:
        download = ledger_download(uow, round_code, fmt=fmt)
    _write(download, output)


def _write(download: Download, output: Path | None) -> None:
    if output is None:
        typer.echo(download.content.decode("utf-8-sig"), nl=False)
        return
    try:
        output.write_bytes(download.content)
    except OSError as exc:
        err_console.print(
            f"[red]错误：[/red]无法写入文件 {output}：{exc.strerror}", highlight=False
        )
        raise typer.Exit(code=2) from None
    console.print(f"已生成 {output}（{len(download.content)} 字节）", highlight=False)
