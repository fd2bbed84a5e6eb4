"""The deployments of ``prefect.yaml``, read by Prefect's own loader: served by ``rectify worker``,
run by the CLI's flow commands.

``prefect deploy --all`` reads the file with ``prefect.cli.deploy``'s loader (Prefect's pydantic
model of prefect.yaml, its defaults, ``{{ $ENV }}`` placeholders, its schedule and collision
options); ``rectify worker`` reads it with the same functions, so one file means the same
deployments in both set-ups. They are private to Prefect's CLI: prefect is pinned, and
``tests/flows/test_deployments.py`` checks what they give.

The CLI reaches a flow the way Prefect does, through the deployment's entry point (a module path
loaded by ``load_flow_from_entrypoint``), never by importing ``flows``: the entry points stay
independent of each other (``lint-imports``).
"""

from __future__ import annotations

import logging
import os
from importlib.resources import files
from pathlib import Path
from typing import Any

from rich.console import Console

#: The copy of prefect.yaml the package carries (a link to the top-level file in a checkout).
PREFECT_YAML = Path(str(files("cli") / "prefect.yaml"))

#: What every process that runs flows sets for Prefect, unless the environment says otherwise:
#: warnings and errors of ``services.*`` go to the flow run's log in the Prefect UI.
PREFECT_DEFAULTS = {"PREFECT_LOGGING_EXTRA_LOGGERS": "services"}


def prefect_defaults() -> None:
    """Set ``PREFECT_DEFAULTS`` for this process and its children (flow-run processes); Prefect,
    if already imported, gets the ``services`` logger routed as it would have at import."""
    for name, value in PREFECT_DEFAULTS.items():
        os.environ.setdefault(name, value)
    extra = logging.getLogger("prefect.extra")
    services = logging.getLogger("services")
    for handler in extra.handlers:
        if handler not in services.handlers:
            services.addHandler(handler)


def deployment_configs(path: Path = PREFECT_YAML) -> list[dict[str, Any]]:
    """Each deployment of prefect.yaml as ``prefect deploy`` reads it: validated by Prefect's
    model, its defaults merged, ``{{ $ENV }}`` placeholders filled, schedules built."""
    from prefect.cli.deploy._config import (
        _handle_deprecated_schedule_fields,
        _load_deploy_configs_and_actions,
        _merge_with_default_deploy_config,
    )
    from prefect.cli.deploy._schedules import _construct_schedules
    from prefect.utilities.templating import apply_values

    console = Console(stderr=True)
    configs, _actions = _load_deploy_configs_and_actions(path, console=console)
    if not configs:
        raise ValueError(f"{path} 中没有可用的部署（deployments），请检查该文件")
    result = []
    for raw in configs:
        config = _handle_deprecated_schedule_fields(_merge_with_default_deploy_config(raw))
        config = apply_values(config, os.environ, remove_notset=False)
        schedules = _construct_schedules(config, {}, console=console, is_interactive=lambda: False)
        config["schedules"] = schedules or []
        result.append(config)
    return result


def concurrency_of(config: dict[str, Any]):
    """The deployment's ``concurrency_limit``: a number, or a limit with its collision strategy."""
    from prefect.client.schemas.objects import ConcurrencyLimitConfig

    limit = config.get("concurrency_limit")
    if isinstance(limit, dict):
        return ConcurrencyLimitConfig(**{k: v for k, v in limit.items() if v is not None})
    return limit


def deployed_flow(name: str, path: Path = PREFECT_YAML):
    """The flow that the deployment ``name`` of prefect.yaml runs."""
    from prefect.flows import load_flow_from_entrypoint

    for config in deployment_configs(path):
        if config["name"] == name:
            return load_flow_from_entrypoint(config["entrypoint"])
    raise KeyError(f"prefect.yaml defines no deployment {name!r}")


def runner_deployments(path: Path = PREFECT_YAML) -> list:
    """One runner deployment per prefect.yaml entry, with its schedules and limits, to serve."""
    from prefect.deployments.runner import RunnerDeployment

    return [
        RunnerDeployment.from_entrypoint(
            config["entrypoint"],
            name=config["name"],
            description=config["description"],
            tags=config["tags"],
            version=config["version"],
            paused=config.get("paused"),
            concurrency_limit=concurrency_of(config),
            schedules=config["schedules"],
            parameters=config["parameters"],
        )
        for config in deployment_configs(path)
    ]
