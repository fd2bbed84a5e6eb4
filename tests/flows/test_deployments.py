"""prefect.yaml is the one definition of the deployments: ``rectify worker`` and ``prefect deploy
--all`` register the same names, schedules and limits from it, and the wheel carries it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from cli.deployments import PREFECT_YAML, runner_deployments

ROOT = Path(__file__).resolve().parents[2]
PREFECT = str(Path(sys.executable).parent / "prefect")


def _file() -> dict:
    """prefect.yaml as a person reads it (not through the code under test)."""
    return yaml.safe_load((ROOT / "prefect.yaml").read_text("utf-8"))


def _schedules(entry: dict) -> list[tuple]:
    return [
        (s.get("cron"), s.get("interval"), s.get("timezone")) for s in entry.get("schedules") or []
    ]


def _as_registered(deployment) -> dict:
    """What the Prefect server holds for a deployment, in prefect.yaml's terms."""
    schedules = []
    for s in deployment.schedules:
        interval = getattr(s.schedule, "interval", None)
        cron = getattr(s.schedule, "cron", None)
        seconds = int(interval.total_seconds()) if interval else None
        schedules.append((cron, seconds, s.schedule.timezone))
    options = deployment.concurrency_options
    return {
        "entrypoint": deployment.entrypoint,
        "schedules": schedules,
        "limit": deployment.global_concurrency_limit.limit,
        "collision": options.collision_strategy.value if options else None,
        "tags": deployment.tags,
        "description": deployment.description,
    }


def _expected() -> dict[str, dict]:
    return {
        entry["name"]: {
            "entrypoint": entry["entrypoint"],
            "schedules": _schedules(entry),
            "limit": entry["concurrency_limit"]["limit"],
            "collision": entry["concurrency_limit"]["collision_strategy"],
            "tags": entry["tags"],
            "description": entry["description"],
        }
        for entry in _file()["deployments"]
    }


async def _registered(names) -> dict[str, dict]:
    from prefect.client.orchestration import get_client

    async with get_client() as client:
        found = {}
        for deployment in await client.read_deployments():
            if deployment.name in names:
                found[deployment.name] = _as_registered(deployment)
        return found


async def _delete_all() -> None:
    from prefect.client.orchestration import get_client

    async with get_client() as client:
        for deployment in await client.read_deployments():
            await client.delete_deployment(deployment.id)


def test_dispatch_and_the_sweep_never_pile_up_and_the_deployments_keep_shanghai_time():
    entries = {e["name"]: e for e in _file()["deployments"]}
    assert set(entries) == {
        "publish-round",
        "publish-rounds",
        "quarterly-inspection",
        "quarterly-recheck",
        "overdue-sweep",
        "dispatch-outbox",
    }
    for name in ("dispatch-outbox", "overdue-sweep"):
        assert entries[name]["concurrency_limit"] == {
            "limit": 1,
            "collision_strategy": "CANCEL_NEW",
        }
    served = {d.name: d for d in runner_deployments()}
    assert served["dispatch-outbox"].concurrency_options.collision_strategy.value == "CANCEL_NEW"
    assert served["publish-round"].concurrency_options.collision_strategy.value == "ENQUEUE"
    crons = {
        name: [(s.schedule.cron, s.schedule.timezone) for s in d.schedules]
        for name, d in served.items()
        if name != "dispatch-outbox"
    }
    assert crons == {
        "publish-round": [],
        "publish-rounds": [],
        "quarterly-inspection": [],
        "quarterly-recheck": [("0 2 1 1,4,7,10 *", "Asia/Shanghai")],
        "overdue-sweep": [("30 1 * * *", "Asia/Shanghai")],
    }
    (every_minute,) = served["dispatch-outbox"].schedules
    assert every_minute.schedule.interval.total_seconds() == 60


@pytest.mark.slow
async def test_rectify_worker_and_prefect_deploy_register_the_same_deployments(prefect_server):
    """Served (as ``rectify worker`` does) and then deployed with ``prefect deploy --all`` onto a
    process pool (as a multi-machine set-up does), the server holds prefect.yaml's deployments."""
    from prefect.client.orchestration import get_client
    from prefect.settings import get_current_settings

    expected = _expected()
    for deployment in runner_deployments():
        await deployment.apply()  # what serve() does for each, before it polls
    served = await _registered(expected)
    assert served == expected
    await _delete_all()

    env = os.environ | {"PREFECT_API_URL": get_current_settings().api.url}
    for command in (
        [PREFECT, "work-pool", "create", "rectify", "--type", "process"],
        [PREFECT, "--no-prompt", "deploy", "--all"],
    ):
        done = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
        )
        assert done.returncode == 0, done.stdout + done.stderr
    deployed = await _registered(expected)
    assert deployed == expected
    async with get_client() as client:
        queues = {
            d.name: (d.work_pool_name, d.work_queue_name) for d in await client.read_deployments()
        }
    assert queues["dispatch-outbox"] == ("rectify", "dispatch")  # mail has a worker of its own
    assert queues["overdue-sweep"] == ("rectify", "default")  # registered for the pool's workers
    await _delete_all()


@pytest.mark.slow
def test_the_installed_package_carries_prefect_yaml_and_the_worker_reads_it(tmp_path):
    """setuptools' build_py (the step that fills a wheel) copies prefect.yaml into cli/; from
    that copy alone, in a directory with no prefect.yaml, the worker finds the deployments."""
    script = (
        "import os\n"
        "from setuptools.dist import Distribution\n"
        "dist = Distribution({'script_name': 'setup.py'})\n"
        "dist.parse_config_files()\n"
        "build = dist.get_command_obj('build_py')\n"
        f"build.build_lib = {str(tmp_path / 'lib')!r}\n"
        "build.ensure_finalized()\n"
        "build.run()\n"
    )
    built = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert built.returncode == 0, built.stderr
    packaged = tmp_path / "lib" / "cli" / "prefect.yaml"
    assert packaged.is_file() and not packaged.is_symlink()
    assert packaged.read_text("utf-8") == (ROOT / "prefect.yaml").read_text("utf-8")

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    probe = (
        "from cli.deployments import PREFECT_YAML, runner_deployments\n"
        "print(PREFECT_YAML)\n"
        "print(sorted(d.name for d in runner_deployments()))\n"
    )
    env = os.environ | {"PYTHONPATH": str(tmp_path / "lib")}
    ran = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ran.returncode == 0, ran.stderr
    path, names = ran.stdout.strip().splitlines()[-2:]
    assert Path(path) == packaged
    assert names == str(sorted(_expected()))
    assert PREFECT_YAML.read_text("utf-8") == packaged.read_text("utf-8")  # checkout: the link


def test_what_services_log_during_a_flow_run_shows_in_its_prefect_log(prefect_server):
    """Each process that runs flows routes ``services.*`` to the run's log in the Prefect UI."""
    import asyncio
    import logging

    from prefect import flow
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.runtime import flow_run

    from cli.deployments import prefect_defaults

    prefect_defaults()

    @flow(name="service-log-probe")
    def probe() -> str:
        logging.getLogger("services.mail.outbox").warning("发件服务器无法连接：测试")
        return flow_run.get_id()

    run_id = probe()

    async def messages() -> list[str]:
        async with get_client() as client:
            only_this_run = LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id]))
            return [log.message for log in await client.read_logs(log_filter=only_this_run)]

    deadline = time.monotonic() + 30  # logs are sent in batches, every couple of seconds
    while "发件服务器无法连接：测试" not in (seen := asyncio.run(messages())):
        assert time.monotonic() < deadline, seen
        time.sleep(0.5)
