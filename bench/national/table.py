"""Print the stage table of a ``bench national`` result as Markdown.

.venv/bin/python -m bench.national.table [bench/results/national.json]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parents[1] / "results"


def _limit(figures: dict) -> str:
    limit = figures.get("limit")
    if not limit:
        return "—"
    return f"{limit.get('per_second', 0):,.0f}/s"


def table(result: dict) -> str:
    lines = [
        f"Scale {result['scale']} ({result['sizes']['offices']:,} offices, "
        f"{result['sizes']['websites'] * (1 + result['sizes']['columns']):,} pages, "
        f"{result['sizes']['accounts']:,} accounts), tree {result['commit']}, started "
        f"{result['started']}; load average {result['load_before']} before, "
        f"{result['load_after']} after.",
        "",
        "| stage | wall s | CPU s | peak RSS MB (process) | items | per second | limit | share |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, s in result["stages"].items():
        share = s.get("share_of_batch_limit", s.get("share_of_limit"))
        lines.append(
            f"| {name} | {s['wall_seconds']:,.1f} | {s['cpu_seconds']:,.1f} | "
            f"{s['peak_rss_mb']:,.0f} ({s['peak_process'].split('/')[-1][:30]}) | "
            f"{s['items']:,} {s['unit']} | {s['per_second']:,.1f} | {_limit(s)} | "
            f"{'—' if share is None else share} |"
        )
    inspection = result["stages"]["inspection"]
    lines += [
        "",
        f"Whole quarter: **{result['quarter_wall_seconds']:,.0f} s** wall, "
        f"{result['quarter_cpu_seconds']:,.0f} s CPU; bounding stage: "
        f"**{result['bounding_stage']}**; peak RSS of any process {result['peak_rss_mb']:,.0f} MB.",
        f"Checks alone: {inspection.get('check_cpu_ms_per_page')} ms client CPU per page, "
        f"{inspection.get('share_of_raw_fetch_per_cpu')} of the raw fetch's pages per CPU second; "
        f"the inspection stage as a whole {inspection.get('stage_cpu_ms_per_page')} ms per page.",
        "Targets: "
        + ", ".join(f"{k} {'met' if v else '**missed**'}" for k, v in result["checks"].items())
        + ".",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else RESULTS / "national.json"
    print(table(json.loads(path.read_text())))
