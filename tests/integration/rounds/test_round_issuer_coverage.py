"""A round's issuing office must cover the round: every case and checked target lies in its
subtree, or the notice prints one office's header over another office's data."""

from __future__ import annotations

from datetime import date

import pytest

from services.core.errors import ValidationFailed
from services.rounds import edits, rounds
from tests.builders import a_case, a_target, a_unit, an_issuer


def _offices_and_a_lincang_round(uow) -> None:
    """Lincang (city) over Gengma (county); Yangli, another city; a round of Gengma's data."""
    a_unit(uow, "lincang", name="临沧市人民政府", kind="city_gov")
    a_unit(uow, "gengma", parent_code="lincang", name="耿马县人民政府", kind="county_gov")
    a_unit(uow, "cangyuan", parent_code="lincang", name="沧源县人民政府", kind="county_gov")
    a_unit(uow, "yangli", name="样例市人民政府", kind="city_gov")
    an_issuer(uow, "lincang", name="临沧市人民政府办公室")
    an_issuer(uow, "gengma", level="county", name="耿马县人民政府办公室")
    an_issuer(uow, "yangli", name="样例市人民政府办公室")
    rounds.upsert_round(uow, rounds.RoundSpec("2021Q2", date(2021, 4, 1), date(2021, 6, 30)))
    for unit in ("gengma", "gengma", "cangyuan"):
        a_case(uow, target_code=a_target(uow, unit_code=unit).code)
    for unit in ("gengma", "cangyuan", "cangyuan"):
        rounds.set_verdict(uow, round_code="2021Q2", target_code=a_target(uow, unit_code=unit).code)


def test_an_office_whose_subtree_misses_the_rounds_data_is_refused_naming_what_lies_outside(app):
    with app.uow() as uow:
        _offices_and_a_lincang_round(uow)
        with pytest.raises(ValidationFailed) as other_city:
            edits.set_round_issuer(uow, "2021Q2", "yangli")
        with pytest.raises(ValidationFailed) as one_county:
            edits.set_round_issuer(uow, "2021Q2", "gengma")
        assert rounds.get_round(uow, "2021Q2").issuer is None

    assert other_city.value.errors == [
        "检查轮次 2021Q2 不能由样例市人民政府办公室（yangli）发文："
        "本轮次有 3 件问题案件、3 个检查对象不属于样例市人民政府及其下级单位"
    ]
    assert one_county.value.errors == [
        "检查轮次 2021Q2 不能由耿马县人民政府办公室（gengma）发文："
        "本轮次有 1 件问题案件、2 个检查对象不属于耿马县人民政府及其下级单位"
    ]


def test_the_office_over_every_case_and_target_is_accepted_and_none_is_always_possible(app):
    with app.uow() as uow:
        _offices_and_a_lincang_round(uow)
        assert edits.set_round_issuer(uow, "2021Q2", "lincang").issuer.unit.code == "lincang"
        assert edits.set_round_issuer(uow, "2021Q2", None).issuer is None
        rounds.upsert_round(uow, rounds.RoundSpec("2021Q3", date(2021, 7, 1), date(2021, 9, 30)))
        empty = edits.set_round_issuer(uow, "2021Q3", "yangli")  # nothing in it yet
        assert empty.issuer.unit.code == "yangli"
