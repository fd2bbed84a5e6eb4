"""What the notices of a group of rounds read from the database: one query per kind of data
for the whole group, each round's rows in the order its notice prints them.

A notice of one round reads through a group of one; ``notice.build_notices`` reads the rounds
of many offices through one group (the national stage: thousands of rounds, a few dozen
queries a group instead of some twenty a round).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Integer, func, literal, select, union_all
from sqlalchemy.orm import defer, joinedload

from services.core.uow import UnitOfWork
from services.db.issuer_models import Issuer
from services.db.models import (
    BoardFigure,
    Case,
    CaseNotice,
    Category,
    Round,
    Target,
    Unit,
    Verdict,
)
from services.rounds import blocks, rounds

CaseRow = tuple[Case, Target, Unit, Category]
#: Rounds whose operating targets one statement counts (a query each, united).
_UNITED = 100


def rounds_named(uow: UnitOfWork, codes: Sequence[str]) -> list[Round]:
    """The rounds of these codes, in that order, with their issuers and the issuers' units
    (one query); an unknown code is refused as ``rounds.get_round`` refuses it."""
    found = {
        round_.code: round_
        for round_ in uow.session.scalars(
            select(Round)
            .where(Round.code.in_(list(dict.fromkeys(codes))))
            .options(joinedload(Round.issuer).joinedload(Issuer.unit))
        )
    }
    for code in codes:
        if code not in found:
            rounds.get_round(uow, code)  # raises NotFound, naming the round
    return [found[code] for code in codes]


class NoticeReads:
    """The rows of every round in ``rounds_``, read on first use, one query per kind."""

    def __init__(self, uow: UnitOfWork, rounds_: Sequence[Round]):
        self.uow = uow
        self._rounds = {r.id: r for r in rounds_}
        self._loaded: dict[str, dict[int, list[Any]]] = {}
        self._previous: dict[int, Any] = {}
        self._fixed: dict[int, set[int]] = {}
        self._before: NoticeReads | None = None

    def _per_round(self, name: str, load: Callable[[list[int]], Iterable[tuple[int, Any]]]):
        if name not in self._loaded:
            grouped: dict[int, list[Any]] = {round_id: [] for round_id in self._rounds}
            for round_id, row in load(list(self._rounds)):
                grouped[round_id].append(row)
            self._loaded[name] = grouped
        return self._loaded[name]

    def _column_rows(self, statement: Any) -> Sequence[Any]:
        """A query of columns, without the ORM's work per row (a sixth of the cost on the
        thousands of rows of a group); pending changes flushed first, as a query does."""
        session = self.uow.session
        if session.autoflush:
            session.flush()
        return session.connection().execute(statement).all()

    def cases(self, round_: Round) -> list[CaseRow]:
        """The round's cases with their target, unit and category, in catalogue order."""
        return self._per_round("cases", self._cases)[round_.id]

    def _cases(self, ids: list[int]):
        catalogue = {c.code: c for c in self.uow.session.scalars(select(Category))}
        result = self.uow.session.execute(
            select(Case, Target, Unit)
            .join(Target, Target.id == Case.target_id)
            .join(Unit, Unit.id == Case.unit_id)
            .join(Category, Category.code == Case.category_code)
            .where(Case.round_id.in_(ids))
            .order_by(Category.sort_order, Case.id)
            .options(defer(Case.evidence))  # what a check saw: not printed
        ).all()
        return (
            (case.round_id, (case, target, unit, catalogue[case.category_code]))
            for case, target, unit in result
        )

    def inspected(self, round_: Round) -> list[tuple[int, bool | None, str]]:
        """The round's inspected targets: id, the verdict's override, the target's kind."""
        return self._per_round("inspected", self._inspected)[round_.id]

    def _inspected(self, ids: list[int]):
        result = self._column_rows(
            select(Verdict.round_id, Verdict.target_id, Verdict.qualified_override, Target.kind)
            .join(Target, Target.id == Verdict.target_id)
            .where(Verdict.round_id.in_(ids), Verdict.inspected.is_(True))
            .order_by(Verdict.target_id)
        )
        return (
            (round_id, (target_id, override, kind))
            for round_id, target_id, override, kind in result
        )

    def praised(self, round_: Round) -> list[tuple[str, str, str, str]]:
        """The round's verdicts with a praise, by target id: the target's name, its unit's,
        the praise, the target's code."""
        return self._per_round("praised", self._praised)[round_.id]

    def _praised(self, ids: list[int]):
        columns = (Target.name, Unit.name, Verdict.praise, Target.code)
        return self._verdict_rows(ids, columns, Verdict.praise.is_not(None), Target.id)

    def units_inspected(self, round_: Round) -> list[tuple[int, str, str, str]]:
        """The round's inspected targets with their units: target id and kind, unit kind and
        path (what unit groups count)."""
        return self._per_round("units_inspected", self._units_inspected)[round_.id]

    def _units_inspected(self, ids: list[int]):
        columns = (Verdict.target_id, Target.kind, Unit.kind, Unit.path)
        return self._verdict_rows(ids, columns, Verdict.inspected.is_(True))

    def _verdict_rows(self, ids: list[int], columns: tuple, condition: Any, *order_by: Any):
        """``columns`` of the group's verdicts meeting ``condition``, with their targets and
        the targets' units: (round id, row) each."""
        result = self._column_rows(
            select(Verdict.round_id, *columns)
            .join(Target, Target.id == Verdict.target_id)
            .join(Unit, Unit.id == Target.unit_id)
            .where(Verdict.round_id.in_(ids), condition)
            .order_by(*order_by)
        )
        return ((round_id, tuple(rest)) for round_id, *rest in result)

    def tally(self, round_: Round, kinds: tuple[str, ...] = ()) -> dict[str, rounds.KindTally]:
        """``rounds.tally`` from the group's rows (the same rule: ``rounds.tally_of``)."""
        veto_cases = [(c.id, c.target_id) for c, *_ in self.cases(round_) if c.severity == "veto"]
        return rounds.tally_of(
            self.inspected(round_), veto_cases, self.fixed_at_recheck(round_), kinds=kinds
        )

    def fixed_at_recheck(self, round_: Round) -> set[int]:
        """``blocks.fixed_at_recheck``, read once a round."""
        if round_.id not in self._fixed:
            self._fixed[round_.id] = blocks.fixed_at_recheck(self.uow, round_)
        return self._fixed[round_.id]

    def boards(self, round_: Round) -> list[tuple[str | None, str, int, int]]:
        """The round's message-board figures by target id: the unit's short name and name,
        messages received, replies overdue."""
        return self._per_round("boards", self._boards)[round_.id]

    def _boards(self, ids: list[int]):
        result = self._column_rows(
            select(
                BoardFigure.round_id,
                Unit.short_name,
                Unit.name,
                BoardFigure.messages_received,
                BoardFigure.replies_overdue,
            )
            .join(Target, Target.id == BoardFigure.target_id)
            .join(Unit, Unit.id == Target.unit_id)
            .where(BoardFigure.round_id.in_(ids))
            .order_by(Target.id)
        )
        return ((round_id, tuple(rest)) for round_id, *rest in result)

    def notices_since(self, round_: Round, day: date) -> Counter:
        """Notices on the round's cases dated on or after ``day``: (case id, level) → n."""
        rows = self._per_round("notices", self._notices)[round_.id]
        return Counter((case_id, level) for case_id, level, on in rows if on >= day)

    def _notices(self, ids: list[int]):
        result = self._column_rows(
            select(Case.round_id, CaseNotice.case_id, CaseNotice.level, CaseNotice.notified_on)
            .join(Case, Case.id == CaseNotice.case_id)
            .where(Case.round_id.in_(ids))
        )
        return ((round_id, tuple(rest)) for round_id, *rest in result)

    def operating(self, round_: Round) -> dict[str, int]:
        """Registered operating targets per rated kind in the round's scope: its issuer's
        subtree (the whole registry for a round without an issuer)."""
        return dict(self._per_round("operating", self._operating)[round_.id])

    def _operating(self, ids: list[int]):
        parts = []
        for round_id in ids:
            query = (
                select(literal(round_id, Integer), Target.kind, func.count())
                .where(Target.status == "operating", Target.kind.in_(rounds.RATED_KINDS))
                .group_by(Target.kind)
            )
            issuer = self._rounds[round_id].issuer
            if issuer is not None:
                query = query.join(Unit, Unit.id == Target.unit_id).where(
                    Unit.path.startswith(issuer.unit.path, autoescape=True)
                )
            parts.append(query)
        result = [  # a statement of at most _UNITED queries (SQLite takes 500)
            row
            for start in range(0, len(parts), _UNITED)
            for row in self._column_rows(union_all(*parts[start : start + _UNITED]))
        ]
        return ((round_id, (kind, n)) for round_id, kind, n in result)

    def earlier_rounds(self, round_: Round) -> dict[int, str]:
        """The round codes of the earlier cases this round's cases continue: case id → code."""
        return self._per_round("earlier", self._earlier)[round_.id][0]

    def _earlier(self, ids: list[int]):
        continued = {
            case.previous_case_id: case.round_id
            for round_id in ids
            for case, *_ in self.cases(self._rounds[round_id])
            if case.previous_case_id is not None
        }
        codes: dict[int, dict[int, str]] = {round_id: {} for round_id in ids}
        if continued:
            for case_id, code in self.uow.session.execute(
                select(Case.id, Round.code)
                .join(Round, Round.id == Case.round_id)
                .where(Case.id.in_(list(continued)))
            ):
                codes[continued[case_id]][case_id] = code
        return ((round_id, found) for round_id, found in codes.items())

    def previous(self, round_: Round) -> Round | None:
        """The same office's round before this one (``rounds.previous_round_ids``), read once
        for the group."""
        if not self._previous:
            ids = rounds.previous_round_ids(self.uow, self._rounds)
            found = self.uow.session.scalars(select(Round).where(Round.id.in_(set(ids.values()))))
            by_id = {r.id: r for r in found}
            self._previous = {round_id: by_id.get(ids.get(round_id)) for round_id in self._rounds}
        return self._previous[round_.id]

    def before(self) -> NoticeReads:
        """The rows of the group's previous rounds (their follow-up figures), one group."""
        if self._before is None:
            previous = {self.previous(r) for r in self._rounds.values()}
            self._before = NoticeReads(self.uow, [r for r in previous if r is not None])
        return self._before
