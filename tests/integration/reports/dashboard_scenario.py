"""A database with every standing a case can have, built through the services: overdue,
escalated (overdue or not), continued (a later round's case took it over, one of them
escalated before), extended (no longer overdue), submitted past its deadline, verified and
found; in two trees (样例市 with a county, and another root), on the notice day 2021-07-19.

Q1's cases are opened and notified on 12 April (10 calendar days: deadline 22 April), so by
the notice day the ones still owed are overdue. What each scope's dashboard must count is in
``EXPECTED`` (cards), and every figure must equal the length of the list it links to.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date
from typing import get_type_hints
from urllib.parse import parse_qsl

from services.cases import transitions
from services.core.clock import Clock
from services.core.uow import UnitOfWork
from services.rounds import rounds
from tests.builders import a_case, a_round, a_target, a_unit
from web.filters import list_filters

EARLY = date(2021, 4, 12)
CITY, COUNTY = "/city/", "/city/county/"
#: The cards of each scope: 案件总数, 未结案件, 已超期, 已升级督办, 已转入下一轮.
EXPECTED = {
    None: {"total": 13, "open": 10, "overdue": 4, "escalated": 2, "continued": 2},
    CITY: {"total": 12, "open": 9, "overdue": 3, "escalated": 2, "continued": 2},
    COUNTY: {"total": 8, "open": 6, "overdue": 2, "escalated": 2, "continued": 1},
}


@dataclass
class Cases:
    overdue: int  # county's water bureau, notified on 12 April
    overdue_city: int  # a city department, rectifying since April
    escalated_overdue: int  # the county itself, escalated, deadline 22 April
    carried: int  # continued by ``successor`` (it was overdue when taken over)
    carried_escalated: int  # escalated, then continued by ``successor_escalated``
    extended: int  # deadline extended on the notice day to 31 August
    verified: int
    submitted_late: int  # submitted after its deadline: the office's turn, not overdue
    successor: int
    successor_escalated: int
    found: int
    escalated: int  # Q2, deadline 29 July: escalated, not overdue
    other_tree: int  # another root's overdue case


def early(app) -> UnitOfWork:
    """A unit of work on 12 April (the app runs on the notice day, 19 July)."""
    return UnitOfWork(app.session_factory, clock=Clock(EARLY), settings=app.settings)


NAMES = {"city": "样例市", "county": "样例县", "water": "样例县水务局", "cdept": "样例市教育局"}
_sites = itertools.count(1)


def _case(uow: UnitOfWork, unit: str, state: str, round_code: str, **fields) -> int:
    name = f"{NAMES.get(unit, '另一市')}网站{next(_sites)}"
    target = a_target(uow, unit_code=unit, name=name).code
    return a_case(uow, state=state, round_code=round_code, target_code=target, **fields).id


def build(app) -> Cases:
    """The scenario; returns the case ids by role."""
    with early(app) as uow:
        a_round(uow, "2021Q1")
        a_round(uow, "2021Q2")
        a_unit(uow, "city", name="样例市人民政府", kind="city_gov")
        a_unit(uow, "county", name="样例县人民政府", kind="county_gov", parent_code="city")
        a_unit(uow, "water", name="样例县水务局", kind="other", parent_code="county")
        a_unit(uow, "cdept", name="样例市教育局", parent_code="city")
        a_unit(uow, "other", name="另一市人民政府", kind="city_gov")
        q1 = {
            "overdue": _case(uow, "water", "notified", "2021Q1", severity="veto"),
            "overdue_city": _case(uow, "cdept", "rectifying", "2021Q1"),
            "escalated_overdue": _case(uow, "county", "escalated", "2021Q1"),
            "carried": _case(uow, "water", "notified", "2021Q1"),
            "carried_escalated": _case(uow, "cdept", "escalated", "2021Q1"),
            "extended": _case(uow, "county", "notified", "2021Q1"),
            "verified": _case(uow, "county", "verified", "2021Q1"),
            "submitted_late": _case(uow, "cdept", "submitted", "2021Q1"),
            "other_tree": _case(uow, "other", "notified", "2021Q1"),
        }
        uow.commit()
    with app.uow() as uow:
        successors = {
            "successor": _successor(uow, q1["carried"]),
            "successor_escalated": _successor(uow, q1["carried_escalated"]),
        }
        transitions.transition(
            uow, case_id=successors["successor_escalated"], trigger="notify", actor="测试员"
        )
        transitions.extend_deadline(
            uow,
            case_id=q1["extended"],
            new_deadline=date(2021, 8, 31),
            reason="单位申请延期",
            actor="督查员",
        )
        q2 = {
            "found": _case(uow, "county", "found", "2021Q2", severity="veto"),
            "escalated": _case(
                uow, "water", "escalated", "2021Q2", category="column_stale_minor"
            ),  # a deduction: the target fails only by the office's ruling (with_verdicts)
        }
        uow.commit()
    return Cases(**q1, **successors, **q2)


def _successor(uow: UnitOfWork, previous_id: int) -> int:
    """2021Q2's case for the same problem: it takes the earlier case over (carry_over)."""
    previous = transitions.get_case(uow, previous_id)
    case, _ = transitions.open_case(
        uow,
        transitions.Finding(
            round_code="2021Q2",
            target_code=previous.target.code,
            category_code=previous.category_code,
            previous_case_id=previous_id,
        ),
        actor="测试员",
    )
    return case.id


def with_verdicts(app, cases: Cases) -> None:
    """2021Q2's inspected websites, two with the office's override: a target with a veto
    case ruled qualified, a clean one ruled unqualified."""
    with app.uow() as uow:
        overridden = _case(uow, "cdept", "found", "2021Q2", severity="veto")
        plain = [cases.found, cases.successor, cases.overdue]  # veto, deduction, Q1's only
        for case_id in plain:
            rounds.set_verdict(uow, round_code="2021Q2", target_code=_target(uow, case_id))
        for case_id, qualified in ((overridden, True), (cases.escalated, False)):
            rounds.set_verdict(
                uow,
                round_code="2021Q2",
                target_code=_target(uow, case_id),
                qualified_override=qualified,
                override_reason="督查组复核认定",
            )
        uow.commit()


def _target(uow: UnitOfWork, case_id: int) -> str:
    return transitions.get_case(uow, case_id).target.code


_HINTS = get_type_hints(list_filters)


def filters_of(query: str):
    """A list link's query string read by ``list_filters``, the /cases route's own parser,
    each value turned into its declared type as FastAPI does (a ``1`` for a flag)."""
    params = {}
    for name, value in parse_qsl(query):
        kind = _HINTS[name]
        if kind is bool:
            params[name] = value.lower() in ("1", "true", "on", "yes")
        elif kind in (int, int | None):
            params[name] = int(value)
        else:
            params[name] = value
    return list_filters(**params)
