"""The inspection stage: every office's round inspected at INSPECTION_DAY, findings filed.

Through the product path: the ``quarterly-inspection`` flow (``flows/inspect.py``, what
``rectify inspect`` runs), in this process, ONE flow run over every office's round
(``round_codes``). A flow run per office would cost 3,000 flow runs of Prefect bookkeeping
(a run and its plan task, about a second each on this machine) for rounds of about five sites
each; in one run the offices' sites share the chunks of ``check_inspection_batch`` requests,
so Prefect costs one task per chunk (a few hundred at national size).

Every website page is checked: an operating site's homepage (reachability sampled
``check_inspection_reach_samples`` times, freshness, its links) and its 30 columns
(freshness, and blankness where no dated entry was found); an offline site its domain.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import create_engine, select

from bench.national.plan import INSPECTION_DAY, Plan
from bench.national.quarter import Done, Quarter
from services.db.models import Case, Round, Target


def round_codes(plan: Plan) -> list[str]:
    return [plan.round_code(office.code) for office in plan.offices]


def filed(q: Quarter) -> Counter:
    """(target code, category) of every website or column case of the quarter's rounds."""
    engine = create_engine(q.database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(Target.code, Case.category_code)
                .join(Target, Target.id == Case.target_id)
                .join(Round, Round.id == Case.round_id)
                .where(Target.kind.in_(("website", "column")))
            ).all()
    finally:
        engine.dispose()
    return Counter(map(tuple, rows))


def inspect(q: Quarter) -> Done:
    """Every office's round inspected in one ``quarterly-inspection`` flow run."""
    from flows.inspect import quarterly_inspection

    q.fixtures.phase(INSPECTION_DAY, recheck=False)
    codes = round_codes(q.plan)
    with q.flow_env():
        summary = quarterly_inspection(round_codes=codes, as_of=INSPECTION_DAY)
    found = filed(q)
    expected = q.plan.expected_findings()
    q.facts["inspection"] = summary
    q.facts["inspection_found"] = set(found)
    served = q.fixtures.stats()
    return Done(
        summary["pages"],
        "pages",
        {
            "requests": summary["requests"],
            "findings": summary["findings"],
            "created": summary["created"],
            "updated": summary["updated"],
            "unknown": summary["unknown"],
            "filed": summary["filed"],
            "verdicts": summary["inspected"],
            "chunks": summary["chunks"],
            "rounds": len(codes),
            "planted_found": len(expected & set(found)),
            "planted_missing": len(expected - set(found)),
            "not_planted": len(set(found) - expected),
            "filed_twice": sum(1 for n in found.values() if n > 1),
            "http_connections": served.get("connections"),
            "fixture_cpu_seconds": served.get("cpu_seconds"),
        },
    )


if __name__ == "__main__":
    import sys
    import time
    from pathlib import Path

    from bench.national import registry
    from bench.national.quarter import open_quarter

    scale = float(sys.argv[1]) if len(sys.argv) > 1 else 0.001
    with open_quarter(scale, Path("/tmp/h2-inspection")) as quarter:
        registry.load(quarter)
        registry.rounds(quarter)
        started, cpu = time.perf_counter(), time.process_time()
        done = inspect(quarter)
        print(
            done, f"wall {time.perf_counter() - started:.1f}s cpu {time.process_time() - cpu:.1f}s"
        )
