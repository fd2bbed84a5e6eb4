"""Unit of work: one use case, one transaction. Leaving without commit() rolls back."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from services.core.clock import Clock
from services.core.errors import ConcurrencyConflict
from services.core.settings import Settings


class UnitOfWork:
    """Owns a session and the transaction; carries the clock and settings of the call."""

    def __init__(self, session_factory: sessionmaker[Session], *, clock: Clock, settings: Settings):
        self._session_factory = session_factory
        self.clock = clock
        self.settings = settings
        self.session: Session

    def __enter__(self) -> UnitOfWork:
        self.session = self._session_factory()
        return self

    def __exit__(self, *exc_info) -> None:
        self.session.rollback()
        self.session.close()

    def flush(self) -> None:
        try:
            self.session.flush()
        except StaleDataError as exc:
            self.session.rollback()
            raise ConcurrencyConflict("该案件已被他人修改，请刷新后重试；本次操作未保存") from exc

    def commit(self) -> None:
        try:
            self.session.commit()
        except StaleDataError as exc:
            self.session.rollback()
            raise ConcurrencyConflict("该案件已被他人修改，请刷新后重试；本次操作未保存") from exc
        except IntegrityError:
            self.session.rollback()
            raise
