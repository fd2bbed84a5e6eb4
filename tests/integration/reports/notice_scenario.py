"""A small two-quarter scenario for the notice tests, built with the real services."""

from __future__ import annotations

from datetime import UTC, date, datetime

from services.cases import transitions
from services.core.uow import UnitOfWork
from services.db.models import Submission
from services.rounds import rounds
from tests.builders import a_case, a_round, a_target, a_unit

Q2 = "2021Q2"


def a_small_city(uow: UnitOfWork) -> None:
    """City, county, department and park; 2021Q1 and 2021Q2 with inventory and a deadline."""
    a_unit(uow, "city", name="某市人民政府", kind="city_gov", short_name="市政府")
    a_unit(
        uow, "yd", parent_code="city", name="永德县人民政府", kind="county_gov", short_name="永德县"
    )
    a_unit(
        uow,
        "gm",
        parent_code="city",
        name="耿马自治县人民政府",
        kind="county_gov",
        short_name="耿马自治县",
    )
    a_unit(uow, "zr", parent_code="city", name="市自然资源和规划局")
    a_unit(uow, "park", parent_code="city", name="工业园区管理委员会", kind="park_committee")
    a_round(uow, "2021Q1", notice_date=date(2021, 4, 19), deadline=date(2021, 4, 29))
    a_round(
        uow,
        Q2,
        notice_date=date(2021, 7, 19),
        doc_number="某政办字〔2021〕72号",
        deadline=date(2021, 7, 29),
        nm_registered=54,
        nm_wechat_closed=11,
        nm_other_deregistered=17,
    )


def inspected(uow: UnitOfWork, code: str, *, unit: str, kind: str, round_code: str = Q2, **fields):
    """A target inspected in a round (a verdict row)."""
    a_target(uow, code, unit_code=unit, kind=kind, **fields)
    rounds.set_verdict(uow, round_code=round_code, target_code=code)


def a_quarter_with_problems(uow: UnitOfWork) -> None:
    """2021Q2: 4 websites, 2 columns, 3 accounts, 2 message boards; a stale county website,
    a wording error in a column, a zombie account and overdue replies in Gengma."""
    a_small_city(uow)
    inspected(uow, "w_city", unit="city", kind="website", name="某市人民政府门户网站")
    inspected(uow, "w_yd", unit="yd", kind="website", name="永德县人民政府门户网站")
    inspected(uow, "w_gm", unit="gm", kind="website", name="耿马自治县人民政府门户网站")
    inspected(uow, "w_zr", unit="zr", kind="website", name="市自然资源和规划局网站")
    inspected(uow, "c_zr", unit="zr", kind="column", name="市自然资源和规划局信息公开专栏")
    inspected(uow, "c_park", unit="park", kind="column", name="工业园区信息公开专栏")
    for code, account, entity in (
        ("nm_park", "园区发布", "工业园区管理委员会"),
        ("nm_gm", "耿马水务", "耿马傣族佤族自治县水务局"),
        ("nm_city", "某市发布", None),
    ):
        inspected(
            uow,
            code,
            unit="park" if code == "nm_park" else "gm" if code == "nm_gm" else "city",
            kind="new_media",
            name=account,
            account_name=account,
            registered_entity=entity,
        )
    a_target(uow, "b_city", unit_code="city", kind="message_board", name="市长信箱")
    a_target(uow, "b_gm", unit_code="gm", kind="message_board", name="县长信箱")
    rounds.set_board_figure(
        uow, round_code=Q2, target_code="b_city", messages_received=54, replies_overdue=0
    )
    rounds.set_board_figure(
        uow, round_code=Q2, target_code="b_gm", messages_received=7, replies_overdue=3
    )
    a_case(uow, category="column_stale", target_code="w_yd")
    a_case(uow, category="serious_wording", target_code="c_zr")
    a_case(uow, category="nm_zombie", target_code="nm_park")
    a_case(uow, category="nm_zombie", target_code="nm_gm")


def a_previous_quarter(uow: UnitOfWork, *, fixed: bool) -> int:
    """2021Q1: one problem website (fixed or still being rectified); returns its case id."""
    rounds.set_verdict(uow, round_code="2021Q1", target_code="w_city")
    case = a_case(
        uow,
        round_code="2021Q1",
        category="serious_wording",
        target_code="w_city",
        state="verified" if fixed else "rectifying",
        on=date(2021, 4, 19),  # notified with the Q1 notice, against its 4月29日 deadline
    )
    return case.id


def reported(uow: UnitOfWork, case_id: int, *, on: date) -> None:
    """A unit's rectification report on a given day (only its date matters to the notice)."""
    uow.session.add(
        Submission(
            case_id=case_id,
            text="已整改",
            responsible_person="张三",
            submitted_at=datetime(on.year, on.month, on.day, 3, tzinfo=UTC),
        )
    )
    uow.flush()


def a_repeat_domain_case(uow: UnitOfWork, *, notify_in_q2: bool) -> int:
    """The park's offline site: notified by the city in Q1 and by the province, found again."""
    a_target(uow, "w_park", unit_code="park", kind="website", name="工业园区网站", status="offline")
    first = a_case(
        uow,
        round_code="2021Q1",
        category="domain_not_deregistered",
        target_code="w_park",
        state="notified",
        on=date(2021, 4, 19),
    )
    transitions.record_notice(
        uow, case_id=first.id, level="province", notified_on=date(2021, 5, 10), actor="督查员"
    )
    again = a_case(
        uow,
        category="domain_not_deregistered",
        target_code="w_park",
        previous_case_id=first.id,
        state="notified" if notify_in_q2 else "found",
    )
    return again.id
