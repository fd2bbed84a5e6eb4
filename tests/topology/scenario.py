"""The topology's data: PostgreSQL databases made and dropped, a generated registry and history,
supervisors' marks, and the comparison with an uninterrupted run on a copy of the same data.

The generated history (``rectify gen``) is as of 2021-10-20: round 2021Q3 has cases still
``found`` (publish-round notifies them), about 1% of cases are overdue (overdue-sweep
escalates them), and 2021Q4 has started (quarterly-recheck looks at every open case). Each
case gets a mark by its id (fixed, present, none), so the recheck verifies, reopens in the new
round and escalates repeat offenders, and leaves a third for a supervisor.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from datetime import date

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from services.bootstrap import App, build_app
from services.core.settings import Settings
from services.db import counts
from services.ops.clock import set_day
from tests.support.flowkit import snapshot

PG_URL = os.environ.get("RECTIFY_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PG_SERVER = PG_URL.rsplit("/", 1)[0]
APP_DB, REFERENCE_DB, PREFECT_DB = "rectify_topo", "rectify_topo_ref", "prefect_topo"
DAY = date(2021, 10, 20)
PUBLISH_ROUND, RECHECK_ROUND = "2021Q3", "2021Q4"
UNITS = int(os.environ.get("RECTIFY_TOPOLOGY_UNITS", "60"))
CASES = int(os.environ.get("RECTIFY_TOPOLOGY_CASES", "12000"))
SEED = 17
#: An actor written by a flow run is "<flow>/<run name>": the run's name differs between runs.
#: A carried-over case's successor by id: new cases get their ids in the order batches run (the
#: successor's natural key is compared through the cases' ``previous_case_id``).
SUCCESSOR = re.compile(r"\('successor_case_id', \d+\),? ?")
RUN_ACTOR = re.compile(r"^(publish-round|quarterly-recheck|overdue-sweep|dispatch-outbox)/.+$")


def app_url(name: str = APP_DB) -> str:
    return f"{PG_SERVER}/{name}"


def prefect_url() -> str:
    """The Prefect server's own database (asyncpg, as Prefect requires)."""
    server = PG_SERVER.replace("postgresql+psycopg://", "postgresql+asyncpg://", 1)
    return f"{server}/{PREFECT_DB}"


def _admin() -> Engine:
    return create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")


def drop_databases() -> None:
    """Drop the topology's databases (connections still open to them are ended)."""
    admin = _admin()
    with admin.connect() as conn:
        for name in (APP_DB, REFERENCE_DB, PREFECT_DB):
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def create_databases() -> None:
    """Empty databases for the app and for Prefect (a leftover of an earlier run dropped first)."""
    drop_databases()
    admin = _admin()
    with admin.connect() as conn:
        for name in (APP_DB, PREFECT_DB):
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def copy_for_reference() -> None:
    """The reference database: a copy of the app's, made before anything runs on it."""
    admin = _admin()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{REFERENCE_DB}" TEMPLATE "{APP_DB}"'))
    admin.dispose()


def open_app(url: str) -> App:
    """An app on ``url`` on the installation's day stored there (as every process of it runs)."""
    return build_app(Settings(database_url=url, secret_key="topology"))


def reference_run(url: str) -> str:
    """publish → sweep → recheck on the reference copy through the services' whole-run
    functions (what the flows do per batch, here one batch after the other, uninterrupted)."""
    from services.rounds import publication, rechecks, sweeps

    app = open_app(url)
    try:
        with app.uow() as uow:
            publication.publish_round(uow, round_code=PUBLISH_ROUND, actor="publish-round/ref")
        with app.uow() as uow:
            swept = sweeps.sweep(uow, actor="overdue-sweep/ref")
        with app.uow() as uow:
            summary = rechecks.recheck(
                uow,
                round_code=RECHECK_ROUND,
                provider=rechecks.latest_check_result,
                actor="quarterly-recheck/ref",
            )
    finally:
        app.close()
    return (
        f"escalated {swept.escalated} overdue; recheck {summary.outcomes}, verified"
        f" {summary.verified}, reopened {summary.linked}, escalated {summary.escalated}"
    )


def prepare(url: str) -> str:
    """The installation's day, supervisors' marks and a supervisor account; a summary line."""
    app = open_app(url)
    try:
        with app.uow() as uow:
            set_day(uow, DAY, note="拓扑测试")
            marked = uow.session.execute(
                text(
                    "INSERT INTO check_results"
                    ' (case_id, target_id, "check", outcome, summary, details, checked_at,'
                    " run_ref)"
                    " SELECT id, target_id, 'manual',"
                    " CASE WHEN id % 3 = 1 THEN 'fixed' ELSE 'present' END, '人工复查', '{}',"
                    " TIMESTAMPTZ '2021-10-19 09:00+08', 'topology' FROM cases WHERE id % 3 <> 0"
                )
            ).rowcount
            # Every unit reachable by mail, so dispatch-outbox has something to deliver.
            uow.session.execute(
                text(
                    "UPDATE units SET contact_email = lower(code) || '@units.test',"
                    " leader_email = 'leader-' || lower(code) || '@units.test'"
                )
            )
            uow.commit()
        with app.uow() as uow:
            found = uow.session.execute(
                text("SELECT count(*) FILTER (WHERE state = 'found'), count(*) FROM cases")
            ).one()
    finally:
        app.close()
    return f"{found[1]} cases ({found[0]} found), {marked} marks, day {DAY}"


def add_supervisor(url: str, username: str) -> str:
    """A supervisor account on the database; its generated password."""
    from services.access import users

    app = open_app(url)
    try:
        with app.uow() as uow:
            created = users.create_user(uow, username=username, role="supervisor")
            uow.commit()
    finally:
        app.close()
    return created.password


def comparable(url: str) -> dict:
    """Cases, events and outbox rows by natural keys; a flow run's actor without the run's
    name, and the outbox without its delivery status (dispatch-outbox runs on the topology's
    schedule, not on the reference's)."""
    app = open_app(url)
    try:
        shot = snapshot(app)
    finally:
        app.close()
    events = sorted(
        (key, trigger, src, dst, RUN_ACTOR.sub(r"\1", actor or ""), SUCCESSOR.sub("", data))
        for key, trigger, src, dst, actor, data in shot["events"]
    )
    outbox = sorted(row[:4] for row in shot["outbox"])
    return {"cases": shot["cases"], "events": events, "outbox": outbox}


def differences(expected: dict, actual: dict, *, shown: int = 3) -> list[str]:
    """What differs between two ``comparable`` results, a few examples per part."""
    found = []
    for part in ("cases", "events", "outbox"):
        want, got = Counter(expected[part]), Counter(actual[part])
        missing, extra = list((want - got).elements()), list((got - want).elements())
        if missing or extra:
            found.append(
                f"{part}: {len(missing)} missing, {len(extra)} extra;"
                f" e.g. missing {missing[:shown]} extra {extra[:shown]}"
            )
    return found


def outbox_by_status(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return dict(
                conn.execute(text("SELECT status, count(*) FROM outbox GROUP BY status")).all()
            )
    finally:
        engine.dispose()


def checks_of_a_run(url: str) -> dict:
    """What every run must leave: nobody verified twice, counters equal to a recount."""
    app = open_app(url)
    try:
        with app.uow() as uow:
            twice = (
                uow.session.execute(
                    text(
                        "SELECT case_id FROM case_events WHERE trigger = 'verify'"
                        " GROUP BY case_id HAVING count(*) > 1"
                    )
                )
                .scalars()
                .all()
            )
            escalated_twice = (
                uow.session.execute(
                    text(
                        "SELECT case_id FROM case_events WHERE trigger = 'escalate'"
                        " AND actor LIKE 'overdue-sweep/%' GROUP BY case_id, data::text"
                        " HAVING count(*) > 1"
                    )
                )
                .scalars()
                .all()
            )
            wrong = counts.mismatches(uow.session)
            by_state = dict(
                uow.session.execute(text("SELECT state, count(*) FROM cases GROUP BY state")).all()
            )
    finally:
        app.close()
    return {
        "verified_twice": list(twice),
        "escalated_twice": list(escalated_twice),
        "counter_mismatches": len(wrong),
        "by_state": by_state,
    }


def run_events(url: str, flow_name: str) -> int:
    """How many case events the runs of ``flow_name`` have written so far."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(
                text("SELECT count(*) FROM case_events WHERE actor LIKE :prefix"),
                {"prefix": f"{flow_name}/%"},
            ).scalar_one()
    finally:
        engine.dispose()


def open_cases(url: str, limit: int) -> list[tuple[int, date]]:
    """A few cases running against a deadline (for the web steps to act on), with it."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT id, deadline FROM cases WHERE state IN ('notified', 'rectifying')"
                    " AND deadline IS NOT NULL ORDER BY id LIMIT :limit"
                ),
                {"limit": limit},
            )
            return [(row.id, row.deadline) for row in rows]
    finally:
        engine.dispose()
