"""``rectify demo`` and ``rectify import registry|findings``: load data, all or nothing."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

from cli.context import console, err_console, handled_errors, open_app, print_json, print_table
from cli.progress import progress_bar
from services import imports
from services.core.clock import Clock
from services.core.errors import ValidationFailed
from services.imports.kinds import CATALOGUE_KINDS, REGISTRY_KINDS, ROUND_KINDS
from services.ops import demo

import_app = typer.Typer(
    help="导入单位、监测对象、问题类别、发文机关和检查轮次的数据（CSV 或 XLSX），全部无误才写入",
    no_args_is_help=True,
)
#: The sheets each command reads (a CSV file is one sheet, named by its file name or headers).
_REGISTRY_SHEETS = "、".join(k.sheet_names[0] for k in REGISTRY_KINDS.values())
_FINDINGS_SHEETS = "、".join(k.sheet_names[0] for k in (ROUND_KINDS | CATALOGUE_KINDS).values())


def register(app: typer.Typer) -> None:
    app.command(
        "demo",
        help="加载演示场景（不指定时加载默认场景），并把系统日期设为其通报日；重复加载不会重复写入",
        epilog=_scenarios_epilog(),
    )(load_demo)
    app.add_typer(import_app, name="import")


@contextmanager
def _all_or_nothing() -> Iterator[None]:
    """Print every validation error on its own line; nothing was written."""
    try:
        yield
    except ValidationFailed as exc:
        err_console.print(
            f"[red]导入失败，未写入任何数据[/red]：共 {len(exc.errors)} 处错误", highlight=False
        )
        for line in exc.errors:
            err_console.print(line, highlight=False, soft_wrap=True)
        raise typer.Exit(code=2) from None


@contextmanager
def _cycle_collector_paused() -> Iterator[None]:
    """An import holds every row it reads until it has written them all: hundreds of
    thousands of objects that Python's cycle collector would walk again and again, a fifth
    of the command's CPU on a national registry. Paused for the import (the command ends
    after it)."""
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _show(report: imports.ImportReport, *, title: str, as_json: bool) -> None:
    if as_json:
        print_json(report)
        return
    print_table(
        title,
        ["类型", "新增", "更新", "未变"],
        [
            [imports.KIND_LABELS.get(kind, kind), c.created, c.updated, c.unchanged]
            for kind, c in report.counts.items()
        ],
    )
    if not report.changed:
        console.print("数据与系统中已有记录一致，未做任何修改。")


def _scenarios_epilog() -> str:
    lines = [f"{name}：{title}" for name, title in demo.scenario_titles().items()]
    return "演示场景：\n\n" + "\n\n".join(lines)


def load_demo(
    scenario: str = typer.Option(
        demo.default_scenario(),
        "--scenario",
        help=f"演示场景，可选：{'、'.join(demo.scenario_names())}（默认 {demo.default_scenario()}）",
    ),
    if_empty: bool = typer.Option(False, "--if-empty", help="系统中已有单位时跳过"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
) -> None:
    """Load a demo scenario (default: the one its file marks 默认场景); idempotent."""
    with handled_errors():
        file = demo.scenario_file(scenario)  # an unknown name is refused before anything opens
    with handled_errors(), _all_or_nothing(), open_app() as application:
        with application.uow() as uow:
            if if_empty and demo.has_units(uow):
                clock = demo.adopt_demo_day(uow, name=file)  # a database from before the clock
                uow.commit()
                console.print("系统中已有单位数据，跳过加载演示数据（--if-empty）。")
                _say_demo_day(clock, as_json=as_json)
                return
            report = demo.load_demo(uow, name=file)
            clock = demo.use_demo_day(uow, name=file)
            uow.commit()
    _show(report, title=f"演示数据（{file}）", as_json=as_json)
    _say_demo_day(clock, as_json=as_json)


def _say_demo_day(clock: Clock | None, *, as_json: bool) -> None:
    """Every process on the database now runs as of the scenario's day: say so."""
    if clock is not None:
        (err_console if as_json else console).print(
            f"系统日期已设为演示数据的通报日 {clock.start_day}（见 rectify clock；"
            "改回实时：rectify clock real）",
            highlight=False,
        )


@import_app.command(
    "registry",
    help=f"导入登记数据（{_REGISTRY_SHEETS}）；有一行出错则全部不写入，并列出每处错误",
)
def import_registry(
    files: list[Path] = typer.Argument(..., help=f"CSV 或 XLSX 文件（{_REGISTRY_SHEETS}）"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
) -> None:
    """Import units, targets, categories and issuers; any invalid row and nothing is written."""
    with handled_errors(), _all_or_nothing(), open_app() as application:
        with (
            _cycle_collector_paused(),
            application.uow() as uow,
            progress_bar("导入登记数据") as advance,
        ):
            report = imports.import_registry(uow, files, progress=advance)
            uow.commit()
    _show(report, title="导入登记数据", as_json=as_json)


@import_app.command(
    "findings",
    help=f"导入检查轮次的数据（{_FINDINGS_SHEETS}）；有一行出错则全部不写入，并列出每处错误",
)
def import_findings(
    files: list[Path] = typer.Argument(..., help=f"CSV 或 XLSX 文件（{_FINDINGS_SHEETS}）"),
    round_code: str = typer.Option(None, "--round", help="未填轮次的行使用该轮次，如 2021Q2"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
) -> None:
    """Import findings (cases) and round data; any invalid row and nothing is written."""
    with handled_errors(), _all_or_nothing(), open_app() as application:
        with (
            _cycle_collector_paused(),
            application.uow() as uow,
            progress_bar("导入检查数据") as advance,
        ):
            report = imports.import_findings(uow, files, round_code=round_code, progress=advance)
            uow.commit()
    _show(report, title="导入检查轮次的数据", as_json=as_json)
