"""The README's table of ``bench scale``, from its results file.

``.venv/bin/python -m bench.scale_table [bench/results/scale.json]`` prints the Markdown table
(and the line above it) that ``bench/README.md`` shows, so the figures there are the file's.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "scale.json"
DBS = ("postgresql", "sqlite")


def _n(value: float) -> str:
    return f"{value:,}"


def _ms(value: float) -> str:
    return f"{value:,.1f} ms"


def _dashboard(board: dict) -> str:
    return f"**{_ms(board['p95_ms'])}** (p50 {_ms(board['p50_ms'])}, first call {_ms(board['first_call_ms'])})"


def _recheck(run: dict) -> str:
    return f"**{_n(run['cases_per_second'])}** ({run['verified']:,} verified in {run['seconds']} s)"


def _rows(r: dict) -> list[tuple[str, str, str, str]]:
    pg, sq = r["postgresql"], r["sqlite"]
    old = r["previous_run"]
    county = pg["reads"]["dashboard_live"]["county_median"]
    both = r["targets"]["both_databases"]
    rows = [
        ("generate (COPY / executemany)", *(f"{d['generate_seconds']} s" for d in (pg, sq)), ""),
    ]
    for key, label in (
        ("city_all_trees", "dashboard live p95, city: every tree (scope None)"),
        ("city_root", "dashboard live p95, city: the root's tree (`/p/`)"),
        (
            "county_median",
            f"dashboard live p95, county `{county['scope_path']}` "
            f"({county['cases']:,} cases, the median of {county['counties']} counties)",
        ),
    ):
        target = f"< {both['dashboard_live_p95_ms']} ms"
        rows.append(
            (label, *(_dashboard(d["reads"]["dashboard_live"][key]) for d in (pg, sq)), target)
        )
    rows.append(
        (
            "dashboard as served before, from its snapshot (previous run, 3bdf6ce; not measured now)",
            *(
                f"{_ms(old[db]['dashboard_served_snapshot_p95_ms'])} p95, snapshot up to 60 s old "
                f"(computing it: {_ms(old[db]['dashboard_live_p95_ms'])})"
                for db in DBS
            ),
            "reference",
        )
    )
    runs = pg["runs_cases_per_second"]
    rows += [
        (
            f"recheck, 1 worker, counters kept: verified cases/s (best of {len(runs['workers_1'])})",
            *(_recheck(d["recheck_1_worker"]) for d in (pg, sq)),
            "",
        ),
        (
            "recheck, 1 worker, counters off (`counts.apply`, `key`, `moved` no-ops; recounted after)",
            *(_recheck(d["recheck_1_worker_no_counters"]) for d in (pg, sq)),
            "",
        ),
        (
            "&nbsp;&nbsp;each run, cases/s: kept / off / limit",
            *(
                " / ".join(
                    ", ".join(_n(x) for x in d["runs_cases_per_second"][k])
                    for k in ("workers_1", "without_counters", "limit")
                )
                for d in (pg, sq)
            ),
            "",
        ),
        (
            "`counts.apply` per batch, and its share of the kept run's wall time",
            *(
                f"{d['recheck_1_worker']['counts_apply_ms_per_batch']} ms, "
                f"{d['recheck_1_worker']['counts_apply_share_of_wall']:.1%}"
                for d in (pg, sq)
            ),
            "",
        ),
        *(
            (
                f"recheck, {n} Dask worker processes (counters kept), speed-up over 1",
                f"**{_n(pg[f'recheck_{n}_workers']['cases_per_second'])}**, "
                f"×{pg[f'speed_up_{n}_workers']}; batches "
                f"{pg[f'recheck_{n}_workers']['batches_per_worker']}; verified twice: "
                f"{pg[f'recheck_{n}_workers']['cases_verified_twice']}",
                "— (one writer: one worker)",
                "×1.6 at 2 (PostgreSQL)" if n == 2 else "",
            )
            for n in (2, 3)
            if f"recheck_{n}_workers" in pg
        ),
        (
            "same-run limit: Core executemany of the same writes, no counters",
            *(f"{_n(d['limit_core_executemany']['cases_per_second'])} cases/s" for d in (pg, sq)),
            "",
        ),
        (
            "share of the limit, counters kept / off (change)",
            *(
                f"**{d['share_of_limit']:.3f}** / {d['share_of_limit_no_counters']:.3f} "
                f"({d['share_change_from_counters']:+.3f})"
                for d in (pg, sq)
            ),
            f"fall ≤ {both['share_fall_from_counters_max']}",
        ),
        (
            "share of the limit in the previous run (3bdf6ce; 100b009) and the change",
            *(
                f"{old[db]['share_of_limit']:.3f}; {old[db]['share_of_limit_100b009']:.3f} "
                f"({r[db]['share_change_from_previous_run']:+.3f})"
                for db in DBS
            ),
            "reported",
        ),
        (
            "counters ≠ recount after each recheck (1, 2, 3 workers) and the sweep: keys",
            *(str(d["counter_mismatches"]) for d in (pg, sq)),
            "0",
        ),
        (
            "&nbsp;&nbsp;the run with counters off: keys wrong before its recount → after",
            *(
                f"{d['recheck_1_worker_no_counters']['counter_keys_wrong_before_recount']} → "
                f"{d['recheck_1_worker_no_counters']['counter_mismatches']}"
                for d in (pg, sq)
            ),
            "",
        ),
        (
            "overdue sweep",
            *(
                f"{d['sweep']['seconds']} s ({d['sweep']['escalated']:,} escalated)"
                for d in (pg, sq)
            ),
            "< 5 s (PostgreSQL)",
        ),
        (
            "case list p95, worst of 5 filters",
            *(_ms(d["reads"]["list_p95_ms"]) for d in (pg, sq)),
            "< 100 ms",
        ),
    ]
    return rows


def table(r: dict) -> str:
    head = (
        f"{r['cases']:,} cases, tree {r['commit']}, started {r['started']}, {r.get('seconds', '?')} s in all; "
        f"load average (1, 5, 15 min) {r['load_before']} before, {r['load_after']} after; "
        f"targets met: {r['targets_met']}."
    )
    lines = [head, "", "| figure | PostgreSQL | SQLite | target |", "| --- | --- | --- | --- |"]
    lines += [f"| {' | '.join(row)} |" for row in _rows(r)]
    return "\n".join(lines)


if __name__ == "__main__":
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else RESULTS
    print(table(json.loads(path.read_text())))
