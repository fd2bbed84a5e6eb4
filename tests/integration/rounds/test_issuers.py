"""Issuing offices (发文机关): their rules, their rounds, and the notices their rounds record."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from services.access.users import UserView
from services.core.errors import Forbidden, NotFound, ValidationFailed
from services.db.models import Case, CaseNotice, OutboxMessage
from services.registry import listings
from services.reports.notice import build_notice
from services.rounds import edits, issuers, publication, rounds
from tests.builders import a_case, a_target, a_unit, an_issuer


def a_province_city_and_county(uow) -> None:
    """Yunnan → Lincang → Gengma, each an issuing office at its level."""
    a_unit(uow, "yunnan", name="云南省人民政府", kind="other")
    a_unit(uow, "lincang", parent_code="yunnan", name="临沧市人民政府", kind="city_gov")
    a_unit(uow, "gengma", parent_code="lincang", name="耿马自治县人民政府", kind="county_gov")
    a_unit(uow, "gm-swj", parent_code="gengma", name="耿马自治县水务局")
    an_issuer(
        uow, "yunnan", level="province", name="云南省人民政府办公厅", short_name="省政府办公厅"
    )
    an_issuer(uow, "lincang", level="city", name="临沧市人民政府办公室", short_name="市政府办公室")
    an_issuer(
        uow, "gengma", level="county", name="耿马自治县人民政府办公室", short_name="县政府办公室"
    )


def a_round_of(uow, code: str, issuer: str | None, start: date, **fields):
    end = date(start.year + (start.month > 9), (start.month + 2) % 12 + 1, 1)
    spec = rounds.RoundSpec(
        code=code,
        period_start=start,
        period_end=date.fromordinal(end.toordinal() - 1),
        issuer_code=issuer,
        notice_date=fields.pop("notice_date", date(start.year, start.month, 20)),
        deadline_days=10,
        **fields,
    )
    return rounds.upsert_round(uow, spec)


def user(scope: str | None, role: str = "supervisor") -> UserView:
    return UserView(1, "u", "监管员", role, None, None, scope)


# ── The office itself ─────────────────────────────────────────────────────────────────────


def test_an_issuer_is_refused_naming_every_bad_field_in_chinese(app):
    with app.uow() as uow:
        a_unit(uow, "lincang")
        with pytest.raises(ValidationFailed) as refused:
            issuers.upsert_issuer(
                uow, issuers.IssuerSpec("lincang", " ", "市" * 101, "town", "临政办〔{year}〕号")
            )
        with pytest.raises(ValidationFailed) as unknown:
            issuers.upsert_issuer(uow, issuers.IssuerSpec("nowhere", "某办", "某办", "city"))

    errors = refused.value.errors
    assert errors[0] == "发文机关 lincang 的机关名称（name）不能为空"
    assert errors[1] == "发文机关 lincang 的机关简称（short_name）过长（101 字，上限 100 字）"
    assert errors[2].startswith(
        "发文机关 lincang 的层级（level）应为 province（省级）、city（市级）"
    )
    assert "文号格式（doc_pattern）必须含有序号 {n}" in errors[3]
    assert unknown.value.errors == ["发文机关的单位代码（unit_code）「nowhere」不是已登记的单位"]


def test_a_document_pattern_names_only_the_year_and_the_number():
    assert issuers.doc_pattern_problem("临政办字〔{year}〕{n}号") is None
    assert "不能含有「{month}」" in issuers.doc_pattern_problem("临政办字〔{month}〕{n}号")
    assert "花括号不成对" in issuers.doc_pattern_problem("临政办字〔{year〕{n}号")


def test_an_issuer_is_updated_in_place_and_found_by_its_units_code(app):
    with app.uow() as uow:
        a_province_city_and_county(uow)
        issuers.upsert_issuer(
            uow, issuers.IssuerSpec("lincang", "临沧市政府办公室", "市府办", "city", "临{n}")
        )
        issuer = issuers.get_issuer(uow, "lincang")
        assert (issuer.name, issuer.short_name, issuer.doc_pattern) == (
            "临沧市政府办公室",
            "市府办",
            "临{n}",
        )
        assert [i.unit.code for i in issuers.list_issuers(uow)] == ["yunnan", "lincang", "gengma"]
        in_lincang = issuers.list_issuers(uow, scope_path="/yunnan/lincang/")
        assert [i.unit.code for i in in_lincang] == ["lincang", "gengma"]
        water = a_unit(uow, "gm-water", parent_code="gengma")
        assert issuers.issuer_of_unit(uow, water.id).unit.code == "gengma"
        with pytest.raises(NotFound, match="发文机关 gm-swj 不存在"):
            issuers.get_issuer(uow, "gm-swj")


def test_an_issuers_texts_and_options_are_checked_by_the_one_catalogue(app):
    with app.uow() as uow:
        a_province_city_and_county(uow)
        issuer = issuers.get_issuer(uow, "lincang")
        issuers.set_texts(
            uow, issuer, {"addressees": "各县（区）人民政府：", "requirements": "一\n\n二"}
        )
        issuers.set_option(uow, issuer, "合格率小数位数", "1", kind="website")
        assert issuer.texts == {"addressees": "各县（区）人民政府：", "requirements": ["一", "二"]}
        assert issuer.options == {"pass_rate": {"website": {"decimals": 1}}}

        refusals = []
        for call in (
            lambda: issuers.set_option(uow, issuer, "合格率小数位数", "-1"),
            lambda: issuers.set_option(uow, issuer, "在运行数量", "-5", kind="new_media"),
            lambda: issuers.set_option(uow, issuer, "页边距", "2"),
            lambda: issuers.set_texts(uow, issuer, {"preamble": "{{ 季度 }}检查"}),
            lambda: issuers.set_texts(uow, issuer, {"落款": "某办"}),
            lambda: issuers.set_texts(uow, issuer, {"office": "某办"}),
        ):
            with pytest.raises(ValidationFailed) as refused:
                call()
            refusals.append(refused.value.errors[0])
        issuers.clear_option(uow, issuer, "pass_rate.decimals", kind="website")
        issuers.set_texts(uow, issuer, {"addressees": None})

        assert issuer.options == {"pass_rate": {"website": {}}}
        assert issuer.texts == {"requirements": ["一", "二"]}
    assert refusals[0] == "通报设置「合格率小数位数」应为 0–2 之间的整数，而不是「-1」"
    assert refusals[1].startswith("通报设置「在运行数量」应为 0–")
    assert refusals[2].startswith("没有名为「页边距」的通报设置项，可用：合格率小数位数")
    assert refusals[3].startswith(
        "发文机关 临沧市人民政府办公室 的通报文本「导语（preamble）」有误"
    )
    assert refusals[4].startswith("发文机关 临沧市人民政府办公室 的通报文本没有名为「落款」的文本")
    assert "机关名称（name）" in refusals[5]


def test_a_theme_or_group_naming_nothing_is_refused_listing_what_it_may_name(app):
    """What a theme or a unit group names must exist: else the notice would ignore it."""
    with app.uow() as uow:
        a_province_city_and_county(uow)
        a_round_of(uow, "2021Q2", "lincang", date(2021, 4, 1))
        issuer = issuers.get_issuer(uow, "lincang")
        issuers.set_option(uow, issuer, "问题主题", "栏目=column_stale、严重表述错误")
        issuers.set_option(uow, issuer, "分组统计", "县=county_gov、gm-swj", kind="website")
        edits.set_round_option(uow, "2021Q2", "问题主题", "空白=column_blank")
        stored = (dict(issuer.options), dict(rounds.get_round(uow, "2021Q2").notice_texts))

        refusals = []
        for call in (
            lambda: issuers.set_option(uow, issuer, "问题主题", "栏目=column_stale、栏目过期"),
            lambda: edits.set_round_option(uow, "2021Q2", "问题主题", "新媒体=NM_STALE"),
            lambda: issuers.set_option(uow, issuer, "分组统计", "县=county", kind="website"),
            lambda: edits.set_round_option_values(
                uow, "2021Q2", "分组统计", ["县=county_gov", "部门=nowhere"], kind="column"
            ),
        ):
            with pytest.raises(ValidationFailed) as refused:
                call()
            refusals.append(refused.value.errors[0])
        after = (dict(issuer.options), dict(rounds.get_round(uow, "2021Q2").notice_texts))

    assert after == stored
    assert refusals[0].startswith("通报设置「问题主题」中的「栏目过期」不是问题类别的代码或名称")
    assert "column_stale（" in refusals[0] and "nm_zombie（僵尸账号未注销）" in refusals[0]
    assert "「NM_STALE」不是问题类别" in refusals[1]
    assert refusals[2].startswith(
        "通报设置「分组统计」中的「county」既不是单位类型，也不是已登记的单位代码"
    )
    assert "county_gov（县区政府）" in refusals[2]
    assert "「nowhere」既不是单位类型" in refusals[3]


def test_the_notice_prints_the_issuers_names_and_texts_under_the_rounds_own(app):
    with app.uow() as uow:
        a_province_city_and_county(uow)
        a_round_of(uow, "2021Q2", "gengma", date(2021, 4, 1))
        issuers.set_texts(
            uow, issuers.get_issuer(uow, "gengma"), {"addressees": "各乡（镇）人民政府："}
        )
        first = build_notice(uow, "2021Q2").text.splitlines()
        edits.set_round_texts(uow, "2021Q2", {"addressees": "县直各部门："})
        second = build_notice(uow, "2021Q2").text.splitlines()

    assert first[:3] == [
        "耿马自治县人民政府办公室",
        "耿马自治县人民政府办公室关于2021年二季度全市政府网站和政府系统政务新媒体检查情况的通报",
        "各乡（镇）人民政府：",
    ]
    assert first[-3] == "耿马自治县人民政府办公室"
    assert second[2] == "县直各部门："


def test_a_round_whose_issuer_holds_a_bad_stored_option_is_refused_naming_it(app):
    with app.uow() as uow:
        a_province_city_and_county(uow)
        a_round_of(uow, "2021Q2", "lincang", date(2021, 4, 1))
        issuers.get_issuer(uow, "lincang").options = {"pass_rate": {"decimals": 7}}
        uow.flush()
        with pytest.raises(ValidationFailed) as refused:
            build_notice(uow, "2021Q2")

    assert (
        "发文机关 临沧市人民政府办公室 的通报设置「合格率小数位数（pass_rate.decimals）」"
        "应为 0–2 之间的整数，而不是「7」" in refused.value.errors
    )


# ── Rounds belong to their office ─────────────────────────────────────────────────────────


def test_the_previous_round_is_the_same_offices_even_when_another_office_ran_one_between(app):
    with app.uow() as uow:
        a_province_city_and_county(uow)
        city_q1 = a_round_of(uow, "LC2021Q1", "lincang", date(2021, 1, 1))
        a_round_of(uow, "GM2021Q1", "gengma", date(2021, 2, 1))  # later start, another office
        city_q2 = a_round_of(uow, "LC2021Q2", "lincang", date(2021, 4, 1))
        county_q2 = a_round_of(uow, "GM2021Q2", "gengma", date(2021, 4, 1))
        bare_q1 = a_round_of(uow, "2021Q1", None, date(2021, 1, 15))
        bare_q2 = a_round_of(uow, "2021Q2", None, date(2021, 4, 1))

        assert rounds.previous_round(uow, city_q2).code == "LC2021Q1"
        assert rounds.previous_round(uow, county_q2).code == "GM2021Q1"
        assert rounds.previous_round(uow, bare_q2).code == "2021Q1"
        assert rounds.previous_round(uow, city_q1) is None
        assert rounds.previous_round(uow, bare_q1) is None


def test_a_round_names_an_existing_issuer_or_is_refused_and_keeps_it_when_not_named(app):
    with app.uow() as uow:
        a_province_city_and_county(uow)
        round_ = a_round_of(uow, "2021Q2", "lincang", date(2021, 4, 1))
        a_round_of(uow, "2021Q2", None, date(2021, 4, 1), title="改标题")
        assert round_.issuer.unit.code == "lincang"  # not named: kept
        with pytest.raises(
            ValidationFailed, match="发文机关代码（issuer_code）「gm-swj」不是已登记"
        ):
            a_round_of(uow, "2021Q2", "gm-swj", date(2021, 4, 1))
        edits.set_round_issuer(uow, "2021Q2", "gengma")
        assert round_.issuer.unit.code == "gengma"
        edits.set_round_issuer(uow, "2021Q2", None)
        assert round_.issuer is None


# ── Publication records the notice at the office's level ─────────────────────────────────


def _published_case(app, round_code: str) -> tuple[tuple[int, int, int], list[tuple]]:
    """Publish the round; its case's (city, province, county) counts and its notices."""
    with app.uow() as uow:
        publication.publish_round(uow, round_code=round_code, actor="测试员")
    with app.uow() as uow:
        case = uow.session.scalar(select(Case).where(Case.round.has(code=round_code)))
        notices = uow.session.scalars(select(CaseNotice).where(CaseNotice.case_id == case.id))
        counts = (case.notices_city, case.notices_province, case.notices_county)
        return counts, [(n.level, n.issuer, n.notified_on) for n in notices]


@pytest.mark.parametrize(
    ("issuer", "level", "name", "counts"),
    [
        ("gengma", "county", "耿马自治县人民政府办公室", (0, 0, 1)),
        ("lincang", "city", "临沧市人民政府办公室", (1, 0, 0)),
        ("yunnan", "province", "云南省人民政府办公厅", (0, 1, 0)),
        (None, "city", "市政府办公室", (1, 0, 0)),  # no issuer: the city's, as before issuers
    ],
)
def test_publishing_records_each_cases_notice_at_its_rounds_issuer(
    app, issuer, level, name, counts
):
    with app.uow() as uow:
        a_province_city_and_county(uow)
        a_round_of(uow, "2021Q2", issuer, date(2021, 4, 1))
        a_case(uow, target_code=a_target(uow, "w-swj", unit_code="gm-swj").code)
        uow.commit()

    published, notices = _published_case(app, "2021Q2")

    assert notices == [(level, name, date(2021, 4, 20))]
    assert published == counts
    with app.uow() as uow:
        mail = uow.session.scalar(
            select(OutboxMessage).where(OutboxMessage.template == "round_notice")
        )
        signed = name if issuer else app.settings.mail_from_name
        assert mail.context["office"] == signed  # the unit's email is signed by the office


def test_a_problem_notified_by_the_province_once_and_the_city_twice_is_counted_from_the_rounds(
    app,
):
    rounds_in_order = [
        ("LC2020Q3", "lincang", date(2020, 7, 1)),
        ("LC2020Q4", "lincang", date(2020, 10, 1)),
        ("YN2021Q1", "yunnan", date(2021, 1, 1)),
        ("LC2021Q2", "lincang", date(2021, 4, 1)),
    ]
    with app.uow() as uow:
        a_province_city_and_county(uow)
        a_target(uow, "w-swj", unit_code="gm-swj", name="耿马自治县水务局网站")
        for code, issuer, start in rounds_in_order:
            a_round_of(uow, code, issuer, start)
        uow.commit()
    previous = None
    for code, _, _ in rounds_in_order:
        with app.uow() as uow:
            case = a_case(uow, round_code=code, target_code="w-swj", previous_case_id=previous)
            previous = case.id
            uow.commit()
        if code != "LC2021Q2":
            _published_case(app, code)

    with app.uow() as uow:
        notice = build_notice(uow, "LC2021Q2")
        last = uow.session.get(Case, previous)
        assert (last.notices_city, last.notices_province, last.notices_county) == (2, 1, 0)
    assert "已被省政府办公厅通报一次，被市政府办公室通报两次" in notice.text


# ── Who runs a round ──────────────────────────────────────────────────────────────────────


def test_a_county_supervisor_runs_the_countys_rounds_and_only_reads_the_citys(app):
    with app.uow() as uow:
        a_province_city_and_county(uow)
        a_round_of(uow, "LC2021Q2", "lincang", date(2021, 4, 1))
        a_round_of(uow, "GM2021Q2", "gengma", date(2021, 4, 1))
        a_round_of(uow, "2021Q2", None, date(2021, 4, 1))
        a_unit(uow, "yongde", parent_code="lincang", kind="county_gov")
        an_issuer(uow, "yongde", level="county")
        a_round_of(uow, "YD2021Q2", "yongde", date(2021, 4, 1))
        uow.commit()
    county = user("/yunnan/lincang/gengma/")

    with app.uow() as uow:
        seen = {
            r.code: r.manageable for r in listings.list_rounds(uow, scope_path=county.scope_path)
        }
        everything = {r.code for r in listings.list_rounds(uow)}
        with pytest.raises(Forbidden, match="临沧市人民政府办公室」不在您的管辖范围内"):
            edits.publish(uow, user=county, round_code="LC2021Q2")
        with pytest.raises(Forbidden, match="未指定发文机关的检查轮次"):
            edits.set_round_texts(uow, "2021Q2", {"addressees": "x"}, user=county)
        with pytest.raises(Forbidden):
            edits.set_round_issuer(uow, "GM2021Q2", "lincang", user=county)
        edits.set_round_option(uow, "GM2021Q2", "合格率小数位数", "0", user=county)
        summary = edits.publish(uow, user=county, round_code="GM2021Q2")

    assert seen == {"LC2021Q2": False, "GM2021Q2": True, "2021Q2": False}
    assert everything == {"LC2021Q2", "GM2021Q2", "2021Q2", "YD2021Q2"}
    assert summary.round_code == "GM2021Q2"
    assert issuers.can_manage(None, None) and not issuers.can_manage("/yunnan/", None)
