"""The pure parts of a notice's figures (services.reports.figures): the printed rate and its
full-marks wording, the share a sample inspected, which options win, the issuer's area words
and which unit a group takes in."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest

from services.reports.figures import (
    GroupStats,
    KindStats,
    RateRule,
    Scope,
    _in_group,
    kind_option,
    notice_options,
    rate_settings,
    scope_of,
    share,
)


def test_a_full_rate_is_written_the_offices_way_only_when_every_target_qualified():
    office = RateRule(decimals=2, hundred="100%")
    assert office.text(Decimal("100.00"), all_qualified=True) == "100%"
    assert RateRule().text(Decimal("100.00"), all_qualified=True) == "100.00%"
    # 995 of 1000 rounded to no decimals is 100, but not every target qualified.
    rounded = RateRule(decimals=0, hundred="全部合格")
    assert rounded.text(rounded.rate(995, 1000), all_qualified=False) == "100%"
    assert office.text(None, all_qualified=True) == "—"


def test_a_kind_and_a_group_print_their_rate_in_their_kinds_format():
    fmt = RateRule(decimals=1, rule="truncate", hundred="100%", shown=False)
    kind = KindStats("website", 9, 1, fmt.rate(8, 9), (3,), format=fmt)
    group = GroupStats("县（区）政府门户网站", 4, 0, fmt.rate(4, 4), format=fmt)
    assert (kind.rate_text, kind.qualified, kind.show_rate) == ("88.8%", 8, False)
    assert (group.rate_text, group.qualified) == ("100%", 4)


def test_groups_with_nothing_inspected_are_not_printed():
    empty = GroupStats("乡镇", 0, 0, None)
    full = GroupStats("市级部门网站", 3, 1, Decimal("66.67"))
    kind = KindStats("website", 3, 1, Decimal("66.67"), (), groups=(empty, full))
    assert kind.printed_groups == (full,)


@pytest.mark.parametrize(
    "inspected, operating, rule, expected",
    [
        (50, 194, RateRule(1, "round_half_up"), "25.8"),
        (1, 3, RateRule(1, "round_half_up"), "33.3"),
        (2, 8, RateRule(0, "round_half_up"), "25"),
        (60, 230, RateRule(1, "round_half_up"), "26.1"),
        (60, 230, RateRule(1, "truncate"), "26.0"),  # the kind's rule, as its pass rate
        (60, 230, RateRule(2, "truncate"), "26.08"),
        (10, 10, RateRule(), None),
        (10, 0, RateRule(), None),
    ],
)
def test_a_sample_shares_as_its_kinds_rate_of_a_larger_population(
    inspected, operating, rule, expected
):
    result = share(inspected, operating, rule)
    assert (None if result is None else str(result)) == expected


def test_a_kinds_own_option_wins_over_the_general_one():
    options = {"kinds": {"survey": "sample", "website": {"survey": "census"}}}
    assert kind_option(options, "website", "survey") == "census"
    assert kind_option(options, "column", "survey") == "sample"
    assert kind_option({}, "column", "operating") is None
    assert kind_option({"kinds": {"column": {"counts": False}}}, "column", "counts") is False


@pytest.mark.parametrize(
    "level, area, departments",
    [
        ("province", "全省", "省级部门"),
        ("city", "全市", "市级部门"),
        ("county", "全县", "县级部门"),
    ],
)
def test_the_issuers_level_names_its_area(level, area, departments):
    round_ = SimpleNamespace(issuer=SimpleNamespace(level=level))
    assert scope_of(round_) == Scope(area=area, departments=departments)


def test_a_round_without_an_issuer_speaks_as_a_city():
    assert scope_of(SimpleNamespace(issuer=None)) == Scope(area="全市", departments="市级部门")


def _uow():
    return SimpleNamespace(
        settings=SimpleNamespace(pass_rate_decimals=2, pass_rate_rule="round_half_up")
    )


def test_the_round_overrides_its_issuer_and_a_kind_overrides_both():
    issuer = SimpleNamespace(
        level="city",
        options={"pass_rate": {"decimals": 0, "rule": "truncate", "hundred": "100%"}},
    )
    round_ = SimpleNamespace(
        issuer=issuer,
        notice_texts={
            "title": "关于……的通报",  # a text beside the options: not an option
            "pass_rate": {"decimals": 1, "new_media": {"decimals": 2, "print": False}},
        },
    )
    rates = rate_settings(_uow(), round_)
    assert rates.default == RateRule(decimals=1, rule="truncate", hundred="100%")
    assert rates.for_kind("new_media") == RateRule(2, "truncate", shown=False, hundred="100%")
    assert set(notice_options(round_)) == {"pass_rate"}


def test_a_unit_is_in_a_group_by_its_kind_or_by_lying_under_a_named_unit():
    assert _in_group("county_gov", "/city/yd/", {"county_gov"})
    assert _in_group("city_dept", "/city/gm/gm_water/", {"gm"})
    assert not _in_group("city_dept", "/city/gm2/", {"gm"})
    assert not _in_group("city_dept", "/city/zr/", {"county_gov", "gm"})
