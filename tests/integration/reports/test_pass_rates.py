"""A round's figures as the notice prints them: which targets fail, the pass rate, the dash when
nothing was inspected, message boards, and the previous quarter named for Q1–Q4."""

from __future__ import annotations

from datetime import date

import pytest

from services.reports.notice import build_notice
from services.reports.stats import RateRule, RateSettings, round_stats
from services.rounds import rounds
from tests.builders import a_case, a_round, a_target
from tests.integration.reports.notice_scenario import Q2, a_small_city, inspected


def _quarters(uow) -> None:
    """2021Q1–2021Q2 from the small city, then 2021Q3, 2021Q4 and 2022Q1, each with a notice."""
    a_small_city(uow)
    a_round(uow, "2021Q3", notice_date=date(2021, 10, 19), deadline=date(2021, 10, 29))
    a_round(uow, "2021Q4", notice_date=date(2022, 1, 19), deadline=date(2022, 1, 29))
    a_round(uow, "2022Q1", notice_date=date(2022, 4, 19), deadline=date(2022, 4, 29))


@pytest.mark.parametrize(
    "current, previous, year, quarter, label",
    [
        ("2021Q2", "2021Q1", 2021, 1, "2021年一季度"),
        ("2021Q3", "2021Q2", 2021, 2, "2021年二季度"),
        ("2021Q4", "2021Q3", 2021, 3, "2021年三季度"),
        ("2022Q1", "2021Q4", 2021, 4, "2021年四季度"),
    ],
)
def test_the_previous_quarter_is_the_nearest_earlier_round_named_by_year_and_quarter(
    app, current, previous, year, quarter, label
):
    with app.uow() as uow:
        _quarters(uow)
        stats = round_stats(uow, current)
        notice = build_notice(uow, current)

    assert (stats.previous.round_code, stats.previous.period_start_year) == (previous, year)
    assert stats.previous.quarter == quarter
    assert f"（一）{label}通报问题整改情况。{label}未发现问题网站" in notice.text


def test_the_first_round_has_no_previous_quarter(app):
    with app.uow() as uow:
        _quarters(uow)
        stats = round_stats(uow, "2021Q1")
        notice = build_notice(uow, "2021Q1")

    assert stats.previous is None
    assert "通报问题整改情况" not in notice.text


def test_a_veto_fails_its_target_unless_a_person_overrides_it_and_deductions_never_do(app):
    with app.uow() as uow:
        a_small_city(uow)
        for code in ("w1", "w2", "w3", "w4", "w5"):
            inspected(uow, code, unit="yd", kind="website")
        a_target(uow, "w6", unit_code="yd", kind="website")
        rounds.set_verdict(uow, round_code=Q2, target_code="w6", inspected=False)
        a_case(uow, category="column_stale", target_code="w4")  # veto
        a_case(uow, category="column_stale", target_code="w2")  # veto, overridden below
        rounds.set_verdict(
            uow, round_code=Q2, target_code="w2", qualified_override=True, override_reason="误报"
        )
        rounds.set_verdict(
            uow, round_code=Q2, target_code="w5", qualified_override=False, override_reason="人工"
        )
        a_case(uow, category="column_stale", target_code="w3", severity="deduction")
        a_case(uow, category="column_stale", target_code="w6")  # not inspected: not counted
        ids = {
            code: a_target(uow, code, unit_code="yd", kind="website").id for code in ("w4", "w5")
        }
        tallies = rounds.tally(uow, Q2, kinds=("website", "column"))
        stats = round_stats(uow, Q2)

    website = tallies["website"]
    assert (website.inspected, website.unqualified, website.qualified) == (5, 2, 3)
    assert website.unqualified_target_ids == tuple(sorted(ids.values()))
    assert (tallies["column"].inspected, tallies["column"].unqualified) == (0, 0)
    assert stats.kinds["website"].rate_text == "60.00%"
    assert stats.kinds["website"].unqualified_target_ids == website.unqualified_target_ids
    assert set(stats.kinds) == {"website", "column", "new_media"}


def test_a_kind_nobody_inspected_has_no_rate_and_is_left_out_of_the_notice(app):
    with app.uow() as uow:
        a_small_city(uow)
        inspected(uow, "w1", unit="yd", kind="website")
        stats = round_stats(uow, Q2)
        notice = build_notice(uow, Q2)

    column = stats.kinds["column"]
    assert (column.inspected, column.unqualified, column.rate, column.rate_text) == (
        0,
        0,
        None,
        "—",
    )
    assert "问题专栏0个" not in notice.text
    assert "合格率—" not in notice.text and "合格率：—" not in notice.text
    assert "发现问题网站0个，网站合格率100.00%。" in notice.text


def test_rates_follow_each_kinds_rule_and_decimals(app):
    with app.uow() as uow:
        a_small_city(uow)
        for i in range(3):
            inspected(uow, f"w{i}", unit="yd", kind="website")
            inspected(uow, f"c{i}", unit="yd", kind="column")
        a_case(uow, category="column_stale", target_code="w0")
        a_case(uow, category="column_stale", target_code="c0")
        rates = RateSettings(
            default=RateRule(1, "round_half_up"), per_kind={"column": RateRule(0, "truncate")}
        )
        stats = round_stats(uow, Q2, rates=rates)

    assert stats.kinds["website"].rate_text == "66.7%"
    assert stats.kinds["column"].rate_text == "66%"


def test_message_boards_are_summed_per_unit_under_its_short_name(app):
    with app.uow() as uow:
        a_small_city(uow)
        for code, unit in (("b1", "gm"), ("b2", "gm"), ("b3", "zr"), ("b4", "yd")):
            a_target(uow, code, unit_code=unit, kind="message_board", name=f"信箱{code}")
        for code, messages, overdue in (("b1", 5, 1), ("b2", 7, 2), ("b3", 4, 0), ("b4", 0, 0)):
            rounds.set_board_figure(
                uow,
                round_code=Q2,
                target_code=code,
                messages_received=messages,
                replies_overdue=overdue,
            )
        boards = round_stats(uow, Q2).boards

    assert (boards.platforms, boards.messages, boards.overdue) == (4, 16, 3)
    assert [(x.unit, x.messages, x.overdue) for x in boards.per_unit] == [
        ("耿马自治县", 12, 3),
        ("市自然资源和规划局", 4, 0),  # no short name: its name
        ("永德县", 0, 0),
    ]
    assert [x.unit for x in boards.overdue_units] == ["耿马自治县"]


def test_the_previous_quarters_problems_count_fixed_only_when_every_case_is_verified(app):
    with app.uow() as uow:
        a_small_city(uow)
        for code in ("w1", "w2", "w3"):
            inspected(uow, code, unit="yd", kind="website", round_code="2021Q1")
        a_case(
            uow, round_code="2021Q1", category="column_stale", target_code="w1", state="verified"
        )
        a_case(
            uow, round_code="2021Q1", category="column_stale", target_code="w2", state="verified"
        )
        a_case(uow, round_code="2021Q1", category="nm_zombie", target_code="w2", state="notified")
        a_case(
            uow, round_code="2021Q1", category="column_stale", target_code="w3", state="verified"
        )
        a_case(
            uow,
            round_code="2021Q1",
            category="serious_wording",
            target_code="w3",
            severity="deduction",
            state="rectifying",
        )
        stats = round_stats(uow, Q2)
        notice = build_notice(uow, Q2)

    website = next(k for k in stats.previous.per_kind if k.kind == "website")
    assert (website.problems, website.rectified) == (3, 1)
    assert (stats.previous.problems, stats.previous.rectified) == (3, 1)
    assert "已完成整改1个，尚有2个未完成整改。" in notice.text


def test_a_round_starting_in_a_quarters_last_month_is_named_by_that_quarter(app):
    with app.uow() as uow:
        a_small_city(uow)
        rounds.upsert_round(
            uow,
            rounds.RoundSpec(
                code="2021Q3", period_start=date(2021, 6, 1), period_end=date(2021, 9, 30)
            ),
        )
        a_round(uow, "2021Q4", notice_date=date(2022, 1, 19), deadline=date(2022, 1, 29))
        previous = round_stats(uow, "2021Q4").previous

    assert (previous.round_code, previous.quarter) == ("2021Q3", 2)
