"""Recheck throughput: 100,000 open cases proved fixed by an instant outcome, on SQLite.

Measured: the batched service path the ``quarterly_recheck`` flow's tasks call
(``services.rechecks.recheck_range`` per 1,000 ids: candidate query, outcomes, ``states.fire``,
effects, versioned executemany, events, mailing seam, one commit per batch). Prefect's own
cost is a few milliseconds per task on top. Baselines in the same run:
(a) the limit, SQLAlchemy Core executemany of the same writes without domain logic;
(b) a naive loop, one ORM load + ``transitions.transition`` + commit per case, on a sample.
"""

from __future__ import annotations

import resource
import shutil
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import bindparam, insert, select, update

from services.bootstrap import App
from services.cases import transitions
from services.core.clock import SHANGHAI, Clock
from services.core.settings import Settings
from services.db.engine import make_engine, make_session_factory
from services.db.migrate import upgrade
from services.db.models import Case, CaseEvent, Category, Round, Target, Unit
from services.registry.catalogue import ensure_seeded
from services.rounds import rechecks

CASES = 100_000
NAIVE_SAMPLE = 2_000
BATCH = 1_000
UNITS = 100
TARGETS_PER_UNIT = 50
TARGETS = {"cases_per_second": 20_000, "share_of_limit": 0.25, "times_naive": 10, "peak_mb": 500}
NOW = datetime(2021, 10, 1, 2, 0, tzinfo=SHANGHAI)


def _app(path: Path) -> App:
    settings = Settings(database_url=f"sqlite:///{path}", data_dir=path.parent / "data")
    engine = make_engine(settings.database_url)
    return App(settings, engine, make_session_factory(engine), Clock(NOW))


def _prepare(path: Path, n: int) -> None:
    """A migrated database with ``n`` notified cases spread over units, targets, categories."""
    upgrade(make_engine(f"sqlite:///{path}"))
    app = _app(path)
    with app.uow() as uow:
        ensure_seeded(uow)
        uow.commit()
    with app.engine.begin() as conn:
        conn.execute(
            insert(Round.__table__),
            [
                {
                    "code": "2021Q3",
                    "period_start": date(2021, 7, 1),
                    "period_end": date(2021, 9, 30),
                    "notice_texts": {},
                }
            ],
        )
        categories = list(conn.scalars(select(Category.code)))
        conn.execute(
            insert(Unit.__table__),
            [
                {
                    "code": f"u{i}",
                    "name": f"单位{i}",
                    "kind": "county_gov",
                    "path": f"/u{i}/",
                    "synthetic": True,
                }
                for i in range(UNITS)
            ],
        )
        conn.execute(
            insert(Target.__table__),
            [
                {
                    "code": f"t{i}",
                    "unit_id": i % UNITS + 1,
                    "kind": "website",
                    "name": f"网站{i}",
                    "status": "operating",
                    "synthetic": True,
                }
                for i in range(UNITS * TARGETS_PER_UNIT)
            ],
        )
        targets = UNITS * TARGETS_PER_UNIT
        conn.execute(
            insert(Case.__table__),
            [_case_row(i, targets, categories) for i in range(n)],
        )
    app.close()


def _case_row(i: int, targets: int, categories: list[str]) -> dict:
    target = i % targets
    return {
        "round_id": 1,
        "target_id": target + 1,
        "unit_id": target % UNITS + 1,
        "category_code": categories[i // targets],
        "severity": "deduction",
        "description": "",
        "evidence": {},
        "source": "bench",
        "state": "notified",
        "deadline": date(2021, 10, 20),
        "deadline_mode": "calendar",
        "escalation_level": 0,
        "notices_city": 1,
        "notices_province": 0,
        "synthetic": True,
        "created_at": NOW,
        "updated_at": NOW,
        "version": 2,
    }


class _Timer:
    """Wall-clock and this process's CPU seconds of a block (the machine may be shared)."""

    def __enter__(self) -> _Timer:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc_info) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu


def _service_path(path: Path) -> tuple[_Timer, int]:
    app = _app(path)
    with _Timer() as timer, app.uow() as uow:
        summary = rechecks.recheck(
            uow, round_code="2021Q3", provider=rechecks.all_fixed, actor="bench", batch_size=BATCH
        )
    app.close()
    return timer, summary.verified


#: The limit writes the same columns as the project's path, the event's hash-chain link
#: included, but precomputed: hashing is domain logic, a 64-character value to store is not.
CHAIN_LINK = "0" * 64


def _limit(path: Path) -> tuple[_Timer, int]:
    """Versioned UPDATE + event INSERT per 1,000 cases, executemany, no domain logic."""
    engine = make_engine(f"sqlite:///{path}")
    cases_t, events_t = Case.__table__, CaseEvent.__table__
    statement = (
        update(cases_t)
        .where(cases_t.c.id == bindparam("b_id"), cases_t.c.version == bindparam("b_version"))
        .values(state="verified", updated_at=bindparam("b_at"), version=bindparam("b_new"))
    )
    with _Timer() as timer, engine.connect() as conn:
        rows = conn.execute(select(cases_t.c.id, cases_t.c.version).order_by(cases_t.c.id)).all()
        conn.commit()
        for i in range(0, len(rows), BATCH):
            chunk = rows[i : i + BATCH]
            with conn.begin():
                conn.execute(
                    statement,
                    [
                        {"b_id": r.id, "b_version": r.version, "b_new": r.version + 1, "b_at": NOW}
                        for r in chunk
                    ],
                )
                conn.execute(
                    insert(events_t),
                    [
                        {
                            "case_id": r.id,
                            "trigger": "verify",
                            "from_state": "notified",
                            "to_state": "verified",
                            "actor": "bench",
                            "actor_kind": "system",
                            "at": NOW,
                            "data": {"proven_fixed": True},
                            "hash": CHAIN_LINK,
                        }
                        for r in chunk
                    ],
                )
    engine.dispose()
    return timer, len(rows)


def _naive(path: Path, sample: int) -> tuple[_Timer, int]:
    app = _app(path)
    with app.uow() as uow:
        ids = list(uow.session.scalars(select(Case.id).order_by(Case.id).limit(sample)))
    with _Timer() as timer:
        for case_id in ids:
            _naive_one(app, case_id)
    app.close()
    return timer, len(ids)


def _naive_one(app: App, case_id: int) -> None:
    """One ORM load, one transition, one commit."""
    with app.uow() as uow:
        transitions.transition(
            uow,
            case_id=case_id,
            trigger="verify",
            actor="bench",
            actor_kind="system",
            proven_fixed=True,
        )
        uow.commit()


def run(scale: float = 1.0) -> dict:
    n = max(int(CASES * scale), BATCH)
    sample = min(NAIVE_SAMPLE, n)
    with tempfile.TemporaryDirectory(prefix="bench-recheck-") as tmp:
        template = Path(tmp) / "template.db"
        _prepare(template, n)
        copies = {}
        for name in ("service", "limit", "naive"):
            copies[name] = Path(tmp) / f"{name}.db"
            shutil.copy(template, copies[name])
        service, verified = _service_path(copies["service"])
        limit, limit_n = _limit(copies["limit"])
        naive, naive_n = _naive(copies["naive"], sample)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rate, limit_rate, naive_rate = (
        verified / service.wall,
        limit_n / limit.wall,
        naive_n / naive.wall,
    )
    figures = {
        "cases": n,
        "verified": verified,
        "measured_path": "services.rechecks.recheck (the batched path the flow's tasks call)",
        "cases_per_second": round(rate),
        "limit_core_executemany_cases_per_second": round(limit_rate),
        "naive_orm_loop_cases_per_second": round(naive_rate),
        "naive_sample": naive_n,
        "share_of_limit": round(rate / limit_rate, 3),
        "times_naive": round(rate / naive_rate, 1),
        "peak_mb": round(peak_mb, 1),
        # The same figures per CPU second of this process: steadier on a shared machine.
        "cpu": {
            "cases_per_second": round(verified / service.cpu),
            "limit_cases_per_second": round(limit_n / limit.cpu),
            "naive_cases_per_second": round(naive_n / naive.cpu),
        },
        "targets": TARGETS,
    }
    figures["targets_met"] = (
        verified == n
        and rate >= TARGETS["cases_per_second"]
        and rate / limit_rate >= TARGETS["share_of_limit"]
        and rate / naive_rate >= TARGETS["times_naive"]
        and peak_mb < TARGETS["peak_mb"]
    )
    return figures
