"""``rectify gen``: fill an empty database with a generated registry and case history."""

from __future__ import annotations

import time

import typer

from bench.generate import generate
from cli.context import console, handled_errors, open_app
from cli.progress import progress_bar
from services.registry.catalogue import ensure_seeded


def register(app: typer.Typer) -> None:
    app.command("gen", help="向空数据库写入生成的单位、监测对象、轮次和案件（压测、演练用）")(
        gen_cmd
    )


def gen_cmd(
    units: int = typer.Option(2000, "--units", help="单位数（省、市、县、部门）"),
    cases: int = typer.Option(1_000_000, "--cases", help="案件数（分布在 8 个季度轮次）"),
    seed: int = typer.Option(1, "--seed", help="随机种子：同一种子生成同样的数据"),
) -> None:
    """Generate units, targets, rounds and cases (deterministic with the seed)."""
    with handled_errors(), open_app() as application:
        with application.uow() as uow:
            ensure_seeded(uow)
            uow.commit()
        started = time.perf_counter()
        with progress_bar("写入案件") as advance:
            made = generate(
                application.engine, units=units, cases=cases, seed=seed, progress=advance
            )
    console.print(
        f"已生成：单位 {made.units} 个，监测对象 {made.targets} 个，轮次 {made.rounds} 个，"
        f"案件 {made.cases} 件（未办结 {made.open}，逾期 {made.overdue}，"
        f"屡查屡犯链 {made.chained}），用时 {time.perf_counter() - started:.1f} 秒",
        highlight=False,
    )
