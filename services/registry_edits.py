"""Registry edits from the web forms: admins only, validated, one commit each."""

from __future__ import annotations

from services import registry, rounds
from services.uow import UnitOfWork
from services.users import UserView


def save_unit(uow: UnitOfWork, *, user: UserView, spec: registry.UnitSpec) -> str:
    """Create or update a unit by code."""
    user.require_admin()
    unit = registry.upsert_unit(uow, spec)
    uow.commit()
    return unit.code


def save_target(uow: UnitOfWork, *, user: UserView, spec: registry.TargetSpec) -> str:
    """Create or update a target by code."""
    user.require_admin()
    target = registry.upsert_target(uow, spec)
    uow.commit()
    return target.code


def save_round(uow: UnitOfWork, *, user: UserView, spec: rounds.RoundSpec) -> str:
    """Create or update a round by code."""
    user.require_admin()
    round_ = rounds.upsert_round(uow, spec)
    uow.commit()
    return round_.code
