"""``rectify case show``: what a supervisor reads on the terminal about one case."""

from __future__ import annotations

from typer.testing import CliRunner

from cli.main import app as cli_app
from tests.builders import a_case, a_target, a_unit


def show(settings, case_id: int) -> str:
    env = {
        "RECTIFY_DATABASE_URL": settings.database_url,
        "RECTIFY_DATA_DIR": str(settings.data_dir),
        "COLUMNS": "200",  # one line per history entry
    }
    result = CliRunner().invoke(
        cli_app, ["--as-of", "2021-07-19", "case", "show", str(case_id)], env=env
    )
    assert result.exit_code == 0, result.output
    return result.stdout


def a_notified_case(app) -> int:
    with app.uow() as uow:
        unit = a_unit(uow, "yongde", name="永德县人民政府", kind="county_gov")
        site = a_target(uow, unit_code=unit.code, name="永德县人民政府门户网站").code
        case = a_case(uow, state="notified", target_code=site, actor="市政府办公室")
        case.description = "栏目超过两周未更新"
        uow.commit()
        return case.id


def test_case_show_prints_the_case_in_chinese(app, settings):
    case_id = a_notified_case(app)
    lines = [line.strip() for line in show(settings, case_id).splitlines()]

    assert lines[0] == f"案件 {case_id}  2021Q2  栏目更新不及时（单项否决）"
    assert lines[1] == "责任单位：永德县人民政府    监测对象：永德县人民政府门户网站"
    assert lines[2] == "问题描述：栏目超过两周未更新"
    assert lines[3] == "状态：已通知 (notified)    整改期限：2021-07-29    升级次数：0"
    assert lines[4] == "累计通报：市级 1 次，省级 0 次，县级 0 次"
    history = [line for line in lines if "市政府办公室" in line]
    assert len(history) == 2
    assert "立案" in history[0] and "通知" in history[1]
    assert lines[-1].startswith("可执行操作：")


def test_case_show_names_states_and_actions_in_chinese(app, settings):
    case_id = a_notified_case(app)
    out = show(settings, case_id)

    assert "已发现 → 已通知" in out
    assert (
        "可执行操作：开始整改 (start)、提交整改 (submit)、升级督办 (escalate)；"
        f"命令：rectify case <操作> {case_id} --actor 姓名"
    ) in out
    assert "时间（北京时间）" in out  # the history's times, in the zone it names
