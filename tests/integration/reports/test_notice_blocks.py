"""The round's data blocks in its notice: a recheck within the round, commendations, a simulated
consultation, reprints of important information and a clean-up campaign, each printed only
when the round holds it, alike in Markdown and DOCX."""

from __future__ import annotations

from datetime import date

import pytest
from docx import Document

from services.cases import transitions
from services.core.errors import ValidationFailed
from services.reports.docx import render_docx
from services.reports.notice import build_notice
from services.reports.render import render_html, render_markdown
from services.rounds import blocks, rounds
from tests.integration.reports.block_scenario import (
    CLEANED,
    COMMENDED,
    a_recheck_quarter,
    every_block,
    on,
    set_option,
)
from tests.integration.reports.notice_scenario import Q2, a_quarter_with_problems, inspected

BLOCK_CHAPTERS = ("通报表扬", "模拟咨询情况", "重要信息转载情况", "清理整合情况")


def chapter(notice, title: str) -> list[str]:
    """The numbered paragraphs under the chapter titled ``title``."""
    inside, found = False, []
    for block in notice.blocks:
        if block.kind == "h1":
            inside = block.text == title
        elif inside and block.kind == "n":
            found.append(block.full_text)
    return found


def chapters(notice) -> list[str]:
    return [b.full_text for b in notice.blocks if b.kind == "h1"]


# ── Recheck within the round ────────────────────────────────────────────────────────────


def test_a_recheck_in_the_round_names_the_problems_still_unfixed_and_the_targets_that_fail(app):
    a_recheck_quarter(app)
    with app.uow() as uow:
        notice = build_notice(uow, Q2)

    assert chapters(notice)[2] == "三、复查情况"
    assert chapter(notice, "复查情况") == [
        "（一）初查和复查情况。2021年5月10日初查共发现问题3个，2021年6月25日复查时已完成整改1个，"
        "仍有2个未整改。",
        "（二）复查仍未整改问题。经复查，以下问题仍未整改：市自然资源和规划局信息公开专栏"
        "（市自然资源和规划局）严重表述错误；工业园区信息公开专栏（工业园区管理委员会）栏目名称未更新。",
        "（三）合格判定情况。市自然资源和规划局信息公开专栏的单项否决问题复查时仍未整改，判定为不合格。"
        "永德县人民政府门户网站的单项否决问题已于复查前完成整改，不再判定为不合格。",
    ]


def test_a_veto_problem_fixed_by_the_recheck_no_longer_fails_its_target(app):
    a_recheck_quarter(app)
    with app.uow() as uow:
        with_recheck = rounds.tally(uow, Q2)
        rechecked_notice = build_notice(uow, Q2)
        blocks.clear_block(uow, Q2, "recheck")
        without = rounds.tally(uow, Q2)
        plain_notice = build_notice(uow, Q2)

    # Verified on 6月20日, before the 6月25日 recheck: the county website passes.
    assert (with_recheck["website"].unqualified, without["website"].unqualified) == (0, 1)
    assert "网站合格率100.00%" in rechecked_notice.text
    assert "网站合格率0.00%" in plain_notice.text
    # Verified on 6月28日, after the recheck: the bureau's column fails either way.
    assert with_recheck["column"].unqualified == without["column"].unqualified == 1
    assert "复查情况" not in plain_notice.text


def test_a_recheck_that_found_everything_fixed_says_so(app):
    ids = a_recheck_quarter(app)
    with on(app, date(2021, 6, 29)) as uow:  # the park's outdated names fixed as well
        for trigger in ("notify", "start", "submit", "verify"):
            transitions.transition(uow, case_id=ids["c_park"], trigger=trigger, actor="督查员")
        blocks.set_block(uow, Q2, "recheck", {"initial": "2021-05-10", "recheck": "2021-06-30"})
        uow.commit()
    with app.uow() as uow:
        notice = build_notice(uow, Q2)

    assert chapter(notice, "复查情况") == [
        "（一）初查和复查情况。2021年5月10日初查共发现问题3个，2021年6月30日复查时均已完成整改。",
        "（二）合格判定情况。市自然资源和规划局信息公开专栏、永德县人民政府门户网站的单项否决问题"
        "已于复查前完成整改，不再判定为不合格。",
    ]


def test_a_recheck_that_found_nothing_fixed_does_not_print_zero_fixed(app):
    a_recheck_quarter(app)
    with app.uow() as uow:  # rechecked before the county website's fix on 6月20日
        blocks.set_block(uow, Q2, "recheck", {"initial": "2021-05-10", "recheck": "2021-06-15"})
        notice = build_notice(uow, Q2)

    assert chapter(notice, "复查情况")[0] == (
        "（一）初查和复查情况。2021年5月10日初查共发现问题3个，2021年6月15日复查时均未完成整改。"
    )


# ── Every block: only when present, in every format ─────────────────────────────────────


def test_each_block_prints_only_when_the_round_holds_it_in_markdown_html_and_docx(app, tmp_path):
    with app.uow() as uow:
        a_quarter_with_problems(uow)
        plain = build_notice(uow, Q2)
        every_block(uow)
        full = build_notice(uow, Q2)
        blocks.clear_block(uow, Q2, "consultation")
        blocks.clear_block(uow, Q2, "reprint")
        partial = build_notice(uow, Q2)

    assert not any(title in plain.text for title in BLOCK_CHAPTERS)
    assert chapters(full) == [
        "一、总体情况",
        "二、存在的主要问题",
        "三、通报表扬",
        "四、模拟咨询情况",
        "五、重要信息转载情况",
        "六、清理整合情况",
        "七、下一步工作要求",
    ]
    assert "模拟咨询" not in partial.text and "重要信息转载" not in partial.text
    assert chapters(partial)[2:4] == ["三、通报表扬", "四、清理整合情况"]
    markdown = render_markdown(full)
    for title in chapters(full):
        assert f"\n## {title}\n" in markdown
    html = render_html(full)
    assert '<h2 class="h1">六、清理整合情况</h2>' in html
    path = tmp_path / "notice.docx"
    path.write_bytes(render_docx(full))
    read_back = [p.text for p in Document(str(path)).paragraphs if p.text]
    assert read_back == [b.full_text for b in full.blocks]
    assert all(f"\n{p}\n" in markdown for p in chapter(full, "模拟咨询情况"))


def test_commendations_name_each_target_with_its_reason_and_the_units_that_reported(app):
    with app.uow() as uow:
        a_quarter_with_problems(uow)
        blocks.set_block(uow, Q2, "commendations", COMMENDED)
        notice = build_notice(uow, Q2)

    assert chapter(notice, "通报表扬") == [
        "（一）表现突出的政府网站和政务新媒体。2021年二季度，以下政府网站和政务新媒体运维管理规范、"
        "表现突出，予以通报表扬：某市人民政府门户网站（某市人民政府），信息发布及时，政策解读规范；"
        "“某市发布”（某市人民政府），内容更新及时，互动回应积极。",
        "（二）按要求报送2021年政府网站工作年度报表情况。永德县人民政府、耿马自治县人民政府"
        "按要求及时报送2021年政府网站工作年度报表，予以通报表扬。",
    ]


def test_praise_on_the_verdicts_prints_once_in_the_commendations_block_when_there_is_one(app):
    with app.uow() as uow:
        a_quarter_with_problems(uow)
        for code, reason in (("w_city", "栏目设置规范"), ("w_yd", "政策解读及时")):
            rounds.set_verdict(uow, round_code=Q2, target_code=code, praise=reason)
        without_block = build_notice(uow, Q2)
        blocks.set_block(uow, Q2, "commendations", COMMENDED)
        with_block = build_notice(uow, Q2)

    assert "（五）通报表扬情况。" in without_block.text
    assert "永德县人民政府门户网站（永德县人民政府），政策解读及时" in without_block.text
    assert "通报表扬情况" not in with_block.text
    assert with_block.text.count("政策解读及时") == 1
    # The block's own reason for a target it names wins over the verdict's.
    assert "栏目设置规范" not in with_block.text
    assert chapter(with_block, "通报表扬")[0].endswith(
        "予以通报表扬：某市人民政府门户网站（某市人民政府），信息发布及时，政策解读规范；"
        "“某市发布”（某市人民政府），内容更新及时，互动回应积极；"
        "永德县人民政府门户网站（永德县人民政府），政策解读及时。"
    )


def test_a_reported_task_that_ends_in_qingkuang_is_not_doubled(app):
    with app.uow() as uow:
        a_quarter_with_problems(uow)
        reported = [
            {"unit": "yd", "task": "一季度问题整改情况"},
            {"unit": "gm", "task": "政务新媒体自查报告。"},
        ]
        blocks.set_block(uow, Q2, "commendations", {"reported": reported})
        notice = build_notice(uow, Q2)

    assert chapter(notice, "通报表扬") == [
        "（一）按要求报送一季度问题整改情况。永德县人民政府按要求及时报送一季度问题整改情况，"
        "予以通报表扬。",
        "（二）按要求报送政务新媒体自查报告情况。耿马自治县人民政府按要求及时报送政务新媒体自查报告，"
        "予以通报表扬。",
    ]


def test_many_commended_accounts_are_summarised_with_their_count(app):
    with app.uow() as uow:
        a_quarter_with_problems(uow)
        names = ("永德发布", "耿马融媒", "园区之声", "云县发布")
        for i, name in enumerate(names):
            inspected(uow, f"nm_p{i}", unit="yd", kind="new_media", name=name, account_name=name)
        praised = [{"target": f"nm_p{i}", "reason": "内容更新及时"} for i in range(4)]
        praised.append({"target": "w_city", "reason": "信息发布及时"})
        blocks.set_block(uow, Q2, "commendations", {"targets": praised})
        set_option(uow, "列举上限", "3")
        notice = build_notice(uow, Q2)

    assert chapter(notice, "通报表扬") == [
        "（一）表现突出的政务新媒体和政府网站。2021年二季度，以下政务新媒体和政府网站运维管理规范、"
        "表现突出，予以通报表扬：“永德发布”“耿马融媒”“园区之声”等4个政务新媒体，内容更新及时；"
        "某市人民政府门户网站（某市人民政府），信息发布及时。"
    ]


def test_a_consultation_gives_the_shares_answered_in_time_and_names_the_units(app):
    with app.uow() as uow:
        a_quarter_with_problems(uow)
        every_block(uow)
        notice = build_notice(uow, Q2)

    # 5 questions: 2 answered the next working day, 1 in two days, 1 never, 1 after 8 days.
    assert (
        chapter(notice, "模拟咨询情况")
        == [
            "（一）总体情况。2021年二季度，对4个政府网站的互动交流渠道开展模拟咨询，共提交咨询问题5个，"
            "其中40.00%的问题在1个工作日内得到答复，40.00%的问题超过5个工作日未答复。",
            "（二）答复及时的单位。某市人民政府在1个工作日内答复咨询问题，答复及时、内容规范。",  # one: no 均
            "（三）答复不及时的单位。耿马自治县人民政府、市自然资源和规划局存在超过5个工作日未答复的"
            "咨询问题，互动回应不及时。",
        ]
    )


def test_a_consultation_with_no_answer_in_time_says_so_without_a_zero_share(app):
    late = {
        "questions": [  # 2021-05-10 is a Monday
            {"target": "w_city", "asked": "2021-05-10", "answered": "2021-05-12"},
            {"target": "w_yd", "asked": "2021-05-10", "answered": "2021-05-13"},
            {"target": "w_gm", "asked": "2021-05-10"},
        ]
    }
    with app.uow() as uow:
        a_quarter_with_problems(uow)
        blocks.set_block(uow, Q2, "consultation", late)
        none_in_time = chapter(build_notice(uow, Q2), "模拟咨询情况")
        late["questions"] = late["questions"][:2]
        blocks.set_block(uow, Q2, "consultation", late)
        none_over_five = chapter(build_notice(uow, Q2), "模拟咨询情况")

    assert none_in_time == [
        "（一）总体情况。2021年二季度，对3个政府网站的互动交流渠道开展模拟咨询，共提交咨询问题3个，"
        "均未在1个工作日内得到答复，其中33.33%的问题超过5个工作日未答复。",
        "（二）答复不及时的单位。耿马自治县人民政府存在超过5个工作日未答复的咨询问题，互动回应不及时。",
    ]
    assert none_over_five == [
        "（一）总体情况。2021年二季度，对2个政府网站的互动交流渠道开展模拟咨询，共提交咨询问题2个，"
        "均未在1个工作日内得到答复，没有超过5个工作日未答复的问题。",
    ]


def test_a_consultation_answered_in_time_by_several_units_says_均(app):
    quick = {
        "questions": [
            {"target": "w_city", "asked": "2021-05-10", "answered": "2021-05-11"},
            {"target": "w_yd", "asked": "2021-05-10", "answered": "2021-05-10"},
        ]
    }
    with app.uow() as uow:
        a_quarter_with_problems(uow)
        blocks.set_block(uow, Q2, "consultation", quick)
        notice = build_notice(uow, Q2)

    assert chapter(notice, "模拟咨询情况") == [
        "（一）总体情况。2021年二季度，对2个政府网站的互动交流渠道开展模拟咨询，共提交咨询问题2个，"
        "均在1个工作日内得到答复。",
        "（二）答复及时的单位。某市人民政府、永德县人民政府均在1个工作日内答复咨询问题，"
        "答复及时、内容规范。",
    ]


def test_reprints_give_the_items_sampled_and_who_reprinted_well_or_late(app):
    with app.uow() as uow:
        a_quarter_with_problems(uow)
        every_block(uow)
        notice = build_notice(uow, Q2)

    assert chapter(notice, "重要信息转载情况") == [
        "（一）总体情况。2021年二季度，上级部署转载重要信息12条，从中抽取5条，对4个政府网站的转载情况"
        "进行了检查。",
        "（二）转载情况。经抽查，某市人民政府门户网站转载及时、规范；永德县人民政府门户网站转载不及时；"
        "耿马自治县人民政府门户网站未按要求转载。",
    ]


def test_a_clean_up_names_the_accounts_still_not_deregistered_or_counts_them(app):
    with app.uow() as uow:
        a_quarter_with_problems(uow)
        blocks.set_block(uow, Q2, "cleanup", CLEANED)
        named = build_notice(uow, Q2)
        set_option(uow, "列举上限", "1")
        counted = build_notice(uow, Q2)

    lead = (
        "（一）政务新媒体清理整合情况。按照省政府办公厅下发的待核查政务新媒体账号清单，"
        "涉及应清理整合的政务新媒体账号3个，已完成注销1个，"
    )
    assert chapter(named, "清理整合情况") == [
        f"{lead}截至目前还有2个账号未完成注销：“耿马旅游”（耿马自治县人民政府）、"
        "“园区党建”（工业园区管理委员会）。"
    ]
    assert chapter(counted, "清理整合情况") == [
        f"{lead}截至目前还有“耿马旅游”等2个账号未完成注销。"
    ]


def test_a_clean_up_with_nothing_deregistered_does_not_print_zero_done(app):
    pending = {**CLEANED, "accounts": [{**a, "deregistered": False} for a in CLEANED["accounts"]]}
    with app.uow() as uow:
        a_quarter_with_problems(uow)
        blocks.set_block(uow, Q2, "cleanup", pending)
        named = chapter(build_notice(uow, Q2), "清理整合情况")
        set_option(uow, "列举上限", "1")
        counted = chapter(build_notice(uow, Q2), "清理整合情况")
        done = {**CLEANED, "accounts": [{**a, "deregistered": True} for a in CLEANED["accounts"]]}
        blocks.set_block(uow, Q2, "cleanup", done)
        all_done = chapter(build_notice(uow, Q2), "清理整合情况")

    lead = (
        "（一）政务新媒体清理整合情况。按照省政府办公厅下发的待核查政务新媒体账号清单，"
        "涉及应清理整合的政务新媒体账号3个，"
    )
    assert named == [
        f"{lead}截至目前均未完成注销：“永德教育”（永德县人民政府）、“耿马旅游”（耿马自治县人民政府）、"
        "“园区党建”（工业园区管理委员会）。"
    ]
    assert counted == [f"{lead}截至目前“永德教育”等3个账号均未完成注销。"]
    assert all_done == [f"{lead}均已完成注销。"]  # not 已完成注销3个，均已完成注销


# ── Refused on entry, naming the field ──────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("kind", "data", "message"),
    [
        (
            "recheck",
            {"initial": "2021-05-10", "recheck": "2021-07-05"},
            "复查（recheck）「复查日期（recheck）」应在本轮次期间（2021-04-01–2021-06-30）",
        ),
        (
            "consultation",
            {"questions": [{"target": "w_yd", "asked": "2021-05-10", "answered": "2021-05-07"}]},
            "模拟咨询（consultation）咨询问题第 1 项「答复日期（answered）」早于提问日期",
        ),
        (
            "consultation",
            {"questions": [{"target": "no_such_site", "asked": "2021-05-10"}]},
            "模拟咨询（consultation）咨询问题第 1 项「对象代码（target）」「no_such_site」不存在",
        ),
        (
            "reprint",
            {"deployed": 3, "sampled": 5},
            "重要信息转载（reprint）「抽查条数（sampled）」5 大于部署条数 3",
        ),
        (
            "reprint",
            {"deployed": -1, "sampled": 0},
            "重要信息转载（reprint）「部署条数（deployed）」应为 0–2147483647 之间的整数",
        ),
        (
            "cleanup",
            {"accounts": []},
            "清理整合（cleanup）「待清理账号（accounts）」至少应有一项",
        ),
        (
            "commendations",
            {"targets": [{"target": "w_yd"}]},
            "通报表扬（commendations）表扬对象第 1 项「表扬理由（reason）」不能为空",
        ),
        ("survey", {}, "没有名为「survey」的通报数据块"),
    ],
)
def test_a_bad_block_is_refused_naming_its_field_and_nothing_is_stored(app, kind, data, message):
    with app.uow() as uow:
        a_quarter_with_problems(uow)
        with pytest.raises(ValidationFailed) as refused:
            blocks.set_block(uow, Q2, kind, data)
        assert rounds.get_round(uow, Q2).blocks == {}

    assert message in str(refused.value)
    assert str(refused.value).startswith("检查轮次 2021Q2 的")


def test_a_block_stored_around_the_checks_is_named_before_the_notice_uses_it(app):
    with app.uow() as uow:
        a_quarter_with_problems(uow)
        rounds.get_round(uow, Q2).blocks = {"reprint": {"deployed": "多", "sampled": 1}}
        uow.flush()
        with pytest.raises(ValidationFailed) as refused:
            build_notice(uow, Q2)

    assert "重要信息转载（reprint）「部署条数（deployed）」应为" in str(refused.value)
