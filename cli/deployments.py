"""The deployments of ``prefect.yaml``: served by ``rectify worker``, run by the CLI's flow commands.

The CLI reaches a flow the way Prefect does, through the deployment's ``entrypoint`` in
``prefect.yaml`` (loaded by Prefect's ``load_flow_from_entrypoint``), never by importing
``flows``: one file says which flow each deployment runs, and the entry points stay
independent of each other (``lint-imports``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from prefect.deployments.runner import RunnerDeployment
from prefect.flows import Flow, load_flow_from_entrypoint
from prefect.schedules import Cron, Interval, Schedule

PREFECT_YAML = Path(__file__).resolve().parent.parent / "prefect.yaml"


def load_entries(path: Path = PREFECT_YAML) -> list[dict[str, Any]]:
    """The ``deployments`` entries of prefect.yaml."""
    return yaml.safe_load(path.read_text("utf-8"))["deployments"]


def schedule_of(entry: dict[str, Any]) -> Schedule:
    """A prefect.yaml schedule entry (cron or interval, with its time zone) as a Schedule."""
    timezone = entry.get("timezone")
    if "cron" in entry:
        return Cron(entry["cron"], timezone=timezone)
    return Interval(entry["interval"], timezone=timezone)


def flow_of(entrypoint: str) -> Flow:
    """The flow of ``flows/recheck.py:quarterly_recheck``, imported as the module
    ``flows.recheck`` (as the package, not as a loose script, so it is imported once)."""
    path, name = entrypoint.split(":")
    return load_flow_from_entrypoint(f"{path.removesuffix('.py').replace('/', '.')}:{name}")


def deployed_flow(name: str, path: Path = PREFECT_YAML) -> Flow:
    """The flow that the deployment ``name`` of prefect.yaml runs."""
    for entry in load_entries(path):
        if entry["name"] == name:
            return flow_of(entry["entrypoint"])
    raise KeyError(f"prefect.yaml defines no deployment {name!r}")


def runner_deployments(path: Path = PREFECT_YAML) -> list[RunnerDeployment]:
    """One runner deployment per prefect.yaml entry, with its schedules and limits."""
    return [
        flow_of(entry["entrypoint"]).to_deployment(
            name=entry["name"],
            description=entry.get("description"),
            tags=entry.get("tags"),
            concurrency_limit=entry.get("concurrency_limit"),
            schedules=[schedule_of(s) for s in entry.get("schedules") or []],
            parameters=entry.get("parameters") or {},
        )
        for entry in load_entries(path)
    ]
