"""Deadline edges a person meets: a 0-day deadline, a negative one, a year the holiday calendar
does not cover, and the Chinese words for the two ways of counting (services.core.deadlines)."""

from __future__ import annotations

import threading
from datetime import date

import pytest

from services.core.deadlines import (
    CALENDAR,
    MODE_LABELS,
    MODES,
    WORKING,
    add_days,
    days_left,
    is_working_day,
)
from states.rules import overdue_days


def _within(seconds: float, func, *args):
    """Run ``func`` in a thread; its result or exception, or fail if it is still running."""
    outcome: dict = {}

    def target():
        try:
            outcome["value"] = func(*args)
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            outcome["error"] = exc

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(timeout=seconds)
    assert not worker.is_alive(), f"{func.__name__}{args} did not return (a loop?)"
    return outcome


def test_the_two_ways_of_counting_are_named_in_chinese():
    assert (CALENDAR, WORKING) == ("calendar", "working")
    assert MODES == ("calendar", "working")
    assert MODE_LABELS == {"calendar": "自然日", "working": "工作日"}


@pytest.mark.parametrize("mode", ["calendar", "working"])
def test_a_zero_day_deadline_is_the_start_day_itself(mode):
    assert add_days(date(2021, 7, 19), 0, mode) == date(2021, 7, 19)
    # even on a holiday, and in a year the holiday calendar does not know: nothing is counted
    assert add_days(date(2021, 10, 1), 0, mode) == date(2021, 10, 1)
    assert add_days(date(2099, 1, 1), 0, mode) == date(2099, 1, 1)


@pytest.mark.parametrize("mode", ["calendar", "working"])
@pytest.mark.parametrize("days", [-1, -10])
def test_a_negative_deadline_is_refused_in_chinese(mode, days):
    with pytest.raises(ValueError) as refused:
        add_days(date(2021, 7, 19), days, mode)
    assert str(refused.value) == "期限天数不能为负数"


def test_an_unknown_mode_is_named_in_the_refusal():
    with pytest.raises(ValueError) as refused:
        add_days(date(2021, 7, 19), 3, "lunar")
    assert str(refused.value) == "未知的期限计算方式：lunar（应为 calendar 或 working）"


def test_one_calendar_day_and_one_working_day_over_a_weekend():
    assert add_days(date(2021, 7, 16), 1, "calendar") == date(2021, 7, 17)  # Fri → Sat
    assert add_days(date(2021, 7, 16), 1, "working") == date(2021, 7, 19)  # Fri → Mon
    assert add_days(date(2021, 7, 19), 5, "working") == date(2021, 7, 26)


def test_calendar_days_need_no_holiday_calendar():
    assert add_days(date(2099, 12, 30), 3, "calendar") == date(2100, 1, 2)


@pytest.mark.parametrize(
    "start, first_unknown",
    [(date(2099, 1, 1), date(2099, 1, 2)), (date(2000, 1, 1), date(2000, 1, 2))],
)
def test_working_days_in_a_year_the_calendar_does_not_cover_raise_a_clear_error(
    start, first_unknown
):
    outcome = _within(30, add_days, start, 10, "working")
    assert isinstance(outcome.get("error"), ValueError), outcome
    assert str(outcome["error"]) == (
        f"{first_unknown.isoformat()} 不在节假日数据覆盖范围内，请升级 chinese_calendar 或改用自然日"
    )


def test_working_days_running_past_the_calendars_last_year_raise_not_loop():
    last = date(2021, 12, 31)
    while True:  # the last day the installed calendar knows
        try:
            is_working_day(date(last.year + 1, 12, 31))
        except ValueError:
            break
        last = date(last.year + 1, 12, 31)
    outcome = _within(30, add_days, date(last.year, 12, 20), 40, "working")
    assert isinstance(outcome.get("error"), ValueError), outcome
    assert "不在节假日数据覆盖范围内" in str(outcome["error"])


def test_is_working_day_knows_make_up_days_and_holidays():
    assert is_working_day(date(2021, 9, 26)) is True  # Sunday, 调休
    assert is_working_day(date(2021, 10, 1)) is False  # National Day
    assert is_working_day(date(2021, 7, 19)) is True


def test_overdue_and_days_left_around_the_deadline():
    deadline = date(2021, 7, 29)
    assert overdue_days("notified", deadline, date(2021, 7, 28)) == 0
    assert overdue_days("notified", deadline, date(2021, 8, 8)) == 10
    assert overdue_days("notified", None, date(2021, 8, 8)) == 0
    assert days_left(deadline, date(2021, 7, 29)) == 0
    assert days_left(deadline, date(2021, 8, 1)) == -3
    assert days_left(None, date(2021, 8, 1)) is None
