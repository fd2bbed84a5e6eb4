"""``rectify serve``, ``rectify user ...`` and ``rectify token ...``: the web app and its accounts."""

from __future__ import annotations

import os

import typer

from cli.context import (
    STATE,
    console,
    handled_errors,
    local,
    open_app,
    print_json,
    print_table,
    refuse,
    zone_note,
)
from services.access import accounts, api_tokens, users, web_processes

user_app = typer.Typer(help="监管人员账号", no_args_is_help=True)
token_app = typer.Typer(help="JSON API 令牌", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("serve", help="启动网页服务：监管工作台、单位门户和 JSON API")(serve)
    app.add_typer(user_app, name="user")
    app.add_typer(token_app, name="token")


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="监听地址"),
    port: int = typer.Option(8000, "--port", help="监听端口"),
    workers: int = typer.Option(
        1,
        "--workers",
        min=1,
        help="网页进程数；多于 1 个（或监听本机以外的地址）须配置 RECTIFY_SECRET_KEY",
    ),
) -> None:
    """Serve the web app (dashboard, unit portal, JSON API)."""
    import uvicorn

    with handled_errors(), open_app() as application:
        refusal = web_processes.key_refusal(
            application.settings.secret_key,
            workers=workers,
            local=web_processes.loopback(host),
            where=host,
        )
        if refusal:  # before an admin is created or anything is printed (the factory checks too)
            refuse(refusal)
        with application.uow() as uow:
            first = users.ensure_first_admin(uow)
            uow.commit()
        proxies = [p.strip() for p in application.settings.trusted_proxies.split(",") if p.strip()]
        clock = application.clock
    print_first_login(first, host=host, port=port)
    console.print(clock.describe(), highlight=False)
    if STATE.as_of is not None:  # the factory reads its settings, this day too, from RECTIFY_*
        os.environ["RECTIFY_AS_OF"] = STATE.as_of.isoformat()
    # The same factory as production (`uvicorn --factory web.asgi:make_app`), by reference.
    # X-Forwarded-For is believed only from RECTIFY_TRUSTED_PROXIES (uvicorn alone would
    # believe any client on loopback, and so let it claim any address).
    uvicorn.run(
        "web.asgi:make_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies,
    )


def print_first_login(first: users.CreatedUser | None, *, host: str, port: int) -> None:
    """Tell the person at the terminal how to sign in (a new admin's password, shown once)."""
    url = f"http://{host}:{port}/"
    if first is not None:
        console.print(
            f"首次运行：已创建管理员账号 [bold]{first.user.username}[/bold]，"
            f"密码 [bold]{first.password}[/bold]（只显示这一次，请妥善保存）",
            highlight=False,
            soft_wrap=True,
        )
    else:
        console.print(
            "登录：使用已有账号；忘记密码可运行 rectify user password 用户名 重新生成",
            highlight=False,
        )
    console.print(f"监管工作台：{url}    API 文档：{url}docs", highlight=False)


@user_app.command("add", help="新建用户；生成的初始密码只显示这一次")
def add_user(
    username: str = typer.Argument(..., help="用户名（登录用）"),
    role: str = typer.Option(
        ..., "--role", help="角色：" + "、".join(f"{k}（{v}）" for k, v in users.ROLES.items())
    ),
    unit: str = typer.Option(None, "--unit", help="管辖单位代码（含下级单位）；不填为全部"),
    name: str = typer.Option(None, "--name", help="显示名称"),
    email: str = typer.Option(None, "--email", help="邮箱"),
) -> None:
    """Create a user; the generated password is printed once."""
    with handled_errors(), open_app() as application, application.uow() as uow:
        created = users.create_user(
            uow, username=username, role=role, unit_code=unit, display_name=name, email=email
        )
        uow.commit()
    console.print(
        f"已创建用户 {created.user.username}（{created.user.role_label}"
        f"{'，' + created.user.unit_name if created.user.unit_name else '，全部单位'}）",
        highlight=False,
    )
    console.print(f"初始密码：{created.password}（只显示这一次）", highlight=False)


@user_app.command(
    "password", help="为用户生成新密码（只显示这一次）；其已登录的会话全部结束，API 令牌全部撤销"
)
def new_password(username: str = typer.Argument(..., help="用户名")) -> None:
    """Give a user a new generated password, printed once; ends its sessions and tokens."""
    with handled_errors(), open_app() as application, application.uow() as uow:
        created = accounts.reset_password(uow, username=username)
        uow.commit()
    console.print(f"用户 {username} 的新密码：{created.password}（只显示这一次）", highlight=False)
    console.print("该用户已登录的会话均已结束，其 API 令牌均已撤销", highlight=False)
    if not created.user.active:
        console.print(
            f"注意：该账号已停用，启用请运行 rectify user enable {username}", highlight=False
        )


@user_app.command("disable", help="停用用户：不能再登录，已登录的会话结束，API 令牌全部撤销")
def disable_user(username: str = typer.Argument(..., help="用户名")) -> None:
    """Disable an account (never the last active admin)."""
    with handled_errors(), open_app() as application, application.uow() as uow:
        accounts.disable_user(uow, username=username)
        uow.commit()
    console.print(
        f"用户 {username} 已停用：已登录的会话均已结束，API 令牌均已撤销", highlight=False
    )


@user_app.command("enable", help="重新启用已停用的用户（原有 API 令牌仍为撤销状态，需要时请新建）")
def enable_user(username: str = typer.Argument(..., help="用户名")) -> None:
    """Let a disabled account sign in again."""
    with handled_errors(), open_app() as application, application.uow() as uow:
        accounts.enable_user(uow, username=username)
        uow.commit()
    console.print(f"用户 {username} 已启用，可以重新登录", highlight=False)


@token_app.command("add", help="新建一个以某用户身份访问 JSON API 的令牌，令牌只显示这一次")
def add_token(
    username: str = typer.Argument(..., help="令牌所代表的用户名"),
    name: str = typer.Option(..., "--name", help="令牌用途，如“检测器”"),
) -> None:
    """Create an API token acting as a user; printed once, with its id."""
    with handled_errors(), open_app() as application, application.uow() as uow:
        issued = api_tokens.issue_token(uow, username=username, name=name)
        uow.commit()
    console.print(
        f"已创建 API 令牌 编号 {issued.token_id}（{issued.name}，用户 {issued.username}）；"
        f"撤销：rectify token revoke {issued.token_id}",
        highlight=False,
    )
    console.print(f"API 令牌（只显示这一次）：{issued.token}", highlight=False)


@token_app.command("list", help="列出 API 令牌：编号、名称、用户、创建与最近使用时间、是否撤销")
def list_tokens(
    username: str = typer.Option(None, "--user", help="只列出这个用户的令牌"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
) -> None:
    """List API tokens by id (never the tokens themselves: only their hashes are stored)."""
    with handled_errors(), open_app() as application, application.uow() as uow:
        rows = api_tokens.list_tokens(uow, username=username)
    if as_json:
        print_json(rows)
        return
    print_table(
        f"API 令牌，{zone_note()}",
        ["编号", "名称", "用户", "创建时间", "最近使用", "撤销时间"],
        [
            [
                r.id,
                r.name,
                r.username,
                local(r.created_at),
                local(r.last_used_at),
                local(r.revoked_at) if r.revoked_at else "未撤销",
            ]
            for r in rows
        ],
    )


@token_app.command("revoke", help="按编号撤销 API 令牌（编号见 rectify token list），立即失效")
def revoke_token(token_id: int = typer.Argument(..., help="令牌编号")) -> None:
    """Revoke an API token by id."""
    with handled_errors(), open_app() as application, application.uow() as uow:
        api_tokens.revoke_token(uow, token_id=token_id)
        uow.commit()
    console.print(f"API 令牌 {token_id} 已撤销", highlight=False)
