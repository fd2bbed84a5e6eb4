"""``rectify alerts``: install the operators' alerts (Prefect automations), show them, test them.

``rectify worker`` and ``rectify up`` install them too when ``RECTIFY_ALERT_URLS`` is set
(``install_if_configured``). Prefect is imported only when one of these runs.
"""

from __future__ import annotations

import asyncio

import typer

from cli.context import console, err_console, print_json, refuse
from services.core.settings import load_settings

app = typer.Typer(help="运维告警：流程运行失败、发件箱积压时通知运维人员", no_args_is_help=True)

HOW_TO_SET = (
    "请先设置 RECTIFY_ALERT_URLS（Apprise 地址，多个用空格或逗号分隔），例如 "
    "wecombot://机器人key、dingtalk://access_token/、mailtos://用户:密码@邮件服务器?to=收件人"
)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="alerts")


def _urls() -> list[str]:
    from cli.automations import alert_urls, unusable_urls

    urls = alert_urls(load_settings())
    if not urls:
        refuse(f"没有设置告警接收地址。{HOW_TO_SET}")
    bad = unusable_urls(urls)
    if bad:
        refuse(f"RECTIFY_ALERT_URLS 中有无法识别的地址：{'、'.join(bad)}")
    return urls


@app.command("install", help="在 Prefect 服务上创建（或更新）告警自动化；重复运行不会重复创建")
def install(as_json: bool = typer.Option(False, "--json", help="输出 JSON")) -> None:
    """Create or update the automations and their notification block (idempotent)."""
    from cli import automations

    urls = _urls()
    done = asyncio.run(automations.install(urls))
    if as_json:
        print_json([{"name": d.name, "id": str(d.id), "action": d.action} for d in done])
        return
    for d in done:
        console.print(f"{d.action}：{d.name}", highlight=False)
    console.print(
        f"通知发往 {len(urls)} 个地址（通知块 {automations.BLOCK_NAME}）", highlight=False
    )


@app.command("show", help="列出 Prefect 服务上的告警自动化及其状态")
def show(as_json: bool = typer.Option(False, "--json", help="输出 JSON")) -> None:
    """The automations the Prefect server holds, enabled or not."""
    from cli import automations

    found = asyncio.run(automations.installed())
    rows = [
        {
            "name": a.name,
            "id": str(a.id),
            "enabled": a.enabled,
            "events": sorted(a.trigger.expect),
        }
        for a in found
    ]
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print("Prefect 服务上还没有告警自动化（rectify alerts install 创建）")
        return
    for row in rows:
        state = "启用" if row["enabled"] else "停用"
        console.print(f"{row['name']}（{state}）：{'、'.join(row['events'])}", highlight=False)


@app.command("test", help="立即向 RECTIFY_ALERT_URLS 发一条测试通知，检查地址是否可用")
def send_test() -> None:
    """One notice straight from this process."""
    from cli import automations

    urls = _urls()
    try:
        asyncio.run(automations.send_test(urls))
    except Exception as exc:  # NotificationError: Apprise could not deliver to some URL
        err_console.print(f"[red]测试通知发送失败：[/red]{exc}", highlight=False)
        raise typer.Exit(code=1) from None
    console.print(f"测试通知已发往 {len(urls)} 个地址")


def install_if_configured() -> None:
    """For ``rectify worker``/``up``: install the alerts when RECTIFY_ALERT_URLS is set; a
    failure is reported and the worker starts all the same."""
    from cli import automations

    urls = automations.alert_urls(load_settings())
    if not urls:
        return
    for bad in automations.unusable_urls(urls):
        err_console.print(f"[yellow]RECTIFY_ALERT_URLS 中有无法识别的地址：[/yellow]{bad}")
    try:
        done = asyncio.run(automations.install(urls))
    except Exception as exc:  # the worker must run even when alerts cannot be installed
        err_console.print(f"[yellow]告警自动化未能安装：[/yellow]{exc}", highlight=False)
        return
    console.print(f"告警自动化已就绪（{len(done)} 项），通知发往 {len(urls)} 个地址")
