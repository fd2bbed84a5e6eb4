"""``rectify category list|show|add|edit|retire``, and a new category carried into the notice."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from cli.main import app as cli_app
from services import imports
from services.core.errors import ValidationFailed
from services.db.models import Case, Category
from services.reports.notice import build_notice
from tests.builders import a_case
from tests.integration.reports.notice_scenario import Q2, a_small_city, inspected


def rectify(app, tmp_path, *args: str):
    env = {"RECTIFY_DATABASE_URL": app.settings.database_url, "RECTIFY_DATA_DIR": str(tmp_path)}
    return CliRunner().invoke(cli_app, list(args), env=env | {"COLUMNS": "200"})


def flat(text: str) -> str:
    return "".join(text.split())


def category(app, code: str) -> Category | None:
    with app.uow() as uow:
        found = uow.session.get(Category, code)
        if found is not None:
            uow.session.expunge(found)
        return found


def count(app) -> int:
    with app.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(Category))


ADD = (
    "category",
    "add",
    "popup_window",
    "首页飘窗遮挡",
    "--severity",
    "扣分",
    "--kinds",
    "网站、政务新媒体",
    "--days",
    "5",
    "--mode",
    "工作日",
    "--theme",
    "政府网站运维保障仍需加强",
    "--phrase",
    "首页飘窗遮挡正文",
)


def test_add_then_list_shows_the_category_with_its_settings_in_chinese(app, tmp_path):
    added = rectify(app, tmp_path, *ADD)
    assert added.exit_code == 0, added.output
    assert "已新增问题类别 popup_window（首页飘窗遮挡）" in added.output

    listed = rectify(app, tmp_path, "category", "list", "--kind", "政务新媒体", "--json")
    assert listed.exit_code == 0, listed.output
    [row] = [r for r in json.loads(listed.stdout) if r["code"] == "popup_window"]
    assert row["kinds_label"] == "政府网站、政务新媒体"
    assert (row["severity_label"], row["deadline_label"]) == ("扣分", "5 个工作日")
    assert (row["theme"], row["check_label"]) == (
        "政府网站运维保障仍需加强",
        "无自动检查（人工核实）",
    )
    assert row["wording"] == {"_": {"phrase": "首页飘窗遮挡正文"}}
    codes = [r["code"] for r in json.loads(listed.stdout)]
    assert "nm_stale" in codes and "column_blank" in codes and "homepage_stale" not in codes

    table = rectify(app, tmp_path, "category", "list", "--search", "飘窗")
    assert "popup_window" in table.output and "首页飘窗遮挡" in table.output

    # A check is shown by its label, as on the web; --json keeps its name.
    checked = rectify(app, tmp_path, "category", "list", "--search", "column_stale")
    assert "栏目是否及时更新" in checked.output and "column_fresh" not in checked.output
    as_json = rectify(app, tmp_path, "category", "list", "--search", "column_stale", "--json")
    assert {r["check"] for r in json.loads(as_json.stdout)} == {"column_fresh"}


def test_edit_by_chinese_name_changes_only_the_options_given(app, tmp_path):
    rectify(app, tmp_path, *ADD)
    edited = rectify(
        app,
        tmp_path,
        "category",
        "edit",
        "首页飘窗遮挡",
        "--for",
        "政务新媒体",
        "--phrase",
        "推送页面弹窗遮挡正文",
        "--heading",
        "政务新媒体页面弹窗遮挡内容",
        "--days",
        "",
    )
    assert edited.exit_code == 0, edited.output

    saved = category(app, "popup_window")
    assert (saved.name, saved.severity, saved.deadline_days) == ("首页飘窗遮挡", "deduction", None)
    assert (saved.deadline_mode, saved.theme) == ("working", "政府网站运维保障仍需加强")
    assert saved.wording == {
        "_": {"phrase": "首页飘窗遮挡正文"},
        "new_media": {"phrase": "推送页面弹窗遮挡正文", "heading": "政务新媒体页面弹窗遮挡内容"},
    }
    shown = rectify(app, tmp_path, "category", "show", "popup_window")
    assert "整改期限：默认" in shown.output
    # Each kind's wording is named in Chinese, like the wording for every kind.
    assert "全部对象·通报表述：首页飘窗遮挡正文" in shown.output
    assert "政务新媒体·通报表述：推送页面弹窗遮挡正文" in shown.output
    assert "new_media" not in shown.output


@pytest.mark.parametrize(
    ("options", "says"),
    [
        (("--check", "ghost"), "自动检查「ghost」不存在"),
        (("--days", "-3"), "整改天数应为正整数"),
        (("--days", "366"), "整改天数应在 1–365 天之间"),
        (("--kinds", "网站、微博"), "适用对象「微博」无效"),
        (("--mode", "小时"), "期限方式「小时」无效"),
        (("--severity", "严重"), "严重程度「严重」无效"),
        (("--name", "错别字"), "类别名称「错别字」已被类别 typos 使用"),
        (("--for", "网民留言平台", "--phrase", "留言"), "类别只适用于政府网站、政务新媒体"),
    ],
)
def test_a_bad_value_exits_non_zero_naming_the_field_and_writes_nothing(
    app, tmp_path, options, says
):
    rectify(app, tmp_path, *ADD)
    before = category(app, "popup_window")

    refused = rectify(app, tmp_path, "category", "edit", "popup_window", *options)

    assert refused.exit_code == 2
    assert flat(says) in flat(refused.output)  # rich wraps long lines
    after = category(app, "popup_window")
    assert (after.name, after.deadline_days, after.check, after.wording) == (
        before.name,
        before.deadline_days,
        before.check,
        before.wording,
    )


def test_adding_a_code_or_name_that_exists_is_refused(app, tmp_path):
    before = count(app)
    again = rectify(app, tmp_path, "category", "add", "typos", "新错别字", "--severity", "扣分")
    named = rectify(app, tmp_path, "category", "add", "typo2", "错别字", "--severity", "扣分")
    assert (again.exit_code, named.exit_code) == (2, 2)
    assert "类别代码「typos」已存在" in again.output
    assert "类别名称「错别字」已被类别 typos 使用" in named.output
    assert count(app) == before


def test_an_unknown_category_is_refused_with_every_code_and_name(app, tmp_path):
    refused = rectify(app, tmp_path, "category", "edit", "弹窗", "--theme", "x")
    assert refused.exit_code == 2
    said = flat(refused.output)
    assert "问题类别「弹窗」不存在" in said
    assert "popup_oversized（首页弹窗过大）" in said and "typos（错别字）" in said


def test_retire_keeps_the_cases_and_refuses_new_findings_until_undone(app, tmp_path):
    with app.uow() as uow:
        a_small_city(uow)
        inspected(uow, "w_yd", unit="yd", kind="website", name="永德县人民政府门户网站")
        inspected(uow, "w_gm", unit="gm", kind="website", name="耿马自治县人民政府门户网站")
        a_case(uow, category="typos", target_code="w_yd")
        uow.commit()

    retired = rectify(app, tmp_path, "category", "retire", "错别字")
    assert retired.exit_code == 0 and "已停用" in retired.output
    listed = rectify(app, tmp_path, "category", "list", "--retired", "--json")
    assert [r["code"] for r in json.loads(listed.stdout)] == ["typos"]

    findings = tmp_path / "问题.csv"
    findings.write_text(
        "轮次,对象代码,问题类别,问题描述\n2021Q2,w_yd,错别字,旧案件再导入\n2021Q2,w_gm,typos,新发现\n",
        encoding="utf-8",
    )
    with app.uow() as uow, pytest.raises(ValidationFailed) as refused:
        imports.import_findings(uow, [findings])
    assert refused.value.errors == [
        "问题.csv：第 3 行「问题类别」列：问题类别「错别字」（typos）已停用，不能用于新发现的问题"
    ]

    restored = rectify(app, tmp_path, "category", "retire", "typos", "--undo")
    assert restored.exit_code == 0 and "已恢复启用" in restored.output
    with app.uow() as uow:
        report = imports.import_findings(uow, [findings])
        uow.commit()
    assert (report.counts["cases"].created, report.counts["cases"].updated) == (1, 1)


def test_a_new_category_and_a_finding_under_it_print_under_its_theme_with_its_wording(
    app, tmp_path
):
    with app.uow() as uow:
        a_small_city(uow)
        inspected(uow, "w_gm", unit="gm", kind="website", name="耿马自治县人民政府门户网站")
        inspected(uow, "w_yd", unit="yd", kind="website", name="永德县人民政府门户网站")
        inspected(
            uow,
            "nm_gm",
            unit="gm",
            kind="new_media",
            name="耿马发布",
            platform="wechat",
            account_name="耿马发布",
        )
        uow.commit()
    assert rectify(app, tmp_path, *ADD).exit_code == 0
    edit = (
        "category",
        "edit",
        "popup_window",
        "--for",
        "政务新媒体",
        "--phrase",
        "推送页面弹窗遮挡正文",
    )
    assert rectify(app, tmp_path, *edit).exit_code == 0
    findings = tmp_path / "问题.csv"
    findings.write_text(
        "轮次,对象代码,问题类别\n"
        "2021Q2,w_gm,首页飘窗遮挡\n"  # by its Chinese name
        "2021Q2,nm_gm,popup_window\n"
        "2021Q2,w_yd,首页页面错位\n",  # a seeded category of the same theme
        encoding="utf-8",
    )
    with app.uow() as uow:
        imports.import_findings(uow, [findings])
        uow.commit()
        codes = sorted(uow.session.scalars(select(Case.category_code)))
        assert codes == ["homepage_layout_broken", "popup_window", "popup_window"]
        notice = build_notice(uow, Q2)

    themed = [b.full_text for b in notice.blocks if "政府网站运维保障仍需加强" in b.full_text]
    assert len(themed) == 1, [b.full_text for b in notice.blocks]
    [section] = themed
    assert "耿马自治县人民政府门户网站首页飘窗遮挡正文" in section
    assert "永德县人民政府门户网站首页页面错位、显示不全" in section
    # A theme whose heading is about websites takes no account: the account's problem keeps
    # the category's own heading, with its new-media wording.
    assert "耿马发布" not in section
    assert "（二）首页飘窗遮挡，如：耿马发布推送页面弹窗遮挡正文。" in notice.text


def readme_category_commands() -> list[list[str]]:
    """The README's ``rectify category`` examples in order, as argument lists: each once as
    printed without its [optional] parts, then once with them (the first of a|b)."""
    text = (Path(__file__).parents[3] / "README.md").read_text(encoding="utf-8")
    lines = " ".join(text.split("\\\n")).splitlines()
    commands = []
    for line in lines:
        if not line.startswith("rectify category "):
            continue
        line = line.split("  #", 1)[0]
        plain = re.sub(r"\s*\[[^\]]*\]", "", line)
        commands.append(shlex.split(plain)[1:])
        if plain != line:
            full = re.sub(r"\[([^\]|]*)(\|[^\]]*)?\]", r"\1", line)
            commands.append(shlex.split(full)[1:])
    return commands


def test_the_readmes_category_examples_run_in_order(app, tmp_path):
    commands = readme_category_commands()
    assert [c[1] for c in commands] == [
        "list", "show", "add", "edit", "edit", "retire", "retire",
    ]  # fmt: skip

    for args in commands:
        result = rectify(app, tmp_path, *args)
        assert result.exit_code == 0, (args, result.stdout, result.stderr)

    added = category(app, "popup_window")
    assert added.wording["new_media"]["phrase"] == "推送页面弹窗遮挡正文"
    assert added.deadline_days is None and not added.retired  # cleared; retired, then undone
