"""Deadlines in calendar and Chinese working days."""

from datetime import date

import pytest

from services.core.deadlines import add_days, days_left
from states.rules import overdue_days


def test_calendar_days_count_every_day():
    assert add_days(date(2021, 7, 19), 10, "calendar") == date(2021, 7, 29)


def test_working_days_skip_the_2021_national_day_holiday():
    # 2021-09-30 (Thu). Oct 1-7 are holidays; Sat Oct 9 is a make-up working day (调休).
    assert add_days(date(2021, 9, 30), 1, "working") == date(2021, 10, 8)
    assert add_days(date(2021, 9, 30), 2, "working") == date(2021, 10, 9)
    assert add_days(date(2021, 9, 30), 3, "working") == date(2021, 10, 11)


def test_the_make_up_working_day_before_national_day_counts():
    # Sun 2021-09-26 is a working day (调休 for the holiday).
    assert add_days(date(2021, 9, 25), 1, "working") == date(2021, 9, 26)


def test_ten_working_days_from_a_notice_before_the_holiday():
    assert add_days(date(2021, 9, 27), 10, "working") == date(2021, 10, 15)


def test_unknown_mode_is_refused_in_chinese():
    with pytest.raises(ValueError, match="期限计算方式"):
        add_days(date(2021, 7, 19), 3, "lunar")


def test_overdue_days_start_the_day_after_the_deadline():
    deadline = date(2021, 7, 29)
    assert overdue_days("notified", deadline, date(2021, 7, 29)) == 0
    assert overdue_days("notified", deadline, date(2021, 7, 30)) == 1
    assert overdue_days("notified", None, date(2021, 7, 30)) == 0
    assert days_left(deadline, date(2021, 7, 19)) == 10
