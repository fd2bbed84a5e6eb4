"""One national quarter end to end on PostgreSQL, each stage measured against its limit.

``python -m bench --national-scale 1 national`` runs the full size (3,000 offices, 40,000
units, 434,000 pages, 150,000 accounts); ``make bench`` runs it at 0.05 of that. Stages, in
the order an office's quarter runs (``bench/national/*``):

registry import → rounds → inspection (every page checked on loopback sites) → new-media
findings through the API → publication → email delivery → notices and ledgers → overdue
sweep → recheck.

Each stage is measured by ``measure.Meter``: wall time, CPU time of this process and the
children it started (the web server, ``rectify import``, Dask workers), the largest resident
set of any of them. The fixture sites and the SMTP sink stand in for the outside world and
are not counted. The limits are measured in the same run, after their stage, on the same rows.
"""

from __future__ import annotations

import importlib
import os
import resource
import subprocess
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench.national.measure import Meter
from bench.national.quarter import Done, Quarter, open_quarter

QUICK = 0.05  # `make bench`: this share of the national size
SHANGHAI = ZoneInfo("Asia/Shanghai")

#: (stage, module under bench.national, function): the quarter, in order.
STAGES = [
    ("registry", "registry", "load"),
    ("rounds", "registry", "rounds"),
    ("inspection", "inspection", "inspect"),
    ("nm_findings", "publishing", "nm_findings"),
    ("publish", "publishing", "publish"),
    ("deliver", "publishing", "deliver"),
    ("notices", "notices", "notices"),
    ("sweep", "rechecks", "sweep"),
    ("recheck", "rechecks", "recheck"),
]
#: stage → (module, function) of its limit, measured right after the stage.
LIMITS = {
    "registry": ("registry", "copy_limit"),
    "inspection": ("raw_fetch", "limit_for"),
    "deliver": ("publishing", "outbox_limit"),
    "notices": ("notices", "render_limit"),
    "sweep": ("rechecks", "sweep_limit"),
    "recheck": ("rechecks", "recheck_limit"),
}
TARGETS = {
    "quarter_wall_seconds": 900,
    "peak_rss_mb": 1536,
    "check_cpu_ms_per_page": 0.5,
    "check_share_of_raw_fetch": 0.5,
    "recheck_share_of_batch_limit": 0.6,
    "import_share_of_copy": 0.25,
    "docx_per_second": 50,
    "notices_seconds": 120,
}


def _call(module: str, function: str, quarter: Quarter) -> Any:
    return getattr(importlib.import_module(f"bench.national.{module}"), function)(quarter)


def run_stages(quarter: Quarter, *, limits: bool = True, echo=print) -> dict[str, dict]:
    """Run every stage (and its limit) on an open quarter; the figures by stage."""
    stages: dict[str, dict] = {}
    quarter.facts["limits"] = limits
    for name, module, function in STAGES:
        echo(f"-- {name}")
        _prepare(name, quarter, limits=limits)
        with Meter(name, excluded=quarter.excluded_pids) as meter:
            done: Done = _call(module, function, quarter)
        figures = meter.figures
        figures.items, figures.unit, figures.details = done.items, done.unit, done.details
        stages[name] = figures.as_dict()
        if limits and name in LIMITS:
            limit = _call(*LIMITS[name], quarter)
            stages[name]["limit"] = limit
            if limit.get("per_second") and figures.per_second:
                stages[name]["share_of_limit"] = round(figures.per_second / limit["per_second"], 3)
        _derive(name, stages[name])
        echo(f"   {stages[name]}")
    if limits:
        importlib.import_module("bench.national.rechecks").drop_snapshots(quarter)
    return stages


def _prepare(name: str, quarter: Quarter, *, limits: bool) -> None:
    """Work before a stage's meter: the import files (writing them is not importing them);
    the database copy a write limit starts from (the state the stage starts from)."""
    if name == "registry":
        registry = importlib.import_module("bench.national.registry")
        quarter.facts["import_files"] = registry.write_files(quarter)
    if limits and name in ("sweep", "recheck"):
        importlib.import_module("bench.national.rechecks").snapshot(quarter, name)


def _derive(name: str, figures: dict) -> None:
    """The figures a target is stated in, from the stage's and its limit's."""
    limit = figures.get("limit", {})
    if name == "inspection":
        figures["stage_cpu_ms_per_page"] = round(
            figures["cpu_seconds"] * 1000 / max(1, figures["items"]), 3
        )
        alone = limit.get("checks_alone")
        if alone:
            figures["check_cpu_ms_per_page"] = alone["cpu_ms_per_page"]
            figures["share_of_raw_fetch_per_cpu"] = round(
                alone["pages_per_cpu_second"] / limit["pages_per_cpu_second"], 3
            )
    if name == "recheck" and "share_of_per_batch" in limit:
        figures["share_of_batch_limit"] = limit["share_of_per_batch"]
    if name == "notices":
        figures["docx_per_second"] = round(figures["per_second"], 1)


def _commit() -> str:
    git = ["git", "-C", str(Path(__file__).resolve().parent)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run([*git, "status", "--porcelain"], capture_output=True, text=True)
    return head.stdout.strip() + (" + uncommitted changes" if dirty.stdout.strip() else "")


def _checks(result: dict) -> dict[str, bool]:
    stages = result["stages"]
    inspection = stages["inspection"]
    notices = stages["notices"]
    # Below full size the absolute targets are judged on a linear extrapolation to it.
    scale = min(1.0, result["scale"])
    checks = {
        "quarter_wall_seconds": result["quarter_wall_seconds"] / scale
        < TARGETS["quarter_wall_seconds"],
        "peak_rss_mb": result["peak_rss_mb"] < TARGETS["peak_rss_mb"],
        "check_cpu_ms_per_page": inspection.get("check_cpu_ms_per_page", 1e9)
        <= TARGETS["check_cpu_ms_per_page"],
        "check_share_of_raw_fetch": inspection.get("share_of_raw_fetch_per_cpu", 0)
        >= TARGETS["check_share_of_raw_fetch"],
        "recheck_share_of_batch_limit": stages["recheck"].get("share_of_batch_limit", 0)
        >= TARGETS["recheck_share_of_batch_limit"],
        "import_share_of_copy": stages["registry"].get("share_of_limit", 0)
        >= TARGETS["import_share_of_copy"],
        "docx_per_second": notices.get("docx_per_second", notices["per_second"])
        >= TARGETS["docx_per_second"],
        "notices_seconds": notices["wall_seconds"] / scale < TARGETS["notices_seconds"],
    }
    return checks


def _open_files_limit() -> None:
    """As many open files as the machine allows: thousands of sites' connections at once."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def run(scale: float = 1.0, national_scale: float | None = None) -> dict:
    size = national_scale if national_scale is not None else QUICK * scale
    _open_files_limit()
    result: dict[str, Any] = {"scale": size, "cpus": os.cpu_count(), "commit": _commit()}
    result["started"] = datetime.now(SHANGHAI).isoformat(timespec="seconds")
    result["load_before"] = [round(x, 2) for x in os.getloadavg()]
    with tempfile.TemporaryDirectory(prefix="rectify-national-") as folder:
        with open_quarter(size, Path(folder)) as quarter:
            result["sizes"] = vars(quarter.plan.sizes)
            result["stages"] = run_stages(quarter)
            result["fixtures"] = quarter.fixtures.stats()
    result["load_after"] = [round(x, 2) for x in os.getloadavg()]
    stages = result["stages"]
    result["quarter_wall_seconds"] = round(sum(s["wall_seconds"] for s in stages.values()), 1)
    result["quarter_cpu_seconds"] = round(sum(s["cpu_seconds"] for s in stages.values()), 1)
    result["bounding_stage"] = max(stages, key=lambda name: stages[name]["wall_seconds"])
    result["peak_rss_mb"] = max(s["peak_rss_mb"] for s in stages.values())
    result["targets"] = TARGETS
    result["checks"] = _checks(result)
    result["targets_met"] = all(result["checks"].values())
    result["result_name"] = "national" if size >= 1 else "national-quick"
    return result
