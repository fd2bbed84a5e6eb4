"""``rectify audit verify``: does every case's state follow from its history, and is that
history the one the system wrote (its hash chain whole)?"""

from __future__ import annotations

import typer

from cli.context import console, err_console, handled_errors, open_app, print_json, print_table
from services.cases import audit

app = typer.Typer(help="审计：核对案件状态与历史记录", no_args_is_help=True)


@app.command("verify", help="按处理记录重算每个案件的状态并核对哈希链；有不一致时退出码为 1")
def verify_cmd(as_json: bool = typer.Option(False, "--json", help="输出 JSON")) -> None:
    """Replay every case's history and its hash chain; exit 1 on any mismatch."""
    with handled_errors(), open_app() as application, application.uow() as uow:
        report = audit.verify(uow)
    if as_json:
        print_json(
            {
                "clean": report.clean,
                "cases_checked": report.cases_checked,
                "events_checked": report.events_checked,
                "tampered_case_ids": report.tampered_case_ids,
                "mismatches": [{**m.__dict__, "message": m.describe()} for m in report.mismatches],
            }
        )
    elif report.clean:
        console.print(
            f"审计通过：{report.cases_checked} 件案件的状态与 "
            f"{report.events_checked} 条历史记录一致，历史记录的哈希链完整",
            highlight=False,
        )
    else:
        print_table(
            f"审计发现 {len(report.mismatches)} 处不一致"
            f"（涉及 {len(report.tampered_case_ids)} 件案件）",
            ["案件", "历史记录", "问题", "应为", "实际"],
            [[m.case_id, m.event_id, m.problem, m.expected, m.found] for m in report.mismatches],
        )
    if not report.clean:
        err_console.print(
            "[red]审计未通过：[/red]案件 "
            + "、".join(str(i) for i in report.tampered_case_ids)
            + " 的状态与历史记录不符，或历史记录在系统之外被改动或删除",
            highlight=False,
        )
        raise typer.Exit(code=1)
