"""Round edits: the round form, publication, and a round's issuer, notice texts and options.

``save_round`` and ``publish`` are role-checked and commit. The notice edits (texts, options,
issuer, document number) flush and leave the commit to the caller (web route, command,
import); given a ``user``, they refuse one who may not act, or whose subtree does not hold
the round's issuing office.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from sqlalchemy import func, select

from services.access.users import UserView
from services.core.errors import Forbidden, ValidationFailed
from services.core.uow import UnitOfWork
from services.db.issuer_models import Issuer
from services.db.models import Case, Round, Target, Unit, Verdict
from services.rounds import issuers, publication, published, rounds
from services.rounds.publication import PublicationSummary


def save_round(uow: UnitOfWork, *, user: UserView, spec: rounds.RoundSpec) -> str:
    """Create or update a round by code."""
    user.require_admin()
    round_ = rounds.upsert_round(uow, spec)
    uow.commit()
    return round_.code


def publish(uow: UnitOfWork, *, user: UserView, round_code: str) -> PublicationSummary:
    """Publish a round: notify its found cases and queue one email per unit (commits).

    A supervisor scoped to a subtree publishes the rounds of the issuers inside it; a round
    without an issuer spans every unit: publishing it is the unscoped staff's."""
    user.require_acting()
    round_ = rounds.get_round(uow, round_code)
    issuers.require_manage(user.scope_path, round_.issuer)
    state = published.of_round(uow, round_)
    if state.published:  # its units were notified: a second publication would mail them again
        raise ValidationFailed([f"检查轮次 {round_.code} {state.text}，不能再次发布"])
    return publication.publish_round(uow, round_code=round_code, actor=user.display_name)


def editable_round(uow: UnitOfWork, round_code: str, *, user: UserView | None = None) -> Round:
    """The round, if ``user`` (when given) may edit it."""
    round_ = rounds.get_round(uow, round_code)
    if user is not None:
        user.require_acting()
        issuers.require_manage(user.scope_path, round_.issuer)
    return round_


def readable_round(uow: UnitOfWork, round_code: str, *, user: UserView) -> Round:
    """The round, if ``user`` may read it (its notice, its ledger): a round of an office in
    the user's subtree or above it, or of none; another subtree's office's round is 403."""
    round_ = rounds.get_round(uow, round_code)
    if not issuers.can_read(user.scope_path, round_.issuer):
        raise Forbidden(
            f"检查轮次 {round_.code} 由{round_.issuer.name}组织，不在您的管辖范围内，不能查看"
        )
    return round_


def set_round_texts(
    uow: UnitOfWork, round_code: str, changes: dict[str, Any], *, user: UserView | None = None
) -> Round:
    """Set or clear (None, "" or []) the round's own notice texts; all or nothing."""
    where = f"检查轮次 {round_code} 的通报文本"
    return _edited(
        uow, round_code, user, lambda stored: issuers.apply_texts(stored, changes, where=where)
    )


def set_round_option(
    uow: UnitOfWork,
    round_code: str,
    name: str,
    text: str,
    *,
    kind: str | None = None,
    user: UserView | None = None,
) -> Round:
    """Set one of the round's notice options (appended, for a repeated one) from its text."""
    return _edited(
        uow,
        round_code,
        user,
        lambda stored: issuers.option_set(stored, name, text, kind=kind, uow=uow),
    )


def set_round_option_values(
    uow: UnitOfWork,
    round_code: str,
    name: str,
    texts: list[str],
    *,
    kind: str | None = None,
    user: UserView | None = None,
) -> Round:
    """Set a round's option anew from its texts (a repeated option's whole list)."""
    return _edited(
        uow,
        round_code,
        user,
        lambda stored: issuers.options_replaced(stored, name, texts, kind=kind, uow=uow),
    )


def clear_round_option(
    uow: UnitOfWork,
    round_code: str,
    name: str,
    *,
    kind: str | None = None,
    user: UserView | None = None,
) -> Round:
    """Remove one of the round's options: the issuer's default (or the installation's) applies."""
    return _edited(
        uow, round_code, user, lambda stored: issuers.option_cleared(stored, name, kind=kind)
    )


def _edited(
    uow: UnitOfWork,
    round_code: str,
    user: UserView | None,
    change: Callable[[dict[str, Any]], dict[str, Any]],
) -> Round:
    """The round (if this user may edit it) with ``change`` applied to its texts and options."""
    round_ = editable_round(uow, round_code, user=user)
    round_.notice_texts = change(round_.notice_texts or {})
    uow.flush()
    return round_


def set_round_issuer(
    uow: UnitOfWork, round_code: str, unit_code: str | None, *, user: UserView | None = None
) -> Round:
    """Name the round's issuing office by its unit code (None: the installation's defaults).

    A scoped user may move a round only between issuers inside the subtree."""
    round_ = editable_round(uow, round_code, user=user)
    issuer = issuers.get_issuer(uow, unit_code) if unit_code else None
    if user is not None:
        issuers.require_manage(user.scope_path, issuer)
    if issuer is not None:
        _require_covers(uow, round_, issuer)
    round_.issuer = issuer
    uow.flush()
    return round_


def _require_covers(uow: UnitOfWork, round_: Round, issuer: Issuer) -> None:
    """Refuse an office whose subtree does not hold every case and checked target of the round:
    its notice would print that office's header over another office's data."""
    outside = ~Unit.path.startswith(issuer.unit.path, autoescape=True)
    cases = uow.session.scalar(
        select(func.count())
        .select_from(Case)
        .join(Unit, Unit.id == Case.unit_id)
        .where(Case.round_id == round_.id, outside)
    )
    targets = uow.session.scalar(
        select(func.count())
        .select_from(Verdict)
        .join(Target, Target.id == Verdict.target_id)
        .join(Unit, Unit.id == Target.unit_id)
        .where(Verdict.round_id == round_.id, outside)
    )
    found = [f"{n} {what}" for n, what in ((cases, "件问题案件"), (targets, "个检查对象")) if n]
    if found:
        raise ValidationFailed(
            [
                f"检查轮次 {round_.code} 不能由{issuer.name}（{issuer.unit.code}）发文："
                f"本轮次有 {'、'.join(found)}不属于{issuer.unit.name}及其下级单位"
            ]
        )


def set_round_doc_number(
    uow: UnitOfWork, round_code: str, doc_number: str | None, *, user: UserView | None = None
) -> Round:
    """Set (or clear) the round's document number (文号), as the issuing office assigned it."""
    round_ = editable_round(uow, round_code, user=user)
    value = (doc_number or "").strip() or None
    spec = replace(rounds.RoundSpec.of(round_), doc_number=value)
    if errors := [m for name, m in spec.field_problems() if name == "doc_number"]:
        raise ValidationFailed(errors)
    round_.doc_number = value
    uow.flush()
    return round_
