"""问题主题 restricted to target kinds: how an office writes it (标题[政务新媒体]=…), how it is
stored and read back, and which kinds a heading without a restriction collects."""

from __future__ import annotations

import pytest

from services.reports.problem_wording import Composition, fits, heading_kinds
from services.rounds import notice_settings
from services.rounds.option_types import OptionError, named_text

THEMES = notice_settings.find("问题主题")


def test_a_theme_may_list_the_kinds_it_collects_and_reads_back_as_written():
    value = THEMES.parse("政务新媒体管理不规范[政务新媒体]=serious_wording、nm_stale")
    assert value == {
        "heading": "政务新媒体管理不规范",
        "kinds": ["new_media"],
        "items": ["serious_wording", "nm_stale"],
    }
    assert named_text(value) == "政务新媒体管理不规范[政务新媒体]=serious_wording、nm_stale"
    assert THEMES.parse(named_text(value)) == value
    assert THEMES.parse("网站问题［网站，信息公开专栏］=x")["kinds"] == ["website", "column"]
    assert THEMES.parse("不限=x") == {"heading": "不限", "items": ["x"]}
    assert named_text(THEMES.parse("某主题[所有类型]=x")) == "某主题[全部]=x"
    assert notice_settings.problems({"themes": [value]}) == []


def test_an_unknown_kind_or_empty_brackets_are_refused_naming_the_kinds():
    with pytest.raises(OptionError, match="对象类型「微信」无效，可选：政府网站（website）"):
        THEMES.parse("某主题[微信]=serious_wording")
    with pytest.raises(OptionError, match="方括号中应写对象类型"):
        THEMES.parse("某主题[]=serious_wording")
    stored = {"themes": [{"heading": "某主题", "kinds": ["wechat"], "items": ["x"]}]}
    assert notice_settings.problems(stored)[0].startswith("通报设置「问题主题（themes）」应写作")


def test_unit_groups_take_no_kinds():
    groups = notice_settings.find("分组统计")
    assert groups.parse("县级[网站]=county_gov") == {
        "heading": "县级[网站]",
        "items": ["county_gov"],
    }
    assert groups.check({"heading": "县级", "kinds": ["website"], "items": ["county_gov"]})


@pytest.mark.parametrize(
    "heading, kinds",
    [
        ("政务新媒体管理不规范", {"new_media"}),
        ("政府网站运维保障仍需加强", {"website", "column", "message_board"}),
        ("信息公开专栏更新不及时", {"website", "column", "message_board"}),
        ("政府网站和政务新媒体内容保障不到位", None),
        ("信息发布审核把关不严", None),
    ],
)
def test_a_heading_about_one_family_of_kinds_collects_only_those(heading, kinds):
    assert heading_kinds(heading) == (None if kinds is None else frozenset(kinds))


def test_listed_kinds_win_over_the_heading():
    assert not fits("政务新媒体管理不规范", None, "column")
    assert fits("政务新媒体管理不规范", frozenset({"column", "new_media"}), "column")
    composition = Composition.of(
        {
            "themes": [
                {"heading": "网站审核不严", "items": ["serious_wording"]},
                {"heading": "账号审核不严", "kinds": ["new_media"], "items": ["严重表述错误"]},
            ]
        }
    )

    class Wording:
        code, name = "serious_wording", "严重表述错误"

    assert composition.theme_of(Wording, "column") == (0, "网站审核不严")
    assert composition.theme_of(Wording, "new_media") == (1, "账号审核不严")
    assert composition.theme_of(Wording, "message_board") == (0, "网站审核不严")


def test_a_stored_theme_is_shown_with_its_kinds_as_it_was_typed():
    from services.reports.notice_sources import show_value

    typed = "政务新媒体管理不规范[政务新媒体]=serious_wording；不限=nm_stale"
    stored = [THEMES.parse(part) for part in typed.split("；")]
    assert show_value(THEMES, stored) == typed
    counted = notice_settings.find("问题数量口径")
    assert show_value(counted, counted.parse("仅不合格")) == "仅不合格"
