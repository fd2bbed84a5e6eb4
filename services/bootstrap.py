"""The composition root: the one place that builds engines, sessions and the clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from services.core.clock import Clock, from_stored
from services.core.settings import Settings, load_settings
from services.core.uow import UnitOfWork
from services.db.engine import make_engine, make_session_factory
from services.db.settings_models import CLOCK, read_setting


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
        clock=resolve_clock(settings, engine, as_of=as_of),
    )


def resolve_clock(settings: Settings, engine: Engine, *, as_of: date | None = None) -> Clock:
    """The one clock of a process: a day given to it (``--as-of``, a flow's parameter, then
    ``RECTIFY_AS_OF``) wins; else the installation's day stored in the database (``rectify
    demo``, ``rectify clock set``), the same for every process; else real time."""
    day = as_of or settings.as_of
    if day is not None:
        return Clock(day, settings.zone)
    return from_stored(read_setting(engine, CLOCK), settings.zone) or Clock(tz=settings.zone)
