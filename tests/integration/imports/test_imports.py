"""Imports: CSV (UTF-8 or GBK) and XLSX, every error located, all or nothing, no duplicates."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from typer.testing import CliRunner

from cli.main import app as cli_app
from services import imports
from services.cases import transitions
from services.core.errors import ValidationFailed
from services.db.models import Case, CaseEvent, CaseNotice, Target, Unit
from services.registry.catalogue import seed_specs
from services.reports.notice import build_notice
from tests.builders import a_round

FIXTURES = Path(__file__).parents[2] / "fixtures" / "imports"
UNITS, TARGETS, FINDINGS = (FIXTURES / n for n in ("units.csv", "targets.csv", "findings.csv"))


def count(uow, model) -> int:
    return uow.session.scalar(select(func.count()).select_from(model))


def import_registry(app, *paths: Path) -> imports.ImportReport:
    with app.uow() as uow:
        report = imports.import_registry(uow, list(paths))
        uow.commit()
    return report


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def test_registry_rows_may_name_parents_that_come_later_in_the_file(app):
    report = import_registry(app, UNITS, TARGETS)

    assert (report.counts["units"].created, report.counts["targets"].created) == (4, 4)
    with app.uow() as uow:
        paths = dict(uow.session.execute(select(Unit.code, Unit.path)).all())
        assert paths["gengma-swj"] == "/lincang/gengma/gengma-swj/"
        assert paths["gyyq"] == "/lincang/gyyq/"
        kinds = {u.code: u.kind for u in uow.session.scalars(select(Unit))}
        assert kinds["gengma"] == "county_gov"  # Chinese label 县区政府 accepted
        account = uow.session.scalar(select(Target).where(Target.code == "nm-gengma-swj"))
        assert (account.platform, account.registered_entity) == (
            "wechat",
            "耿马傣族佤族自治县水务局",
        )
        site = uow.session.scalar(select(Target).where(Target.code == "web-gyyq"))
        assert (site.status, site.domain) == ("offline", "lcgyyq.example")


def test_reimporting_the_same_files_creates_no_duplicates(app):
    import_registry(app, UNITS, TARGETS)
    with app.uow() as uow:
        a_round(uow, "2021Q1")
        a_round(uow, "2021Q2")
        imports.import_findings(uow, [FINDINGS])
        uow.commit()

    again = import_registry(app, UNITS, TARGETS)
    with app.uow() as uow:
        findings_again = imports.import_findings(uow, [FINDINGS])
        uow.commit()
        assert (count(uow, Unit), count(uow, Target), count(uow, Case)) == (4, 4, 4)
        # One "created" each and the carry-over of the Q1 case its Q2 repeat took over.
        assert count(uow, CaseEvent) == 5
    assert not again.changed and not findings_again.changed
    assert findings_again.counts["cases"].unchanged == 4


def test_a_gbk_encoded_csv_is_read_like_utf8(app, tmp_path):
    text = UNITS.read_text("utf-8-sig")
    report = import_registry(app, write(tmp_path / "units-gbk.csv", text, "gbk"))

    assert report.counts["units"].created == 4
    with app.uow() as uow:
        assert uow.session.scalar(select(Unit.name).where(Unit.code == "gengma")) == (
            "耿马傣族佤族自治县人民政府"
        )


def test_an_undecodable_csv_is_refused_naming_the_file(app, tmp_path):
    path = tmp_path / "garbled.csv"
    path.write_bytes(b"\xff\xfe\xff\x80\x80,\xff\n")
    with app.uow() as uow, pytest.raises(ValidationFailed) as refused:
        imports.import_registry(uow, [path])
    assert refused.value.errors == [
        "garbled.csv：无法识别文件编码（支持 UTF-8 和 GBK/GB18030），请另存为 UTF-8"
    ]


def test_an_invalid_row_writes_nothing_and_each_error_names_file_row_and_column(app, tmp_path):
    path = write(
        tmp_path / "units.csv",
        "单位代码,单位名称,上级单位代码,类型,联系人邮箱,负责人邮箱\n"
        "lincang,临沧市人民政府,,city_gov,lincang@lincang.example,\n"
        "yongde,永德县人民政府,nowhere,county_gov,yongde-at-lincang,\n"
        "\n"
        "yongde,永德县人民政府（重复）,lincang,乡镇,,\n"
        ",无代码单位,lincang,county_gov,,\n",
    )
    with app.uow() as uow, pytest.raises(ValidationFailed) as refused:
        imports.import_registry(uow, [path])

    assert refused.value.errors == [
        "units.csv：第 3 行「上级单位代码」列：上级单位「nowhere」不存在（文件和系统中都没有）",
        "units.csv：第 3 行「联系人邮箱」列：「yongde-at-lincang」不是有效的邮箱地址"
        "（应形如 bgs@example.gov.cn，多个地址用分号分隔）",
        "units.csv：第 5 行「类型」列："
        "「乡镇」无效，可选：市政府（city_gov）、县区政府（county_gov）、市直部门（city_dept）、"
        "园区管委会（park_committee）、其他（other）",
        "units.csv：第 5 行「单位代码」列：与第 3 行重复（单位代码「yongde」）",
        "units.csv：第 6 行「单位代码」列：不能为空",
    ]
    with app.uow() as uow:
        assert count(uow, Unit) == 0  # the valid first row was not written either


#: What an unknown category's refusal lists: every category a new finding may name.
VALID_CATEGORIES = "、".join(
    f"{s.code}（{s.name}）" for s in sorted(seed_specs(), key=lambda s: (s.sort_order, s.code))
)


def test_findings_naming_unknown_rounds_targets_or_categories_write_nothing(app, tmp_path):
    import_registry(app, UNITS, TARGETS)
    with app.uow() as uow:
        a_round(uow, "2021Q2")
        uow.commit()
    path = write(
        tmp_path / "findings.csv",
        "轮次,对象代码,问题类别,问题描述,上一轮次\n"
        "2021Q2,nm-gengma-swj,nm_zombie,耿马水务未注销,\n"
        "2021Q3,web-nowhere,no_such_category,?,\n"
        "2021Q2,board-gengma,nm_zombie,类别不适用,\n"
        "2021Q2,web-gyyq,domain_not_deregistered,无上一轮次的问题,2021Q1\n",
    )
    with app.uow() as uow, pytest.raises(ValidationFailed) as refused:
        imports.import_findings(uow, [path])

    assert refused.value.errors == [
        "findings.csv：第 3 行「轮次」列：检查轮次「2021Q3」不存在",
        "findings.csv：第 3 行「对象代码」列：监测对象「web-nowhere」不存在",
        "findings.csv：第 3 行「问题类别」列：问题类别「no_such_category」不存在（可填类别代码或类别名称："
        + VALID_CATEGORIES
        + "）",
        "findings.csv：第 4 行「问题类别」列：问题类别「僵尸账号未注销」（nm_zombie）只适用于政务新媒体，"
        "不适用于网民留言平台「board-gengma」",
        "findings.csv：第 5 行「上一轮次」列：上一轮次「2021Q1」中没有该对象的同类问题",
    ]
    with app.uow() as uow:
        assert count(uow, Case) == 0


def test_a_findings_file_links_a_repeat_to_the_previous_rounds_case(app):
    import_registry(app, UNITS, TARGETS)
    with app.uow() as uow:
        a_round(uow, "2021Q1")
        a_round(uow, "2021Q2")
        report = imports.import_findings(uow, [FINDINGS])
        uow.commit()

    assert report.counts["cases"].created == 4
    with app.uow() as uow:
        chain = uow.session.scalars(
            select(Case).where(Case.category_code == "domain_not_deregistered").order_by(Case.id)
        ).all()
        assert [c.round.code for c in chain] == ["2021Q1", "2021Q2"]
        assert chain[1].previous_case_id == chain[0].id
        zombie = uow.session.scalar(select(Case).where(Case.category_code == "nm_zombie"))
        assert (zombie.severity, zombie.state, zombie.source) == ("veto", "found", "import")


def test_round_option_fills_missing_rounds_and_refuses_other_rounds(app, tmp_path):
    import_registry(app, UNITS, TARGETS)
    with app.uow() as uow:
        a_round(uow, "2021Q2")
        uow.commit()
    path = write(
        tmp_path / "q2.csv",
        "对象代码,问题类别,问题描述,轮次\n"
        "nm-gengma-swj,nm_zombie,耿马水务未注销,\n"
        "board-gengma,message_reply_overdue,超期3条未回复,2021Q1\n",
    )
    with app.uow() as uow, pytest.raises(ValidationFailed) as refused:
        imports.import_findings(uow, [path], round_code="2021Q2")
    assert refused.value.errors == [
        "q2.csv：第 3 行「轮次」列：轮次「2021Q1」与指定的 --round 2021Q2 不一致",
        "q2.csv：第 3 行「轮次」列：检查轮次「2021Q1」不存在",
    ]
    with app.uow() as uow:
        assert count(uow, Case) == 0


def test_an_xlsx_workbook_imports_registry_findings_notices_and_history(app, tmp_path):
    registry = Workbook()
    units = registry.active
    units.title = "单位"
    units.append(["单位代码", "单位名称", "上级单位代码", "类型", "联系人邮箱", "负责人邮箱"])
    units.append(
        ["gyyq", "临沧工业园区管理委员会", "lincang", "park_committee", "g@x.example", None]
    )
    units.append(["lincang", "临沧市人民政府", None, "city_gov", "l@x.example", "ll@x.example"])
    targets = registry.create_sheet("监测对象")
    targets.append(["对象代码", "主办单位代码", "对象类型", "名称", "网站标识码", "状态"])
    targets.append(
        ["web-gyyq", "gyyq", "website", "临沧工业园区管理委员会网站", 5309000099, "offline"]
    )
    registry.save(tmp_path / "registry.xlsx")

    findings = Workbook()
    rounds = findings.active
    rounds.title = "轮次"
    rounds.append(["轮次", "通报日期", "整改期限"])
    rounds.append(["2021Q1", "2021-04-19", "2021-04-29"])
    problems = findings.create_sheet("问题")
    problems.append(["轮次", "对象代码", "问题类别", "问题描述", "发现日期"])
    problems.append(["2021Q1", "web-gyyq", "domain_not_deregistered", "域名未注销", "2021-04-08"])
    notices = findings.create_sheet("通报记录")
    notices.append(["轮次", "对象代码", "问题类别", "通报层级", "通报机关", "通报日期"])
    notices.append(
        [
            "2021Q1",
            "web-gyyq",
            "domain_not_deregistered",
            "省级",
            "云南省人民政府办公厅",
            "2021-05-12",
        ]
    )
    history = findings.create_sheet("处理记录")
    history.append(["轮次", "对象代码", "问题类别", "操作", "日期", "操作人"])
    history.append(
        ["2021Q1", "web-gyyq", "domain_not_deregistered", "notify", "2021-04-19", "张三"]
    )
    findings.save(tmp_path / "findings.xlsx")

    import_registry(app, tmp_path / "registry.xlsx")
    with app.uow() as uow:
        report = imports.import_findings(uow, [tmp_path / "findings.xlsx"])
        uow.commit()
        again = imports.import_findings(uow, [tmp_path / "findings.xlsx"])

    assert (report.counts["notices"].created, report.counts["events"].created) == (1, 1)
    assert not again.changed
    with app.uow() as uow:
        case = uow.session.scalar(select(Case))
        assert (case.state, case.notices_city, case.notices_province) == ("notified", 1, 1)
        assert case.deadline.isoformat() == "2021-04-29"
        assert uow.session.scalar(select(Target.site_code)) == "5309000099"
        levels = uow.session.scalars(select(CaseNotice.level).order_by(CaseNotice.id)).all()
        assert levels == ["city", "province"]
        notified = uow.session.scalar(select(CaseEvent).where(CaseEvent.trigger == "notify"))
        assert (notified.actor, notified.at.date().isoformat()) == ("张三", "2021-04-19")


def test_the_import_command_prints_each_error_on_its_own_line_and_exits_non_zero(
    app, tmp_path, settings
):
    path = write(
        tmp_path / "targets.csv",
        "对象代码,主办单位代码,对象类型,名称\nweb-x,nobody,website,某网站\nweb-y,nobody,网页,某网站\n",
    )
    env = {"RECTIFY_DATABASE_URL": settings.database_url, "RECTIFY_DATA_DIR": str(tmp_path)}
    result = CliRunner().invoke(cli_app, ["import", "registry", str(path)], env=env)

    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0] == "导入失败，未写入任何数据：共 3 处错误"
    assert lines[1:] == [
        "targets.csv：第 2 行「主办单位代码」列：主办单位「nobody」不存在",
        "targets.csv：第 3 行「对象类型」列：「网页」无效，可选：政府网站（website）、"
        "信息公开专栏（column）、政务新媒体（new_media）、网民留言平台（message_board）",
        "targets.csv：第 3 行「主办单位代码」列：主办单位「nobody」不存在",
    ]
    with app.uow() as uow:
        assert count(uow, Target) == 0

    ok = CliRunner().invoke(
        cli_app, ["import", "registry", str(UNITS), str(TARGETS), "--json"], env=env
    )
    assert ok.exit_code == 0, ok.output
    report = json.loads(ok.stdout)
    assert report["counts"]["units"] == {"created": 4, "updated": 0, "unchanged": 0}
    assert report["counts"]["targets"]["created"] == 4


def test_unknown_headers_and_overlong_values_are_errors_too(app, tmp_path):
    path = write(
        tmp_path / "units.csv",
        "单位代码,单位名称,类型,上级单位代吗,备注\n"
        + f"{'x' * 65},临沧市人民政府,city_gov,,随便写\n",
    )
    with app.uow() as uow, pytest.raises(ValidationFailed) as refused:
        imports.import_registry(uow, [path])
    assert refused.value.errors[0].startswith(
        "units.csv：第 1 行「上级单位代吗」列：未知的列名（单位表可用：单位代码、单位名称、"
    )
    path.write_text("单位代码,单位名称,类型\n" + f"{'x' * 65},临沧市人民政府,city_gov\n", "utf-8")
    with app.uow() as uow, pytest.raises(ValidationFailed) as refused:
        imports.import_registry(uow, [path])
    assert refused.value.errors == ["units.csv：第 2 行「单位代码」列：长度超过 64 个字符"]


def test_a_notices_csv_records_a_province_notice_once(app, tmp_path):
    import_registry(app, UNITS, TARGETS)
    with app.uow() as uow:
        a_round(uow, "2021Q1")
        a_round(uow, "2021Q2")
        imports.import_findings(uow, [FINDINGS])
        uow.commit()
    path = write(
        tmp_path / "notices.csv",
        "轮次,对象代码,问题类别,通报层级,通报机关,通报日期\n"
        "2021Q1,web-gyyq,domain_not_deregistered,省级,云南省人民政府办公厅,2021/5/12\n",
        "gb18030",
    )
    for _ in range(2):
        with app.uow() as uow:
            imports.import_findings(uow, [path])
            uow.commit()
    with app.uow() as uow:
        q1 = uow.session.scalar(
            select(Case)
            .join(Case.round)
            .where(Case.previous_case_id.is_(None), Case.category_code == "domain_not_deregistered")
        )
        assert (q1.notices_city, q1.notices_province) == (0, 1)
        assert count(uow, CaseNotice) == 1


def test_targets_may_name_parent_targets_further_down_and_unit_cycles_are_refused(app, tmp_path):
    import_registry(app, UNITS)
    targets = write(
        tmp_path / "targets.csv",
        "对象代码,主办单位代码,对象类型,名称,所属网站代码\n"
        "board-gengma,gengma,message_board,耿马自治县网民留言,col-gengma\n"
        "col-gengma,gengma,column,耿马信息公开专栏,web-gengma\n"
        "web-gengma,gengma,website,耿马傣族佤族自治县人民政府门户网站,\n",
    )
    assert import_registry(app, targets).counts["targets"].created == 3

    cycle = write(
        tmp_path / "cycle.csv",
        "单位代码,单位名称,上级单位代码,类型\na,甲单位,b,other\nb,乙单位,a,other\n",
    )
    with app.uow() as uow, pytest.raises(ValidationFailed) as refused:
        imports.import_registry(uow, [cycle])
    assert refused.value.errors == ["cycle.csv：第 2 行「上级单位代码」列：上级关系构成循环"]


def test_a_notice_recorded_on_an_earlier_round_counts_for_the_later_cases_of_the_chain(app):
    import_registry(app, UNITS, TARGETS)
    with app.uow() as uow:
        a_round(uow, "2021Q1")
        a_round(uow, "2021Q2")
        imports.import_findings(uow, [FINDINGS])
        chain = uow.session.scalars(
            select(Case).where(Case.category_code == "domain_not_deregistered").order_by(Case.id)
        ).all()
        transitions.record_notice(
            uow,
            case_id=chain[0].id,
            level="province",
            notified_on=date(2021, 5, 12),
            actor="测试员",
        )
        uow.commit()
        assert [(c.notices_city, c.notices_province) for c in chain] == [(0, 1), (0, 1)]


def test_a_round_names_its_issuing_office_for_its_notice_or_prints_the_placeholder(app, tmp_path):
    rounds_csv = write(
        tmp_path / "轮次.csv",
        "轮次,开始日期,结束日期,通报日期,整改期限,发文机关,发文机关简称\n"
        "2022Q1,2022-01-01,2022-03-31,2022-04-15,2022-04-25,普洱市人民政府办公室,市府办\n"
        "2022Q2,2022-04-01,2022-06-30,2022-07-15,2022-07-25,,\n",
    )
    with app.uow() as uow:
        imports.import_tables(uow, imports.read_tables([rounds_csv]))
        uow.commit()
    with app.uow() as uow:
        named = build_notice(uow, "2022Q1")
        unnamed = build_notice(uow, "2022Q2")

    assert named.office == "普洱市人民政府办公室"
    assert named.title.startswith("普洱市人民政府办公室关于2022年一季度")
    assert unnamed.office == "XX市人民政府办公室"  # the default asks to be replaced


def test_a_target_refused_while_the_new_targets_are_written_leaves_nothing_written(app, tmp_path):
    """New targets are written many at a time (streamed to PostgreSQL) and checked as they
    go: one refused late in the file undoes the units and targets written before it."""
    units = write(
        tmp_path / "单位.csv", "单位代码,单位名称,类型\nlincang,临沧市人民政府,city_gov\n"
    )
    rows = [f"site{n},lincang,政府网站,网站{n},https://site{n}.example/" for n in range(300)]
    rows.append("bad,lincang,政府网站,坏网站,javascript:alert(1)")
    targets = write(
        tmp_path / "监测对象.csv", "对象代码,主办单位代码,对象类型,名称,网址\n" + "\n".join(rows)
    )

    with app.uow() as uow, pytest.raises(ValidationFailed) as refused:
        imports.import_registry(uow, [units, targets])

    assert refused.value.errors == [
        "监测对象 bad 的 url「javascript:alert(1)」只能是 http:// 或 https:// 网址"
    ]
    with app.uow() as uow:
        assert (count(uow, Unit), count(uow, Target)) == (0, 0)
