"""The 发文机关 and 通报设置 sheets: offices, their texts and options, a round's settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app as cli_app
from services import imports
from services.core.errors import ValidationFailed
from services.reports.notice import build_notice
from services.rounds import issuers, rounds
from tests.badinput.corpus import footprint, xlsx
from tests.builders import a_unit

UNITS = [
    ["单位代码", "单位名称", "类型", "上级单位代码"],
    ["lincang", "临沧市人民政府", "市政府", ""],
    ["gengma", "耿马自治县人民政府", "县区政府", "lincang"],
]
ISSUERS = [
    ["单位代码", "机关名称", "机关简称", "层级", "文号格式", "主送机关", "下一步工作要求"],
    [
        "lincang",
        "临沧市人民政府办公室",
        "市政府办公室",
        "市级",
        "临政办字〔{year}〕{n}号",
        "各县、自治县、区人民政府，市直各委、办、局：",
        "高度重视。\n开展自查。",
    ],
    ["gengma", "耿马自治县人民政府办公室", "县政府办公室", "county", "", "", ""],
]
ROUNDS = [["轮次", "发文机关代码", "通报日期"], ["2021Q2", "lincang", "2021-07-19"]]
SETTINGS = [
    ["轮次代码", "发文机关代码", "设置项", "对象类型", "值"],
    ["", "lincang", "合格率小数位数", "", 2],
    ["", "lincang", "合格率取舍", "政府网站", "截断"],
    ["2021Q2", "", "下一步工作要求", "", "压实责任。"],
    ["2021Q2", "", "requirements", "", "{{ quarter }}问题于{{ deadline }}前整改。"],
    ["2021Q2", "", "pass_rate.decimals", "new_media", "1"],
    ["2021Q2", "", "问题主题", "", "栏目问题=column_stale、column_blank"],
    ["2021Q2", "", "问题主题", "", "新媒体问题=nm_stale"],
    ["2021Q2", "", "导语", "", "{{ quarter_label }}，{{ office_short }}检查了全市网站。"],
]


def workbook(tmp_path: Path, name: str = "通报设置.xlsx", **sheets) -> Path:
    path = tmp_path / name
    path.write_bytes(xlsx({"单位": UNITS, "发文机关": ISSUERS, "轮次": ROUNDS, **sheets}))
    return path


def imported(app, path: Path) -> imports.ImportReport:
    with app.uow() as uow:
        report = imports.import_tables(uow, imports.read_tables([path]))
        uow.commit()
    return report


def test_offices_and_settings_import_in_one_file_and_again_change_nothing(app, tmp_path):
    path = workbook(tmp_path, 通报设置=SETTINGS)

    first = imported(app, path)
    again = imported(app, path)

    assert (first.counts["issuers"].created, first.counts["notice_settings"].created) == (2, 6)
    assert not again.changed
    assert again.counts["notice_settings"].unchanged == 6
    with app.uow() as uow:
        city = issuers.get_issuer(uow, "lincang")
        county = issuers.get_issuer(uow, "gengma")
        round_ = rounds.get_round(uow, "2021Q2")
        notice = build_notice(uow, "2021Q2")
        assert (county.level, county.doc_pattern, county.texts) == ("county", None, {})
        assert city.texts == {
            "addressees": "各县、自治县、区人民政府，市直各委、办、局：",
            "requirements": ["高度重视。", "开展自查。"],
        }
        assert city.options == {"pass_rate": {"decimals": 2, "website": {"rule": "truncate"}}}
        assert round_.issuer_id == city.id
        assert round_.notice_texts["requirements"] == [
            "压实责任。",
            "{{ quarter }}问题于{{ deadline }}前整改。",
        ]
        assert round_.notice_texts["themes"] == [
            {"heading": "栏目问题", "items": ["column_stale", "column_blank"]},
            {"heading": "新媒体问题", "items": ["nm_stale"]},
        ]
        assert round_.notice_texts["pass_rate"] == {"new_media": {"decimals": 1}}
    lines = notice.text.splitlines()
    assert lines[:4] == [
        "临沧市人民政府办公室",
        "临沧市人民政府办公室关于2021年二季度全市政府网站和政府系统政务新媒体检查情况的通报",
        "各县、自治县、区人民政府，市直各委、办、局：",
        "2021年二季度，市政府办公室检查了全市网站。",
    ]
    assert "（一）压实责任。" in lines
    assert "（二）二季度问题于2021年7月29日前整改。" in lines


def test_a_list_is_replaced_as_a_whole_when_the_sheet_gives_it_again(app, tmp_path):
    imported(app, workbook(tmp_path, 通报设置=SETTINGS))
    shorter = [SETTINGS[0], ["2021Q2", "", "下一步工作要求", "", "只此一条。"]]

    report = imported(app, workbook(tmp_path, "again.xlsx", 通报设置=shorter))

    assert report.counts["notice_settings"].updated == 1
    with app.uow() as uow:
        texts = rounds.get_round(uow, "2021Q2").notice_texts
        assert texts["requirements"] == ["只此一条。"]
        assert len(texts["themes"]) == 2  # not named in this file: kept


BAD_SETTINGS = [
    (["2021Q2", "", "合格率小数位数", "", "3"], "「值」列", "应为 0–2 之间的整数，而不是「3」"),
    (["2021Q2", "", "在运行数量", "政务新媒体", "-5"], "「值」列", "而不是「-5」"),
    (["2021Q2", "", "页边距", "", "2"], "「设置项」列", "没有名为「页边距」的通报设置项"),
    (["2021Q2", "", "通报章节", "website", "存在问题"], "「对象类型」列", "不能按对象类型"),
    (["2021Q2", "lincang", "列举上限", "", "5"], "「轮次代码」列", "须填写且只填写其中一个"),
    (["2021Q9", "", "列举上限", "", "5"], "「轮次代码」列", "检查轮次「2021Q9」不存在"),
    (["", "gengma", "发文机关", "", "某办"], "「设置项」列", "机关名称"),
    (["2021Q2", "", "导语", "", "{{ 期限 }}"], "「值」列", "导语（preamble）」有误"),
    (
        ["2021Q2", "", "检查方式", "网站", "全查"],
        "「值」列",
        "可选：普查（census）、抽查（sample）",
    ),
    (
        ["2021Q2", "", "问题主题", "", "栏目问题=column_stale、栏目过期"],
        "「值」列",
        "通报设置「问题主题」中的「栏目过期」不是问题类别的代码或名称",
    ),
    (
        ["", "lincang", "分组统计", "政府网站", "县级网站=county_gov、yongde"],
        "「值」列",
        "通报设置「分组统计」中的「yongde」既不是单位类型，也不是已登记的单位代码",
    ),
]


def test_a_theme_and_a_group_may_name_what_the_same_import_adds(app, tmp_path):
    categories = [["类别代码", "类别名称", "严重程度"], ["popup_cover", "弹窗遮挡正文", "扣分"]]
    settings = [
        SETTINGS[0],
        ["2021Q2", "", "问题主题", "", "页面问题=弹窗遮挡正文、column_stale"],
        ["2021Q2", "", "分组统计", "政府网站", "县级网站=gengma、county_gov"],
    ]

    imported(app, workbook(tmp_path, 通报设置=settings, 问题类别=categories))

    with app.uow() as uow:
        texts = rounds.get_round(uow, "2021Q2").notice_texts
    assert texts["themes"] == [{"heading": "页面问题", "items": ["弹窗遮挡正文", "column_stale"]}]
    assert texts["groups"] == {
        "website": [{"heading": "县级网站", "items": ["gengma", "county_gov"]}]
    }


@pytest.mark.parametrize(("row", "column", "says"), BAD_SETTINGS)
def test_a_bad_setting_is_refused_naming_file_row_and_column_and_nothing_is_written(
    app, tmp_path, row, column, says
):
    path = workbook(tmp_path, 通报设置=[SETTINGS[0], SETTINGS[1], row])
    before = footprint(app)

    with pytest.raises(ValidationFailed) as refused:
        imported(app, path)

    place = f"通报设置.xlsx［通报设置］：第 3 行{column}："
    assert any(e.startswith(place) and says in e for e in refused.value.errors), refused.value
    assert footprint(app) == before


BAD_ISSUERS = [
    (["nowhere", "某办", "某办", "市级", "", "", ""], "「单位代码」列", "单位「nowhere」不存在"),
    (["gengma", "某办", "某办", "乡级", "", "", ""], "「层级」列", "「乡级」无效"),
    (
        ["gengma", "某办", "某办", "县级", "某〔{year}〕号", "", ""],
        "「文号格式」列",
        "必须含有序号 {n}",
    ),
    (["gengma", "某办", "某办", "县级", "", "{{ x }}", ""], "「主送机关」列", "有误"),
]


@pytest.mark.parametrize(("row", "column", "says"), BAD_ISSUERS)
def test_a_bad_office_is_refused_naming_file_row_and_column(app, tmp_path, row, column, says):
    path = tmp_path / "机关.xlsx"
    path.write_bytes(xlsx({"单位": UNITS, "发文机关": [ISSUERS[0], row]}))
    before = footprint(app)

    with pytest.raises(ValidationFailed) as refused:
        imported(app, path)

    place = f"机关.xlsx［发文机关］：第 2 行{column}："
    assert any(e.startswith(place) and says in e for e in refused.value.errors), refused.value
    assert footprint(app) == before


def test_a_round_naming_an_unknown_issuer_is_refused_at_its_cell(app, tmp_path):
    with app.uow() as uow:
        a_unit(uow, "gengma")
        uow.commit()
    path = tmp_path / "轮次.csv"
    path.write_text("轮次,发文机关代码\n2021Q2,gengma\n", encoding="utf-8")

    with pytest.raises(ValidationFailed) as refused:
        imported(app, path)

    assert refused.value.errors == [
        "轮次.csv：第 2 行「发文机关代码」列：发文机关「gengma」不存在"
        "（应为已登记为发文机关的单位代码，可在发文机关表中登记）"
    ]


def test_another_office_cannot_take_over_a_round_and_gives_its_own_code_instead(app, tmp_path):
    imported(app, workbook(tmp_path))  # the city's 2021Q2
    county = tmp_path / "耿马轮次.csv"
    county.write_text("轮次,发文机关代码\n2021Q2,gengma\n", encoding="utf-8")
    before = footprint(app)

    with pytest.raises(ValidationFailed) as refused:
        imported(app, county)

    assert refused.value.errors == [
        "耿马轮次.csv：第 2 行「轮次」列：检查轮次「2021Q2」已属于发文机关「lincang」，"
        "不能由「gengma」的导入修改；各机关的轮次请使用不同的代码（如 2021Q2-gengma），"
        "确需改换发文机关请用 rectify round issuer"
    ]
    assert footprint(app) == before

    county.write_text("轮次,发文机关代码\n2021Q2-gengma,gengma\n", encoding="utf-8")
    imported(app, county)
    with app.uow() as uow:
        city, own = rounds.get_round(uow, "2021Q2"), rounds.get_round(uow, "2021Q2-gengma")
        assert city.issuer.unit.code == "lincang"
        assert (own.issuer.unit.code, own.period_start.isoformat(), own.period_end.isoformat()) == (
            "gengma",
            "2021-04-01",
            "2021-06-30",
        )


def test_the_cli_import_refuses_a_bad_settings_csv_and_writes_nothing(app, settings, tmp_path):
    imported(app, workbook(tmp_path))
    path = tmp_path / "settings.csv"
    path.write_text(
        "轮次代码,设置项,对象类型,值\n2021Q2,合格率小数位数,website,1\n2021Q2,整改天数,,-3\n",
        encoding="utf-8",
    )
    env = {"RECTIFY_DATABASE_URL": settings.database_url, "RECTIFY_DATA_DIR": str(tmp_path)}
    before = footprint(app)

    result = CliRunner().invoke(cli_app, ["import", "findings", str(path)], env=env)

    assert result.exit_code == 2, result.output
    assert "settings.csv：第 3 行「设置项」列：没有名为「整改天数」的通报设置项" in result.stderr
    assert footprint(app) == before


def test_a_finding_outside_its_rounds_office_is_refused_and_nothing_is_written(app, tmp_path):
    imported(app, workbook(tmp_path))
    path = tmp_path / "耿马问题.xlsx"
    path.write_bytes(
        xlsx(
            {
                "监测对象": [
                    ["对象代码", "主办单位代码", "对象类型", "名称"],
                    ["web-lincang", "lincang", "website", "临沧市人民政府门户网站"],
                ],
                "轮次": [["轮次", "发文机关代码"], ["2021Q2-gengma", "gengma"]],
                "问题": [
                    ["轮次", "对象代码", "类别代码"],
                    ["2021Q2-gengma", "web-lincang", "column_blank"],
                ],
            }
        )
    )
    before = footprint(app)

    with pytest.raises(ValidationFailed) as refused:
        imported(app, path)

    assert any(
        "监测对象 web-lincang（临沧市人民政府）不在发文机关耿马自治县人民政府办公室的管辖范围内，"
        "不能列入其检查轮次 2021Q2-gengma" in e
        for e in refused.value.errors
    ), refused.value.errors
    assert footprint(app) == before
