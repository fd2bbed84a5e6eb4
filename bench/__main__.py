"""``make bench``: run every benchmark module, print figures, write JSON under bench/results/."""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import sys
import time
from pathlib import Path

import bench

RESULTS = Path(__file__).resolve().parent / "results"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the default sizes")
    parser.add_argument(
        "--cases", type=int, default=None, help="bench scale only: this many cases (not scaled)"
    )
    parser.add_argument(
        "--national-scale",
        type=float,
        default=None,
        help="bench national only: share of the national size (1 = full; default 0.05 × --scale)",
    )
    parser.add_argument("names", nargs="*", help="only these benchmarks (e.g. outbox recheck)")
    args = parser.parse_args(argv)
    RESULTS.mkdir(exist_ok=True)
    modules = sorted(
        m.name for m in pkgutil.iter_modules(bench.__path__) if m.name.startswith("bench_")
    )
    failed = 0
    for name in modules:
        short = name.removeprefix("bench_")
        if args.names and short not in args.names:
            continue
        print(f"== {short}", flush=True)
        started = time.perf_counter()
        extra = {"cases": args.cases} if args.cases and short == "scale" else {}
        if short == "national" and args.national_scale is not None:
            extra = {"national_scale": args.national_scale}
        result = importlib.import_module(f"bench.{name}").run(args.scale, **extra)
        result["seconds"] = round(time.perf_counter() - started, 2)
        (RESULTS / f"{result.get('result_name', short)}.json").write_text(
            json.dumps(result, ensure_ascii=False, indent=2) + "\n"
        )
        print(json.dumps(result, ensure_ascii=False, indent=2), flush=True)
        failed += not result.get("targets_met", True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
