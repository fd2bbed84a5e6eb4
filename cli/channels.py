"""``rectify channel add|list|test|disable|enable|remove``: a unit's group robots."""

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
from notifications.robots import KINDS
from services.mail import robots
from services.registry import channels

app = typer.Typer(
    help="单位的机器人渠道（企业微信、钉钉、飞书群机器人）：通知同时发到群里",
    no_args_is_help=True,
)
KIND_HELP = "；".join(f"{kind}：{label}" for kind, label in KINDS.items())


def register(main: typer.Typer) -> None:
    main.add_typer(app, name="channel")


@app.command("add", help="为单位添加群机器人：此后发给该单位的通知也发到该群")
def add(
    unit_code: str = typer.Argument(..., help="单位代码"),
    kind: str = typer.Argument(..., help=f"机器人类型（{KIND_HELP}）"),
    webhook_url: str = typer.Argument(..., help="机器人的 Webhook 地址（从群设置中复制）"),
    name: str = typer.Option(None, "--name", help="渠道名称（默认取机器人类型）"),
    secret: str = typer.Option(None, "--secret", help="钉钉、飞书机器人“加签”的密钥"),
    ask_secret: bool = typer.Option(
        False, "--ask-secret", help="运行时输入密钥（不出现在命令历史中）"
    ),
) -> None:
    """Give a unit a robot channel."""
    if ask_secret:
        secret = typer.prompt("加签密钥", hide_input=True)
    with handled_errors(), open_app() as application, application.uow() as uow:
        view = channels.add_channel(
            uow, unit_code=unit_code, kind=kind, webhook_url=webhook_url, secret=secret, name=name
        )
        uow.commit()
    console.print(
        f"已为{view.unit_name}添加{view.kind_label}「{view.name}」（渠道 {view.id}）："
        f"{view.url}{'，已设置加签密钥' if view.secret else ''}。"
        f"可用 rectify channel test {view.id} 发送一条测试消息",
        highlight=False,
        soft_wrap=True,
    )


@app.command("list", help="列出机器人渠道（密钥只显示开头几位）")
def list_channels(
    unit_code: str = typer.Option(None, "--unit", help="只列出该单位的渠道"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
) -> None:
    """List robot channels, their credentials masked."""
    with handled_errors(), open_app() as application, application.uow() as uow:
        views = channels.list_channels(uow, unit_code=unit_code)
    if as_json:
        print_json(views)
        return
    print_table(
        "机器人渠道",
        [
            "编号",
            "单位",
            "类型",
            "名称",
            "Webhook 地址",
            "加签密钥",
            "状态",
            time_header("添加时间"),
        ],
        [
            [
                v.id,
                v.unit_name,
                v.kind_label,
                v.name,
                v.url,
                v.secret or "—",
                "启用" if v.enabled else "已停用",
                local(v.created_at),
            ]
            for v in views
        ],
    )


@app.command("test", help="立即向该渠道发送一条测试消息（不经发件箱），检查地址和密钥")
def test(channel_id: int = typer.Argument(..., help="渠道编号")) -> None:
    """Post a test message to a channel now."""
    with handled_errors(), open_app() as application, application.uow() as uow:
        post = robots.test_post(uow, channel_id=channel_id)
        timeout = application.settings.robot_timeout_seconds
    problem = robots.send_now(post, timeout=timeout)
    if problem:  # like ``outbox send`` with the server down: exit 1
        err_console.print(f"[red]测试消息未送达：[/red]{problem}", highlight=False)
        raise typer.Exit(code=1)
    console.print(f"测试消息已发送到渠道 {channel_id}，请在群里查看", highlight=False)


@app.command("disable", help="停用渠道：不再向它发送新通知，未发出的消息记为失败")
def disable(channel_id: int = typer.Argument(..., help="渠道编号")) -> None:
    _switch(channel_id, enabled=False)


@app.command("enable", help="重新启用渠道")
def enable(channel_id: int = typer.Argument(..., help="渠道编号")) -> None:
    _switch(channel_id, enabled=True)


@app.command("remove", help="删除渠道（已发出的消息仍保留在发件箱中）")
def remove(channel_id: int = typer.Argument(..., help="渠道编号")) -> None:
    with handled_errors(), open_app() as application, application.uow() as uow:
        view = channels.remove_channel(uow, channel_id=channel_id)
        uow.commit()
    console.print(f"已删除{view.unit_name}的{view.kind_label}「{view.name}」", highlight=False)


def _switch(channel_id: int, *, enabled: bool) -> None:
    with handled_errors(), open_app() as application, application.uow() as uow:
        view = channels.set_enabled(uow, channel_id=channel_id, enabled=enabled)
        uow.commit()
    state = "已启用" if enabled else "已停用"
    console.print(f"{view.unit_name}的{view.kind_label}「{view.name}」{state}", highlight=False)
