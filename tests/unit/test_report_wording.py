"""Chinese wording of the notice: numerals, times, dates, quarters and notice history."""

from __future__ import annotations

from datetime import date

from services.reports.problems import notice_history
from services.reports.wording import (
    chapter_number,
    cn_date,
    cn_numeral,
    cn_times,
    quarter_label,
    section_number,
)


def test_section_numbers_run_past_ten_as_official_documents_write_them():
    assert [section_number(n) for n in (1, 9, 10, 11, 20, 21)] == [
        "（一）",
        "（九）",
        "（十）",
        "（十一）",
        "（二十）",
        "（二十一）",
    ]
    assert chapter_number(3) == "三、"
    assert cn_numeral(0) == "零"


def test_two_times_is_written_liang_ci():
    assert [cn_times(n) for n in (1, 2, 3, 12)] == ["一次", "两次", "三次", "十二次"]


def test_dates_and_quarters_have_no_leading_zeros():
    assert cn_date(date(2021, 7, 9)) == "2021年7月9日"
    assert quarter_label(date(2021, 4, 1)) == "2021年二季度"
    assert quarter_label(date(2020, 12, 31)) == "2020年四季度"


def test_notice_history_names_the_province_first_and_is_empty_when_never_notified():
    assert notice_history(2, 1) == "已被省政府办公厅通报一次，被市政府办公室通报两次"
    assert notice_history(1, 0) == "已被市政府办公室通报一次"
    assert notice_history(0, 0) == ""
