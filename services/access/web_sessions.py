"""Browser sessions kept on the server, so that signing out (or a password reset) ends them.

The signed cookie alone cannot be taken back: a copy made before sign-out would still work.
The cookie therefore carries a random key whose hash is stored here with its end.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select, update

from services.core.uow import UnitOfWork
from services.db.access_models import WebSession

#: As long as the cookie's own max_age (web.app.SESSION_HOURS).
LIFETIME = timedelta(hours=8)


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def start(uow: UnitOfWork, *, user_id: int, lifetime: timedelta = LIFETIME) -> str:
    """Open a session for a user who just signed in; returns the key for the cookie."""
    key = secrets.token_urlsafe(32)
    now = uow.clock.now()
    uow.session.add(
        WebSession(user_id=user_id, key_hash=_hash(key), created_at=now, expires_at=now + lifetime)
    )
    uow.flush()
    return key


def user_of(uow: UnitOfWork, key: str | None) -> int | None:
    """The user of a live session (not ended, not expired), else None."""
    if not key:
        return None
    row = uow.session.scalar(select(WebSession).where(WebSession.key_hash == _hash(key)))
    if row is None or row.ended_at is not None or row.expires_at <= uow.clock.now():
        return None
    return row.user_id


def end(uow: UnitOfWork, key: str | None) -> None:
    """End one session (sign-out); unknown keys are ignored."""
    if key:
        uow.session.execute(
            update(WebSession)
            .where(WebSession.key_hash == _hash(key), WebSession.ended_at.is_(None))
            .values(ended_at=uow.clock.now())
        )


def end_all(uow: UnitOfWork, *, user_id: int) -> None:
    """End every session of a user (password reset, deactivation)."""
    uow.session.execute(
        update(WebSession)
        .where(WebSession.user_id == user_id, WebSession.ended_at.is_(None))
        .values(ended_at=uow.clock.now())
    )
