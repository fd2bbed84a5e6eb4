"""Live case counters (``case_counts``): kept in the transaction of every write that moves a
case, so a tree's dashboard reads a few hundred rows, never a million cases.

One row per root of the unit tree (a unit without a parent, by its path: ``/p/``), round,
category, state and escalated-or-not (``escalation_level > 0``). A write hands ``apply`` the
cases it changed as deltas keyed by the case's own unit; on PostgreSQL one statement over
arrays looks up the units' roots, sums the deltas per key and upserts them; on SQLite the
roots are looked up first (one query; with several trees, a second for the units' paths) and
the summed deltas upserted by the driver's executemany (``bulk.add_rows``). Every path that writes cases calls it:
``open_case``, ``transition``, the batched ``transition_many`` (recheck, sweep,
publication, imports), and a unit moved to another root (``move_subtree``). Bulk loaders
that bypass them (the benchmark generator, an archive restore) call ``recount``.
``mismatches`` compares the table with a fresh count (tests).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import case, delete, func, select
from sqlalchemy.orm import Session

from services.db import bulk
from services.db.count_models import CaseCount
from services.db.models import Case, Unit

#: A delta's key: the case's own unit, its round, category, state and escalated-or-not.
Key = tuple[int, int, str, str, bool]
#: A counter's key: the unit tree's root path, round, category, state, escalated-or-not.
RootKey = tuple[str, int, str, str, bool]
COUNTS = CaseCount.__table__
_NAMES = ("root_path", "round_id", "category_code", "state", "escalated")
#: The roots' paths (two at most: is there only one tree?); built once, run at each write.
_UNITS = Unit.__table__.c
_TREES = select(_UNITS.path).where(_UNITS.parent_id.is_(None)).limit(2)
#: PostgreSQL: the deltas' roots looked up, summed per counter and upserted in one statement
#: (keys in order: no lock-order deadlock). ``root_of`` in SQL: ``/p/c2/`` → ``/p/``.
_DELTA_NAMES = ("unit_id", *_NAMES[1:])
_DELTA_COLUMNS = (("unit_id", _UNITS.id), *((n, COUNTS.c[n]) for n in (*_NAMES[1:], "n")))
_ROOTED_UPSERT = (
    "INSERT INTO case_counts (root_path, round_id, category_code, state, escalated, n) "
    "SELECT '/' || split_part(units.path, '/', 2) || '/', v.round_id, v.category_code, "
    "v.state, v.escalated, sum(v.n) FROM {rows} JOIN units ON units.id = v.unit_id "
    "GROUP BY 1, 2, 3, 4, 5 HAVING sum(v.n) <> 0 ORDER BY 1, 2, 3, 4, 5 "
    "ON CONFLICT (root_path, round_id, category_code, state, escalated) "
    "DO UPDATE SET n = case_counts.n + excluded.n"
)


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
    units = {k[0] for k, n in deltas.items() if n}
    if not units:
        return
    if session.get_bind().dialect.name == "postgresql":
        rows = [dict(zip(_DELTA_NAMES, k, strict=True), n=n) for k, n in deltas.items() if n]
        bulk.execute_over_arrays(session, _ROOTED_UPSERT, _DELTA_COLUMNS, rows)
        return
    roots = _roots(session, units)
    summed: dict[RootKey, int] = {}
    for k, n in deltas.items():
        if n:
            root_key = (roots[k[0]], *k[1:])
            summed[root_key] = summed.get(root_key, 0) + n
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


def narrowest(session: Session, scope_path: str | None) -> str | None:
    """``scope_path``, or None when it is the root of the only tree: the same cases, read
    without restricting every query to the tree's units."""
    if scope_path is None or scope_path != root_of(scope_path):
        return scope_path
    trees = session.scalars(_TREES).all()
    return None if trees == [scope_path] else scope_path


def _roots(session: Session, unit_ids: set[int]) -> dict[int, str]:
    """Each unit's root path. With one tree (the usual installation) every unit is in it:
    no lookup of the units themselves (a batch names hundreds)."""
    trees = session.scalars(_TREES).all()
    if len(trees) == 1:
        return dict.fromkeys(unit_ids, trees[0])
    query = select(Unit.id, Unit.path).where(bulk.ids_in(session, Unit.id, unit_ids))
    return {unit_id: root_of(path) for unit_id, path in session.execute(query)}


def _upsert(session: Session, deltas: Mapping[RootKey, int]) -> None:
    """``n = n + delta`` per key, new keys inserted; keys in order (no lock-order deadlock)."""
    rows = [dict(zip(_NAMES, k, strict=True), n=n) for k, n in sorted(deltas.items())]
    bulk.add_rows(session, COUNTS, _NAMES, "n", rows)
