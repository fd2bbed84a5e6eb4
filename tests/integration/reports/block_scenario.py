"""Round data blocks for the notice tests (services/rounds/blocks.py), on notice_scenario's city."""

from __future__ import annotations

from datetime import date

from services.core.clock import Clock
from services.core.uow import UnitOfWork
from services.rounds import blocks, notice_settings
from tests.builders import a_case
from tests.integration.reports.notice_scenario import Q2, inspected

COMMENDED = {
    "targets": [
        {"target": "w_city", "reason": "信息发布及时，政策解读规范"},
        {"target": "nm_city", "reason": "内容更新及时，互动回应积极"},
    ],
    "reported": [
        {"unit": "yd", "task": "2021年政府网站工作年度报表"},
        {"unit": "gm", "task": "2021年政府网站工作年度报表"},
    ],
}
CONSULTED = {
    "questions": [  # 2021-05-10 is a Monday; 5 working days later is 2021-05-17
        {"target": "w_city", "asked": "2021-05-10", "answered": "2021-05-11"},
        {"target": "w_yd", "asked": "2021-05-10", "answered": "2021-05-11"},
        {"target": "w_yd", "asked": "2021-05-12", "answered": "2021-05-14"},
        {"target": "w_gm", "asked": "2021-05-10"},
        {"target": "w_zr", "asked": "2021-05-10", "answered": "2021-05-20"},
    ]
}
REPRINTED = {
    "deployed": 12,
    "sampled": 5,
    "checked": 4,
    "results": [
        {"target": "w_city", "result": "good"},
        {"target": "w_yd", "result": "late"},
        {"target": "w_gm", "result": "missing"},
    ],
}
CLEANED = {
    "task": "按照省政府办公厅下发的待核查政务新媒体账号清单",
    "accounts": [
        {"name": "永德教育", "unit": "yd", "deregistered": True},
        {"name": "耿马旅游", "unit": "gm", "deregistered": False},
        {"name": "园区党建", "unit": "park", "deregistered": False},
    ],
}


def set_option(uow: UnitOfWork, label: str, text: str, *, round_code: str = Q2) -> None:
    """A round option set as the web form, the CLI and the 通报设置 sheet set it (by label)."""
    from services.rounds import rounds

    round_ = rounds.get_round(uow, round_code)
    option = notice_settings.find(label)
    round_.notice_texts = notice_settings.set_value(
        round_.notice_texts or {}, option, option.parse(text)
    )
    uow.flush()


def every_block(uow: UnitOfWork) -> None:
    """Commendations, a consultation, reprints and a clean-up on 2021Q2 (targets must exist)."""
    blocks.set_block(uow, Q2, "commendations", COMMENDED)
    blocks.set_block(uow, Q2, "consultation", CONSULTED)
    blocks.set_block(uow, Q2, "reprint", REPRINTED)
    blocks.set_block(uow, Q2, "cleanup", CLEANED)


def on(app, day: date) -> UnitOfWork:
    """A unit of work whose clock reads ``day`` (events written in it are dated then)."""
    return UnitOfWork(app.session_factory, clock=Clock(day), settings=app.settings)


def a_recheck_quarter(app) -> dict[str, int]:
    """2021Q2 checked on 5月10日 and rechecked on 6月25日: the county website's stale columns
    (veto) verified on 6月20日, the bureau column's wording error (veto) verified only on 6月28日,
    the park column's outdated names (deduction) never; returns the case ids by target."""
    from tests.integration.reports.notice_scenario import a_small_city

    with on(app, date(2021, 5, 10)) as uow:  # found at the first check
        a_small_city(uow)
        inspected(uow, "w_yd", unit="yd", kind="website", name="永德县人民政府门户网站")
        inspected(uow, "c_zr", unit="zr", kind="column", name="市自然资源和规划局信息公开专栏")
        inspected(uow, "c_park", unit="park", kind="column", name="工业园区信息公开专栏")
        ids = {
            "w_yd": a_case(uow, category="column_stale", target_code="w_yd", state="submitted").id,
            "c_zr": a_case(
                uow, category="serious_wording", target_code="c_zr", state="submitted"
            ).id,
            "c_park": a_case(uow, category="column_name_outdated", target_code="c_park").id,
        }
        blocks.set_block(uow, Q2, "recheck", {"initial": "2021-05-10", "recheck": "2021-06-25"})
        uow.commit()
    from services.cases import transitions

    for target, day in (("w_yd", date(2021, 6, 20)), ("c_zr", date(2021, 6, 28))):
        with on(app, day) as uow:
            transitions.transition(uow, case_id=ids[target], trigger="verify", actor="督查员")
            uow.commit()
    return ids
