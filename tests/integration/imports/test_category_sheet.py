"""The 问题类别 import sheet: categories added and edited by file, all or nothing, and findings
naming a category by its code or its Chinese name."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from services import imports
from services.core.errors import ValidationFailed
from services.db.models import Case, Category
from tests.builders import a_round, a_target, a_unit

HEADERS = [
    "类别代码",
    "类别名称",
    "适用对象",
    "严重程度",
    "整改天数",
    "期限方式",
    "自动检查",
    "通报主题",
    "通报标题",
    "通报表述",
    "表述说明",
    "表述对象",
    "停用",
]
GOOD = [
    [
        "popup_window",
        "首页飘窗遮挡",
        "网站、政务新媒体",
        "扣分",
        5,
        "工作日",
        "无",
        "网站运维保障仍需加强",
        "网站首页飘窗遮挡内容",
        "首页飘窗遮挡正文",
        "个别网站首页飘窗设置不当",
        None,
        "否",
    ],
    [
        "popup_window",
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        "政务新媒体页面弹窗遮挡内容",
        "推送页面弹窗遮挡正文",
        None,
        "政务新媒体",
        None,
    ],
    # An edit of a seeded category: its check and theme, by code.
    [
        "column_blank",
        "空白栏目",
        "全部",
        "单项否决",
        None,
        None,
        "column_blank",
        "栏目建设",
        None,
        None,
        None,
        None,
        None,
    ],
]
FINDINGS = [
    ["轮次", "对象代码", "问题类别", "问题描述"],
    ["2021Q2", "w_gm", "首页飘窗遮挡", "首页飘窗占满屏幕"],  # by its Chinese name
    ["2021Q2", "nm_gm", "popup_window", "推送页面弹窗"],
]


def workbook(path: Path, categories: list[list], findings: list[list] | None = None) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.title = "问题类别"
    for row in [HEADERS, *categories]:
        sheet.append(row)
    if findings:
        found = book.create_sheet("问题")
        for row in findings:
            found.append(row)
    book.save(path)
    return path


@pytest.fixture
def world(app):
    with app.uow() as uow:
        a_unit(uow, "gm", name="耿马自治县人民政府", kind="county_gov")
        a_round(uow, "2021Q2")
        a_target(uow, "w_gm", unit_code="gm", kind="website", name="耿马自治县人民政府门户网站")
        a_target(
            uow,
            "nm_gm",
            unit_code="gm",
            kind="new_media",
            platform="wechat",
            account_name="耿马发布",
        )
        a_target(uow, "b_gm", unit_code="gm", kind="message_board", name="耿马留言板")
        uow.commit()


def stored(app, code: str) -> Category | None:
    with app.uow() as uow:
        found = uow.session.get(Category, code)
        if found is not None:
            uow.session.expunge(found)
        return found


def counts(app) -> tuple[int, int]:
    with app.uow() as uow:
        categories = uow.session.scalar(select(func.count()).select_from(Category))
        cases = uow.session.scalar(select(func.count()).select_from(Case))
        return categories, cases


def test_a_category_sheet_and_findings_naming_it_import_together(app, world, tmp_path):
    path = workbook(tmp_path / "季度.xlsx", GOOD, FINDINGS)
    with app.uow() as uow:
        report = imports.import_findings(uow, [path])
        uow.commit()

    assert report.counts["categories"].created == 1 and report.counts["categories"].updated == 1
    assert report.counts["cases"].created == 2
    popup = stored(app, "popup_window")
    assert (popup.name, popup.severity, popup.deadline_days, popup.deadline_mode) == (
        "首页飘窗遮挡",
        "deduction",
        5,
        "working",
    )
    assert (popup.target_kinds, popup.check, popup.theme, popup.retired) == (
        ["website", "new_media"],
        None,
        "网站运维保障仍需加强",
        False,
    )
    assert popup.notice_heading == "网站首页飘窗遮挡内容"
    assert popup.wording == {
        "_": {"phrase": "首页飘窗遮挡正文", "elaboration": "个别网站首页飘窗设置不当"},
        "new_media": {"heading": "政务新媒体页面弹窗遮挡内容", "phrase": "推送页面弹窗遮挡正文"},
    }
    blank = stored(app, "column_blank")
    assert (blank.theme, blank.check, blank.target_kind) == ("栏目建设", "column_blank", "any")
    with app.uow() as uow:
        assert sorted(uow.session.scalars(select(Case.category_code))) == ["popup_window"] * 2

    with app.uow() as uow:
        again = imports.import_findings(uow, [path])
    assert again.counts["categories"].unchanged == 2 and not again.changed


def test_a_file_with_only_some_columns_changes_only_those(app, tmp_path):
    path = tmp_path / "类别.csv"
    path.write_text("类别代码,类别名称,通报主题\ntypos,错别字,信息审核不严\n", encoding="utf-8")
    before = stored(app, "typos")
    with app.uow() as uow:
        imports.import_registry(uow, [path])
        uow.commit()

    after = stored(app, "typos")
    assert after.theme == "信息审核不严"
    assert (after.severity, after.wording, after.notice_heading) == (
        before.severity,
        before.wording,
        before.notice_heading,
    )


def test_a_bad_category_sheet_names_file_row_and_column_and_writes_nothing(app, world, tmp_path):
    bad = [
        ["popup_window", "首页飘窗遮挡", "网站、微博", "扣分", -3, "小时", "ghost"] + [None] * 6,
        ["new_one", "新类别", "网站"] + [None] * 10,  # no 严重程度 for a new category
        [
            "popup_window",
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            "留言",
            None,
            "留言平台",
            None,
        ],
        ["ghost_cat", None, None, None, None, None, None, None, None, "x", None, "网站", None],
        ["typos2", "错别字", "全部", "扣分"] + [None] * 9,  # a name that is taken
    ]
    path = workbook(tmp_path / "类别.xlsx", bad, FINDINGS)
    before = counts(app)

    with app.uow() as uow, pytest.raises(ValidationFailed) as refused:
        imports.import_findings(uow, [path])

    where = "类别.xlsx［问题类别］"
    errors = refused.value.errors
    assert f"{where}：第 2 行「适用对象」列：适用对象「微博」无效" in errors[0]
    assert f"{where}：第 2 行「整改天数」列：「-3」不是非负整数" in errors
    assert any(e.startswith(f"{where}：第 2 行「期限方式」列：「小时」无效") for e in errors)
    assert any(
        e.startswith(f"{where}：第 2 行「自动检查」列：类别 popup_window 的自动检查「ghost」不存在")
        for e in errors
    )
    assert f"{where}：第 3 行「严重程度」列：新类别必须填写严重程度" in errors
    assert any(
        e.startswith(f"{where}：第 5 行「类别代码」列：问题类别「ghost_cat」不存在") for e in errors
    )
    assert f"{where}：第 6 行「类别名称」列：类别名称「错别字」已被类别 typos 使用" in errors
    assert counts(app) == before


def test_a_wording_row_for_a_kind_the_category_does_not_cover_is_refused(app, tmp_path):
    rows = [
        GOOD[0],
        ["popup_window"] + [None] * 8 + ["留言"] + [None, "网民留言平台", None],
    ]
    path = workbook(tmp_path / "类别.xlsx", rows)
    with app.uow() as uow, pytest.raises(ValidationFailed) as refused:
        imports.import_registry(uow, [path])
    assert refused.value.errors == [
        "类别.xlsx［问题类别］：第 3 行「表述对象」列：类别 popup_window 只适用于政府网站、政务新媒体，"
        "不需要网民留言平台的表述"
    ]
    assert stored(app, "popup_window") is None


def test_a_finding_under_a_category_for_another_kind_is_refused(app, world, tmp_path):
    path = tmp_path / "问题.csv"
    path.write_text(
        "轮次,对象代码,问题类别\n2021Q2,b_gm,政务新媒体内容不更新\n2021Q2,w_gm,弹窗\n",
        encoding="utf-8",
    )
    with app.uow() as uow, pytest.raises(ValidationFailed) as refused:
        imports.import_findings(uow, [path])
    first, second = refused.value.errors
    assert first == (
        "问题.csv：第 2 行「问题类别」列：问题类别「政务新媒体内容不更新」（nm_stale）只适用于"
        "政务新媒体，不适用于网民留言平台「b_gm」"
    )
    assert second.startswith(
        "问题.csv：第 3 行「问题类别」列：问题类别「弹窗」不存在（可填类别代码或类别名称："
    )
    assert (
        "popup_oversized（首页弹窗过大）" in second
        and "work_order_overdue（监测工单未及时处理）" in second
    )
    assert counts(app)[1] == 0


def test_a_refused_choice_lists_the_chinese_values_and_is_named_once(app, tmp_path):
    path = tmp_path / "类别.csv"
    path.write_text(
        "类别代码,类别名称,严重程度,期限方式\nqa_x,测试类别,一般,周\n", encoding="utf-8"
    )

    with app.uow() as uow, pytest.raises(ValidationFailed) as refused:
        imports.import_registry(uow, [path])

    # The filled 严重程度 is refused as itself, not again as "must be filled".
    assert refused.value.errors == [
        "类别.csv：第 2 行「严重程度」列：「一般」无效，可选：单项否决（veto）、扣分（deduction）",
        "类别.csv：第 2 行「期限方式」列：「周」无效，可选：自然日（calendar）、工作日（working）",
    ]
    assert stored(app, "qa_x") is None


@pytest.mark.parametrize("name", ["问题类别.csv", "categories.csv"])
def test_a_csv_named_like_the_sheet_is_recognised_by_its_name(app, tmp_path, name):
    # 类别代码 and 通报主题 alone name no kind of table; the file's name does.
    path = tmp_path / name
    path.write_text("类别代码,通报主题\ntypos,信息审核不严\n", encoding="utf-8")

    with app.uow() as uow:
        report = imports.import_registry(uow, [path])
        uow.commit()

    assert report.counts["categories"].updated == 1
    assert stored(app, "typos").theme == "信息审核不严"


def test_a_csv_named_otherwise_with_headers_of_no_table_is_refused(app, tmp_path):
    path = tmp_path / "主题.csv"
    path.write_text("类别代码,通报主题\ntypos,信息审核不严\n", encoding="utf-8")

    with app.uow() as uow, pytest.raises(ValidationFailed) as refused:
        imports.import_registry(uow, [path])

    assert refused.value.errors[0].startswith("主题.csv：第 1 行：无法识别表格内容")
