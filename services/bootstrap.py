"""The composition root: the one place that builds engines, sessions and the clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from services.core.clock import Clock
from services.core.settings import Settings, load_settings
from services.core.uow import UnitOfWork
from services.db.engine import make_engine, make_session_factory


@dataclass
class App:
    """What a use case needs from the outside world, built once per process."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    clock: Clock

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.session_factory, clock=self.clock, settings=self.settings)

    def close(self) -> None:
        self.engine.dispose()


def build_app(settings: Settings | None = None, *, as_of: date | None = None) -> App:
    settings = settings or load_settings()
    engine = make_engine(settings.database_url)
    return App(
        settings=settings,
        engine=engine,
        session_factory=make_session_factory(engine),
        clock=Clock(as_of or settings.as_of),
    )
