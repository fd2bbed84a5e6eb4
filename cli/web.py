"""``rectify serve``, ``rectify user ...`` and ``rectify token ...``: the web app and its accounts."""

from __future__ import annotations

import typer

from cli.context import console, handled_errors, open_app
from services.access import api_tokens, users
from services.reports import dashboard

user_app = typer.Typer(help="监管人员账号", no_args_is_help=True)
token_app = typer.Typer(help="JSON API 令牌", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.add_typer(user_app, name="user")
    app.add_typer(token_app, name="token")


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="监听地址"),
    port: int = typer.Option(8000, "--port", help="监听端口"),
) -> None:
    """Serve the web app (dashboard, unit portal, JSON API)."""
    import uvicorn

    from web.app import create_app

    with handled_errors(), open_app() as application:
        with application.uow() as uow:
            first = users.ensure_first_admin(uow)
            uow.commit()
        print_first_login(first, host=host, port=port)
        web = create_app(application)
        dashboard.warm_dashboard(open_uow=application.uow, cache=web.state.dashboard_cache)
        uvicorn.run(web, host=host, port=port, log_level="info")


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


@user_app.command("add")
def add_user(
    username: str,
    role: str = typer.Option(..., "--role", help="角色：admin / supervisor / viewer"),
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


@user_app.command("password")
def new_password(username: str) -> None:
    """Give a user a new generated password, printed once."""
    with handled_errors(), open_app() as application, application.uow() as uow:
        created = users.reset_password(uow, username=username)
        uow.commit()
    console.print(f"用户 {username} 的新密码：{created.password}（只显示这一次）", highlight=False)


@token_app.command("add")
def add_token(
    username: str, name: str = typer.Option(..., "--name", help="令牌用途，如“检测器”")
) -> None:
    """Create an API token acting as a user; printed once."""
    with handled_errors(), open_app() as application, application.uow() as uow:
        issued = api_tokens.issue_token(uow, username=username, name=name)
        uow.commit()
    console.print(f"API 令牌（只显示这一次）：{issued.token}", highlight=False)


@token_app.command("revoke")
def revoke_token(token_id: int) -> None:
    """Revoke an API token by id."""
    with handled_errors(), open_app() as application, application.uow() as uow:
        api_tokens.revoke_token(uow, token_id=token_id)
        uow.commit()
    console.print(f"API 令牌 {token_id} 已撤销", highlight=False)
