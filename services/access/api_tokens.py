"""JSON API tokens: each acts as one user; only the token's hash is stored; revocable."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select

from services.access import users
from services.core.errors import NotFound, ServiceError, ValidationFailed
from services.core.uow import UnitOfWork
from services.db.models import ApiToken, User

PREFIX = "rct_"


class TokenRefused(ServiceError):
    """The API token is missing, unknown or revoked."""


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
    row = uow.session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"API 令牌 {token_id} 不存在")
    row.revoked_at = row.revoked_at or uow.clock.now()
    uow.flush()
