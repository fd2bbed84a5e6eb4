"""Registry edits from the web: the unit, target and category forms; role-checked, one commit
each."""

from __future__ import annotations

from services.access.users import UserView
from services.core.errors import Forbidden, NotFound
from services.core.uow import UnitOfWork
from services.db.models import Category
from services.registry import catalogue, units


def save_unit(uow: UnitOfWork, *, user: UserView, spec: units.UnitSpec) -> str:
    """Create or update a unit by code."""
    user.require_admin()
    unit = units.upsert_unit(uow, spec)
    uow.commit()
    return unit.code


def save_target(uow: UnitOfWork, *, user: UserView, spec: units.TargetSpec) -> str:
    """Create or update a target by code."""
    user.require_admin()
    target = units.upsert_target(uow, spec)
    uow.commit()
    return target.code


def may_edit_categories(user: UserView) -> bool:
    """Admins, and supervisors over a whole tree (no scope, or a top-level unit): the catalogue
    is shared by every office of the installation, so a county's supervisor reads it only."""
    top_level = user.scope_path is None or user.scope_path.strip("/").count("/") == 0
    return user.is_admin or (user.can_act and top_level)


def require_category_editor(user: UserView) -> None:
    if not may_edit_categories(user):
        raise Forbidden("问题类别由管理员或全辖区的监管人员维护，您只能查看")


def add_category(uow: UnitOfWork, *, user: UserView, spec: catalogue.CategorySpec) -> str:
    """Add a category to the catalogue."""
    require_category_editor(user)
    category = catalogue.add_category(uow, spec)
    uow.commit()
    return f"{category.code}（{category.name}）"


def edit_category(uow: UnitOfWork, *, user: UserView, code: str, changes: dict) -> str:
    """Change some fields of a category (by its code)."""
    require_category_editor(user)
    if uow.session.get(Category, code) is None:
        raise NotFound(f"问题类别「{code[:60]}」不存在")
    category = catalogue.edit_category(uow, code, changes)
    uow.commit()
    return f"{category.code}（{category.name}）"
