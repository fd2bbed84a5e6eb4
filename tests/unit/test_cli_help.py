"""Every command and option of ``rectify`` is described in Chinese in its --help."""

from __future__ import annotations

import re

import typer
from typer.testing import CliRunner

from cli.main import app

#: Options Typer adds itself, with its own English text (not translatable through its API).
BUILT_IN = {"help", "install_completion", "show_completion"}
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def commands(command, path=("rectify",)):
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from commands(sub, (*path, name))


def test_every_command_and_option_has_a_chinese_description():
    english = []
    for path, command in commands(typer.main.get_command(app)):
        if not CHINESE.search(command.help or ""):
            english.append(f"{' '.join(path)}: {command.help!r}")
        for param in command.params:
            if param.name not in BUILT_IN and not CHINESE.search(getattr(param, "help", "") or ""):
                english.append(f"{' '.join(path)} {param.name}: {getattr(param, 'help', None)!r}")
    assert english == []


def test_the_import_commands_name_every_sheet_they_read():
    registry = CliRunner().invoke(app, ["import", "registry", "--help"], env={"COLUMNS": "400"})
    findings = CliRunner().invoke(app, ["import", "findings", "--help"], env={"COLUMNS": "400"})

    for sheet in ("单位", "监测对象", "问题类别", "发文机关"):
        assert sheet in registry.stdout
    for sheet in (
        "轮次",
        "问题",
        "通报设置",
        "复查",
        "通报表扬",
        "模拟咨询",
        "重要信息转载",
        "清理整合",
    ):
        assert sheet in findings.stdout
    assert "Import" not in registry.stdout + findings.stdout
