"""Failed sign-ins counted in the database, so that every web process sees the same count.

Several web processes (``uvicorn --workers N``, or several machines) each used to count in
their own memory: with two processes an account locked after twice the failures. The rows in
``login_failures`` are the one count; each attempt reads and writes them in transactions of
its own, committed at once, whatever becomes of the sign-in's own transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from services.db.access_models import LoginFailure

#: The column's length: a longer name typed at the form is counted by its beginning.
ACCOUNT_LENGTH = 200


class LoginThrottle:
    """Failed sign-ins per account name in a sliding window, counted across processes.

    Keyed by the name alone: a locked account stays locked whatever address the next attempt
    comes from. An attempt is recorded as a failure *before* its password is checked and
    forgotten when it succeeds, so attempts made at the same moment in several processes see
    each other: a burst gets no more than ``max_failures`` password checks in a window.
    """

    def __init__(
        self, session_factory: sessionmaker[Session], *, max_failures: int, window: timedelta
    ):
        self.session_factory = session_factory
        self.max_failures = max_failures
        self.window = window

    def attempt(self, account: str, *, now: datetime) -> bool:
        """Record an attempt for ``account`` as a failure; False (nothing kept) when locked."""
        account = account[:ACCOUNT_LENGTH]
        with self.session_factory() as session:
            # Failures older than the window no longer count, for any name: forget them.
            session.execute(delete(LoginFailure).where(LoginFailure.failed_at <= now - self.window))
            row = LoginFailure(account=account, failed_at=now)
            session.add(row)
            session.commit()  # visible to every other process before any of it counts
            recent = session.scalar(
                select(func.count(LoginFailure.id)).where(
                    LoginFailure.account == account, LoginFailure.failed_at > now - self.window
                )
            )
            if recent <= self.max_failures:
                return True
            session.delete(row)  # a refused attempt checks no password: it is no failure
            session.commit()
            return False

    def succeeded(self, account: str) -> None:
        """A right password: the account's failures are forgotten."""
        with self.session_factory() as session:
            session.execute(
                delete(LoginFailure).where(LoginFailure.account == account[:ACCOUNT_LENGTH])
            )
            session.commit()
