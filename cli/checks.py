"""``rectify check CASE_ID`` or ``rectify check --target CODE --category CODE``: one check now."""

from __future__ import annotations

import asyncio

import typer

from cli.context import console, handled_errors, open_app, print_json, refuse
from services import checks
from services.checks.base import label_of
from services.checks.model import CheckOutcome


def register(app: typer.Typer) -> None:
    app.command(
        "check",
        help="立即运行一次自动检查并显示结果：某案件的检查，或某监测对象按某问题类别的检查",
    )(check)


def check(
    case_id: int = typer.Argument(None, help="案件编号（检查结果保存到该案件）"),
    target: str = typer.Option(None, "--target", help="监测对象代码（不关联案件，只看结果）"),
    category: str = typer.Option(None, "--category", help="问题类别代码，与 --target 一起使用"),
    window: float = typer.Option(
        None, "--window", help="站点可访问性检查的抽样时长（秒），默认取配置（复查用缩短的时长）"
    ),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
) -> None:
    """Run the automated check of a case (or of a target for a category) once and print it."""
    if case_id is None and not (target and category):
        refuse("请给出案件编号，或同时给出 --target 和 --category")
    if case_id is not None and (target or category):
        refuse("案件编号与 --target/--category 不能同时使用")
    if window is not None and window < 0:
        refuse(f"--window 抽样时长不能为负数：{window}")
    with handled_errors(), open_app() as application:
        if window is not None:
            application.settings.check_reach_window_seconds = window
        with application.uow() as uow:
            if case_id is not None:
                requests = checks.requests_for_cases(uow, [case_id])
            else:
                requests = [
                    checks.request_for_target(uow, target_code=target, category_code=category)
                ]
        outcomes = asyncio.run(
            checks.run_checks(requests, settings=application.settings, clock=application.clock)
        )
        if case_id is not None:
            with application.uow() as uow:
                checks.save_outcomes(uow, outcomes, run_ref="cli:rectify check")
                uow.commit()
    [outcome] = outcomes
    if as_json:
        print_json(outcome)
    else:
        _print(outcome, stored=case_id is not None)


def _print(outcome: CheckOutcome, *, stored: bool) -> None:
    where = f"案件 {outcome.case_id}" if outcome.case_id is not None else "未关联案件"
    label = label_of(outcome.check)
    console.print(f"检查项目：{label}（{outcome.check}）", highlight=False)
    console.print(f"监测对象：{outcome.target_code}    {where}", highlight=False)
    console.print(f"检查结论：{outcome.label}", highlight=False)
    console.print(f"说明：{outcome.summary}", highlight=False)
    page = outcome.details.get("page") or next(
        (v for v in outcome.details.get("visits", []) if "status" in v), None
    )
    if page:
        console.print(
            f"页面：HTTP {page['status']}，最终地址 {page['final_url']}，"
            f"SHA-256 {page['sha256'][:16]}…",
            highlight=False,
        )
    if outcome.details.get("newest_dates"):
        console.print("最新日期：" + "、".join(outcome.details["newest_dates"]), highlight=False)
    for broken in outcome.details.get("broken", [])[:20]:
        problem = f"HTTP {broken['status']}" if "status" in broken else broken["error"]
        console.print(
            f"  不可用链接「{broken['text']}」{broken['url']}（{problem}；第 {broken['line']} 行）",
            highlight=False,
        )
    if stored:
        console.print("检查结果已保存到案件。", highlight=False)
