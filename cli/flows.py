"""``rectify round publish``, ``recheck``, ``sweep``: run a flow; ``worker`` and ``up`` serve them."""

from __future__ import annotations

import asyncio
import inspect
from pathlib import Path

import typer

from cli.context import STATE, console, handled_errors, open_app, print_json, refuse
from cli.progress import progress_bar
from services.core import progress
from services.rounds import published
from services.rounds.outcomes import PROVIDERS, provider_named
from services.rounds.rounds import get_round

round_app = typer.Typer(help="检查轮次", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(round_app, name="round")
    app.command("recheck", help="立即运行季度复查：核验已整改的案件，关联往期同一问题，升级督办")(
        recheck
    )
    app.command("sweep", help="立即运行逾期巡查：升级已超期的案件，发送到期提醒")(sweep)
    app.command("worker", help="按 prefect.yaml 的计划运行全部定时任务，直到按 Ctrl-C")(worker)
    app.command(
        "up",
        help="在本机启动 Prefect 服务（数据在数据目录下）、定时任务和网页服务；Ctrl-C 全部停止",
    )(up)


@round_app.command(
    "publish", help="发布检查轮次：通知其已发现的案件、设定整改期限，每个单位发一封邮件"
)
def publish(
    round_code: str = typer.Argument(..., help="检查轮次，如 2021Q2"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
) -> None:
    """Publish a round: notify its found cases, set deadlines, one email per unit (a flow run)."""
    with handled_errors():
        _require_round(round_code)
        with open_app() as application, application.uow() as uow:
            state = published.of_round(uow, get_round(uow, round_code))
        if state.published:
            refuse(f"{round_code} {state.text}，不再发布；之后新增的案件请逐件或批量通知")
        summary = run_deployment("publish-round", round_code, as_of=STATE.as_of)
    if as_json:
        print_json(summary)
        return
    console.print(
        f"{round_code} 已发布：通知 {summary['notified']} 件，"
        f"向 {summary['units_mailed']} 个单位各发一封通知邮件（已进入发件箱）",
        highlight=False,
    )


def recheck(
    round_code: str = typer.Argument(None, help="复查所属的检查轮次；默认为已开始的最近一轮"),
    outcomes: str = typer.Option(
        "checks",
        "--outcomes",
        help=f"复查结果来源：{'、'.join(PROVIDERS)}（checks：自动检查；marks：人工标记；all-fixed：全部视为已整改，演练用）",
    ),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
) -> None:
    """Run the quarterly recheck now (a flow run): verify, link repeats, escalate."""
    with handled_errors():
        provider_named(outcomes, run_ref="")
        if round_code is not None:
            _require_round(round_code)
        with (
            progress_bar("季度复查（批，每批至多 1000 件）") as advance,
            progress.reporting(advance),
        ):
            summary = run_deployment(
                "quarterly-recheck", round_code, as_of=STATE.as_of, outcomes=outcomes
            )
    if as_json:
        print_json(summary)
        return
    counts = summary["outcomes"]
    console.print(
        f"{summary['round_code']} 复查：已整改 {counts['fixed']}，仍存在 {counts['present']}，"
        f"无法自动判断 {counts['unknown']}；核验 {summary['verified']} 件，"
        f"重新立案 {summary['linked']} 件，升级督办 {summary['escalated']} 件",
        highlight=False,
    )
    if summary["needs_supervisor"]:
        console.print(
            f"待人工核实的案件：{'、'.join(map(str, summary['needs_supervisor']))}",
            highlight=False,
        )


def sweep(as_json: bool = typer.Option(False, "--json", help="输出 JSON")) -> None:
    """Run the overdue sweep now (a flow run): escalate overdue cases, queue reminders."""
    with handled_errors():
        with progress_bar("逾期巡查（批）") as advance, progress.reporting(advance):
            summary = run_deployment("overdue-sweep", as_of=STATE.as_of)
    if as_json:
        print_json(summary)
        return
    reminders = "、".join(f"{k} {v}" for k, v in summary["reminders"].items()) or "无"
    console.print(
        f"{summary['day']} 逾期巡查：升级督办 {summary['escalated']} 件；"
        f"向 {summary['units_reminded']} 个单位发送提醒（{reminders}）",
        highlight=False,
    )


def run_deployment(deployment: str, *args, **kwargs):
    """Run the flow a deployment of prefect.yaml runs, here and now (Prefect is imported only
    when a flow runs); a sync flow returns its result, an async one is awaited."""
    from cli.deployments import deployed_flow, prefect_defaults

    prefect_defaults()
    result = deployed_flow(deployment)(*args, **kwargs)
    return asyncio.run(result) if inspect.isawaitable(result) else result


def _require_round(round_code: str) -> None:
    """Fail fast, before a flow run starts, on a round that does not exist."""
    with open_app() as application, application.uow() as uow:
        get_round(uow, round_code)


def worker(
    prefect_file: Path = typer.Option(
        None,
        "--prefect-file",
        help="部署定义文件；默认为随程序安装的 prefect.yaml（多机部署时由 Prefect 的 deploy 命令读取同一文件）",
    ),
) -> None:
    """Serve every deployment of prefect.yaml with its schedule until Ctrl-C."""
    from cli.deployments import PREFECT_YAML, prefect_defaults, runner_deployments

    prefect_defaults()  # before Prefect is imported: services.* logs in the UI
    from prefect import serve

    from cli.alerts import install_if_configured

    deployments = runner_deployments(prefect_file or PREFECT_YAML)
    install_if_configured()  # the operators' alerts, when RECTIFY_ALERT_URLS is set
    serve(*deployments, pause_on_shutdown=False)


def up(
    prefect_port: int = typer.Option(4200, "--prefect-port", help="Prefect 服务端口"),
    web_port: int = typer.Option(8000, "--web-port", help="监管工作台端口"),
) -> None:
    """Start a local Prefect server (SQLite in the data directory), the worker and the web app;
    Ctrl-C stops all."""
    from cli.supervisor import run_all

    raise typer.Exit(code=run_all(prefect_port=prefect_port, web_port=web_port))
