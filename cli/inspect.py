"""``rectify inspect ROUND``: the quarterly inspection of a round, now (a flow run)."""

from __future__ import annotations

import typer

from cli.context import STATE, console, handled_errors, open_app, print_json
from cli.flows import run_deployment
from cli.progress import progress_bar
from services.core import progress
from services.registry.catalogue import list_categories
from services.rounds.rounds import get_round


def register(app: typer.Typer) -> None:
    app.command(
        "inspect",
        help="立即运行季度检查：对检查轮次范围内的网站和栏目运行全部自动检查，"
        "发现的问题立案（重复运行只更新已有案件，不重复立案）",
    )(inspect)


def inspect(
    round_codes: list[str] = typer.Argument(..., help="检查轮次，如 2021Q3（可给出多个）"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
) -> None:
    """Run the checks over every website and column of the rounds; file what they find."""
    with handled_errors():
        with open_app() as application, application.uow() as uow:
            for code in round_codes:
                get_round(uow, code)  # fail fast, before a flow run starts
            names = {c.code: c.name for c in list_categories(uow)}
        with (
            progress_bar("季度检查（批，每批为若干整站）") as advance,
            progress.reporting(advance),
        ):
            summary = run_deployment(
                "quarterly-inspection",
                round_codes[0],
                as_of=STATE.as_of,
                round_codes=round_codes[1:],
            )
    if as_json:
        print_json(summary)
        return
    filed = "、".join(f"{names.get(c, c)} {n}" for c, n in summary["filed"].items()) or "无"
    console.print(
        f"{'、'.join(summary['round_codes'])} 检查完成：检查网站首页和栏目页面 "
        f"{summary['pages']} 个（运行检查 {summary['requests']} 项），发现问题 "
        f"{summary['findings']} 个（新立案 {summary['created']} 件，更新已有案件 "
        f"{summary['updated']} 件）；按类别：{filed}；无法判断 {summary['unknown']} 项",
        highlight=False,
    )
    for example in summary["unknown_examples"][:5]:
        console.print(f"  无法判断：{example}", highlight=False)
