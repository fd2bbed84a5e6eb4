"""Registry edits from the web: the unit and target forms; role-checked, one commit each."""

from __future__ import annotations

from services.access.users import UserView
from services.core.uow import UnitOfWork
from services.registry import units


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
