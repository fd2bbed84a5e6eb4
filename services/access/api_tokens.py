"""JSON API tokens: each acts as one user; only the token's hash is stored; revocable."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update

from services.access import users
from services.core.errors import NotFound, ServiceError, ValidationFailed
from services.core.limits import MAX_ID
from services.core.uow import UnitOfWork
from services.db.access_models import ApiToken, User

PREFIX = "rct_"


class TokenRefused(ServiceError):
    """The API token is missing, unknown or revoked."""

    http_status = 401


@dataclass(frozen=True)
class IssuedToken:
    token_id: int
    username: str
    name: str
    token: str  # shown once; never stored


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(uow: UnitOfWork, *, username: str, name: str) -> IssuedToken:
    """Create a token acting as ``username`` with that user's role and unit scope."""
    if not (name or "").strip():
        raise ValidationFailed(["令牌名称不能为空"])
    user = uow.session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        raise NotFound(f"用户 {username} 不存在或已停用")
    token = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id, name=name.strip(), token_hash=_hash(token), created_at=uow.clock.now()
    )
    uow.session.add(row)
    uow.flush()
    return IssuedToken(row.id, user.username, row.name, token)


def resolve_token(uow: UnitOfWork, token: str | None) -> users.UserView:
    """The user a bearer token acts as, or TokenRefused."""
    if not token:
        raise TokenRefused("缺少 API 令牌（请求头 Authorization: Bearer <令牌>）")
    row = uow.session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash(token)))
    if row is None:
        raise TokenRefused("API 令牌无效")
    if row.revoked_at is not None:
        raise TokenRefused("API 令牌已被撤销")
    row.last_used_at = uow.clock.now()
    try:
        return users.get_user(uow, row.user_id)
    except NotFound:
        raise TokenRefused("API 令牌所属用户不存在或已停用") from None


def revoke_token(uow: UnitOfWork, *, token_id: int) -> None:
    """Revoke a token by id; it stops working at once."""
    row = uow.session.get(ApiToken, token_id) if 0 < token_id <= MAX_ID else None
    if row is None:
        raise NotFound(f"API 令牌 {token_id} 不存在")
    row.revoked_at = row.revoked_at or uow.clock.now()
    uow.flush()


def revoke_all_of(uow: UnitOfWork, *, user_id: int) -> None:
    """Revoke every live token of a user (password reset, disabling), in the caller's transaction."""
    uow.session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=uow.clock.now())
    )


@dataclass(frozen=True)
class TokenRow:
    """One token as an operator sees it (never the token: only its hash is stored)."""

    id: int
    name: str
    username: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def list_tokens(uow: UnitOfWork, *, username: str | None = None) -> list[TokenRow]:
    """Every token, or one user's, by id."""
    query = select(ApiToken, User.username).join(User, User.id == ApiToken.user_id)
    if username:
        if uow.session.scalar(select(User.id).where(User.username == username)) is None:
            raise NotFound(f"用户 {username} 不存在")
        query = query.where(User.username == username)
    return [
        TokenRow(t.id, t.name, name, t.created_at, t.last_used_at, t.revoked_at)
        for t, name in uow.session.execute(query.order_by(ApiToken.id))
    ]
