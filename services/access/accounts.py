"""An account's life after creation: a new password, disabling, enabling.

A new password and disabling both shut out whoever held the old credentials, in the caller's
transaction: the account's web sessions end and its API tokens are revoked (a copied cookie or
token stops working with the same commit that changes the account).
"""

from __future__ import annotations

from sqlalchemy import select

from services.access import api_tokens, users, web_sessions
from services.access.users import CreatedUser, UserView
from services.core.errors import NotFound, ValidationFailed
from services.core.uow import UnitOfWork
from services.db.access_models import User


def end_access(uow: UnitOfWork, *, user_id: int) -> None:
    """End every web session of an account and revoke every API token it has."""
    web_sessions.end_all(uow, user_id=user_id)
    api_tokens.revoke_all_of(uow, user_id=user_id)


def reset_password(uow: UnitOfWork, *, username: str) -> CreatedUser:
    """Give an account a new generated password (shown once); a disabled one stays disabled."""
    user = _account(uow, username)
    password = users.generate_password()
    user.password_hash = users.hash_password(password)
    end_access(uow, user_id=user.id)  # whoever knew the old password is signed out
    uow.flush()
    return CreatedUser(users.account_view(uow, user), password)


def disable_user(uow: UnitOfWork, *, username: str) -> UserView:
    """Disable an account: it cannot sign in, its sessions end, its tokens are revoked.

    The last active admin is never disabled: nobody could manage the system afterwards.
    """
    user = _account(uow, username)
    if user.role == "admin" and user.active:
        # Locked rows, so two admins disabling each other at once cannot both succeed.
        admins = uow.session.scalars(
            select(User.id).where(User.role == "admin", User.active).with_for_update()
        ).all()
        if len(admins) <= 1:
            raise ValidationFailed(
                [
                    f"不能停用 {user.username}：这是最后一个启用的管理员账号，停用后将无人能管理"
                    "系统；请先用 rectify user add 用户名 --role admin 添加另一名管理员"
                ]
            )
    user.active = False
    end_access(uow, user_id=user.id)
    uow.flush()
    return users.account_view(uow, user)


def enable_user(uow: UnitOfWork, *, username: str) -> UserView:
    """Let a disabled account sign in again (its old tokens stay revoked: issue new ones)."""
    user = _account(uow, username)
    user.active = True
    uow.flush()
    return users.account_view(uow, user)


def _account(uow: UnitOfWork, username: str) -> User:
    user = uow.session.scalar(select(User).where(User.username == (username or "").strip()))
    if user is None:
        raise NotFound(f"用户 {username} 不存在")
    return user
