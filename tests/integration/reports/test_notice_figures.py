"""Counts and rates in 一、总体情况 as an office prints them: each option of the catalogue
(services.rounds.notice_settings) changes the printed text: decimals, rule, no rate and the
full-marks wording per kind, census or sample with its share, a kind nobody inspected left
out, unit groups, the new-media counts, and an issuer's defaults under the round's own."""

from __future__ import annotations

from services.db.issuer_models import Issuer
from services.registry.units import unit_by_code
from services.reports.notice import build_notice
from services.reports.stats import round_stats
from services.rounds import notice_settings, rounds
from tests.builders import a_case, a_target
from tests.integration.reports.notice_scenario import Q2, a_small_city

INVENTORY = "按照政府系统政务新媒体管理相关要求，二季度新增登记政府系统政务新媒体54个，关停注销微信公众号11个，注销其他政务新媒体账号17个。"


def targets(
    uow, prefix: str, kind: str, *, count: int, failing: int = 0, inspected=None, unit="yd"
):
    """``count`` operating targets of a kind; the first ``inspected`` (default: all) have a
    verdict in 2021Q2, the first ``failing`` a veto case (a serious wording error)."""
    for i in range(count):
        code = f"{prefix}{i}"
        a_target(uow, code, unit_code=unit, kind=kind, name=f"{prefix}对象{i}")
        if i < (count if inspected is None else inspected):
            rounds.set_verdict(uow, round_code=Q2, target_code=code)
        if i < failing:
            a_case(uow, category="serious_wording", target_code=code)


def option(uow, name: str, text: str, *, kind: str | None = None) -> None:
    """Set an option of round 2021Q2 as every entry point does: parsed and checked by the
    catalogue, stored in the round's notice settings."""
    round_ = rounds.get_round(uow, Q2)
    chosen = notice_settings.find(name)
    round_.notice_texts = notice_settings.set_value(
        round_.notice_texts or {}, chosen, chosen.parse(text), kind=kind
    )
    uow.flush()


def overview(uow) -> list[str]:
    """The numbered paragraphs of 一、总体情况 of 2021Q2's notice."""
    notice = build_notice(uow, Q2)
    inside, result = False, []
    for block in notice.blocks:
        if block.kind == "h1":
            inside = block.full_text.startswith("一、")
        elif inside and block.kind == "n":
            result.append(block.full_text)
    return result


def websites_paragraph(uow) -> str:
    """The paragraph on websites and columns, without its number (（二） after a follow-up)."""
    (found,) = [p for p in overview(uow) if "政府网站" in p[:20]]
    return found[3:]


def new_media_paragraph(uow) -> str:
    (found,) = [p for p in overview(uow) if "政务新媒体" in p[:20]]
    return found[3:]


def nine_websites_and_three_columns(uow) -> None:
    """8 of 9 websites and 2 of 3 columns qualified: 88.88…% and 66.66…%."""
    a_small_city(uow)
    targets(uow, "w", "website", count=9, failing=1)
    targets(uow, "c", "column", count=3, failing=1, unit="zr")


# ── Websites and columns, all checked: the seed's sentence ─────────────────────────────────


def test_a_census_of_websites_and_columns_reads_as_the_seed_notice(app):
    with app.uow() as uow:
        nine_websites_and_three_columns(uow)
        paragraph = websites_paragraph(uow)

    assert paragraph == (
        "2021年二季度政府网站普查情况。2021年二季度，全市在“全国政府网站信息报送系统”中"
        "登记在运行政府网站9个、市级部门信息公开专栏3个。通过监测，二季度发现问题网站1个，"
        "网站合格率88.89%；问题专栏1个，合格率66.67%。"
    )


def test_decimals_are_chosen_per_kind_over_the_rounds_own(app):
    with app.uow() as uow:
        nine_websites_and_three_columns(uow)
        option(uow, "合格率小数位数", "1")
        option(uow, "合格率小数位数", "0", kind="website")
        paragraph = websites_paragraph(uow)

    assert "网站合格率89%；问题专栏1个，合格率66.7%。" in paragraph


def test_the_rule_is_chosen_per_kind(app):
    with app.uow() as uow:
        nine_websites_and_three_columns(uow)
        option(uow, "合格率取舍", "截断", kind="website")
        website_truncated = websites_paragraph(uow)
        option(uow, "合格率取舍", "四舍五入", kind="website")
        option(uow, "合格率取舍", "truncate", kind="column")
        column_truncated = websites_paragraph(uow)

    assert "网站合格率88.88%；问题专栏1个，合格率66.67%。" in website_truncated
    assert "网站合格率88.89%；问题专栏1个，合格率66.66%。" in column_truncated


def test_a_kind_whose_rate_is_not_printed_gives_only_its_count(app):
    with app.uow() as uow:
        nine_websites_and_three_columns(uow)
        option(uow, "打印合格率", "否", kind="column")
        paragraph = websites_paragraph(uow)

    assert paragraph.endswith("发现问题网站1个，网站合格率88.89%；问题专栏1个。")


def test_every_target_qualified_prints_the_offices_own_wording_of_a_full_rate(app):
    with app.uow() as uow:
        a_small_city(uow)
        targets(uow, "w", "website", count=4)
        targets(uow, "c", "column", count=3, failing=1, unit="zr")
        default = websites_paragraph(uow)
        option(uow, "全部合格时的写法", "100%")
        written = websites_paragraph(uow)

    assert "发现问题网站0个，网站合格率100.00%；问题专栏1个，合格率66.67%。" in default
    # Only a kind where every target qualified: the columns' 66.67% keeps its decimals.
    assert "发现问题网站0个，网站合格率100%；问题专栏1个，合格率66.67%。" in written


# ── Census or sample, and the new-media counts ───────────────────────────────────────────


def test_a_sample_gives_its_size_and_the_share_of_the_operating_accounts_it_inspected(app):
    with app.uow() as uow:
        a_small_city(uow)
        targets(uow, "nm", "new_media", count=10, failing=1, inspected=4)
        sampled = new_media_paragraph(uow)
        for i in range(4, 10):
            rounds.set_verdict(uow, round_code=Q2, target_code=f"nm{i}")
        census = new_media_paragraph(uow)

    assert sampled == (
        f"2021年二季度政府系统政务新媒体抽查情况。{INVENTORY}"
        "二季度抽查政府系统政务新媒体4个，占全市在运行总数的40.00%，合格3个，不合格1个，"
        "合格率75.00%。"
    )
    assert census == (
        f"2021年二季度政府系统政务新媒体普查情况。{INVENTORY}"
        "二季度检查全市登记在运行的政府系统政务新媒体10个，合格9个，不合格1个，合格率90.00%。"
    )


def test_the_office_may_call_its_check_a_sample_and_give_the_number_in_operation(app):
    with app.uow() as uow:
        a_small_city(uow)
        targets(uow, "nm", "new_media", count=10, failing=1)
        option(uow, "检查方式", "抽查", kind="new_media")
        without_population = new_media_paragraph(uow)
        option(uow, "在运行数量", "40", kind="new_media")
        with_population = new_media_paragraph(uow)

    assert without_population.endswith(
        "二季度抽查政府系统政务新媒体10个，合格9个，不合格1个，合格率90.00%。"
    )
    assert with_population.endswith(
        "二季度抽查政府系统政务新媒体10个，占全市在运行总数的25.00%，合格9个，不合格1个，合格率90.00%。"
    )


def test_a_sampled_website_check_says_so_and_keeps_the_columns_census(app):
    with app.uow() as uow:
        a_small_city(uow)
        targets(uow, "w", "website", count=8, failing=1, inspected=4)
        targets(uow, "c", "column", count=2, unit="zr")
        paragraph = websites_paragraph(uow)

    assert paragraph == (
        "2021年二季度政府网站检查情况。二季度抽查政府网站4个，占全市在运行总数的50.00%，"
        "合格3个，不合格1个，合格率75.00%。检查全市登记在运行的市级部门信息公开专栏2个，"
        "合格2个，不合格0个，合格率100.00%。"
    )


def test_an_office_that_prints_no_counts_gets_the_seeds_new_media_sentence(app):
    with app.uow() as uow:
        a_small_city(uow)
        targets(uow, "nm", "new_media", count=10, failing=1)
        option(uow, "检查方式", "抽查", kind="new_media")
        option(uow, "打印检查数量", "否", kind="new_media")
        paragraph = new_media_paragraph(uow)

    assert paragraph == (
        f"2021年二季度政府系统政务新媒体抽查情况。{INVENTORY}"
        "二季度发现问题政府系统政务新媒体1个，合格率：90.00%。"
    )


# ── 发现问题网站N个: every target with a problem, and how many of them fail ──────────────────


def deductions_beside_vetoes(uow) -> None:
    """9 websites, 1 failing (a veto) and 2 with deductions only; 3 columns, 1 failing; 10
    accounts, 1 failing and 1 with a deduction; a case on a website nobody inspected."""
    nine_websites_and_three_columns(uow)
    for code in ("w1", "w2"):
        a_case(uow, category="broken_links", target_code=code, severity="deduction")
    a_target(uow, "w_off", unit_code="yd", kind="website", name="已下线网站", status="offline")
    a_case(uow, category="domain_not_deregistered", target_code="w_off")
    targets(uow, "nm", "new_media", count=10, failing=1)
    a_case(uow, category="nm_entity_mismatch", target_code="nm5")
    option(uow, "打印检查数量", "否", kind="new_media")


def test_targets_with_deductions_only_are_counted_with_the_unqualified_among_them(app):
    with app.uow() as uow:
        deductions_beside_vetoes(uow)
        websites = websites_paragraph(uow)
        accounts = new_media_paragraph(uow)
        option(uow, "问题数量口径", "仅不合格")
        unqualified_only = websites_paragraph(uow), new_media_paragraph(uow)
        option(uow, "问题数量口径", "全部问题对象", kind="website")
        websites_all = websites_paragraph(uow)

    # Not 发现问题网站1个 while 存在问题 names three sites: the uninspected one is not counted.
    assert websites.endswith(
        "通过监测，二季度发现问题网站3个（其中不合格网站1个），网站合格率88.89%；"
        "问题专栏1个，合格率66.67%。"
    )
    assert accounts.endswith(
        "二季度发现问题政府系统政务新媒体2个（其中不合格1个），合格率：90.00%。"
    )
    # An office whose 问题网站 are its unqualified ones (the seed's) counts only those.
    assert unqualified_only[0].endswith(
        "发现问题网站1个，网站合格率88.89%；问题专栏1个，合格率66.67%。"
    )
    assert unqualified_only[1].endswith("二季度发现问题政府系统政务新媒体1个，合格率：90.00%。")
    assert "发现问题网站3个（其中不合格网站1个）" in websites_all
    assert "问题专栏1个，合格率66.67%。" in websites_all


def test_a_site_with_deductions_only_is_a_problem_site_in_a_fully_qualified_quarter(app):
    with app.uow() as uow:
        a_small_city(uow)
        targets(uow, "w", "website", count=2)
        a_case(uow, category="broken_links", target_code="w0", severity="deduction")
        option(uow, "合格率小数位数", "0")
        paragraph = websites_paragraph(uow)

    assert paragraph.endswith("发现问题网站1个（其中不合格网站0个），网站合格率100%。")


def test_a_kind_nobody_inspected_is_left_out_of_the_notice(app):
    with app.uow() as uow:
        a_small_city(uow)
        targets(uow, "w", "website", count=2)
        a_target(uow, "c0", unit_code="zr", kind="column")  # registered, not inspected
        a_target(uow, "nm0", unit_code="yd", kind="new_media")
        with_inventory = [p[3:] for p in overview(uow)]
        round_ = rounds.get_round(uow, Q2)
        round_.nm_registered = round_.nm_wechat_closed = round_.nm_other_deregistered = None
        uow.flush()
        without_inventory = [p[3:] for p in overview(uow)]

    assert with_inventory[0].startswith("2021年一季度通报问题整改情况。")
    assert with_inventory[1] == (
        "2021年二季度政府网站普查情况。2021年二季度，全市在“全国政府网站信息报送系统”中"
        "登记在运行政府网站2个。通过监测，二季度发现问题网站0个，网站合格率100.00%。"
    )
    # The new-media paragraph keeps the inventory the round gives, with no figures after it.
    assert with_inventory[2] == f"2021年二季度政府系统政务新媒体情况。{INVENTORY}"
    assert without_inventory == with_inventory[:2]
    assert "合格率—" not in "".join(with_inventory)


# ── Unit groups ──────────────────────────────────────────────────────────────────────────


def test_unit_groups_are_counted_inside_their_kinds_total(app):
    with app.uow() as uow:
        a_small_city(uow)
        for code, unit in (("w_city", "city"), ("w_zr", "zr"), ("w_yd", "yd"), ("w_gm", "gm")):
            targets(uow, code, "website", count=1, failing=int(code == "w_gm"), unit=unit)
        targets(uow, "nm_gm", "new_media", count=4, failing=1, unit="gm")
        targets(uow, "nm_yd", "new_media", count=2, unit="yd")
        plain = websites_paragraph(uow)
        option(uow, "分组统计", "市级部门网站=city_dept", kind="website")
        option(uow, "分组统计", "县（区）政府门户网站=county_gov", kind="website")
        option(uow, "分组统计", "耿马自治县=gm", kind="new_media")
        option(uow, "分组统计", "乡镇=town_gov", kind="new_media")  # nothing inspected: left out
        grouped = websites_paragraph(uow)
        new_media = new_media_paragraph(uow)

    assert "其中" not in plain
    assert grouped == (
        "2021年二季度政府网站普查情况。二季度检查全市登记在运行的政府网站4个，合格3个，"
        "不合格1个，合格率75.00%。其中，市级部门网站1个，不合格0个，合格率100.00%；"
        "县（区）政府门户网站2个，不合格1个，合格率50.00%。"
    )
    assert new_media.endswith(
        "二季度检查全市登记在运行的政府系统政务新媒体6个，合格5个，不合格1个，合格率83.33%。"
        "其中，耿马自治县4个，不合格1个，合格率75.00%。"
    )


# ── The issuing office's defaults and its area ───────────────────────────────────────────


def an_issuer(uow, unit_code: str, *, level: str, options: dict) -> Issuer:
    """The round 2021Q2 issued by the office of ``unit_code``, with default options."""
    issuer = Issuer(
        unit_id=unit_by_code(uow, unit_code).id,
        name="永德县人民政府办公室",
        short_name="县政府办公室",
        level=level,
        texts={},
        options=options,
    )
    uow.session.add(issuer)
    uow.flush()
    rounds.get_round(uow, Q2).issuer_id = issuer.id
    uow.flush()
    uow.session.expire_all()
    return issuer


def test_a_county_office_counts_its_own_area_with_its_default_decimals(app):
    with app.uow() as uow:
        a_small_city(uow)
        targets(uow, "nm_yd", "new_media", count=4, failing=1, inspected=3, unit="yd")
        targets(uow, "nm_gm", "new_media", count=6, inspected=0, unit="gm")
        city_wide = new_media_paragraph(uow)
        an_issuer(uow, "yd", level="county", options={"pass_rate": {"decimals": 0}})
        county = new_media_paragraph(uow)
        option(uow, "合格率小数位数", "1")
        overridden = new_media_paragraph(uow)

    assert city_wide.endswith(
        "二季度抽查政府系统政务新媒体3个，占全市在运行总数的30.00%，合格2个，不合格1个，合格率66.67%。"
    )
    assert county.endswith(
        "二季度抽查政府系统政务新媒体3个，占全县在运行总数的75%，合格2个，不合格1个，合格率67%。"
    )
    assert overridden.endswith("合格率66.7%。")


def test_a_county_office_names_its_own_departments_columns(app):
    with app.uow() as uow:
        a_small_city(uow)
        targets(uow, "c", "column", count=2, unit="yd")
        an_issuer(uow, "yd", level="county", options={"pass_rate": {"column": {"hundred": "100%"}}})
        paragraph = websites_paragraph(uow)

    assert paragraph == (
        "2021年二季度政府网站普查情况。2021年二季度，全县在“全国政府网站信息报送系统”中"
        "登记在运行县级部门信息公开专栏2个。通过监测，二季度发现问题专栏0个，合格率100%。"
    )


def test_problem_targets_count_every_target_with_a_case_and_only_vetoes_fail(app):
    with app.uow() as uow:
        a_small_city(uow)
        targets(uow, "w", "website", count=4, failing=1)
        a_case(uow, category="serious_wording", target_code="w2", severity="deduction")
        website = round_stats(uow, Q2).kinds["website"]

    assert (website.problem_targets, website.unqualified, website.qualified) == (2, 1, 3)
