"""Whether a round's notice has gone out: the one rule the rounds page, the round's notice
page, the API and the publication itself read.

A round counts as published when

1. this system published it (``rounds.published_at``, the moment of ``发布并通知``), or
2. its notice went out without the system's publication: it has cases, every one was
   notified (``cases.notified_at``) and none waits (``found``). That is how a round issued
   before the system arrives (the demo's 2020Q4 and 2021Q1: its findings and their recorded
   steps imported, each case notified on the round's notice day), and how a round reads
   whose every case was notified on its own. Its day is the round's 通报日期, else the day
   its first case was notified.

A round with a case still ``found`` (or without cases) is not published: 发布并通知 notifies
what waits and sends each unit its round email.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import case as when
from sqlalchemy import func, select

from services.core.uow import UnitOfWork
from services.db.models import Case, Round
from services.registry.listings import RoundRow
from states import CaseState


@dataclass(frozen=True)
class Published:
    """A round's published state: whether, on which day, and how."""

    published: bool
    #: The day its notice went out (None: not published).
    on: date | None = None
    #: When this system published it (None: not published here).
    at: datetime | None = None

    @property
    def outside_system(self) -> bool:
        """Published without this system's publication (every case already notified)."""
        return self.published and self.at is None

    @property
    def text(self) -> str:
        """How a person reads it, in Chinese."""
        if not self.published:
            return "未发布"
        day = f"{self.on.year}年{self.on.month}月{self.on.day}日" if self.on else "日期不详"
        if self.outside_system:
            return f"已发布（{day}通报，未经本系统发布，案件均已通知）"
        return f"已发布（{day}）"


NOT_PUBLISHED = Published(False)


def rule(
    *,
    published_at: datetime | None,
    notice_date: date | None,
    cases: int,
    waiting: int,
    notified: int,
    first_notified: datetime | None,
    tz: ZoneInfo,
) -> Published:
    """The rule itself, on a round's figures (see the module's docstring)."""
    if published_at is not None:
        return Published(True, on=published_at.astimezone(tz).date(), at=published_at)
    if cases and not waiting and notified:
        first = first_notified.astimezone(tz).date() if first_notified else None
        return Published(True, on=notice_date or first)
    return NOT_PUBLISHED


def states(uow: UnitOfWork, round_ids: Iterable[int] | None = None) -> dict[int, Published]:
    """Each round's ``Published`` (every round, or those of ``round_ids``): two queries."""
    query = select(Round.id, Round.published_at, Round.notice_date)
    if round_ids is not None:
        query = query.where(Round.id.in_(list(round_ids)))
    rounds = uow.session.execute(query).all()
    # Only a round this system has not published needs its cases' figures.
    unpublished = [r.id for r in rounds if r.published_at is None]
    figures = {}
    if unpublished:
        waiting = func.sum(when((Case.state == CaseState.FOUND, 1), else_=0))
        figures = {
            row[0]: row[1:]
            for row in uow.session.execute(
                select(
                    Case.round_id,
                    func.count(),
                    waiting,
                    func.count(Case.notified_at),
                    func.min(Case.notified_at),
                )
                .where(Case.round_id.in_(unpublished))
                .group_by(Case.round_id)
            )
        }
    tz = uow.clock.tz
    result = {}
    for id_, published_at, notice_date in rounds:
        cases, found, notified, first = figures.get(id_, (0, 0, 0, None))
        result[id_] = rule(
            published_at=published_at,
            notice_date=notice_date,
            cases=cases,
            waiting=int(found or 0),
            notified=notified,
            first_notified=first,
            tz=tz,
        )
    return result


def of_round(uow: UnitOfWork, round_: Round) -> Published:
    """One round's ``Published``."""
    return states(uow, [round_.id])[round_.id]


def with_states(uow: UnitOfWork, rows: list[RoundRow]) -> list[RoundRow]:
    """The rounds as listed, each with its published state (``RoundRow.published``…)."""
    found = states(uow, [r.id for r in rows]) if rows else {}
    return [
        replace(
            r,
            published=found[r.id].published,
            published_on=found[r.id].on,
            published_text=found[r.id].text,
        )
        for r in rows
    ]
