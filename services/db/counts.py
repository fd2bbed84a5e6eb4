"""Live case counters (``case_counts``): kept in the transaction of every write that moves a
case, so a tree's dashboard reads a few hundred rows, never a million cases.

One row per root of the unit tree (a unit without a parent, by its path: ``/p/``), round,
category, state and escalated-or-not (``escalation_level > 0``). A write hands ``apply`` the
cases it changed as deltas keyed by the case's own unit; the unit's root is looked up here
(one query per call), the deltas summed per key and upserted in one statement per thousand
keys. Every path that writes cases calls it: ``open_case``, ``transition``, the batched
``transition_many`` (recheck, sweep, publication, imports), and a unit moved to another root
(``move_subtree``). Bulk loaders that bypass them (the benchmark generator, an archive
restore) call ``recount``. ``mismatches`` compares the table with a fresh count (tests).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import case, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from services.db import bulk
from services.db.count_models import CaseCount
from services.db.models import Case, Unit

#: A delta's key: the case's own unit, its round, category, state and escalated-or-not.
Key = tuple[int, int, str, str, bool]
#: A counter's key: the unit tree's root path, round, category, state, escalated-or-not.
RootKey = tuple[str, int, str, str, bool]
COUNTS = CaseCount.__table__
_CHUNK = 1000


@dataclass(frozen=True)
class CountRow:
    round_id: int
    category_code: str
    state: str
    escalated: bool
    n: int


def root_of(path: str) -> str:
    """The root of a unit's materialised path: ``/p/c2/k5/`` → ``/p/``."""
    return "/" + path.split("/", 2)[1] + "/"


def is_root_scope(scope_path: str | None) -> bool:
    """True for the whole installation (None) or a whole tree (a root's path)."""
    return scope_path is None or scope_path == root_of(scope_path)


def key(unit_id: int, round_id: int, category_code: str, state: str, escalation_level: int) -> Key:
    return (unit_id, round_id, category_code, str(state), bool(escalation_level))


def moved(deltas: Counter, before: Key | None, after: Key | None) -> None:
    """Record one case leaving ``before`` (None: new) and entering ``after``."""
    if before == after:
        return
    if before is not None:
        deltas[before] -= 1
    if after is not None:
        deltas[after] += 1


def apply(session: Session, deltas: Mapping[Key, int]) -> None:
    """Add the deltas to the counters, in the caller's transaction."""
    wanted = {k: n for k, n in deltas.items() if n}
    if not wanted:
        return
    roots = _roots(session, {k[0] for k in wanted})
    summed: Counter[RootKey] = Counter()
    for (unit_id, *rest), n in wanted.items():
        summed[(roots[unit_id], *rest)] += n
    _upsert(session, {k: n for k, n in summed.items() if n})


def read(session: Session, root_path: str | None) -> list[CountRow]:
    """The counters of one tree (or of every tree, summed), zero rows left out."""
    c = COUNTS.c
    query = select(c.round_id, c.category_code, c.state, c.escalated, func.sum(c.n)).where(c.n != 0)
    if root_path is not None:
        query = query.where(c.root_path == root_path)
    query = query.group_by(c.round_id, c.category_code, c.state, c.escalated)
    return [CountRow(*row) for row in session.execute(query)]


def counted(session: Session, unit_path: str | None = None) -> Counter[RootKey]:
    """A fresh count from ``cases`` (every case, or those under ``unit_path``), by root key."""
    level = case((Case.escalation_level > 0, True), else_=False)
    query = (
        select(Unit.path, Case.round_id, Case.category_code, Case.state, level, func.count())
        .join(Unit, Unit.id == Case.unit_id)
        .group_by(Unit.path, Case.round_id, Case.category_code, Case.state, level)
    )
    if unit_path is not None:
        query = query.where(Unit.path.startswith(unit_path, autoescape=True))
    result: Counter[RootKey] = Counter()
    for path, round_id, category_code, state, escalated, n in session.execute(query):
        result[(root_of(path), round_id, category_code, state, bool(escalated))] += n
    return result


def recount(session: Session) -> int:
    """Rebuild every counter from ``cases``; the number of counter rows written."""
    fresh = counted(session)
    session.execute(delete(COUNTS))
    _upsert(session, fresh)
    return len(fresh)


def mismatches(session: Session) -> dict[RootKey, tuple[int, int]]:
    """Keys whose counter differs from a fresh count: (stored, counted)."""
    c = COUNTS.c
    stored = {
        (r, round_id, cat, state, bool(esc)): n
        for r, round_id, cat, state, esc, n in session.execute(
            select(c.root_path, c.round_id, c.category_code, c.state, c.escalated, c.n)
        )
        if n
    }
    fresh = counted(session)
    return {
        k: (stored.get(k, 0), fresh.get(k, 0))
        for k in set(stored) | set(fresh)
        if stored.get(k, 0) != fresh.get(k, 0)
    }


def move_subtree(session: Session, old_path: str, new_path: str) -> None:
    """A unit (and its subtree) moves from ``old_path`` to ``new_path``: call before the
    paths change. Its cases' counters go to the new root when the root changes."""
    old_root, new_root = root_of(old_path), root_of(new_path)
    if old_root == new_root:
        return
    deltas: Counter[RootKey] = Counter()
    for (_root, *rest), n in counted(session, old_path).items():
        deltas[(old_root, *rest)] -= n
        deltas[(new_root, *rest)] += n
    _upsert(session, deltas)


def _roots(session: Session, unit_ids: Iterable[int]) -> dict[int, str]:
    query = select(Unit.id, Unit.path).where(bulk.ids_in(session, Unit.id, unit_ids))
    return {unit_id: root_of(path) for unit_id, path in session.execute(query)}


def _upsert(session: Session, deltas: Mapping[RootKey, int]) -> None:
    """``n = n + delta`` per key, new keys inserted; keys in order (no lock-order deadlock)."""
    if not deltas:
        return
    dialect = session.get_bind().dialect.name
    make = postgresql.insert if dialect == "postgresql" else sqlite.insert
    names = ("root_path", "round_id", "category_code", "state", "escalated")
    rows = [{**dict(zip(names, k, strict=True)), "n": n} for k, n in sorted(deltas.items())]
    for start in range(0, len(rows), _CHUNK):
        statement = make(COUNTS).values(rows[start : start + _CHUNK])
        statement = statement.on_conflict_do_update(
            index_elements=list(names), set_={"n": COUNTS.c.n + statement.excluded.n}
        )
        session.execute(statement)
