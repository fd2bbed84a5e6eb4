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


#: Lines Typer and Click write themselves: the usage line and the options they add.
TYPER_LINES = re.compile(r"Usage: |--help\b|--install-completion|--show-completion")
#: A command line quoted as an example (rectify case start|submit 5), and a metavar (<int range>).
NOT_PROSE = re.compile(r"rectify(?: [\w|<>.:/-]+)*|<[^>]*>")
#: Two English words in a row (an acronym pair such as "JSON API" is not prose).
ENGLISH_WORD = r"[A-Za-z]*[a-z][A-Za-z]*"
ENGLISH_PROSE = re.compile(rf"\b{ENGLISH_WORD}(?:,? {ENGLISH_WORD})+\b")


def help_pages():
    runner = CliRunner()
    for path, _command in commands(typer.main.get_command(app), ()):
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "400"})
        assert result.exit_code == 0, (path, result.output)
        yield " ".join(("rectify", *path)), result.stdout


def test_every_help_page_reads_in_chinese_without_an_english_sentence_of_ours():
    english, pages = [], 0
    for name, page in help_pages():
        pages += 1
        assert CHINESE.search(page), name
        for line in page.splitlines():
            if not TYPER_LINES.search(line):
                english += [
                    f"{name}: {hit}" for hit in ENGLISH_PROSE.findall(NOT_PROSE.sub("", line))
                ]
    assert pages > 50  # every group and command was walked
    assert english == []


def test_help_pages_head_their_panels_in_chinese():
    pages = dict(help_pages())

    assert "─ 选项 ─" in pages["rectify case notify"] and "─ 参数 ─" in pages["rectify case notify"]
    assert "─ 命令 ─" in pages["rectify"] and "[必填]" in pages["rectify case notify"]
    assert not any("─ Options ─" in page or "[required]" in page for page in pages.values())


def test_the_prose_check_would_catch_a_docstring_shown_as_help():
    line = "│ show    List cases (整改案件) with filters.  │"

    assert ENGLISH_PROSE.findall(NOT_PROSE.sub("", line)) == ["List cases", "with filters"]
    assert ENGLISH_PROSE.findall(NOT_PROSE.sub("", "JSON API 令牌；见 rectify token list")) == []
