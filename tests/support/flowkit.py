"""Helpers shared by the publication, recheck, sweep and kill tests."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, time

from sqlalchemy import func, select

from services.bootstrap import App
from services.core.clock import SHANGHAI, Clock
from services.db.models import Case, CaseEvent, CheckResult, OutboxMessage


def at(app: App, day: date) -> App:
    """The same app and database, with the clock set to ``day``."""
    return dataclasses.replace(app, clock=Clock(day))


def mark(uow, case: Case, outcome: str, *, day: date = date(2021, 7, 1)) -> None:
    """Record a supervisor's recheck mark for a case."""
    uow.session.add(
        CheckResult(
            case_id=case.id,
            target_id=case.target_id,
            check="manual",
            outcome=outcome,
            summary="人工复查",
            checked_at=datetime.combine(day, time(9), tzinfo=SHANGHAI),
            run_ref="测试员",
        )
    )
    uow.flush()


def count(app: App, model, *where) -> int:
    with app.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(model).where(*where))


def snapshot(app: App) -> dict:
    """Cases, events and outbox rows as comparable tuples (natural keys, no ids or times)."""
    with app.uow() as uow:
        s = uow.session
        all_cases = list(s.scalars(select(Case)))
        key = {c.id: (c.round_id, c.target_id, c.category_code) for c in all_cases}
        cases = sorted(
            (
                key[c.id],
                c.state,
                c.escalation_level,
                c.notices_city,
                c.notices_province,
                c.deadline,
                key.get(c.previous_case_id),
                c.version,
            )
            for c in all_cases
        )
        events = sorted(
            (key[e.case_id], e.trigger, e.from_state, e.to_state, e.actor, _plain(e.data))
            for e in s.scalars(select(CaseEvent))
        )
        outbox = sorted(
            (key.get(m.case_id) or (), m.key.split(":")[0], m.template, str(m.to_addrs), m.status)
            for m in s.scalars(select(OutboxMessage))
        )
    return {"cases": cases, "events": events, "outbox": outbox}


def _plain(data: dict) -> str:
    return str(sorted((k, v) for k, v in data.items() if k != "previous_case_id"))
