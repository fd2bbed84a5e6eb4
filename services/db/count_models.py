"""The live case counters' table (maintained by ``services.db.counts``)."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from services.db.models import Base


class CaseCount(Base):
    """Cases per root of the unit tree, round, category, state and escalated-or-not: kept in
    the transaction of every write that moves a case (``services.db.counts``), so the
    dashboard of a whole tree reads a few hundred rows instead of every case."""

    __tablename__ = "case_counts"

    root_path: Mapped[str] = mapped_column(String(255), primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), primary_key=True)
    category_code: Mapped[str] = mapped_column(ForeignKey("categories.code"), primary_key=True)
    state: Mapped[str] = mapped_column(String(20), primary_key=True)
    escalated: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    n: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    # Room on each page for the next version of a row: the upserts of every batch touch the
    # same few hundred rows, and an update with room on its page skips the primary key (HOT).
    __table_args__ = {"postgresql_with": {"fillfactor": "50"}}
