"""Units' portal links: a random token sent by email, only its hash stored; expiring, revocable."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from services.access.users import UserView
from services.core.errors import Forbidden, NotFound, ServiceError, ValidationFailed
from services.core.limits import MAX_ID
from services.core.uow import UnitOfWork
from services.db.access_models import UnitLink
from services.db.models import Round, Unit

DEFAULT_TTL = timedelta(days=60)
#: The longest validity an operator may give a new link by hand.
MAX_DAYS = 366
#: What ``derived_token`` puts before a nonce (no other use of the key signs such bytes).
_DERIVATION = b"rectify/portal-link/"


class LinkRefused(ServiceError):
    """The link is unknown, expired or revoked."""

    http_status = 403


@dataclass(frozen=True)
class IssuedLink:
    link_id: int
    unit_id: int
    token: str  # shown once, in the email; never stored
    url: str
    expires_at: datetime


def token_hash(token: str) -> str:
    """What a link keeps of its token (``unit_links.token_hash``): the SHA-256, in hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def derived_token(secret_key: str, nonce: str) -> str:
    """An emailed link's token: HMAC-SHA256 of a random nonce under the installation key.

    The outbox row keeps the link's id and the nonce, no table the token: the dispatcher
    makes it again when it sends (``services.mail.links``), the same at every attempt, and
    without ``RECTIFY_SECRET_KEY`` a copy of the database opens nothing. Like
    ``secrets.token_urlsafe(32)``: 43 URL-safe characters.
    """
    digest = hmac.digest(secret_key.encode(), _DERIVATION + nonce.encode(), "sha256")
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


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
        token_hash=token_hash(token),
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
    link = uow.session.scalar(
        select(UnitLink).where(UnitLink.token_hash == token_hash(token or ""))
    )
    if link is None:
        raise LinkRefused("链接无效，请使用通知邮件中的完整链接")
    if link.revoked_at is not None:
        raise LinkRefused("该链接已被撤销，请联系市政府办公室获取新链接")
    if link.expires_at <= uow.clock.now():
        raise LinkRefused("该链接已过期，请联系市政府办公室获取新链接")
    link.last_used_at = uow.clock.now()
    return link


def revoke_links(uow: UnitOfWork, *, unit_id: int) -> int:
    """Revoke every live link of a unit (neither revoked nor expired); returns how many."""
    now = uow.clock.now()
    links = uow.session.scalars(
        select(UnitLink).where(UnitLink.unit_id == unit_id, UnitLink.revoked_at.is_(None))
    ).all()
    live = [link for link in links if link.expires_at > now]
    for link in live:
        link.revoked_at = now
    uow.flush()
    return len(live)


# --- Operators: a person at the terminal (``user=None``) or a signed-in supervisor. ---


@dataclass(frozen=True)
class LinkRow:
    """One portal link as an operator sees it (never the token: only its hash is stored)."""

    id: int
    round_code: str | None
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    status: str  # 有效 | 已过期 | 已撤销

    @property
    def live(self) -> bool:
        return self.status == "有效"


def may_manage(user: UserView, unit_path: str) -> bool:
    """Issuing and revoking a unit's links: an admin, or a supervisor whose scope holds the unit."""
    return user.can_act and user.sees(unit_path)


def unit_for_links(uow: UnitOfWork, unit_code: str, *, user: UserView | None = None) -> Unit:
    """The unit whose links are managed; a signed-in user must be allowed to manage them."""
    unit = uow.session.scalar(select(Unit).where(Unit.code == (unit_code or "").strip()))
    if unit is None:
        raise NotFound(f"单位 {unit_code} 不存在")
    if user is not None and not user.can_act:
        raise Forbidden("只读用户不能管理单位的门户链接")
    if user is not None and not user.sees(unit.path):
        raise Forbidden(f"单位 {unit.code} 不在您的管辖范围内，不能管理其门户链接")
    return unit


def list_links(uow: UnitOfWork, *, unit_id: int) -> list[LinkRow]:
    """A unit's links, newest first."""
    now = uow.clock.now()
    rows = uow.session.execute(
        select(UnitLink, Round.code)
        .outerjoin(Round, Round.id == UnitLink.round_id)
        .where(UnitLink.unit_id == unit_id)
        .order_by(UnitLink.created_at.desc(), UnitLink.id.desc())
    ).all()
    return [
        LinkRow(
            link.id,
            round_code,
            link.created_at,
            link.expires_at,
            link.last_used_at,
            link.revoked_at,
            "已撤销" if link.revoked_at else "已过期" if link.expires_at <= now else "有效",
        )
        for link, round_code in rows
    ]


def issue_for_unit(
    uow: UnitOfWork,
    *,
    unit_code: str,
    round_code: str | None = None,
    days: int | None = None,
    user: UserView | None = None,
) -> IssuedLink:
    """A new link for a unit by its code (optionally tied to a round), valid ``days`` days."""
    unit = unit_for_links(uow, unit_code, user=user)
    if days is not None and not 1 <= days <= MAX_DAYS:
        raise ValidationFailed([f"有效天数应在 1 到 {MAX_DAYS} 之间：{days}"])
    round_id = None
    if round_code:
        round_id = uow.session.scalar(select(Round.id).where(Round.code == round_code.strip()))
        if round_id is None:
            raise NotFound(f"检查轮次 {round_code} 不存在")
    ttl = timedelta(days=days) if days is not None else DEFAULT_TTL
    return issue_link(uow, unit_id=unit.id, round_id=round_id, ttl=ttl)


def revoke_for_unit(
    uow: UnitOfWork, *, unit_code: str, link_id: int | None = None, user: UserView | None = None
) -> int:
    """Revoke one link of a unit, or (no id) all its live links; returns how many were revoked."""
    unit = unit_for_links(uow, unit_code, user=user)
    if link_id is None:
        return revoke_links(uow, unit_id=unit.id)
    link = uow.session.get(UnitLink, link_id) if 0 < link_id <= MAX_ID else None
    if link is None or link.unit_id != unit.id:
        raise NotFound(f"单位 {unit.code} 没有编号为 {link_id} 的门户链接")
    if link.revoked_at is not None:
        return 0
    link.revoked_at = uow.clock.now()
    uow.flush()
    return 1
