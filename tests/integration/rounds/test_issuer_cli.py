"""``rectify issuer ...`` and ``rectify round show|set|unset|issuer`` as an office uses them."""

from __future__ import annotations

from datetime import date

import pytest
from typer.testing import CliRunner

from cli.main import app as cli_app
from services.rounds import issuers, rounds
from tests.badinput.corpus import footprint
from tests.builders import a_round, a_unit


@pytest.fixture
def rectify(settings):
    env = {
        "RECTIFY_DATABASE_URL": settings.database_url,
        "RECTIFY_DATA_DIR": str(settings.data_dir),
        "COLUMNS": "200",
    }

    def run(*args: str, code: int = 0):
        result = CliRunner().invoke(cli_app, list(args), env=env)
        assert result.exit_code == code, (result.stdout, result.stderr)
        return result

    return run


@pytest.fixture
def lincang(app):
    with app.uow() as uow:
        a_unit(uow, "lincang", name="临沧市人民政府", kind="city_gov")
        a_round(uow, "2021Q2", notice_date=date(2021, 7, 19), deadline=date(2021, 7, 29))
        rounds.get_round(uow, "2021Q2").notice_texts = {}
        uow.commit()


def test_an_office_is_added_given_its_texts_and_options_and_shown_with_their_sources(
    app, rectify, lincang, tmp_path
):
    rectify(
        "issuer", "add", "lincang", "临沧市人民政府办公室", "市政府办公室",
        "--level", "市级", "--doc-pattern", "临政办字〔{year}〕{n}号",
    )  # fmt: skip
    rectify("issuer", "text", "lincang", "主送机关", "各县、自治县、区人民政府，市直各委、办、局：")
    paragraphs = tmp_path / "要求.txt"
    paragraphs.write_text("高度重视。\n\n开展自查。\n", encoding="utf-8")
    rectify("issuer", "text", "lincang", "requirements", "--file", str(paragraphs))
    rectify("issuer", "option", "lincang", "合格率取舍", "截断", "--kind", "website")
    rectify("issuer", "edit", "lincang", "--short-name", "市府办")

    shown = rectify("issuer", "show", "lincang").stdout
    listed = rectify("issuer", "list").stdout

    assert "机关简称：市府办" in shown
    assert (
        "主送机关（addressees，本机关）：\n  各县、自治县、区人民政府，市直各委、办、局：" in shown
    )
    assert "下一步工作要求（requirements，本机关）：\n  高度重视。\n  开展自查。" in shown
    assert "未发现问题时的表述（no_problems，默认）：" in shown
    assert "合格率取舍（pass_rate.rule）" in shown and "截断" in shown
    assert "临沧市人民政府办公室" in listed and "临政办字〔{year}〕{n}号" in listed
    with app.uow() as uow:
        issuer = issuers.get_issuer(uow, "lincang")
        assert issuer.texts["requirements"] == ["高度重视。", "开展自查。"]
        assert issuer.options == {"pass_rate": {"website": {"rule": "truncate"}}}


def test_a_round_is_given_its_office_texts_options_and_number_then_unset(app, rectify, lincang):
    rectify("issuer", "add", "lincang", "临沧市人民政府办公室", "市政府办公室", "--level", "city")
    rectify("issuer", "text", "lincang", "主送机关", "各县（区）人民政府：")
    rectify("round", "issuer", "2021Q2", "lincang")
    rectify("round", "set", "2021Q2", "主送机关", "市直各部门：")
    rectify("round", "set", "2021Q2", "下一步工作要求", "压实责任。", "按期整改。")
    rectify("round", "set", "2021Q2", "合格率小数位数", "0", "--kind", "website")
    rectify("round", "set", "2021Q2", "文号", "临政办字〔2021〕72号")

    shown = rectify("round", "show", "2021Q2").stdout
    with app.uow() as uow:
        round_ = rounds.get_round(uow, "2021Q2")
        stored = (round_.doc_number, dict(round_.notice_texts), round_.issuer.unit.code)
    rectify("round", "unset", "2021Q2", "主送机关")
    after = rectify("round", "show", "2021Q2").stdout

    assert "发文机关：临沧市人民政府办公室（lincang）" in shown
    assert "文号：临政办字〔2021〕72号" in shown
    assert "主送机关（addressees，本轮次）：\n  市直各部门：" in shown
    assert stored == (
        "临政办字〔2021〕72号",
        {
            "addressees": "市直各部门：",
            "requirements": ["压实责任。", "按期整改。"],
            "pass_rate": {"website": {"decimals": 0}},
        },
        "lincang",
    )
    assert "主送机关（addressees，本机关）：\n  各县（区）人民政府：" in after


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["round", "set", "2021Q2", "合格率小数位数", "-1"], "「合格率小数位数」应为 0–2 之间的整数"),
        (["round", "set", "2021Q2", "合格率小数位数", "3"], "而不是「3」"),
        (["round", "set", "2021Q2", "在运行数量", "-5", "--kind", "new_media"], "而不是「-5」"),
        (["round", "set", "2021Q2", "页边距", "2"], "没有名为「页边距」的通报设置项"),
        (["round", "set", "2021Q2", "通报章节", "概况"], "「概况」无效"),
        (["round", "set", "2021Q2", "导语", "{{ 期限 }}"], "通报文本「导语（preamble）」有误"),
        (["round", "set", "2021Q2", "合格率取舍", "截断", "--kind", "boards"], "对象类型「boards」无效"),
        (["round", "issuer", "2021Q2", "gengma"], "发文机关 gengma 不存在"),
        (["round", "show", "2099Q1"], "检查轮次 2099Q1 不存在"),
        (["issuer", "add", "lincang", "临沧市人民政府办公室", "市办", "--level", "乡"], "层级（level）"),
        (["issuer", "add", "nowhere", "某办", "某办", "--level", "city"], "「nowhere」不是已登记的单位"),
        (["issuer", "option", "lincang", "列举上限", "0"], "发文机关 lincang 不存在"),
    ],
)  # fmt: skip
def test_a_bad_value_exits_non_zero_with_the_chinese_message_naming_it(
    app, rectify, lincang, args, says
):
    before = footprint(app)

    result = rectify(*args, code=2)

    assert says in result.stderr
    assert footprint(app) == before


def test_the_text_command_names_texts_only_and_an_empty_value_says_it_cleared(
    app, rectify, lincang
):
    rectify("issuer", "add", "lincang", "临沧市人民政府办公室", "市政府办公室", "--level", "city")
    rectify("round", "set", "2021Q2", "发文机关", "临沧市政府办")

    unknown = rectify("issuer", "text", "lincang", "不存在文本", "abc", code=2)
    option = rectify("issuer", "text", "lincang", "合格率小数位数", "1", code=2)
    cleared = rectify("round", "set", "2021Q2", "发文机关", "")
    doc_cleared = rectify("round", "set", "2021Q2", "文号", "")
    set_again = rectify("issuer", "text", "lincang", "导语", "现将有关情况通报如下：")
    issuer_cleared = rectify("issuer", "text", "lincang", "导语", "")

    says = " ".join(unknown.stderr.split())
    assert "没有名为「不存在文本」的通报文本，可用：标题（title）、主送机关（addressees）" in says
    assert "设置项" not in says and "合格率" not in says  # the texts, not the options
    assert "是通报设置项，请用 rectify issuer option 设置" in option.stderr
    assert "已清除检查轮次 2021Q2 的「发文机关」" in cleared.stdout
    assert "已清除检查轮次 2021Q2 的「文号」" in doc_cleared.stdout
    assert "已设置发文机关 lincang 的「导语」" in set_again.stdout
    assert "已清除发文机关 lincang 的「导语」" in issuer_cleared.stdout
    with app.uow() as uow:
        assert "office" not in rounds.get_round(uow, "2021Q2").notice_texts
        assert "preamble" not in issuers.get_issuer(uow, "lincang").texts
