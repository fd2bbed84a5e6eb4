"""A registry and case history of a given size, deterministic with a seed (bench and drills).

A province → cities → counties → departments tree of ``units``; per unit a website, a few
columns and new-media accounts; eight quarterly rounds of cases plus the current quarter
(no cases yet: the one a recheck runs for). Old rounds are mostly verified; the latest is
mostly open; about 1% of all cases are overdue (notified, past their deadline, not yet
escalated for it); about 5% of a round's cases continue a repeat chain from the round before
(``previous_case_id``, cumulative notice counts), and the case they continue is ``continued``
(carried over, closed). Bulk inserts: COPY on PostgreSQL, large executemany batches on SQLite;
the live counters (``services.db.counts``) recounted after the load. Expects a migrated
database without cases.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from services.core.clock import SHANGHAI
from services.core.errors import ValidationFailed
from services.core.progress import Progress, silent
from services.db import counts as db_counts
from services.db.models import Case, Category, Round, Target, Unit, Verdict

AS_OF = date(2021, 10, 20)
NOW = datetime(2021, 10, 20, 9, 0, tzinfo=SHANGHAI)
ROUNDS = ("2019Q4", "2020Q1", "2020Q2", "2020Q3", "2020Q4", "2021Q1", "2021Q2", "2021Q3")
RECHECK_ROUND = "2021Q4"
PROGRESS_EVERY = 10_000  # cases between two progress reports
LATEST_STATES = (("verified", 30), ("notified", 25), ("rectifying", 20), ("submitted", 10))
LATEST_STATES += (("escalated", 10), ("found", 5))
OPEN_DEADLINE, OVERDUE_DEADLINE = date(2021, 11, 15), date(2021, 10, 10)
CHAIN_SHARE, STRAGGLER_SHARE = 0.05, 0.01
CASE_COLUMNS = (
    "id round_id target_id unit_id category_code severity description evidence source state "
    "deadline deadline_mode notified_at escalation_level escalated_for_deadline notices_city "
    "notices_province previous_case_id synthetic created_at updated_at version"
).split()


@dataclass
class Generated:
    units: int
    targets: int
    rounds: int
    cases: int
    overdue: int
    chained: int
    open: int


def _round(code: str) -> dict:
    year, quarter = int(code[:4]), int(code[-1])
    start = date(year, 3 * quarter - 2, 1)
    end = (start + timedelta(days=92)).replace(day=1) - timedelta(days=1)
    return {"code": code, "title": f"{code} 检查", "period_start": start, "period_end": end}


def _units(n: int, rng: random.Random) -> list[dict]:
    """One province, ~2% cities, ~15% counties, the rest departments; ids 1..n in order."""
    cities, counties = max(1, n * 2 // 100), max(1, n * 15 // 100)
    units = [{"id": 1, "code": "p", "name": "省政府", "kind": "province_gov", "path": "/p/"}]
    for i in range(2, n + 1):
        if i <= 1 + cities:
            parent, kind, prefix = 1, "city_gov", "c"
        elif i <= 1 + cities + counties:
            parent, kind, prefix = rng.randint(2, 1 + cities), "county_gov", "k"
        else:
            parent, kind, prefix = rng.randint(2, min(n, 1 + cities + counties)), "dept", "d"
        code = f"{prefix}{i}"
        units.append(
            {
                "id": i,
                "code": code,
                "name": f"单位{i}",
                "kind": kind,
                "parent_id": parent if i > 1 else None,
                "path": f"{units[parent - 1]['path']}{code}/",
            }
        )
    return [{"parent_id": None, "synthetic": True, **u} for u in units]


def _targets(units: int, rng: random.Random) -> list[dict]:
    """Per unit a website, two columns of it and 2–12 new-media accounts."""
    rows: list[dict] = []
    platforms = ("wechat", "weibo", "douyin", "toutiao")
    for unit in range(1, units + 1):
        site = len(rows) + 1
        rows.append(
            {"kind": "website", "url": f"https://u{unit}.gov.test/", "domain": f"u{unit}.gov.test"}
        )
        rows += [{"kind": "column", "parent_target_id": site, "column_type": "news"}] * 2
        rows += [
            {"kind": "new_media", "platform": rng.choice(platforms)}
            for _ in range(rng.randint(2, 12))
        ]
        for row in rows[site - 1 :]:
            row.setdefault("unit_id", unit)
    return [
        {
            "id": i,
            "code": f"t{i}",
            "name": f"对象{i}",
            "status": "operating",
            "synthetic": True,
            "url": None,
            "domain": None,
            "parent_target_id": None,
            "platform": None,
            "column_type": None,
            **row,
        }
        for i, row in enumerate(rows, start=1)
    ]


def _cases(
    total: int, targets: list[dict], categories: list[str], rng: random.Random
) -> Iterator[tuple]:
    """Case rows in id order, round by round; slot j of a round is (target, category) j."""
    per_round = -(-total // len(ROUNDS))
    slots = len(targets) * len(categories)
    if per_round > slots:
        raise ValidationFailed([f"单位过少：每轮 {per_round} 件超过 {slots} 个对象×类别组合"])
    stride = 7919 if slots % 7919 else 7907  # spread a round's slots over targets (a prime)
    chained = [bytearray(per_round) for _ in ROUNDS]
    for r in range(1, len(ROUNDS)):
        chained[r] = bytearray(rng.random() < CHAIN_SHARE for _ in range(per_round))
    depth = [0] * per_round
    overdue_every = max(1, per_round // max(1, total // 100))
    weights = [w for _, w in LATEST_STATES]
    latest_states = rng.choices([s for s, _ in LATEST_STATES], weights, k=per_round)
    case_id = 0
    for r in range(len(ROUNDS)):
        last = r == len(ROUNDS) - 1
        count = min(per_round, total - r * per_round)
        for j in range(count):
            case_id += 1
            slot = j * stride % slots
            target = targets[slot % len(targets)]
            depth[j] = depth[j] + 1 if chained[r][j] else 0
            # A later round's case continues this one: it was carried over (continued).
            continued = (
                not last and chained[r + 1][j] and j < min(per_round, total - (r + 1) * per_round)
            )
            deadline, level, escalated_for = OPEN_DEADLINE, 0, None
            if last:
                state = latest_states[j]
                if state == "found" and chained[r][j]:
                    state = "notified"  # a repeat is notified as it is opened
                if j % overdue_every == 0:
                    state, deadline = "notified", OVERDUE_DEADLINE
            elif continued or rng.random() < STRAGGLER_SHARE:
                state, deadline = "escalated", _round(ROUNDS[r])["period_end"] + timedelta(30)
                state = "continued" if continued else state
            else:
                state = "verified"
            if state in ("escalated", "continued"):
                level, escalated_for = 1, deadline
            found = state == "found"
            created = datetime.combine(_round(ROUNDS[r])["period_end"], NOW.timetz()) + timedelta(
                days=10
            )
            yield (
                case_id,
                r + 1,
                target["id"],
                target["unit_id"],
                categories[slot // len(targets)],
                "veto" if j % 20 == 0 else "deduction",
                f"问题{case_id}",
                "{}",
                "generated",
                state,
                None if found else deadline,
                None if found else "calendar",
                None if found else created,
                level,
                escalated_for,
                0 if found else depth[j] + 1,
                0,
                case_id - per_round if chained[r][j] and j < count else None,
                True,
                created,
                created,
                1,
            )


def _bulk(engine: Engine, table, columns: list[str], rows: Iterable[tuple]) -> int:
    """COPY on PostgreSQL, executemany of 50,000 rows at a time elsewhere; rows written."""
    written = 0
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            cursor = conn.connection.driver_connection.cursor()
            with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    written += 1
        return written
    chunk: list[dict] = []
    with engine.begin() as conn:
        for row in rows:
            chunk.append(dict(zip(columns, row, strict=True)))
            if len(chunk) == 50_000:
                conn.execute(insert(table), chunk)
                written, chunk = written + len(chunk), []
        if chunk:
            conn.execute(insert(table), chunk)
            written += len(chunk)
    return written


def _rows(dicts: list[dict], columns: list[str]) -> Iterator[tuple]:
    return (tuple(d[c] for c in columns) for d in dicts)


def generate(
    engine: Engine, *, units: int, cases: int, seed: int = 1, progress: Progress = silent
) -> Generated:
    """Fill an empty, migrated, catalogue-seeded database; the same seed, the same rows
    (``progress``: the cases written, of all)."""
    if units < 10 or cases < len(ROUNDS):
        raise ValidationFailed(["单位数至少 10，案件数至少 8"])
    with engine.connect() as conn:
        if conn.scalar(select(func.count()).select_from(Case)):
            raise ValidationFailed(["数据库中已有案件；生成器只写入空数据库"])
        categories = list(conn.scalars(select(Category.code).order_by(Category.code)))
    if not categories:
        raise ValidationFailed(["类别目录为空；请先运行 rectify db upgrade"])
    rng = random.Random(seed)
    unit_rows, target_rows = _units(units, rng), None
    target_rows = _targets(units, rng)
    rounds = [{**_round(code), "notice_texts": {}} for code in (*ROUNDS, RECHECK_ROUND)]
    with engine.begin() as conn:
        conn.execute(insert(Round.__table__), rounds)
    tables = ((Unit, unit_rows), (Target, target_rows))
    for model, rows in tables:
        _bulk(engine, model.__table__, list(rows[0]), _rows(rows, list(rows[0])))
    with engine.connect() as conn:
        round_ids = dict(conn.execute(select(Round.code, Round.id)).all())
    verdicts = (
        (round_ids[code], t["id"], True)
        for code in ROUNDS
        for t in target_rows[:: max(1, len(target_rows) // 5000)]
    )
    _bulk(engine, Verdict.__table__, ["round_id", "target_id", "inspected"], verdicts)
    ordered = [round_ids[code] for code in ROUNDS]
    counts = {"overdue": 0, "chained": 0, "open": 0}

    def counted(rows: Iterator[tuple]) -> Iterator[tuple]:
        state_at, deadline_at, previous_at = (CASE_COLUMNS.index(c) for c in ("state",
            "deadline", "previous_case_id"))  # fmt: skip
        for n, row in enumerate(rows, 1):
            if n % PROGRESS_EVERY == 0:
                progress(n, cases)
            row = (row[0], ordered[row[1] - 1], *row[2:])
            counts["overdue"] += row[deadline_at] == OVERDUE_DEADLINE
            counts["chained"] += row[previous_at] is not None
            counts["open"] += row[state_at] not in ("verified", "continued", "found")
            yield row

    written = _bulk(
        engine, Case.__table__, CASE_COLUMNS, counted(_cases(cases, target_rows, categories, rng))
    )
    progress(written, cases)
    _after_load(engine)
    with Session(engine) as session, session.begin():
        db_counts.recount(session)  # the live counters, as the services would have kept them
    return Generated(units, len(target_rows), len(rounds), written, **counts)


def _after_load(engine: Engine) -> None:
    """Move PostgreSQL's id sequences past the explicit ids; refresh planner statistics."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            for table in ("units", "targets", "cases"):
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT coalesce(max(id), 1) FROM {table}))"
                    )
                )
        conn.execute(text("ANALYZE"))
