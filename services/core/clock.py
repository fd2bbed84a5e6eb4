"""The one clock every "now" comes from (nothing else reads the time), and how a person reads it.

A process runs on one of three clocks, chosen once by ``services/bootstrap.py``:

- ``as_of``: a day given to this process (``--as-of``, ``RECTIFY_AS_OF``, a flow's parameter),
  fixed at 09:00 local time for the whole run;
- ``installation``: the day stored in the database (``rectify demo``, ``rectify clock set``),
  the same for every process on that database; it starts at 09:00 of that day at the moment
  it was set and then runs on as real time does, so leases, retries and sessions still expire;
- ``real``: the real time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
#: A fixed ``as_of`` day reads as this local time: office hours, after the night's flows.
AS_OF_TIME = time(9, 0)
#: The zone names a person reads; any other zone is shown by its IANA key.
ZONE_NAMES = {"Asia/Shanghai": "北京时间"}

REAL = "real"
AS_OF = "as_of"
INSTALLATION = "installation"


class Clock:
    """Real time (in ``tz``), a fixed moment when ``as_of`` is given, or, with ``since``, a
    clock that read ``as_of`` at the real moment ``since`` and has run on from there."""

    def __init__(
        self,
        as_of: date | datetime | None = None,
        tz: ZoneInfo = SHANGHAI,
        *,
        since: datetime | None = None,
        note: str = "",
    ):
        self.tz = tz
        self.note = note
        if isinstance(as_of, datetime):
            self._fixed = as_of if as_of.tzinfo else as_of.replace(tzinfo=tz)
        elif isinstance(as_of, date):
            self._fixed = datetime.combine(as_of, AS_OF_TIME, tzinfo=tz)
        else:
            self._fixed = None
        self._since = since if self._fixed is not None else None
        self.source = REAL if self._fixed is None else INSTALLATION if since else AS_OF

    def now(self) -> datetime:
        if self._fixed is None:
            return datetime.now(self.tz)
        if self._since is None:
            return self._fixed
        return self._fixed + (datetime.now(UTC) - self._since)

    def today(self) -> date:
        return self.now().astimezone(self.tz).date()

    @property
    def start_day(self) -> date | None:
        """The day this clock was set to (None on real time)."""
        return self._fixed.astimezone(self.tz).date() if self._fixed else None

    @property
    def since(self) -> datetime | None:
        """The real moment an installation clock was set."""
        return self._since

    def label(self) -> str:
        """The day in short, for a page's header: 2021-07-19（演示数据 <场景名>）, 实时."""
        if self.source == REAL:
            return f"实时（{zone_label(self.tz)}）"
        kind = self.note or ("指定日期" if self.source == AS_OF else "设定日期")
        return f"{self.today().isoformat()}（{kind}）"

    def describe(self) -> str:
        """The day the system runs on and why, as a person reads it (Chinese, one line)."""
        zone = zone_label(self.tz)
        if self.source == REAL:
            return f"系统日期：实时，今天 {self.today().isoformat()}（{zone}）"
        note = f"{self.note}；" if self.note else ""
        if self.source == AS_OF:
            return f"系统日期：{self.today().isoformat()}（{note}本次运行指定的固定日期）"
        return (
            f"系统日期：{self.today().isoformat()}（{note}于 {local_text(self._since, self.tz)}"
            f" 设为 {self.start_day.isoformat()} {AS_OF_TIME:%H:%M}，此后随实际时间推移；{zone}）"
        )

    def __repr__(self) -> str:
        shown = self._fixed.isoformat() if self._fixed else "real"
        return f"Clock(as_of={shown}{', running' if self._since else ''})"


def parse_as_of(value: str | None) -> date | None:
    """Parse a ``--as-of`` value (YYYY-MM-DD); None means the real time."""
    if not value:
        return None
    return date.fromisoformat(value)


def stored_value(day: date, *, since: datetime, note: str = "") -> dict[str, str]:
    """What the database keeps of an installation clock (see ``from_stored``)."""
    return {"day": day.isoformat(), "since": since.astimezone(UTC).isoformat(), "note": note}


def from_stored(value: Any, tz: ZoneInfo) -> Clock | None:
    """The installation clock a stored value describes; None for none or an unreadable one."""
    if not isinstance(value, dict):
        return None
    try:
        day = date.fromisoformat(str(value["day"]))
        since = datetime.fromisoformat(str(value["since"]))
    except (KeyError, ValueError):
        return None
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return Clock(day, tz, since=since, note=str(value.get("note") or ""))


def zone_label(tz: ZoneInfo) -> str:
    """How a person names the zone: 北京时间 for Asia/Shanghai, else its IANA key."""
    return ZONE_NAMES.get(tz.key, tz.key)


def local_text(moment: datetime | None, tz: ZoneInfo, *, empty: str = "—") -> str:
    """A moment as a person reads it: local time in ``tz`` to the minute (2021-07-19 09:00)."""
    if moment is None:
        return empty
    if moment.tzinfo is None:  # stored naive moments are UTC (services/db/types.py)
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")
