"""``rectify link list|issue|revoke``: a unit's portal links, seen, issued and revoked."""

from __future__ import annotations

import typer

from cli.context import (
    console,
    handled_errors,
    local,
    open_app,
    print_json,
    print_table,
    zone_name,
    zone_note,
)
from services.access import unit_links

link_app = typer.Typer(help="单位门户链接：查看、生成与撤销", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(link_app, name="link")


@link_app.command("list", help="列出单位的全部门户链接（最新的在前）：编号、轮次、时间与状态")
def list_links(
    unit_code: str = typer.Argument(..., help="单位代码"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
) -> None:
    """List a unit's portal links, newest first."""
    with handled_errors(), open_app() as application, application.uow() as uow:
        unit = unit_links.unit_for_links(uow, unit_code)
        title = f"{unit.name}（{unit.code}）的门户链接，{zone_note()}"
        rows = unit_links.list_links(uow, unit_id=unit.id)
    if as_json:
        print_json(rows)
        return
    print_table(
        title,
        ["编号", "轮次", "创建时间", "有效期至", "最近使用", "撤销时间", "状态"],
        [
            [
                r.id,
                r.round_code or "—",
                local(r.created_at),
                local(r.expires_at),
                local(r.last_used_at),
                local(r.revoked_at),
                r.status,
            ]
            for r in rows
        ],
    )
    if not rows:
        console.print(
            "该单位还没有门户链接；可运行 rectify link issue 单位代码 生成", highlight=False
        )


@link_app.command("issue", help="为单位生成一个新的门户链接，网址只显示这一次")
def issue_link(
    unit_code: str = typer.Argument(..., help="单位代码"),
    round_code: str = typer.Option(None, "--round", help="所属检查轮次代码，如 2021Q2"),
    days: int = typer.Option(
        None, "--days", help=f"有效天数（1 到 {unit_links.MAX_DAYS}，默认 60）"
    ),
) -> None:
    """Issue a new portal link for a unit; its URL is printed once."""
    with handled_errors(), open_app() as application, application.uow() as uow:
        issued = unit_links.issue_for_unit(
            uow, unit_code=unit_code, round_code=round_code, days=days
        )
        uow.commit()
    console.print(
        f"已为单位 {unit_code} 生成门户链接 编号 {issued.link_id}，"
        f"有效期至 {local(issued.expires_at)}（{zone_name()}）",
        highlight=False,
    )
    console.print(f"链接（只显示这一次）：{issued.url}", highlight=False, soft_wrap=True)


@link_app.command("revoke", help="撤销单位的全部有效门户链接，或用 --id 只撤销其中一个")
def revoke_links(
    unit_code: str = typer.Argument(..., help="单位代码"),
    link_id: int = typer.Option(None, "--id", help="只撤销这个编号的链接（见 rectify link list）"),
) -> None:
    """Revoke all of a unit's live links, or one of them."""
    with handled_errors(), open_app() as application, application.uow() as uow:
        revoked = unit_links.revoke_for_unit(uow, unit_code=unit_code, link_id=link_id)
        uow.commit()
    if link_id is not None:
        message = f"门户链接 {link_id} 已撤销" if revoked else f"门户链接 {link_id} 此前已撤销"
    elif revoked:
        message = f"已撤销单位 {unit_code} 的 {revoked} 个有效门户链接"
    else:
        message = f"单位 {unit_code} 没有有效的门户链接，无需撤销"
    console.print(message, highlight=False)
