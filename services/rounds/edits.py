"""Round edits from the web: the round form and publication; role-checked, one commit each."""

from __future__ import annotations

from services.access.users import UserView
from services.core.errors import Forbidden
from services.core.uow import UnitOfWork
from services.rounds import publication, rounds
from services.rounds.publication import PublicationSummary


def save_round(uow: UnitOfWork, *, user: UserView, spec: rounds.RoundSpec) -> str:
    """Create or update a round by code."""
    user.require_admin()
    round_ = rounds.upsert_round(uow, spec)
    uow.commit()
    return round_.code


def publish(uow: UnitOfWork, *, user: UserView, round_code: str) -> PublicationSummary:
    """Publish a round: notify its found cases and queue one email per unit (commits)."""
    user.require_acting()
    if user.scope_path is not None:  # a round spans every county: publishing it is the city's
        raise Forbidden("检查轮次涉及全市各单位，只有不限管辖范围的监管人员可以发布")
    return publication.publish_round(uow, round_code=round_code, actor=user.display_name)
