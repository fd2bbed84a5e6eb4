"""The pass rate (合格率) as the notice prints it: rounding rules, decimals, the dash when nothing
was inspected, and the wording of a refused setting (services.rounds.rounds, reports.stats)."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest

from services.core.errors import ValidationFailed
from services.reports.stats import (
    BoardLine,
    BoardStats,
    InventoryStats,
    KindStats,
    PreviousKind,
    PreviousStats,
    RateRule,
    RateSettings,
    RoundStats,
    rate_settings,
)
from services.rounds.rounds import (
    RATE_DECIMALS,
    RATE_RULES,
    KindTally,
    pass_rate,
    rate_problems,
    rate_rule_problems,
)


def test_the_rules_and_decimals_a_round_may_choose_are_named_in_chinese():
    assert RATE_RULES == {"round_half_up": "四舍五入", "truncate": "截断"}
    assert RATE_DECIMALS == (0, 1, 2)


@pytest.mark.parametrize("rule", ["round_half_up", "truncate"])
def test_nothing_inspected_has_no_rate_and_prints_a_dash(rule):
    assert pass_rate(0, 0, rule=rule) is None
    assert KindStats("website", 0, 0, None, ()).rate_text == "—"


@pytest.mark.parametrize(
    "qualified, inspected, decimals, half_up, truncated",
    [
        (2, 3, 2, "66.67", "66.66"),
        (2, 3, 1, "66.7", "66.6"),
        (2, 3, 0, "67", "66"),
        (1, 8, 0, "13", "12"),  # 12.5: exactly half rounds up
        (1, 16, 1, "6.3", "6.2"),  # 6.25
        (1, 32, 2, "3.13", "3.12"),  # 3.125
        (1, 3, 2, "33.33", "33.33"),
        (8, 9, 2, "88.89", "88.88"),
        (0, 7, 2, "0.00", "0.00"),
        (1, 1, 2, "100.00", "100.00"),
        (1, 1, 0, "100", "100"),
        (5, 5, 1, "100.0", "100.0"),
        (4, 5, 1, "80.0", "80.0"),
    ],
)
def test_rounding_half_up_or_truncating_to_0_1_or_2_decimals(
    qualified, inspected, decimals, half_up, truncated
):
    up = pass_rate(qualified, inspected, decimals=decimals, rule="round_half_up")
    down = pass_rate(qualified, inspected, decimals=decimals, rule="truncate")
    assert (str(up), str(down)) == (half_up, truncated)
    assert KindStats("column", inspected, inspected - qualified, up, ()).rate_text == f"{half_up}%"


def test_the_default_is_two_decimals_rounded_half_up():
    assert str(pass_rate(2, 3)) == "66.67"
    assert str(pass_rate(1, 32)) == "3.13"
    assert RateRule() == RateRule(decimals=2, rule="round_half_up")


def test_an_unknown_rule_is_refused():
    with pytest.raises(ValueError) as refused:
        pass_rate(1, 2, rule="ceil")
    assert str(refused.value) == "unknown pass-rate rule 'ceil'"


def test_qualified_is_inspected_minus_unqualified():
    assert KindStats("website", 9, 2, Decimal("77.78"), (3, 5)).qualified == 7
    assert KindTally("website", 9, 2, (3, 5)).qualified == 7


def test_a_setting_outside_the_choices_is_refused_naming_where_and_what():
    assert rate_rule_problems({}, where="pass_rate") == []
    assert rate_rule_problems({"decimals": 2, "rule": "round_half_up"}, where="x") == []
    assert rate_rule_problems({"decimals": 3, "rule": "ceil"}, where="pass_rate.website") == [
        "合格率小数位数（pass_rate.website.decimals）应为 0、1、2，而不是 3",
        "合格率取舍规则（pass_rate.website.rule）应为 round_half_up 或 truncate，而不是 'ceil'",
    ]
    assert rate_rule_problems({"decimals": True}, where="p") == [
        "合格率小数位数（p.decimals）应为 0、1、2，而不是 True"
    ]
    assert rate_rule_problems({"decimals": -1, "rule": 5}, where="p") == [
        "合格率小数位数（p.decimals）应为 0、1、2，而不是 -1",
        "合格率取舍规则（p.rule）应为 round_half_up 或 truncate，而不是 5",
    ]


def test_a_rounds_pass_rate_options_are_checked_kind_by_kind():
    assert rate_problems({}) == []
    assert rate_problems({"pass_rate": None}) == []
    assert rate_problems({"pass_rate": {"decimals": 0, "website": {"rule": "truncate"}}}) == []
    assert rate_problems([]) == ["通报文本设置（notice_texts）应为键值表"]
    assert rate_problems({"pass_rate": 2}) == [
        '合格率设置（pass_rate）应为键值表，如 {"decimals": 2, "rule": "truncate"}'
    ]
    assert rate_problems({"pass_rate": {"column": 1, "new_media": {"decimals": 5}}}) == [
        "合格率设置（pass_rate.column）应为键值表",
        "合格率小数位数（pass_rate.new_media.decimals）应为 0、1、2，而不是 5",
    ]
    assert rate_problems({"pass_rate": {"rule": "x", "website": {}}}) == [
        "合格率取舍规则（pass_rate.rule）应为 round_half_up 或 truncate，而不是 'x'"
    ]


def _uow(decimals=2, rule="round_half_up"):
    return SimpleNamespace(
        settings=SimpleNamespace(pass_rate_decimals=decimals, pass_rate_rule=rule)
    )


def test_rate_settings_take_the_settings_then_the_rounds_then_each_kinds():
    plain = rate_settings(_uow(1, "truncate"), SimpleNamespace(notice_texts=None))
    assert plain == RateSettings(default=RateRule(1, "truncate"), per_kind={})
    config = {"pass_rate": {"decimals": 0, "website": {"rule": "truncate"}, "column": {}}}
    mixed = rate_settings(_uow(), SimpleNamespace(notice_texts=config))
    assert mixed.default == RateRule(0, "round_half_up")
    assert mixed.per_kind == {
        "website": RateRule(0, "truncate"),
        "column": RateRule(0, "round_half_up"),
    }
    assert mixed.for_kind("website") == RateRule(0, "truncate")
    assert mixed.for_kind("new_media") == RateRule(0, "round_half_up")


def test_rate_settings_refuse_a_bad_round_option():
    bad = SimpleNamespace(notice_texts={"pass_rate": {"decimals": 4}})
    with pytest.raises(ValidationFailed) as refused:
        rate_settings(_uow(), bad)
    assert refused.value.errors == [
        "通报设置「合格率小数位数（pass_rate.decimals）」应为 0–2 之间的整数，而不是「4」"
    ]


def test_rate_settings_refuse_bad_settings_defaults():
    with pytest.raises(ValidationFailed) as refused:
        rate_settings(_uow(3, "round_half_up"), SimpleNamespace(notice_texts={}))
    assert refused.value.errors == ["合格率小数位数（pass_rate.decimals）应为 0、1、2，而不是 3"]


def test_board_and_previous_figures_add_up():
    lines = (BoardLine("市政府", 54, 0), BoardLine("耿马自治县", 7, 3))
    boards = BoardStats(platforms=2, messages=61, overdue=3, per_unit=lines)
    assert boards.overdue_units == (BoardLine("耿马自治县", 7, 3),)
    previous = PreviousStats(
        "2021Q1", 2021, 1, (PreviousKind("website", 2, 1), PreviousKind("column", 3, 3))
    )
    assert (previous.problems, previous.rectified) == (5, 4)


def test_a_bad_rule_in_the_settings_defaults_is_refused_too():
    with pytest.raises(ValidationFailed) as refused:
        rate_settings(_uow(2, "ceil"), SimpleNamespace(notice_texts={}))
    assert refused.value.errors == [
        "合格率取舍规则（pass_rate.rule）应为 round_half_up 或 truncate，而不是 'ceil'"
    ]


@pytest.mark.parametrize(
    "figure",
    [
        RateRule(),
        RateSettings(),
        KindStats("website", 1, 0, None, ()),
        BoardLine("市政府", 1, 0),
        BoardStats(0, 0, 0, ()),
        PreviousKind("website", 0, 0),
        PreviousStats("2021Q1", 2021, 1, ()),
        InventoryStats(None, None, None),
        KindTally("website", 0, 0, ()),
        RoundStats("2021Q2", {}, InventoryStats(1, 2, 3), BoardStats(0, 0, 0, ()), None),
    ],
)
def test_figures_of_a_printed_notice_cannot_be_changed_afterwards(figure):
    from dataclasses import FrozenInstanceError, fields

    with pytest.raises(FrozenInstanceError):
        setattr(figure, fields(figure)[0].name, None)
