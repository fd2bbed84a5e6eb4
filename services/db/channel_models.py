"""A unit's robot channels: group robots of 企业微信, 钉钉 and 飞书 that receive its notices."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.db.models import Base


class UnitChannel(Base):
    """A robot webhook a unit's notices go to besides email (``services.registry.channels``).

    ``webhook_url`` (it carries the robot's key or token) and ``secret`` are credentials:
    read back only masked (``services.registry.channels.ChannelView``).
    """

    __tablename__ = "unit_channels"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # wecom | dingtalk | feishu
    name: Mapped[str] = mapped_column(String(100))
    webhook_url: Mapped[str] = mapped_column(String(1000))
    secret: Mapped[str | None] = mapped_column(String(200))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint("kind IN ('wecom', 'dingtalk', 'feishu')", name="kind"),
        UniqueConstraint("unit_id", "name", name="uq_unit_channels_unit_name"),
    )
