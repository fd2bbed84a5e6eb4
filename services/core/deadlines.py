"""Deadlines in calendar days or Chinese working days (statutory holidays and 调休)."""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar

CALENDAR = "calendar"
WORKING = "working"
MODES = (CALENDAR, WORKING)
MODE_LABELS = {CALENDAR: "自然日", WORKING: "工作日"}


def is_working_day(day: date) -> bool:
    """True on a Chinese working day, make-up working days (调休) included."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError as exc:  # outside the years the calendar knows
        raise ValueError(
            f"{day.isoformat()} 不在节假日数据覆盖范围内，请升级 chinese_calendar 或改用自然日"
        ) from exc


def add_days(start: date, days: int, mode: str) -> date:
    """The date ``days`` calendar or working days after ``start`` (``start`` not counted)."""
    if mode not in MODES:
        raise ValueError(f"未知的期限计算方式：{mode}（应为 calendar 或 working）")
    if days < 0:
        raise ValueError("期限天数不能为负数")
    if mode == CALENDAR:
        return start + timedelta(days=days)
    day = start
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if is_working_day(day):
            counted += 1
    return day


def days_left(deadline: date | None, today: date) -> int | None:
    """Calendar days until the deadline (0 on the day itself, negative when past)."""
    if deadline is None:
        return None
    return (deadline - today).days
