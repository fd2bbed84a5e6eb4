"""A round's published state true to its history (``services.rounds.published``): rounds whose
notice went out before the system count as published on their notice day, and are neither
published nor mailed again."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from services.access.users import UserView
from services.core.clock import SHANGHAI, Clock
from services.core.errors import ValidationFailed
from services.core.uow import UnitOfWork
from services.db.models import CaseEvent, OutboxMessage, Round
from services.ops import demo
from services.registry import listings
from services.rounds import edits, publication, published, rounds
from tests.builders import a_case, a_round, a_target


def supervisor() -> UserView:
    return UserView(1, "u", "监管员", "supervisor", None, None, None)


@pytest.fixture
def lincang(app):
    """The Lincang 2021 demo: 2020Q4 and 2021Q1 imported with their history, 2021Q2 found."""
    with app.uow() as uow:
        demo.load_demo(uow)
        uow.commit()
    return app


def _footprint(app) -> tuple:
    with app.uow() as uow:
        return (
            uow.session.scalar(select(func.count()).select_from(CaseEvent)),
            uow.session.scalar(select(func.count()).select_from(OutboxMessage)),
            tuple(uow.session.execute(select(Round.code, Round.published_at)).all()),
        )


def test_the_demos_earlier_rounds_count_as_published_on_their_notice_day(lincang):
    with lincang.uow() as uow:
        rows = {r.code: r for r in published.with_states(uow, listings.list_rounds(uow))}

    assert {code: (r.published, r.published_on) for code, r in rows.items()} == {
        "2020Q4": (True, date(2021, 1, 20)),
        "2021Q1": (True, date(2021, 4, 19)),
        "2021Q2": (False, None),
    }
    assert rows["2021Q1"].published_at is None  # not by this system: its own words say so
    assert rows["2021Q1"].published_text == (
        "已发布（2021年4月19日通报，未经本系统发布，案件均已通知）"
    )
    assert rows["2021Q2"].published_text == "未发布"


def test_a_round_published_before_the_system_is_neither_published_nor_mailed_again(lincang):
    before = _footprint(lincang)
    with lincang.uow() as uow:
        with pytest.raises(ValidationFailed, match="检查轮次 2021Q1 已发布（2021年4月19日通报"):
            edits.publish(uow, user=supervisor(), round_code="2021Q1")
    with lincang.uow() as uow:  # the flow's path (``rectify round publish 2021Q1``)
        summary = publication.publish_round(uow, round_code="2021Q1", actor="测试员")

    assert (summary.notified, summary.units_mailed) == (0, 0)
    assert summary.published_at == "2021-04-19"
    assert _footprint(lincang) == before


def test_a_round_published_here_is_refused_a_second_publication(lincang):
    with lincang.uow() as uow:
        first = edits.publish(uow, user=supervisor(), round_code="2021Q2")
    with lincang.uow() as uow:
        with pytest.raises(ValidationFailed, match="检查轮次 2021Q2 已发布（2021年7月19日）"):
            edits.publish(uow, user=supervisor(), round_code="2021Q2")
        state = published.of_round(uow, rounds.get_round(uow, "2021Q2"))

    assert first.notified == 9 and first.units_mailed == 7
    assert state.published and state.at is not None and state.on == date(2021, 7, 19)


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        ((), False),  # no case: nothing has gone out
        (("found",), False),
        (("notified", "found"), False),  # one still waits: 发布并通知 is what it needs
        (("notified", "verified"), True),  # every case notified (on its own)
    ],
)
def test_a_round_counts_as_published_once_every_case_was_notified(app, states, expected):
    with app.uow() as uow:
        a_round(uow, "2021Q2", notice_date=date(2021, 7, 19))
        for state in states:
            a_case(uow, state=state, target_code=a_target(uow).code)
        uow.commit()
    with app.uow() as uow:
        state = published.of_round(uow, rounds.get_round(uow, "2021Q2"))

    assert state.published is expected
    assert state.on == (date(2021, 7, 19) if expected else None)
    assert state.at is None


def test_without_a_notice_date_the_day_is_the_first_cases_notice_in_local_time(app):
    dawn = datetime(2021, 7, 19, 7, 0, tzinfo=SHANGHAI)  # 18 July, 23:00 UTC
    with UnitOfWork(app.session_factory, clock=Clock(dawn), settings=app.settings) as uow:
        a_round(uow, "2021Q2", notice_date=None, deadline=None, deadline_days=10)
        a_case(uow, state="notified", target_code=a_target(uow).code)
        uow.commit()
    with app.uow() as uow:
        state = published.of_round(uow, rounds.get_round(uow, "2021Q2"))

    assert (state.published, state.on) == (True, date(2021, 7, 19))
    assert state.text == "已发布（2021年7月19日通报，未经本系统发布，案件均已通知）"
