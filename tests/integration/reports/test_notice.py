"""The quarterly notice assembled from the database: figures, sections, history, follow-ups."""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from datetime import date

import pytest

from services.core.errors import ValidationFailed
from services.db.models import Case
from services.reports import problems
from services.reports.files import TEMPLATES
from services.reports.notice import build_notice
from services.reports.render import render_html, render_markdown
from services.reports.stats import RateRule, RateSettings, round_stats
from services.rounds import rounds
from services.rounds.setting_checks import TEXT_WORDS
from tests.builders import a_case, a_target
from tests.integration.reports.notice_scenario import (
    Q2,
    a_previous_quarter,
    a_quarter_with_problems,
    a_repeat_domain_case,
    a_small_city,
    inspected,
    reported,
)


def paragraphs(notice) -> list[str]:
    return [block.full_text for block in notice.blocks]


def paragraph_starting(notice, prefix: str) -> str:
    """The one paragraph of chapter 一 starting with ``prefix``."""
    matches = [p for p in _chapter(notice, "一、") if p.startswith(prefix)]
    assert len(matches) == 1, (prefix, paragraphs(notice))
    return matches[0]


def test_notice_prints_the_quarters_figures_in_the_seeds_sentences(app):
    with app.uow() as uow:
        a_quarter_with_problems(uow)
        a_previous_quarter(uow, fixed=True)
        notice = build_notice(uow, Q2)

    assert paragraphs(notice)[:4] == [
        "临沧市人民政府办公室",
        "某政办字〔2021〕72号",
        "临沧市人民政府办公室关于2021年二季度全市政府网站和政府系统政务新媒体检查情况的通报",
        "各县（市、区）人民政府，市直各部门：",  # notice_texts.yaml's generic addressees
    ]
    assert paragraph_starting(notice, "（一）") == (
        "（一）2021年一季度通报问题整改情况。经复查，2021年一季度发现的1个问题网站，已完成整改。"
    )  # 均 only for more than one
    websites = paragraph_starting(notice, "（二）2021年二季度政府网站普查情况")
    assert "登记在运行政府网站4个、市级部门信息公开专栏2个" in websites
    assert "发现问题网站1个，网站合格率75.00%；问题专栏1个，合格率50.00%。" in websites
    # Every registered account was inspected: a census, with its counts (the seed's own
    # sentence, without counts, is an office's option: test_notice_figures.py).
    new_media = paragraph_starting(notice, "（三）2021年二季度政府系统政务新媒体普查情况")
    assert (
        "二季度新增登记政府系统政务新媒体54个，关停注销微信公众号11个，注销其他政务新媒体账号17个。"
        in new_media
    )
    assert new_media.endswith(
        "二季度检查全市登记在运行的政府系统政务新媒体3个，合格1个，不合格2个，合格率33.33%。"
    )
    messages = paragraph_starting(notice, "（四）网民留言办理情况")
    assert "共2个，2021年二季度共接到网民留言61条，其中：市政府54条、耿马自治县7条。" in messages
    assert messages.endswith("通过监测，耿马自治县超期3条未回复。")
    assert "并于2021年7月29日前将整改情况" in notice.text
    assert paragraphs(notice)[-3:] == ["临沧市人民政府办公室", "2021年7月19日", "2021年7月19日印发"]


def test_problem_section_names_every_target_and_unit_under_its_category_heading(app):
    with app.uow() as uow:
        a_quarter_with_problems(uow)
        a_case(uow, category="column_stale_minor", target_code="c_park")
        a_case(uow, category="column_name_outdated", target_code="c_park")
        notice = build_notice(uow, Q2)

    chapters = [b.full_text for b in notice.blocks if b.kind == "h1"]
    assert chapters == ["一、总体情况", "二、存在的主要问题", "三、下一步工作要求"]
    problems = _chapter(notice, "二、")
    assert problems == [
        "（一）个别政府网站信息发布审核不严。值班读网制度落实不到位，存在严重表述错误，"
        "如：市自然资源和规划局信息公开专栏。",
        "（二）栏目更新不及时，日常运维需加强。个别网站未合理规划网站栏目设置，内容保障机制落实不到位，"
        "导致出现栏目长期不更新的问题，如：永德县人民政府门户网站栏目超期未更新；"
        "工业园区信息公开专栏栏目未及时更新，栏目名称未更新。",
        "（三）政务新媒体清理不到位。截止二季度末，未注销的僵尸账号有：1. 园区发布，注册主体：工业园区管理委员会；"
        "2. 耿马水务，注册主体：耿马傣族佤族自治县水务局。",
    ]


def _chapter(notice, number: str) -> list[str]:
    inside, result = False, []
    for block in notice.blocks:
        if block.kind == "h1":
            inside = block.full_text.startswith(number)
        elif inside and block.kind == "n":
            result.append(block.full_text)
    return result


def test_repeat_offender_history_counts_notices_before_this_rounds_own(app):
    with app.uow() as uow:
        a_quarter_with_problems(uow)
        a_repeat_domain_case(uow, notify_in_q2=True)
        notice = build_notice(uow, Q2)

    domain = next(p for p in _chapter(notice, "二、") if "已下线网站域名" in p)
    assert domain.endswith(
        "如：工业园区管理委员会已下线网站域名应注销未注销问题，"
        "已被省政府办公厅通报一次，被市政府办公室通报一次，至今未完成注销工作。"
    )


def test_a_found_case_with_recorded_counts_prints_them_in_chinese_numerals(app):
    with app.uow() as uow:
        a_quarter_with_problems(uow)
        case_id = a_repeat_domain_case(uow, notify_in_q2=False)
        case = uow.session.get(Case, case_id)
        case.notices_city = 2
        uow.flush()
        notice = build_notice(uow, Q2)

    assert "已被省政府办公厅通报一次，被市政府办公室通报两次，至今未完成注销工作" in notice.text


def test_pass_rate_rule_and_precision_are_settings_of_the_notice_with_per_kind_overrides(app):
    with app.uow() as uow:
        a_small_city(uow)
        for i in range(9):
            inspected(uow, f"w{i}", unit="yd", kind="website", name=f"网站{i}")
        a_case(uow, category="column_stale", target_code="w0")
        default = round_stats(uow, Q2).kinds["website"].rate_text
        truncated = (
            round_stats(uow, Q2, rates=RateSettings(per_kind={"website": RateRule(2, "truncate")}))
            .kinds["website"]
            .rate_text
        )
        one_decimal = round_stats(uow, Q2, rates=RateSettings(default=RateRule(1, "round_half_up")))
        round_ = rounds.get_round(uow, Q2)
        round_.notice_texts = {"pass_rate": {"decimals": 0, "website": {"rule": "truncate"}}}
        uow.flush()
        from_round = build_notice(uow, Q2)

    assert (default, truncated) == ("88.89%", "88.88%")
    assert one_decimal.kinds["website"].rate_text == "88.9%"
    assert "网站合格率88%" in from_round.text


def test_a_round_without_problems_in_a_category_omits_its_subsection(app):
    with app.uow() as uow:
        a_small_city(uow)
        inspected(uow, "w_yd", unit="yd", kind="website", name="永德县人民政府门户网站")
        a_case(uow, category="serious_wording", target_code="w_yd")
        notice = build_notice(uow, Q2)

    problems = _chapter(notice, "二、")
    assert len(problems) == 1 and "严重表述错误" in problems[0]
    assert "栏目更新不及时" not in notice.text
    assert "僵尸账号" not in notice.text
    assert "网民留言办理情况" not in notice.text


def test_a_category_the_seed_never_had_gets_its_own_worded_subsection(app):
    with app.uow() as uow:
        a_small_city(uow)
        inspected(uow, "w_gm", unit="gm", kind="website", name="耿马自治县人民政府门户网站")
        a_case(uow, category="broken_links", target_code="w_gm")
        notice = build_notice(uow, Q2)

    assert _chapter(notice, "二、") == [
        "（一）存在不可用链接。个别网站页面链接失效，日常巡检不到位，影响公众正常访问，"
        "如：耿马自治县人民政府门户网站存在不可用链接。"
    ]


def test_a_quarter_with_no_problems_says_so(app):
    with app.uow() as uow:
        a_small_city(uow)
        inspected(uow, "w_yd", unit="yd", kind="website")
        notice = build_notice(uow, Q2)

    assert "二季度未发现突出问题。" in paragraphs(notice)
    assert "网站合格率100.00%" in notice.text


def test_praise_unreported_units_and_unfixed_problems_get_their_own_paragraphs(app):
    with app.uow() as uow:
        a_quarter_with_problems(uow)
        rounds.set_verdict(
            uow, round_code=Q2, target_code="w_city", praise="信息发布及时，政策解读规范"
        )
        late = a_previous_quarter(uow, fixed=False)
        reported(uow, late, on=date(2021, 5, 3))  # after the 2021-04-29 deadline
        a_repeat_domain_case(uow, notify_in_q2=False)
        notice = build_notice(uow, Q2)

    assert (
        "经复查，以下问题仍未整改：工业园区网站（工业园区管理委员会）已下线网站域名未注销。"
        in paragraphs(notice)
    )
    assert (
        "以下单位未按期报送2021年一季度整改情况：某市人民政府、工业园区管理委员会。"
        in paragraphs(notice)
    )
    assert paragraph_starting(notice, "（五）通报表扬情况") == (
        "（五）通报表扬情况。2021年二季度，以下政府网站和政府系统政务新媒体表现突出，予以通报表扬："
        "某市人民政府门户网站（某市人民政府），信息发布及时，政策解读规范。"
    )
    assert (
        "（一）2021年一季度通报问题整改情况。经复查，2021年一季度发现的1个问题网站，"
        "尚未完成整改。" in paragraphs(notice)  # not 已完成整改0个
    )


def test_units_that_reported_in_time_and_empty_followups_are_not_printed(app):
    with app.uow() as uow:
        a_quarter_with_problems(uow)
        on_time = a_previous_quarter(uow, fixed=False)
        reported(uow, on_time, on=date(2021, 4, 28))
        notice = build_notice(uow, Q2)

    assert "未按期报送" not in notice.text
    assert "仍未整改" not in notice.text
    assert "通报表扬" not in notice.text


def test_a_round_can_choose_not_to_print_the_unreported_and_still_unfixed_paragraphs(app):
    with app.uow() as uow:
        a_quarter_with_problems(uow)
        late = a_previous_quarter(uow, fixed=False)
        reported(uow, late, on=date(2021, 5, 3))
        a_repeat_domain_case(uow, notify_in_q2=False)
        round_ = rounds.get_round(uow, Q2)
        round_.notice_texts = {"followups": {"unreported": False, "still_unfixed": False}}
        notice = build_notice(uow, Q2)
        round_.notice_texts = {"followups": {"still_unfixed": False}}
        only_unreported = build_notice(uow, Q2)

    assert "未按期报送" not in notice.text and "仍未整改" not in notice.text
    assert "以下单位未按期报送2021年一季度整改情况" in only_unreported.text
    assert "仍未整改" not in only_unreported.text
    # The problem itself is still named in section 二 with its notice history.
    assert "工业园区" in notice.text


def test_round_texts_override_the_requirements_and_a_missing_previous_round_drops_its_paragraph(
    app,
):
    with app.uow() as uow:
        a_small_city(uow)
        a_target(uow, "w1", unit_code="yd", kind="website")
        round_ = rounds.get_round(uow, "2021Q1")
        round_.notice_texts = {
            "requirements": ["压实责任。{{ quarter }}问题要在{{ deadline }}前整改到位。"],
            "office": "某市人民政府办公室",
        }
        uow.flush()
        notice = build_notice(uow, "2021Q1")

    # Nothing to report in 总体情况: the chapter is left out and the others move up.
    assert [b.full_text for b in notice.blocks if b.kind == "h1"] == [
        "一、存在的主要问题",
        "二、下一步工作要求",
    ]
    assert _chapter(notice, "二、") == ["（一）压实责任。一季度问题要在2021年4月29日前整改到位。"]
    assert notice.text.startswith("某市人民政府办公室\n某市人民政府办公室关于2021年一季度")
    assert "通报问题整改情况" not in notice.text
    # Nothing inspected, no inventory: no census paragraphs with empty figures.
    assert "政府网站普查情况" not in notice.text
    assert "政务新媒体抽查情况" not in notice.text


def test_a_mistake_in_a_rounds_editable_text_is_refused_with_its_name(app):
    with app.uow() as uow:
        a_small_city(uow)
        rounds.get_round(uow, Q2).notice_texts = {
            "requirements": ["压实责任，于{{ 期限 }}前整改。"]
        }
        uow.flush()
        with pytest.raises(ValidationFailed) as refused:
            build_notice(uow, Q2)

    assert refused.value.errors[0].endswith(
        "通报文本「下一步工作要求（requirements）」有误：「期限」不是可用的替换词，可用："
        "{{ office }}、{{ office_short }}、{{ quarter_label }}、{{ quarter }}、{{ deadline }}、"
        "{{ notice_date }}、{{ departments }}"
    )


def test_every_word_a_text_may_use_is_filled_in_by_the_notice(app):
    # The words checked on entry (setting_checks.TEXT_WORDS) are the words a notice has.
    every = "".join(f"[{{{{ {word} }}}}]" for word in TEXT_WORDS)
    with app.uow() as uow:
        a_small_city(uow)
        rounds.get_round(uow, Q2).notice_texts = {"requirements": [every]}
        uow.flush()
        notice = build_notice(uow, Q2)

    printed = next(line for line in notice.text.splitlines() if line.startswith("（一）["))
    assert "{{" not in printed
    assert printed.count("[") == len(TEXT_WORDS) and "[]" not in printed


# ── Section 二 as a person reads it: headings, lead wording, names printed verbatim ─────────

_STALE = (
    "栏目更新不及时，日常运维需加强。个别网站未合理规划网站栏目设置，内容保障机制落实不到位，"
    "导致出现栏目长期不更新的问题，如："
)


def test_a_renamed_column_joins_its_own_targets_stale_column_not_another_targets(app):
    """column_name_outdated attaches to column_stale only on the same target; elsewhere it keeps
    its own subsection, and a subsection is worded after its first category in catalogue order."""
    with app.uow() as uow:
        a_small_city(uow)
        inspected(uow, "w_yd", unit="yd", kind="website", name="永德县人民政府门户网站")
        inspected(uow, "c_park", unit="park", kind="column", name="工业园区信息公开专栏")
        a_case(uow, category="column_name_outdated", target_code="w_yd")
        a_case(uow, category="column_stale", target_code="w_yd")
        a_case(uow, category="column_name_outdated", target_code="c_park")
        notice = build_notice(uow, Q2)

    expected = [
        f"{_STALE}永德县人民政府门户网站栏目超期未更新，栏目名称未更新。",
        "栏目名称未及时更新。机构改革后相关栏目名称未及时调整，如：工业园区信息公开专栏栏目名称未更新。",
    ]
    assert [s.text for s in notice.sections] == expected
    assert _chapter(notice, "二、") == [f"（一）{expected[0]}", f"（二）{expected[1]}"]


def test_names_with_ampersands_and_angle_brackets_are_printed_verbatim_in_the_markdown(app):
    with app.uow() as uow:
        a_small_city(uow)
        inspected(uow, "w_rd", unit="gm", kind="website", name="耿马R&D<试点>网站")
        inspected(
            uow,
            "nm_rd",
            unit="gm",
            kind="new_media",
            name="耿马R&D",
            account_name="耿马R&D",
            registered_entity="耿马<科技>&信息局",
        )
        a_case(uow, category="broken_links", target_code="w_rd")
        a_case(uow, category="nm_zombie", target_code="nm_rd")
        notice = build_notice(uow, Q2)
        markdown = render_markdown(notice)
        html = render_html(notice)

    links = (
        "（一）存在不可用链接。个别网站页面链接失效，日常巡检不到位，影响公众正常访问，"
        "如：耿马R&D<试点>网站存在不可用链接。"
    )
    zombies = "（二）政务新媒体清理不到位。截止二季度末，未注销的僵尸账号有：1. 耿马R&D，注册主体：耿马<科技>&信息局。"
    assert f"\n{links}\n" in markdown and f"\n{zombies}\n" in markdown
    assert "&amp;" not in markdown and "&lt;" not in markdown
    # The HTML escapes each name once (the browser shows it as typed).
    assert "如：耿马R&amp;D&lt;试点&gt;网站存在不可用链接。" in html
    assert "&amp;amp;" not in html and "&amp;lt;" not in html


def test_a_zombie_account_is_named_by_its_account_name_else_by_the_targets_name(app):
    with app.uow() as uow:
        a_small_city(uow)
        inspected(
            uow,
            "nm_wx",
            unit="yd",
            kind="new_media",
            name="永德县人民政府微信公众号",
            account_name="永德发布",
            registered_entity="永德县融媒体中心",
        )
        inspected(uow, "nm_wb", unit="gm", kind="new_media", name="耿马水务微博")
        a_case(uow, category="nm_zombie", target_code="nm_wx")
        a_case(uow, category="nm_zombie", target_code="nm_wb")
        notice = build_notice(uow, Q2)

    assert [s.text for s in notice.sections] == [
        "政务新媒体清理不到位。截止二季度末，未注销的僵尸账号有："
        "1. 永德发布，注册主体：永德县融媒体中心；2. 耿马水务微博，注册主体：耿马自治县人民政府。"
    ]


def test_an_offices_edited_wording_leads_with_the_first_category_and_drops_a_blocks_newline(
    app, tmp_path, monkeypatch
):
    """The office rewrites column_stale_minor in notice_categories.yaml, its item as a YAML block
    (which ends in a newline). A subsection takes its sentence from its first category, an item
    from its target's first category there; the block's newline does not split the paragraph."""
    shipped = (TEMPLATES / "notice_categories.yaml").read_text(encoding="utf-8")
    minor = (
        "column_stale_minor:\n"
        "  elaboration: 个别网站未合理规划网站栏目设置，内容保障机制落实不到位，"
        "导致出现栏目长期不更新的问题\n"
    )
    assert minor in shipped
    edited = shipped.replace(
        minor,
        "column_stale_minor:\n"
        "  elaboration: 个别专栏更新频率偏低\n"
        "  item: |\n"
        "    {{ target }}（{{ unit }}）{{ phrases | join('，') }}\n",
    )
    (tmp_path / "notice_categories.yaml").write_text(edited, encoding="utf-8")
    monkeypatch.setattr(problems, "TEMPLATES", tmp_path)
    with app.uow() as uow:
        a_small_city(uow)
        inspected(uow, "w_yd", unit="yd", kind="website", name="永德县人民政府门户网站")
        inspected(uow, "c_park", unit="park", kind="column", name="工业园区信息公开专栏")
        a_case(uow, category="column_name_outdated", target_code="c_park")
        a_case(uow, category="column_stale_minor", target_code="c_park")
        a_case(uow, category="column_stale", target_code="w_yd")
        notice = build_notice(uow, Q2)

    text = (
        f"{_STALE}永德县人民政府门户网站栏目超期未更新；"
        "工业园区信息公开专栏（工业园区管理委员会）栏目未及时更新，栏目名称未更新。"
    )
    assert [s.text for s in notice.sections] == [text]
    assert _chapter(notice, "二、") == [f"（一）{text}"]


def test_the_problems_of_a_built_notice_cannot_be_changed_afterwards(app):
    """One built notice is rendered to Markdown, HTML and DOCX: no renderer can alter it."""
    with app.uow() as uow:
        a_quarter_with_problems(uow)
        notice = build_notice(uow, Q2)

    section = notice.sections[0]
    with pytest.raises(FrozenInstanceError):
        section.text = "已改"  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        section.items[0].target = "已改"  # type: ignore[misc]
