"""Typer's own words around our help texts, in Chinese: panel headings and markers.

Typer prints its headings (Options, Arguments, Commands) and markers ([required]) from
module-level constants of ``typer.rich_utils`` read when a help page or an error is printed;
setting them once at start makes every ``--help`` read 选项, 参数, 命令, [必填]. Click's
own "Usage:" line and the texts of the options Typer adds itself (``--help``,
``--install-completion``) are not configurable and stay as they are.
"""

from __future__ import annotations

from typer import rich_utils

WORDS = {
    "ARGUMENTS_PANEL_TITLE": "参数",
    "OPTIONS_PANEL_TITLE": "选项",
    "COMMANDS_PANEL_TITLE": "命令",
    "ERRORS_PANEL_TITLE": "错误",
    "REQUIRED_LONG_STRING": "[必填]",
    "DEFAULT_STRING": "[默认：{}]",
    "ENVVAR_STRING": "[环境变量：{}]",
    "DEPRECATED_STRING": "（已停用）",
    "ABORTED_TEXT": "已中止。",
    "RICH_HELP": "查看帮助：[blue]{command_path} {help_option}[/]",
}


def use_chinese_headings() -> None:
    """Replace Typer's English headings and markers with :data:`WORDS`."""
    for name, text in WORDS.items():
        if not hasattr(rich_utils, name):
            raise RuntimeError(f"typer.rich_utils has no {name}: check cli/help_words.py")
        setattr(rich_utils, name, text)
