"""What a clerk notices on the command line: whole tables when piped, states and actors named
in Chinese, and no Prefect analytics."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from cli.main import app as cli_app
from services.cases import transitions
from services.db.models import Case
from tests.builders import a_case, a_target, a_unit

LONG_UNIT = "临沧市临翔区人民政府办公室电子政务与政府网站集约化建设管理中心（数据资源管理局）"
LONG_TARGET = "临沧市临翔区人民政府门户网站政务公开专栏信息公开指南与年度报告子栏目"
PROJECT = Path(__file__).resolve().parents[2]


def rectify(settings, *args: str, columns: str | None = None):
    env = {
        "RECTIFY_DATABASE_URL": settings.database_url,
        "RECTIFY_DATA_DIR": str(settings.data_dir),
    }
    if columns is not None:
        env["COLUMNS"] = columns
    result = CliRunner().invoke(cli_app, ["--as-of", "2021-07-19", *args], env=env)
    assert result.exit_code == 0, result.output
    return result.stdout


def a_long_named_case(app, state: str = "notified") -> int:
    with app.uow() as uow:
        unit = a_unit(uow, "linxiang_center", name=LONG_UNIT, kind="county_gov")
        site = a_target(uow, unit_code=unit.code, name=LONG_TARGET).code
        case = a_case(uow, state=state, target_code=site)
        uow.commit()
        return case.id


def line_with(text: str, output: str) -> str:
    return next(line for line in output.splitlines() if text in line)


def test_a_piped_case_list_keeps_every_long_name_whole(app, settings):
    a_long_named_case(app)
    for columns in (None, "80"):
        out = rectify(settings, "cases", columns=columns)

        assert "…" not in out
        row = line_with(LONG_UNIT, out)  # unit and target on one line, neither folded
        assert LONG_TARGET in row and "已通知" in row and "2021-07-29" in row
        assert max(map(len, out.splitlines())) > 80


def test_a_piped_category_list_keeps_long_codes_and_names_whole(app, settings):
    code = "homepage_column_not_updated_within_two_weeks_extended"
    name = "首页栏目超过两周未更新且未在显著位置说明原因的情形（含专题专栏和信息公开目录）"
    env = {
        "RECTIFY_DATABASE_URL": settings.database_url,
        "RECTIFY_DATA_DIR": str(settings.data_dir),
    }
    added = CliRunner().invoke(
        cli_app, ["category", "add", code, name, "--severity", "扣分", "--days", "5"], env=env
    )
    assert added.exit_code == 0, added.output

    out = rectify(settings, "category", "list", columns="80")

    assert "…" not in out
    assert name in line_with(code, out)


def test_case_show_names_a_system_actor_as_the_system(app, settings):
    case_id = a_long_named_case(app, state="found")
    with app.uow() as uow:
        transitions.transition(
            uow, case_id=case_id, trigger="notify", actor="数据导入", actor_kind="system"
        )
        uow.commit()

    out = rectify(settings, "case", "show", str(case_id), columns="200")

    notified = line_with("已发现 → 已通知", out)
    assert "系统（数据导入）" in notified
    assert "状态：已通知 (notified)" in out


def test_cases_take_a_state_by_its_chinese_name_and_refuse_an_unknown_one(app, settings):
    case_id = a_long_named_case(app)
    env = {
        "RECTIFY_DATABASE_URL": settings.database_url,
        "RECTIFY_DATA_DIR": str(settings.data_dir),
    }

    by_name = rectify(settings, "cases", "--state", "已通知", "--json")
    by_code = rectify(settings, "cases", "--state", "notified", "--json")
    none = rectify(settings, "cases", "--state", "已核验", "--json")
    unknown = CliRunner().invoke(cli_app, ["cases", "--state", "已完成"], env=env)

    assert f'"id": {case_id}' in by_name and by_name == by_code
    assert f'"id": {case_id}' not in none
    assert unknown.exit_code == 2
    assert "没有这个状态：已完成" in unknown.output and "已转入下一轮 (continued)" in unknown.output


def test_every_command_runs_with_prefects_analytics_off():
    env = {k: v for k, v in os.environ.items() if k not in ("DO_NOT_TRACK", "CI")}
    env["PREFECT_SERVER_ANALYTICS_ENABLED"] = "true"
    probe = (
        "import cli.main, sys\n"
        "assert not any(m.startswith('prefect') for m in sys.modules), 'prefect imported early'\n"
        "from prefect.settings import get_current_settings\n"
        "from prefect._internal.analytics.enabled import is_telemetry_enabled\n"
        "print(get_current_settings().server.analytics_enabled, is_telemetry_enabled())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=PROJECT, env=env, capture_output=True, text=True
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False"]


def test_case_show_of_a_continued_case_names_its_successor_and_offers_no_action(app, settings):
    old_id = a_long_named_case(app)
    with app.uow() as uow:
        site = uow.session.get(Case, old_id).target.code
        new = a_case(uow, round_code="2021Q3", target_code=site, previous_case_id=old_id)
        uow.commit()

    out = rectify(settings, "case", "show", str(old_id), columns="200")

    assert "状态：已转入下一轮 (continued)" in out
    assert "已通知 → 已转入下一轮" in line_with("系统", out)
    assert "可执行操作：无" in out
    assert f"已转入下一轮：由案件 {new.id} 接续整改（rectify case show {new.id}）" in out
