"""The live counters' write (``counts.apply`` through ``bulk.add_rows``): one statement of
constant text adds each delta to its counter and creates the counters it lacks."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from services.db import bulk, counts
from services.db.count_models import CaseCount
from services.db.models import Unit
from tests.builders import a_case, a_unit


def _stored(uow) -> dict[tuple, int]:
    c = CaseCount.__table__.c
    rows = uow.session.execute(select(c.root_path, c.round_id, c.state, c.escalated, c.n))
    return {(root, round_id, state, escalated): n for root, round_id, state, escalated, n in rows}


def test_deltas_add_to_existing_counters_create_missing_ones_and_can_be_taken_back(app):
    with app.uow() as uow:
        case = a_case(uow, state="notified")
        root = counts.root_of(uow.session.get(Unit, case.unit_id).path)
        uow.commit()
    mine = counts.key(case.unit_id, case.round_id, case.category_code, "notified", 0)
    new = counts.key(case.unit_id, case.round_id, case.category_code, "verified", 1)
    with app.uow() as uow:
        counts.apply(uow.session, Counter({mine: 2, new: 5}))
        counts.apply(uow.session, Counter({mine: -1, new: 1}))
        uow.commit()
    with app.uow() as uow:
        stored = _stored(uow)
        wrong = counts.mismatches(uow.session)
    assert stored[(root, case.round_id, "notified", False)] == 1 + 2 - 1
    assert stored[(root, case.round_id, "verified", True)] == 5 + 1
    assert sorted(wrong.values()) == [(2, 1), (6, 0)]  # (stored, counted)
    with app.uow() as uow:  # taken back: the counters equal a recount again
        counts.apply(uow.session, Counter({mine: -1, new: -6}))
        uow.commit()
    with app.uow() as uow:
        assert counts.mismatches(uow.session) == {}
        assert _stored(uow)[(root, case.round_id, "verified", True)] == 0


def test_many_keys_in_one_call_each_land_on_its_own_counter_summed_per_tree(app):
    with app.uow() as uow:
        case = a_case(uow, state="notified")
        parent = uow.session.get(Unit, case.unit_id)
        child = a_unit(uow, parent_code=parent.code).id  # the same tree: the same counters
        uow.commit()
    states = ("found", "rectifying", "submitted", "escalated")
    deltas = Counter()
    for i, (state, level) in enumerate((s, level) for s in states for level in (0, 2)):
        deltas[counts.key(case.unit_id, case.round_id, case.category_code, state, level)] += i
        deltas[counts.key(child, case.round_id, case.category_code, state, level)] += 10
    with app.uow() as uow:
        counts.apply(uow.session, deltas)
        after = counts.read(uow.session, counts.root_of(parent.path))
        counts.apply(uow.session, Counter({k: -n for k, n in deltas.items()}))
        uow.commit()
    by_key = {(r.state, r.escalated): r.n for r in after if r.round_id == case.round_id}
    assert by_key == {
        ("notified", False): 1,
        ("found", False): 0 + 10,
        ("found", True): 1 + 10,
        ("rectifying", False): 2 + 10,
        ("rectifying", True): 3 + 10,
        ("submitted", False): 4 + 10,
        ("submitted", True): 5 + 10,
        ("escalated", False): 6 + 10,
        ("escalated", True): 7 + 10,
    }


def test_add_rows_writes_nothing_for_no_rows(app):
    with app.uow() as uow:
        before = _stored(uow)
        bulk.add_rows(uow.session, CaseCount.__table__, ("root_path",), "n", [])
        assert _stored(uow) == before


def test_with_two_trees_each_unit_counts_in_its_own_tree(app):
    with app.uow() as uow:
        case = a_case(uow, state="notified")
        other = a_unit(uow, kind="city_gov")  # a second tree: a unit without a parent
        below = a_unit(uow, parent_code=other.code)
        uow.flush()
        units = (case.unit_id, other.id, below.id)
        mine_root = counts.root_of(uow.session.get(Unit, case.unit_id).path)
        other_root = other.path
        uow.commit()
    with app.uow() as uow:
        roots = uow.session.scalars(select(Unit.path).where(Unit.parent_id.is_(None))).all()
    assert len(roots) >= 2 and other_root in roots and mine_root != other_root
    verified = [counts.key(u, case.round_id, case.category_code, "verified", 0) for u in units]
    deltas = Counter(dict(zip(verified, (3, 4, 5), strict=True)))
    with app.uow() as uow:
        counts.apply(uow.session, deltas)
        mine = counts.read(uow.session, mine_root)
        theirs = counts.read(uow.session, other_root)
        every = counts.read(uow.session, None)
        counts.apply(uow.session, Counter({k: -n for k, n in deltas.items()}))
        uow.commit()

    def verified_in(rows):
        return sum(r.n for r in rows if r.round_id == case.round_id and r.state == "verified")

    assert (verified_in(mine), verified_in(theirs), verified_in(every)) == (3, 4 + 5, 3 + 4 + 5)
