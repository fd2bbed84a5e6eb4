"""The installation clock: the day every process on this database runs on (``rectify clock``).

Stored in ``installation_settings`` (``services/db/settings_models.py``) and read by
``services/bootstrap.py`` when a process starts; ``--as-of`` / ``RECTIFY_AS_OF`` still win
for the process given them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from services.core.clock import Clock, from_stored, stored_value
from services.core.errors import ValidationFailed
from services.core.uow import UnitOfWork
from services.db.settings_models import CLOCK, put_setting, setting

#: Years a clock may be set to (the holiday calendar and the notices' range).
YEARS = (2000, 2099)


def stored_clock(uow: UnitOfWork) -> Clock | None:
    """The clock stored for the installation; None: it runs on real time."""
    return from_stored(setting(uow.session, CLOCK), uow.clock.tz)


def set_day(uow: UnitOfWork, day: date, *, note: str = "") -> Clock:
    """Run every process on this database as of ``day`` (09:00 now, then on as time goes);
    the caller commits."""
    if not YEARS[0] <= day.year <= YEARS[1]:
        raise ValidationFailed([f"系统日期应在 {YEARS[0]}–{YEARS[1]} 年之间：{day.isoformat()}"])
    real_now = datetime.now(UTC)
    value = stored_value(day, since=real_now, note=note)
    put_setting(uow.session, CLOCK, value, now=real_now)
    return from_stored(value, uow.clock.tz)


def use_real_time(uow: UnitOfWork) -> bool:
    """Run every process on real time (a choice kept: ``rectify demo --if-empty`` leaves it);
    whether a day was set. The caller commits."""
    had = stored_clock(uow) is not None
    real_now = datetime.now(UTC)
    put_setting(uow.session, CLOCK, {"real": True, "since": real_now.isoformat()}, now=real_now)
    return had


def chosen(uow: UnitOfWork) -> bool:
    """Whether a day, or real time, was ever chosen for this installation."""
    return setting(uow.session, CLOCK) is not None
