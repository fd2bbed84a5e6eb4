"""``rectify``: the entry point; each command group lives in its own module."""

from __future__ import annotations

import os
from importlib.metadata import PackageNotFoundError, version

import typer

from cli import (
    access,
    alerts,
    audit,
    backup,
    cases,
    categories,
    channels,
    checks,
    clock,
    db,
    flows,
    gen,
    help_words,
    imports,
    inspect,
    issuers,
    outbox,
    reports,
    round_settings,
    web,
)
from cli.context import STATE, refuse
from services.core.clock import parse_as_of

#: Prefect's analytics off for every command and the processes it starts (server, worker,
#: flow runs): set before any command imports Prefect, so that its telemetry (and its network
#: errors) never reach a clerk's output.
PREFECT_QUIET = {
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_CLOUD_ENABLE_ORCHESTRATION_TELEMETRY": "false",
}
os.environ.update(PREFECT_QUIET)
help_words.use_chinese_headings()

app = typer.Typer(
    help="rectify —— 政府网站与政务新媒体检查整改案件管理",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _print_version(asked: bool) -> None:
    if asked:
        try:
            number = version("rectify")
        except PackageNotFoundError:  # run from a source tree that was never installed
            number = "未安装（源码目录）"
        typer.echo(f"rectify {number}")
        raise typer.Exit()


@app.callback()
def main(
    as_of: str = typer.Option(
        None,
        "--as-of",
        help="本命令以该日期（YYYY-MM-DD）为“今天”运行；默认按系统日期（见 rectify clock）",
    ),
    _version: bool = typer.Option(
        False, "--version", help="显示版本号并退出", callback=_print_version, is_eager=True
    ),
) -> None:
    try:
        STATE.as_of = parse_as_of(as_of)
    except ValueError:
        refuse(f"--as-of 日期格式应为 YYYY-MM-DD：{as_of}")


app.add_typer(db.app, name="db")
app.add_typer(audit.app, name="audit")
app.add_typer(categories.app, name="category")
app.add_typer(issuers.app, name="issuer")
cases.register(app)
imports.register(app)
backup.register(app)
reports.register(app)
checks.register(app)
app.add_typer(outbox.app, name="outbox")
channels.register(app)
web.register(app)
alerts.register(app)
access.register(app)
flows.register(app)
inspect.register(app)
round_settings.register(flows.round_app)
gen.register(app)
clock.register(app)
