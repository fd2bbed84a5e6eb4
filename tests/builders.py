"""Builders that say what a test's data is: ``a_case(uow, state="notified")``."""

from __future__ import annotations

import itertools
from datetime import date

from services.cases import transitions
from services.core.clock import Clock
from services.core.uow import UnitOfWork
from services.db.models import Case
from services.registry import units as registry
from services.rounds import issuers, rounds

_seq = itertools.count(1)


def a_unit(uow: UnitOfWork, code: str | None = None, *, parent_code: str | None = None, **fields):
    code = code or f"unit{next(_seq)}"
    spec = registry.UnitSpec(
        code=code,
        name=fields.pop("name", f"单位{code}"),
        kind=fields.pop("kind", "city_dept"),
        parent_code=parent_code,
        contact_email=fields.pop("contact_email", f"{code}@units.test"),
        leader_email=fields.pop("leader_email", f"leader.{code}@units.test"),
        **fields,
    )
    return registry.upsert_unit(uow, spec)


def a_target(
    uow: UnitOfWork,
    code: str | None = None,
    *,
    unit_code: str | None = None,
    kind: str = "website",
    **fields,
):
    code = code or f"target{next(_seq)}"
    unit_code = unit_code or a_unit(uow).code
    spec = registry.TargetSpec(
        code=code, unit_code=unit_code, kind=kind, name=fields.pop("name", f"网站{code}"), **fields
    )
    return registry.upsert_target(uow, spec)


#: The issuing office of the test scenarios' rounds (as the demo's rounds name theirs).
OFFICE = "临沧市人民政府办公室"


def an_issuer(uow: UnitOfWork, unit_code: str, *, level: str = "city", **fields):
    """The unit as an issuing office (发文机关) at ``level``; names default from the unit code."""
    spec = issuers.IssuerSpec(
        unit_code=unit_code,
        name=fields.pop("name", f"{unit_code}人民政府办公室"),
        short_name=fields.pop("short_name", f"{unit_code}政府办公室"),
        level=level,
        doc_pattern=fields.pop("doc_pattern", None),
    )
    return issuers.upsert_issuer(uow, spec)


def a_round(uow: UnitOfWork, code: str = "2021Q2", **fields):
    year, quarter = int(code[:4]), int(code[-1])
    start = date(year, 3 * quarter - 2, 1)
    end = date(year + (quarter == 4), (3 * quarter) % 12 + 1, 1).replace(day=1)
    spec = rounds.RoundSpec(
        code=code,
        period_start=start,
        period_end=date.fromordinal(end.toordinal() - 1),
        **fields,
    )
    round_ = rounds.upsert_round(uow, spec)
    round_.notice_texts = {"office": OFFICE, **(round_.notice_texts or {})}
    return round_


def a_case(
    uow: UnitOfWork,
    *,
    state: str = "found",
    category: str = "column_stale",
    round_code: str = "2021Q2",
    target_code: str | None = None,
    actor: str = "测试员",
    on: date | None = None,
    **fields,
) -> Case:
    """A case driven to ``state`` through the real transitions (so its history is real),
    as of the day ``on`` when given (the unit of work's clock otherwise)."""
    if on is not None:
        saved, uow.clock = uow.clock, Clock(on, tz=uow.clock.tz)
        try:
            return a_case(
                uow, state=state, category=category, round_code=round_code,
                target_code=target_code, actor=actor, **fields,
            )  # fmt: skip
        finally:
            uow.clock = saved
    round_ = rounds.get_round(uow, round_code, required=False) or a_round(uow, round_code)
    if target_code is None:  # a new target within the round's issuer's tree, where it has one
        office = round_.issuer.unit.code if round_.issuer is not None else None
        target_code = a_target(uow, unit_code=a_unit(uow, parent_code=office).code).code
    case, _ = transitions.open_case(
        uow,
        transitions.Finding(
            round_code=round_code, target_code=target_code, category_code=category, **fields
        ),
        actor=actor,
    )
    for trigger in PATH_TO[state]:
        transitions.transition(
            uow,
            case_id=case.id,
            trigger=trigger,
            actor=actor,
            note="测试" if trigger == "reject" else None,
        )
    return case


PATH_TO = {
    "found": [],
    "notified": ["notify"],
    "rectifying": ["notify", "start"],
    "submitted": ["notify", "start", "submit"],
    "verified": ["notify", "start", "submit", "verify"],
    "escalated": ["notify", "escalate"],
}
