"""Composing the notice from options: sections and their order, themes, wording per target
kind, long lists summarised, case descriptions; each option changes what a person reads."""

from __future__ import annotations

import shutil

from docx import Document

from services.db.issuer_models import Issuer
from services.db.models import Case, Category
from services.registry.units import unit_by_code
from services.reports.docx import render_docx
from services.reports.files import TEMPLATES
from services.reports.notice import build_notice
from services.reports.render import render_markdown
from services.rounds import blocks, edits, rounds
from tests.builders import a_case
from tests.integration.reports.block_scenario import CLEANED, set_option
from tests.integration.reports.notice_scenario import (
    Q2,
    a_quarter_with_problems,
    a_small_city,
    inspected,
)


def chapters(notice) -> list[str]:
    return [b.full_text for b in notice.blocks if b.kind == "h1"]


def problems_of(notice) -> list[str]:
    """The numbered paragraphs of the chapter 存在的主要问题, whatever its number."""
    inside, found = False, []
    for block in notice.blocks:
        if block.kind == "h1":
            inside = block.text == "存在的主要问题"
        elif inside and block.kind == "n":
            found.append(block.full_text)
    return found


# ── Sections and their order ────────────────────────────────────────────────────────────


def test_a_notice_may_open_with_its_problems_and_print_no_overall_figures(app, tmp_path):
    with app.uow() as uow:
        a_quarter_with_problems(uow)
        default = build_notice(uow, Q2)
        set_option(uow, "通报章节", "存在问题、工作要求")
        notice = build_notice(uow, Q2)

    assert chapters(default) == ["一、总体情况", "二、存在的主要问题", "三、下一步工作要求"]
    assert chapters(notice) == ["一、存在的主要问题", "二、下一步工作要求"]
    preamble = next(i for i, b in enumerate(notice.blocks) if b.kind == "p")
    assert notice.blocks[preamble + 1].full_text == "一、存在的主要问题"
    assert "合格率" not in notice.text and "网民留言办理情况" not in notice.text
    markdown = render_markdown(notice)
    assert "## 一、存在的主要问题\n" in markdown and "总体情况" not in markdown
    path = tmp_path / "notice.docx"
    path.write_bytes(render_docx(notice))
    read_back = [p.text for p in Document(str(path)).paragraphs if p.text]
    assert read_back == [b.full_text for b in notice.blocks]


def test_sections_print_in_the_order_the_round_lists_them(app):
    with app.uow() as uow:
        a_quarter_with_problems(uow)
        set_option(uow, "通报章节", "problems、overview、requirements")
        notice = build_notice(uow, Q2)

    assert chapters(notice) == ["一、存在的主要问题", "二、总体情况", "三、下一步工作要求"]


def test_the_issuers_sections_apply_until_the_round_chooses_its_own(app):
    with app.uow() as uow:
        a_quarter_with_problems(uow)
        city = unit_by_code(uow, "city")
        issuer = Issuer(
            unit_id=city.id,
            name="某市人民政府办公室",
            short_name="市政府办公室",
            level="city",
            options={"sections": ["problems", "requirements"]},
        )
        uow.session.add(issuer)
        rounds.get_round(uow, Q2).issuer = issuer
        uow.flush()
        from_issuer = build_notice(uow, Q2)
        set_option(uow, "通报章节", "总体情况、存在问题、工作要求")
        from_round = build_notice(uow, Q2)

    assert chapters(from_issuer) == ["一、存在的主要问题", "二、下一步工作要求"]
    assert chapters(from_round)[0] == "一、总体情况"


def test_a_listed_block_without_data_is_left_out_and_one_with_data_goes_before_requirements(app):
    with app.uow() as uow:
        a_quarter_with_problems(uow)
        set_option(uow, "通报章节", "存在问题、模拟咨询、工作要求")
        without_data = build_notice(uow, Q2)
        blocks.set_block(uow, Q2, "cleanup", CLEANED)  # not listed, but it has data
        with_cleanup = build_notice(uow, Q2)

    assert chapters(without_data) == ["一、存在的主要问题", "二、下一步工作要求"]
    assert "模拟咨询" not in without_data.text
    assert chapters(with_cleanup) == [
        "一、存在的主要问题",
        "二、清理整合情况",
        "三、下一步工作要求",
    ]


# ── Themes ──────────────────────────────────────────────────────────────────────────────


def a_quarter_of_stale_and_broken_sites(uow) -> None:
    a_small_city(uow)
    inspected(uow, "w_yd", unit="yd", kind="website", name="永德县人民政府门户网站")
    inspected(uow, "w_gm", unit="gm", kind="website", name="耿马自治县人民政府门户网站")
    inspected(uow, "c_zr", unit="zr", kind="column", name="市自然资源和规划局信息公开专栏")
    a_case(uow, category="serious_wording", target_code="c_zr")
    a_case(uow, category="column_stale", target_code="w_yd")
    a_case(uow, category="broken_links", target_code="w_gm")


def test_the_rounds_themes_group_categories_under_one_heading_printed_first(app):
    with app.uow() as uow:
        a_quarter_of_stale_and_broken_sites(uow)
        by_category = problems_of(build_notice(uow, Q2))
        set_option(uow, "问题主题", "网站内容保障不到位=column_stale、不可用链接")
        themed = problems_of(build_notice(uow, Q2))

    assert len(by_category) == 3 and by_category[0].startswith("（一）个别政府网站信息发布审核不严")
    assert themed == [
        "（一）网站内容保障不到位，如：永德县人民政府门户网站栏目超期未更新；"
        "耿马自治县人民政府门户网站存在不可用链接。",
        "（二）个别政府网站信息发布审核不严。值班读网制度落实不到位，存在严重表述错误，"
        "如：市自然资源和规划局信息公开专栏。",
    ]


def test_a_categorys_theme_groups_it_unless_the_rounds_themes_place_it(app):
    with app.uow() as uow:
        a_quarter_of_stale_and_broken_sites(uow)
        for code in ("column_stale", "broken_links"):
            uow.session.get(Category, code).theme = "网站运维保障仍需加强"
        uow.flush()
        by_catalogue = problems_of(build_notice(uow, Q2))
        set_option(uow, "问题主题", "链接问题=broken_links")
        by_round = problems_of(build_notice(uow, Q2))

    assert by_catalogue[1] == (
        "（二）网站运维保障仍需加强，如：永德县人民政府门户网站栏目超期未更新；"
        "耿马自治县人民政府门户网站存在不可用链接。"
    )
    assert (
        by_round[0] == "（一）链接问题。个别网站页面链接失效，日常巡检不到位，影响公众正常访问，"
        "如：耿马自治县人民政府门户网站存在不可用链接。"
    )
    # Alone under its theme, a category keeps its own explanation.
    assert by_round[2] == (
        "（三）网站运维保障仍需加强。个别网站未合理规划网站栏目设置，内容保障机制落实不到位，"
        "导致出现栏目长期不更新的问题，如：永德县人民政府门户网站栏目超期未更新。"
    )


def a_wording_error_in_a_column_and_an_account(uow) -> None:
    a_small_city(uow)
    inspected(uow, "c_zr", unit="zr", kind="column", name="市自然资源和规划局信息公开专栏")
    inspected(
        uow, "nm_gm", unit="gm", kind="new_media", name="“耿马发布”微博", account_name="耿马发布"
    )
    a_case(uow, category="serious_wording", target_code="c_zr")
    a_case(uow, category="serious_wording", target_code="nm_gm")


COLUMN_OWN_HEADING = (
    "个别政府网站信息发布审核不严。值班读网制度落实不到位，存在严重表述错误，"
    "如：市自然资源和规划局信息公开专栏。"
)


def test_a_theme_whose_heading_is_about_new_media_collects_no_column(app):
    """政务新媒体管理不规范 names 严重表述错误, which applies to every kind: the account goes
    under it, the column keeps its own (website) heading instead of reading as new media."""
    with app.uow() as uow:
        a_wording_error_in_a_column_and_an_account(uow)
        set_option(uow, "问题主题", "政务新媒体管理不规范=严重表述错误、nm_stale")
        themed = problems_of(build_notice(uow, Q2))
        set_option(uow, "问题主题", "个别单位信息发布审核不严=严重表述错误")
        with_a_second_theme = problems_of(build_notice(uow, Q2))

    assert themed == [
        "（一）政务新媒体管理不规范，如：“耿马发布”微博存在严重表述错误。",
        f"（二）{COLUMN_OWN_HEADING}",
    ]
    # A heading about no one kind takes the column; a category without a phrase of its own
    # is named there, since the theme's heading does not say it.
    assert with_a_second_theme == [
        "（一）政务新媒体管理不规范，如：“耿马发布”微博存在严重表述错误。",
        "（二）个别单位信息发布审核不严，如：市自然资源和规划局信息公开专栏存在严重表述错误问题。",
    ]


def test_a_theme_may_name_the_kinds_it_collects(app):
    with app.uow() as uow:
        a_wording_error_in_a_column_and_an_account(uow)
        set_option(uow, "问题主题", "信息发布审核把关不严[政府网站、专栏]=严重表述错误")
        set_option(uow, "问题主题", "政务新媒体管理不规范[政务新媒体]=serious_wording")
        by_kind = problems_of(build_notice(uow, Q2))
        rounds.get_round(uow, Q2).notice_texts = {}
        set_option(uow, "问题主题", "政务新媒体管理不规范[全部]=serious_wording")
        every_kind = problems_of(build_notice(uow, Q2))

    assert by_kind == [
        "（一）信息发布审核把关不严，如：市自然资源和规划局信息公开专栏存在严重表述错误问题。",
        "（二）政务新媒体管理不规范，如：“耿马发布”微博存在严重表述错误。",
    ]
    # Listed kinds win over what the heading is about.
    assert every_kind == [
        "（一）政务新媒体管理不规范，如：市自然资源和规划局信息公开专栏存在严重表述错误问题；"
        "“耿马发布”微博存在严重表述错误。",
    ]


def test_a_categorys_own_theme_about_one_kind_leaves_the_other_kinds_their_heading(app):
    with app.uow() as uow:
        a_wording_error_in_a_column_and_an_account(uow)
        uow.session.get(Category, "serious_wording").theme = "政务新媒体运维管理不规范"
        uow.flush()
        found = problems_of(build_notice(uow, Q2))

    assert found == [
        f"（一）{COLUMN_OWN_HEADING}",
        "（二）政务新媒体运维管理不规范，如：“耿马发布”微博存在严重表述错误。",
    ]


def test_the_columns_are_counted_under_the_noun_the_office_gives_them(app):
    with app.uow() as uow:
        a_quarter_with_problems(uow)
        default = build_notice(uow, Q2).text
        edits.set_round_texts(uow, Q2, {"column_noun": "乡镇和{{ departments }}信息公开专栏"})
        own = build_notice(uow, Q2).text

    assert "登记在运行政府网站4个、市级部门信息公开专栏2个。" in default
    assert "登记在运行政府网站4个、乡镇和市级部门信息公开专栏2个。" in own


# ── Wording per target kind ─────────────────────────────────────────────────────────────


def a_wording_error_on_a_site_and_an_account(uow) -> None:
    a_small_city(uow)
    inspected(uow, "w_yd", unit="yd", kind="website", name="永德县人民政府门户网站")
    inspected(
        uow,
        "nm_gm",
        unit="gm",
        kind="new_media",
        name="耿马发布微信公众号",
        account_name="耿马发布",
    )
    a_case(uow, category="serious_wording", target_code="w_yd")
    a_case(uow, category="serious_wording", target_code="nm_gm")


def test_a_wording_error_on_an_account_does_not_read_as_a_websites_release_review(app):
    with app.uow() as uow:
        a_wording_error_on_a_site_and_an_account(uow)
        notice = build_notice(uow, Q2)

    assert problems_of(notice) == [
        "（一）个别政府网站信息发布审核不严。值班读网制度落实不到位，存在严重表述错误，"
        "如：永德县人民政府门户网站。",
        "（二）个别政务新媒体信息发布审核不严，内容审核把关不到位，如：耿马发布微信公众号存在严重表述错误。",
    ]


def test_a_categorys_own_wording_for_a_kind_goes_over_the_shipped_wording(app):
    with app.uow() as uow:
        a_wording_error_on_a_site_and_an_account(uow)
        uow.session.get(Category, "serious_wording").wording = {
            "_": {"phrase": "存在严重表述错误"},
            "new_media": {"heading": "个别政务新媒体推送内容把关不严", "item": "“{{ account }}”"},
        }
        uow.flush()
        notice = build_notice(uow, Q2)

    assert problems_of(notice) == [
        "（一）个别政府网站信息发布审核不严。值班读网制度落实不到位，存在严重表述错误，"
        "如：永德县人民政府门户网站存在严重表述错误。",
        "（二）个别政务新媒体推送内容把关不严，如：“耿马发布”。",
    ]


def test_a_reopened_or_mismatched_account_is_named_as_every_other_account(app):
    """Quoted, with its platform, as the registry names it (“某某发布”微信公众号)."""
    with app.uow() as uow:
        a_small_city(uow)
        for code, account in (("nm_a", "耿马发布"), ("nm_b", "永德发布"), ("nm_c", "耿马水务")):
            inspected(
                uow,
                code,
                unit="gm",
                kind="new_media",
                name=f"“{account}”微信公众号",
                account_name=account,
                registered_entity="耿马自治县融媒体中心",
            )
        a_case(uow, category="nm_stale", target_code="nm_a")
        a_case(uow, category="nm_reopened", target_code="nm_b")
        a_case(uow, category="nm_entity_mismatch", target_code="nm_c")
        found = problems_of(build_notice(uow, Q2))

    assert found == [
        "（一）政务新媒体更新不及时，如：“耿马发布”微信公众号内容长期未更新。",
        "（二）政务新媒体注册主体与开办单位不一致，如：“耿马水务”微信公众号，"
        "注册主体：耿马自治县融媒体中心，开办单位：耿马自治县人民政府。",
        "（三）已注销政务新媒体账号未经备案重新开通，如：“永德发布”微信公众号（耿马自治县人民政府）。",
    ]


def test_the_notice_reads_the_category_wording_of_the_template_folder_it_is_given(app, tmp_path):
    folder = tmp_path / "templates"
    shutil.copytree(TEMPLATES, folder)
    wording = folder / "notice_categories.yaml"
    wording.write_text(
        wording.read_text(encoding="utf-8").replace("phrase: 存在不可用链接", "phrase: 链接失效"),
        encoding="utf-8",
    )
    with app.uow() as uow:
        a_quarter_of_stale_and_broken_sites(uow)
        shipped = build_notice(uow, Q2)
        edited = build_notice(uow, Q2, template_dir=folder)

    assert "耿马自治县人民政府门户网站存在不可用链接。" in shipped.text
    assert "耿马自治县人民政府门户网站链接失效。" in edited.text


# ── Long lists summarised ───────────────────────────────────────────────────────────────


def a_quarter_of_five_zombies(uow) -> None:
    a_small_city(uow)
    for i, account in enumerate(("永德发布", "耿马发布", "园区发布", "自然资源发布", "某市发布")):
        inspected(uow, f"nm{i}", unit="yd", kind="new_media", name=account, account_name=account)
        a_case(uow, category="nm_zombie", target_code=f"nm{i}")


def test_a_list_past_the_threshold_names_the_first_few_and_counts_the_rest(app):
    with app.uow() as uow:
        a_quarter_of_five_zombies(uow)
        listed = problems_of(build_notice(uow, Q2))
        set_option(uow, "列举上限", "4")
        summarised = problems_of(build_notice(uow, Q2))
        set_option(uow, "概括时列举名称数", "1")
        one_name = problems_of(build_notice(uow, Q2))
        set_option(uow, "列举上限", "5")
        within = problems_of(build_notice(uow, Q2))

    assert listed[0].count("注册主体") == 5 and within == listed
    assert summarised == [
        "（一）政务新媒体清理不到位。截止二季度末，未注销的僵尸账号有“永德发布”“耿马发布”“园区发布”等5个政务新媒体。"
    ]
    assert one_name == [
        "（一）政务新媒体清理不到位。截止二季度末，未注销的僵尸账号有“永德发布”等5个政务新媒体。"
    ]


def test_a_summarised_website_list_keeps_the_problems_after_the_count(app):
    with app.uow() as uow:
        a_small_city(uow)
        for i in range(3):
            inspected(uow, f"w{i}", unit="yd", kind="website", name=f"网站{i}")
            a_case(uow, category="broken_links", target_code=f"w{i}")
        set_option(uow, "列举上限", "2")
        notice = build_notice(uow, Q2)

    assert problems_of(notice) == [
        "（一）存在不可用链接。个别网站页面链接失效，日常巡检不到位，影响公众正常访问，"
        "如：网站0、网站1等3个政府网站存在不可用链接。"
    ]


def test_a_summarised_theme_charges_each_account_only_with_its_own_problems(app):
    """A theme over two categories past the threshold: a clause per category, naming only the
    accounts that have it, each with its own phrase."""
    with app.uow() as uow:
        a_small_city(uow)
        for code, account in (("a", "甲发布"), ("b", "乙发布"), ("c", "丙发布"), ("d", "丁发布")):
            inspected(uow, code, unit="yd", kind="new_media", name=account, account_name=account)
            a_case(uow, category="nm_stale", target_code=code)
        inspected(uow, "e", unit="gm", kind="new_media", name="戊发布", account_name="戊发布")
        a_case(uow, category="serious_wording", target_code="d")
        a_case(uow, category="serious_wording", target_code="e")
        set_option(uow, "问题主题", "政务新媒体管理不规范=nm_stale、严重表述错误")
        set_option(uow, "列举上限", "3")
        notice = build_notice(uow, Q2)

    assert problems_of(notice) == [
        "（一）政务新媒体管理不规范，如：“甲发布”“乙发布”“丙发布”等4个政务新媒体内容长期未更新；"
        "“丁发布”“戊发布”存在严重表述错误。"
    ]


# ── Each case's description ─────────────────────────────────────────────────────────────


def test_a_cases_description_is_printed_after_its_target_only_when_the_office_asks(app):
    with app.uow() as uow:
        a_small_city(uow)
        inspected(uow, "w_yd", unit="yd", kind="website", name="永德县人民政府门户网站")
        inspected(
            uow, "nm_gm", unit="gm", kind="new_media", name="耿马水务", account_name="耿马水务"
        )
        a_case(uow, category="column_stale", target_code="w_yd")
        a_case(uow, category="nm_zombie", target_code="nm_gm")
        for case in uow.session.query(Case):
            case.description = (
                "“工作动态”栏目超过3个月未更新"
                if case.category_code == "column_stale"
                else "2020年起未更新"
            )
        uow.flush()
        hidden = problems_of(build_notice(uow, Q2))
        set_option(uow, "问题描述", "对象后")
        shown = problems_of(build_notice(uow, Q2))

    assert "栏目超过3个月" not in "".join(hidden)
    assert shown[0].endswith(
        "如：永德县人民政府门户网站栏目超期未更新（“工作动态”栏目超过3个月未更新）。"
    )
    # An item worded without the description (the zombie list) gets it at its end.
    assert shown[1].endswith("1. 耿马水务，注册主体：耿马自治县人民政府（2020年起未更新）。")
