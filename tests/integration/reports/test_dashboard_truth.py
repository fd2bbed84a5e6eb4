"""One truth: every figure of the dashboard equals the length of the case list its link names,
for the whole installation, a whole tree (its live counters) and a county (counted live), on
a database with continued, overdue, escalated, extended, submitted, verified and found cases.
The dashboard's pass rates equal the notice's (``figures.kind_stats``)."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from services.cases import queries
from services.ops.demo import load_demo
from services.reports import dashboard, round_rates, trends
from services.reports.figures import kind_stats
from services.reports.stats import RATED_KINDS, rate_settings
from services.rounds import rounds
from tests.integration.reports.dashboard_scenario import (
    COUNTY,
    EXPECTED,
    build,
    filters_of,
    with_verdicts,
)


def _listed(uow, count: dashboard.Count, scope_path: str | None) -> list[queries.CaseRow]:
    """The list the figure's link opens, as the /cases route reads and scopes it."""
    filters = filters_of(urlencode(count.filters))
    filters.scope_path = scope_path
    return queries.list_cases(uow, filters)


@pytest.mark.parametrize("scope", list(EXPECTED), ids=["all", "city-tree", "county"])
def test_every_figure_equals_the_length_of_the_list_it_links_to(app, scope):
    cases = build(app)
    with app.uow() as uow:
        board = dashboard.dashboard(uow, scope_path=scope)
        cards = {c.key: c.count for c in board.cards}
        assert cards == EXPECTED[scope]
        for count in board.linked():
            listed = _listed(uow, count, scope)
            assert len(listed) == count.count, (count.label, count.filters)
        overdue = {r.id for r in _listed(uow, board.cards[2], scope)}

    # Not the continued, extended or submitted ones: only those the unit still owes.
    owed = {cases.overdue, cases.escalated_overdue}
    if scope != COUNTY:
        owed.add(cases.overdue_city)
    if scope is None:
        owed.add(cases.other_tree)
    assert overdue == owed


def test_the_county_sees_its_units_each_without_its_subtree(app):
    cases = build(app)
    with app.uow() as uow:
        board = dashboard.dashboard(uow, scope_path=COUNTY)
        units = {c.label: c.count for c in board.by_unit}
        water = next(c for c in board.by_unit if c.label == "样例县水务局")
        listed = {r.id for r in _listed(uow, water, COUNTY)}

    # The county itself: its escalated case, the extended one and Q2's found one; its water
    # bureau's three are its own row, not the county's.
    assert units == {"样例县人民政府": 3, "样例县水务局": 3}
    assert listed == {cases.overdue, cases.successor, cases.escalated}


def test_a_continued_case_is_neither_open_nor_overdue_anywhere(app):
    """Case ``carried`` was overdue (deadline 22 April) when 2021Q2's case took it over."""
    cases = build(app)
    with app.uow() as uow:
        row = queries.list_cases(uow, queries.CaseFilters(state="continued"))
        board = dashboard.dashboard(uow)
        overdue = {r.id for r in queries.list_cases(uow, queries.CaseFilters(overdue=True))}
        open_ = {r.id for r in queries.list_cases(uow, queries.CaseFilters(open_only=True))}
        trend = {t.round_code: t for t in board.trend}

    carried = {r.id: r for r in row}
    assert set(carried) == {cases.carried, cases.carried_escalated}
    assert carried[cases.carried].standing.label == "已转入下一轮"
    assert carried[cases.carried].overdue_days == 0
    assert carried[cases.carried].successor_id == cases.successor
    assert carried[cases.carried_escalated].successor_id == cases.successor_escalated
    assert not set(carried) & (overdue | open_)
    assert {r.id for r in board.urgent}.isdisjoint(carried)
    # 2021Q1: nine cases, two continued and one verified; four overdue (one in another tree).
    assert (trend["2021Q1"].cases, trend["2021Q1"].open, trend["2021Q1"].overdue) == (9, 6, 4)
    assert trend["2021Q1"].escalated == 2  # ever escalated: the escalated and the carried one


def test_the_page_says_when_it_was_counted(app):
    with app.uow() as uow:
        board = dashboard.dashboard(uow)
    assert board.as_of_text == "数据截至 2021年7月19日 09:00（北京时间）"


def _notice_rates(uow, round_code: str) -> dict[str, tuple[int, int, str]]:
    round_ = rounds.get_round(uow, round_code)
    stats = kind_stats(uow, round_, rates=rate_settings(uow, round_))
    return {k: (stats[k].inspected, stats[k].qualified, stats[k].rate_text) for k in RATED_KINDS}


def _board_rates(uow, round_code: str) -> dict[str, tuple[int, int, str]]:
    rates = dashboard.pass_rates(uow, round_code=round_code)
    return {p.kind: (p.inspected, p.qualified, p.text) for p in rates}


def test_the_rates_equal_the_notices_on_a_round_with_overrides(app):
    cases = build(app)
    with_verdicts(app, cases)
    with app.uow() as uow:
        board = dashboard.dashboard(uow)
        notice = _notice_rates(uow, "2021Q2")
        shown = {p.kind: (p.inspected, p.qualified, p.text) for p in board.pass_rates}

    # Five websites: two with a 2021Q2 veto case fail, the overridden veto one passes, the one
    # with a 2021Q1 case only passes, the one ruled unqualified fails: 2 of 5 qualified.
    assert shown == notice
    assert shown["website"] == (5, 2, "40.00%")


@pytest.mark.parametrize("scenario", ["lincang-2021", "county", "city"])
def test_the_rates_of_every_round_equal_the_notices_on_the_demos(app, scenario):
    """``city`` has a recheck in its round (同季度复查): tallied as the notice tallies it."""
    with app.uow() as uow:
        load_demo(uow, name=scenario)
        uow.commit()
    with app.uow() as uow:
        round_list = trends.recent_rounds(uow)
        figures = round_rates.kind_figures(uow, round_list)
        for round_ in round_list:
            assert _board_rates(uow, round_.code) == _notice_rates(uow, round_.code), round_.code
            shown = {
                kind: round_rates.settings_for(uow, round_).for_kind(kind).rate(q, i)
                for kind, (i, q) in figures[round_.id].items()
            }
            stats = kind_stats(uow, round_, rates=rate_settings(uow, round_))
            assert shown == {kind: stats[kind].rate for kind in RATED_KINDS}
        assert any(_board_rates(uow, r.code)["website"][0] for r in round_list)
