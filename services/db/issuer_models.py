"""Issuing offices (发文机关): the units that run rounds, with their notice defaults."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from services.db.models import Base, Unit


class Issuer(Base):
    """发文机关: a unit of the tree that runs rounds over its subtree, with its notice defaults."""

    __tablename__ = "issuers"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), unique=True)
    name: Mapped[str] = mapped_column(String(200))  # XX市人民政府办公室
    short_name: Mapped[str] = mapped_column(String(100))  # 市政府办公室
    level: Mapped[str] = mapped_column(String(20))  # province | city | county
    #: The document number's pattern: X政办字〔{year}〕{n}号.
    doc_pattern: Mapped[str | None] = mapped_column(String(100))
    #: Default notice texts (keys of notice_texts.yaml) and options (NoticeOptions).
    texts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    unit: Mapped[Unit] = relationship()
