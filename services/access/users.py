"""Supervisors' accounts: roles scoped to a unit subtree, argon2 passwords, login throttling
(counted in the database by :mod:`services.access.login_throttle`)."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import func, select

from services.access.login_throttle import LoginThrottle
from services.core.errors import Forbidden, NotFound, ServiceError, ValidationFailed
from services.core.uow import UnitOfWork
from services.db.access_models import User
from services.db.models import Unit

ROLES = {"admin": "管理员", "supervisor": "监管人员", "viewer": "只读用户"}
#: Roles that may move cases and review submissions.
ACTING_ROLES = ("admin", "supervisor")
_HASHER = PasswordHasher()
#: (hasher, hash of a random password): what a name without an account is checked against,
#: made by the current hasher so that checking it costs what checking a real account does.
_dummy: tuple[PasswordHasher, str] | None = None
log = logging.getLogger(__name__)


class LoginRefused(ServiceError):
    """Wrong user name or password, an inactive account, or too many failures."""


@dataclass(frozen=True)
class UserView:
    id: int
    username: str
    display_name: str
    role: str
    unit_code: str | None
    unit_name: str | None
    #: Materialised path of the unit subtree the user may see; None sees everything.
    scope_path: str | None
    #: A disabled account cannot sign in; its sessions ended and its tokens were revoked.
    active: bool = True

    @property
    def can_act(self) -> bool:
        return self.role in ACTING_ROLES

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def role_label(self) -> str:
        return ROLES.get(self.role, self.role)

    def require_acting(self) -> None:
        if not self.can_act:
            raise Forbidden("只读用户不能执行此操作")

    def require_admin(self) -> None:
        if not self.is_admin:
            raise Forbidden("只有管理员可以执行此操作")

    def sees(self, unit_path: str) -> bool:
        return self.scope_path is None or unit_path.startswith(self.scope_path)


@dataclass(frozen=True)
class CreatedUser:
    user: UserView
    password: str  # shown once; only its hash is stored


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def create_user(
    uow: UnitOfWork,
    *,
    username: str,
    role: str,
    unit_code: str | None = None,
    display_name: str | None = None,
    email: str | None = None,
    password: str | None = None,
) -> CreatedUser:
    """Create an account; a password is generated when none is given."""
    username = (username or "").strip()
    errors = []
    if not username:
        errors.append("用户名不能为空")
    if role not in ROLES:
        shown = "、".join(f"{code}（{label}）" for code, label in ROLES.items())
        errors.append(f"角色「{role}」无效，可选：{shown}")
    unit = None
    if unit_code:
        unit = uow.session.scalar(select(Unit).where(Unit.code == unit_code))
        if unit is None:
            errors.append(f"单位 {unit_code} 不存在")
    if password is not None and len(password) < 8:
        errors.append("密码至少 8 位")
    if username and uow.session.scalar(select(User).where(User.username == username)):
        errors.append(f"用户名 {username} 已存在")
    if errors:
        raise ValidationFailed(errors)
    password = password or generate_password()
    user = User(
        username=username,
        display_name=display_name or username,
        email=email,
        password_hash=hash_password(password),
        role=role,
        unit_id=unit.id if unit else None,
        active=True,
        created_at=uow.clock.now(),
    )
    uow.session.add(user)
    uow.flush()
    return CreatedUser(_view(user, unit), password)


def ensure_first_admin(uow: UnitOfWork) -> CreatedUser | None:
    """On a database without accounts, create ``admin`` with a generated password."""
    if uow.session.scalar(select(func.count(User.id))):
        return None
    return create_user(uow, username="admin", role="admin", display_name="系统管理员")


def get_user(uow: UnitOfWork, user_id: int) -> UserView:
    user = uow.session.get(User, user_id)
    if user is None or not user.active:
        raise NotFound("用户不存在或已停用")
    unit = uow.session.get(Unit, user.unit_id) if user.unit_id else None
    return _view(user, unit)


def authenticate(
    uow: UnitOfWork, *, username: str, password: str, throttle: LoginThrottle, source: str = ""
) -> UserView:
    """Check a password; too many failures for an account name lock it, from any address.

    Every attempt that is not locked out verifies exactly one argon2 hash (a dummy one for a
    name without an account), so neither the answer nor its time tells which names exist or
    are disabled; names without an account are counted and locked like real ones.
    """
    name = username.strip()
    account = name.lower()
    if not throttle.attempt(account, now=uow.clock.now()):  # counted as a failure until it succeeds
        raise LoginRefused("登录失败次数过多，请稍后再试")
    user = uow.session.scalar(select(User).where(User.username == name))
    matches = _verify(user.password_hash if user is not None else dummy_hash(), password)
    if user is None or not matches or not user.active:
        log.warning("sign-in refused for %r from %s", name, source or "an unknown address")
        raise LoginRefused("用户名或密码错误")
    throttle.succeeded(account)
    if _HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    unit = uow.session.get(Unit, user.unit_id) if user.unit_id else None
    return _view(user, unit)


def dummy_hash() -> str:
    """The hash checked for a name without an account, made once per hasher (each web process
    makes it at start, so the first unknown name takes no longer than the next ones)."""
    global _dummy
    hasher = _HASHER
    if _dummy is None or _dummy[0] is not hasher:
        _dummy = (hasher, hasher.hash(secrets.token_urlsafe(16)))
    return _dummy[1]


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerifyMismatchError, InvalidHashError):
        return False


def account_view(uow: UnitOfWork, user: User) -> UserView:
    """An account as the rest of the system sees it, active or not."""
    return _view(user, uow.session.get(Unit, user.unit_id) if user.unit_id else None)


def _view(user: User, unit: Unit | None) -> UserView:
    return UserView(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        unit_code=unit.code if unit else None,
        unit_name=unit.name if unit else None,
        scope_path=unit.path if unit else None,
        active=user.active,
    )
