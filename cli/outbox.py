"""``rectify outbox send|list|retry``: deliver pending mail, see it, re-queue a failure."""

from __future__ import annotations

import typer

from cli.context import (
    console,
    err_console,
    handled_errors,
    local,
    open_app,
    print_json,
    print_table,
    time_header,
)
from services.mail import outbox, outbox_admin
from services.mail.outbox_admin import STATUSES

app = typer.Typer(help="邮件发件箱：发送、查看与重发", no_args_is_help=True)


@app.command(
    "send", help="立即发送到期的待发邮件（调度流程每分钟所做的）；服务器不可用时退出码为 1"
)
def send(
    limit: int = typer.Option(1000, "--limit", min=1, help="本次最多发送的邮件数"),
    concurrency: int = typer.Option(
        None, "--concurrency", min=1, max=64, help="同时使用的连接数（默认取设置）"
    ),
) -> None:
    """Deliver due pending mail now (what the dispatch flow does every minute)."""
    with handled_errors(), open_app() as application:
        report = outbox.dispatch(application, limit=limit, concurrency=concurrency)
    console.print(
        f"本次取出 {report.claimed} 封：已发送 {report.sent}，"
        f"稍后重试 {report.retried}，发送失败 {report.failed}",
        highlight=False,
    )
    for line in report.errors:
        err_console.print(f"  {line}", highlight=False)
    if report.unreachable:
        err_console.print(f"[red]邮件服务器不可用：[/red]{report.unreachable}", highlight=False)
        raise typer.Exit(code=1)


@app.command("list", help="列出发件箱中的邮件（最新的在前），附失败原因")
def list_messages(
    status: str = typer.Option(None, "--status", help="状态：pending/sending/sent/failed"),
    limit: int = typer.Option(200, "--limit", min=1, help="最多列出的条数（最新的在前）"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
) -> None:
    """List outbox messages, newest first."""
    with handled_errors(), open_app() as application, application.uow() as uow:
        rows = outbox_admin.list_messages(uow, status=status, limit=limit)
        counts = outbox_admin.count_by_status(uow)
    if as_json:
        print_json(rows)
        return
    print_table(
        "发件箱（" + "，".join(f"{STATUSES[s]} {n}" for s, n in counts.items()) + "）",
        ["编号", "模板", "状态", "收件人", "尝试", time_header("下次尝试/发送时间"), "案件"],
        [
            [
                r.id,
                r.template,
                STATUSES.get(r.status, r.status),
                "，".join(r.to_addrs + [f"抄送 {a}" for a in r.cc_addrs]),
                r.attempts,
                local(r.sent_at or r.next_attempt_at, empty=""),
                r.case_id,
            ]
            for r in rows
        ],
    )
    for r in rows:
        if r.last_error:  # in full, below the table: the reason is what a supervisor acts on
            console.print(f"邮件 {r.id}：{r.last_error}", highlight=False, soft_wrap=True)


@app.command("retry", help="重新发送一封发送失败的邮件（按单位当前联系人重新确定收件人）")
def retry(message_id: int = typer.Argument(..., help="发送失败的邮件编号")) -> None:
    """Re-queue a failed message, with its recipients re-read from the unit's contacts."""
    with handled_errors(), open_app() as application, application.uow() as uow:
        row = outbox_admin.retry_message(uow, message_id=message_id)
        uow.commit()
    console.print(f"邮件 {row.id} 已重新排队，收件人：{'，'.join(row.to_addrs)}", highlight=False)
