"""How the notice words a problem's history of notices (services.reports.problems)."""

from __future__ import annotations

from collections import Counter
from types import SimpleNamespace

import pytest

from services.reports.problems import _unique, notice_history, prior_notices


@pytest.mark.parametrize(
    "city, province, text",
    [
        (0, 0, ""),
        (1, 0, "已被市政府办公室通报一次"),
        (0, 1, "已被省政府办公厅通报一次"),
        (2, 1, "已被省政府办公厅通报一次，被市政府办公室通报两次"),
        (3, 2, "已被省政府办公厅通报两次，被市政府办公室通报三次"),
    ],
)
def test_the_history_names_the_province_first_then_the_city(city, province, text):
    assert notice_history(city, province) == text


def test_the_history_names_the_county_after_the_city():
    assert notice_history(2, 1, 1) == (
        "已被省政府办公厅通报一次，被市政府办公室通报两次，被县政府办公室通报一次"
    )
    assert notice_history(0, 0, 2) == "已被县政府办公室通报两次"


def test_prior_notices_leave_out_this_rounds_own_and_never_go_below_zero():
    case = SimpleNamespace(id=5, notices_city=3, notices_province=1, notices_county=1)
    assert prior_notices(case, Counter()) == (3, 1, 1)
    assert prior_notices(case, Counter({(5, "city"): 1, (5, "province"): 1})) == (2, 0, 1)
    assert prior_notices(case, Counter({(5, "city"): 4, (5, "province"): 2})) == (0, 0, 1)
    assert prior_notices(case, Counter({(5, "county"): 1})) == (3, 1, 0)
    assert prior_notices(case, Counter({(6, "city"): 3})) == (3, 1, 1)


def test_phrases_are_listed_once_in_order_without_blanks():
    assert _unique(["存在错别字", "", "栏目不更新", "存在错别字"]) == ["存在错别字", "栏目不更新"]
