"""Many rounds' notices and ledgers read together (what the national stage renders) are each
round's own: the same text as the round's notice alone, the golden notices unchanged."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from services.core.errors import NotFound
from services.db.models import Round
from services.reports.exports import ledger_download, ledger_downloads
from services.reports.notice import build_notice, build_notices
from services.reports.render import render_markdown
from services.rounds import rounds
from tests.builders import a_target, a_unit, an_issuer
from tests.integration.reports.test_notice_scenarios import GOLDEN, SCENARIOS, loaded


@pytest.fixture
def every_round(app) -> list[str]:
    """The three demo offices side by side: every round of theirs, latest first."""
    for scenario in SCENARIOS:
        loaded(app, scenario)
    with app.uow() as uow:
        return list(uow.session.scalars(select(Round.code).order_by(Round.period_start.desc())))


def test_notices_read_together_are_each_rounds_own_notice(app, every_round):
    assert len(every_round) > len(SCENARIOS)  # earlier rounds too: a round and its previous
    with app.uow() as uow:
        together = [render_markdown(n) for n in build_notices(uow, every_round)]
    for code, text in zip(every_round, together, strict=True):
        with app.uow() as uow:
            assert text == render_markdown(build_notice(uow, code)), code
    for scenario, code in SCENARIOS.items():
        golden = (GOLDEN / f"{scenario}.md").read_text("utf-8")
        assert together[every_round.index(code)] == golden


def test_ledgers_read_together_are_each_rounds_own_ledger(app, every_round):
    with app.uow() as uow:
        together = ledger_downloads(uow, every_round, fmt="csv")
        alone = [ledger_download(uow, code, fmt="csv") for code in every_round]
    assert [d.filename for d in together] == [f"{code}整改台账.csv" for code in every_round]
    assert [d.content for d in together] == [d.content for d in alone]


def test_an_unknown_round_among_many_is_refused_by_its_code(app, every_round):
    with app.uow() as uow, pytest.raises(NotFound, match="2099Q1"):
        build_notices(uow, [*every_round, "2099Q1"])


def test_each_of_many_offices_counts_the_websites_of_its_own_area(app):
    """More offices than one statement counts for: each notice still counts its own."""
    with app.uow() as uow:
        a_unit(uow, "city", name="某市", kind="city_gov")
        for n in range(120):
            a_unit(uow, f"k{n}", name=f"第{n}县", kind="county_gov", parent_code="city")
            an_issuer(uow, f"k{n}", level="county", name=f"第{n}县人民政府办公室")
            for w in range(n % 3 + 1):
                a_target(uow, f"k{n}-w{w}", unit_code=f"k{n}", name=f"第{n}县网站{w}")
            spec = rounds.RoundSpec(
                code=f"2021Q3-k{n}",
                period_start=date(2021, 7, 1),
                period_end=date(2021, 9, 30),
                notice_date=date(2021, 10, 18),
                issuer_code=f"k{n}",
            )
            rounds.upsert_round(uow, spec)
        uow.commit()
    codes = [f"2021Q3-k{n}" for n in range(120)]
    with app.uow() as uow:
        notices = build_notices(uow, codes)
    for n, notice in enumerate(notices):
        assert notice.stats.kinds["website"].operating == n % 3 + 1
        assert notice.office == f"第{n}县人民政府办公室"
