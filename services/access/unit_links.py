"""Units' portal links: a random token sent by email, only its hash stored; expiring, revocable."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from services.core.errors import NotFound, ServiceError
from services.core.uow import UnitOfWork
from services.db.models import Unit, UnitLink

DEFAULT_TTL = timedelta(days=60)


class LinkRefused(ServiceError):
    """The link is unknown, expired or revoked."""


@dataclass(frozen=True)
class IssuedLink:
    link_id: int
    unit_id: int
    token: str  # shown once, in the email; never stored
    url: str
    expires_at: datetime


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def portal_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/portal/{token}"


def issue_link(
    uow: UnitOfWork, *, unit_id: int, round_id: int | None = None, ttl: timedelta = DEFAULT_TTL
) -> IssuedLink:
    """Create a new link for a unit (older links stay valid until they expire or are revoked)."""
    if uow.session.get(Unit, unit_id) is None:
        raise NotFound(f"单位 {unit_id} 不存在")
    token = secrets.token_urlsafe(32)
    now = uow.clock.now()
    link = UnitLink(
        unit_id=unit_id,
        round_id=round_id,
        token_hash=_hash(token),
        created_at=now,
        expires_at=now + ttl,
    )
    uow.session.add(link)
    uow.flush()
    return IssuedLink(
        link.id, unit_id, token, portal_url(uow.settings.base_url, token), link.expires_at
    )


def resolve_link(uow: UnitOfWork, token: str) -> UnitLink:
    """The link a token opens, or LinkRefused with a reason a unit understands."""
    link = uow.session.scalar(select(UnitLink).where(UnitLink.token_hash == _hash(token or "")))
    if link is None:
        raise LinkRefused("链接无效，请使用通知邮件中的完整链接")
    if link.revoked_at is not None:
        raise LinkRefused("该链接已被撤销，请联系市政府办公室获取新链接")
    if link.expires_at <= uow.clock.now():
        raise LinkRefused("该链接已过期，请联系市政府办公室获取新链接")
    link.last_used_at = uow.clock.now()
    return link


def revoke_links(uow: UnitOfWork, *, unit_id: int) -> int:
    """Revoke every live link of a unit; returns how many were revoked."""
    now = uow.clock.now()
    links = uow.session.scalars(
        select(UnitLink).where(UnitLink.unit_id == unit_id, UnitLink.revoked_at.is_(None))
    ).all()
    for link in links:
        link.revoked_at = now
    uow.flush()
    return len(links)
