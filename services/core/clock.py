"""The one clock every "now" comes from (nothing else reads the time): real or a fixed date."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
#: A fixed ``as_of`` day reads as this local time: office hours, after the night's flows.
AS_OF_TIME = time(9, 0)


class Clock:
    """Real time in Asia/Shanghai, or a fixed moment when ``as_of`` is given."""

    def __init__(self, as_of: date | datetime | None = None, tz: ZoneInfo = SHANGHAI):
        self.tz = tz
        if isinstance(as_of, datetime):
            self._fixed = as_of if as_of.tzinfo else as_of.replace(tzinfo=tz)
        elif isinstance(as_of, date):
            self._fixed = datetime.combine(as_of, AS_OF_TIME, tzinfo=tz)
        else:
            self._fixed = None

    def now(self) -> datetime:
        return self._fixed if self._fixed is not None else datetime.now(self.tz)

    def today(self) -> date:
        return self.now().astimezone(self.tz).date()

    def __repr__(self) -> str:
        return f"Clock(as_of={self._fixed.isoformat() if self._fixed else 'real'})"


def parse_as_of(value: str | None) -> date | None:
    """Parse a ``--as-of`` value (YYYY-MM-DD); None means the real time."""
    if not value:
        return None
    return date.fromisoformat(value)
