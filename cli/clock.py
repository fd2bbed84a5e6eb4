"""``rectify clock``: the day every process on the database runs on (web, schedules, commands)."""

from __future__ import annotations

import os
from datetime import date

import typer

from cli.context import STATE, console, err_console, handled_errors, open_app, refuse
from services.core.clock import AS_OF, AS_OF_TIME, Clock, local_text, zone_label
from services.ops import clock as installation

app = typer.Typer(
    help="系统日期：查看、设定或改回实时；网页服务、定时任务和命令行共用同一个日期",
    invoke_without_command=True,
)

_HINT = "设定日期：rectify clock set YYYY-MM-DD；改回实时：rectify clock real"


def register(main: typer.Typer) -> None:
    main.add_typer(app, name="clock")


@app.callback()
def show(ctx: typer.Context) -> None:
    """Show the day the system runs on (stored in the database, or real time)."""
    if ctx.invoked_subcommand is not None:
        return
    with handled_errors(), open_app() as application, application.uow() as uow:
        stored = installation.stored_clock(uow)
        running = application.clock
    console.print((stored or Clock(tz=running.tz)).describe(), highlight=False)
    if running.source == AS_OF:
        console.print(
            f"本命令按 {running.today().isoformat()} 运行（--as-of 或 RECTIFY_AS_OF，"
            "只对指定它的进程有效）",
            highlight=False,
        )
    console.print(
        f"当前系统时间：{local_text(running.now(), running.tz)}"
        f"（{zone_label(running.tz)}，{running.tz.key}）",
        highlight=False,
    )
    console.print(_HINT, highlight=False)


@app.command("set", help="把系统日期设为某一天（当天 09:00 起随时间推移），所有进程共用")
def set_day(day: str = typer.Argument(..., help="日期 YYYY-MM-DD，如 2021-07-19")) -> None:
    """Run every process on this database as of a day."""
    try:
        parsed = date.fromisoformat(day)
    except ValueError:
        refuse(f"日期格式应为 YYYY-MM-DD：{day}")
    with handled_errors(), open_app() as application, application.uow() as uow:
        clock = installation.set_day(uow, parsed, note="人工设定")
        uow.commit()
    console.print(
        f"系统日期已设为 {parsed.isoformat()}（{AS_OF_TIME:%H:%M} 起随时间推移，"
        f"{zone_label(clock.tz)}）",
        highlight=False,
    )
    _after_change()


@app.command("real", help="系统改回使用实时（当前日期与时间）")
def use_real_time() -> None:
    """Run every process on this database on real time again."""
    with handled_errors(), open_app() as application, application.uow() as uow:
        had = installation.use_real_time(uow)
        uow.commit()
        today = Clock(tz=application.clock.tz).describe()
    console.print(
        ("已改回实时。" if had else "未设定日期，本就使用实时。") + today, highlight=False
    )
    _after_change()


def _after_change() -> None:
    console.print(
        "此后运行的定时任务和命令即按此运行；正在运行的网页服务（rectify up 或 rectify serve）"
        "重启后生效",
        highlight=False,
    )
    if os.environ.get("RECTIFY_AS_OF") or STATE.as_of:
        err_console.print(
            "注意：设置了 RECTIFY_AS_OF 或 --as-of 的进程仍按其指定的日期运行", highlight=False
        )
