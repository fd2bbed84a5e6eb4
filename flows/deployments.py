"""The deployments of ``prefect.yaml`` as runner deployments, for ``rectify worker``."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import yaml
from prefect.deployments.runner import RunnerDeployment
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


def flow_of(entrypoint: str):
    """Import ``flows/recheck.py:quarterly_recheck`` as a flow object."""
    path, name = entrypoint.split(":")
    module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
    return getattr(module, name)


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
