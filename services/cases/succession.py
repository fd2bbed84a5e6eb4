"""Which later case continues a case that was carried over (已转入下一轮).

A case is continued by the case whose ``previous_case_id`` names it. When that case was
itself carried over again, the problem lives on in the last case of the chain: that is the
one a unit is pointed to (the portal's note and the refusal of a submission name it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.db.models import Case, Round
from states import CaseState

#: Longer chains than this are not followed (a problem carried over quarterly for 25 years).
MAX_CHAIN = 100


@dataclass(frozen=True)
class Successor:
    """The case a problem was carried over to, as far as the chain goes."""

    case_id: int
    round: str
    unit_id: int
    state: str

    def reachable_by(self, unit_id: int) -> bool:
        """Whether a unit's portal link opens the successor (it is the same unit's case)."""
        return self.unit_id == unit_id


def successors(session: Session, case_ids: Iterable[int]) -> dict[int, Successor]:
    """For each given case some later case continues, the last case of its chain."""
    found: dict[int, Successor] = {}
    # Where each asked case's chain has got to so far: asked id -> id to look beyond.
    frontier = {case_id: case_id for case_id in case_ids}
    for _ in range(MAX_CHAIN):
        if not frontier:
            break
        rows = session.execute(
            select(Case.previous_case_id, Case.id, Round.code, Case.unit_id, Case.state)
            .join(Round, Round.id == Case.round_id)
            .where(Case.previous_case_id.in_(set(frontier.values())))
            .order_by(Case.id)
        ).all()
        later = {
            previous: Successor(i, code, unit, state) for previous, i, code, unit, state in rows
        }
        next_frontier = {}
        for asked, reached in frontier.items():
            step = later.get(reached)
            if step is None:
                continue
            found[asked] = step
            if step.state == CaseState.CONTINUED:
                next_frontier[asked] = step.case_id
        frontier = next_frontier
    return found


def successor(session: Session, case_id: int) -> Successor | None:
    """The case that continues ``case_id`` (the last of its chain), or None."""
    return successors(session, [case_id]).get(case_id)
