"""The README's command-line examples run as printed against the demo, on the demo's day.

Every ``rectify …`` line of the ```sh blocks of README.md's "Command line" section (a line
ending in ``\\`` goes on on the next) runs, in order, on a fresh database after ``rectify
demo``, with no ``--as-of``: each must exit 0 and say what it did in Chinese.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from typer.testing import CliRunner

from cli.main import app as cli_app

README = Path(__file__).resolve().parents[2] / "README.md"
CHINESE = re.compile("[\u4e00-\u9fff]")


def section(text: str, title: str) -> str:
    """The text of the ``## title`` section, up to the next ``## `` heading."""
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def examples(text: str) -> list[list[str]]:
    """The ``rectify`` command lines of the section's ```sh blocks, as argument lists."""
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S):
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            if line.startswith("rectify "):
                commands.append(shlex.split(line, comments=True)[1:])
    return commands


def test_the_readme_command_line_examples_are_found():
    commands = examples(section(README.read_text("utf-8"), "Command line"))
    assert len(commands) >= 15
    assert ["case", "show", "12"] in commands
    assert any(c[:3] == ["category", "add", "popup_window"] and "--phrase" in c for c in commands)


def test_the_readme_command_line_examples_run_as_printed_on_the_demo(
    app, settings, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)  # the examples write 通报.docx and 台账.xlsx here
    env = {
        "RECTIFY_DATABASE_URL": settings.database_url,
        "RECTIFY_DATA_DIR": str(settings.data_dir),
        "RECTIFY_SECRET_KEY": "test-secret",
        "RECTIFY_AS_OF": None,  # the demo's day comes from the database, as after `make run`
        "COLUMNS": "200",
    }
    runner = CliRunner()
    loaded = runner.invoke(cli_app, ["demo"], env=env)
    assert loaded.exit_code == 0, loaded.output

    outputs = {}
    for command in examples(section(README.read_text("utf-8"), "Command line")):
        result = runner.invoke(cli_app, command, env=env)
        printed = " ".join(["rectify", *command])
        assert result.exit_code == 0, f"{printed}\n{result.output}"
        assert not result.output.strip() or CHINESE.search(result.output), printed
        assert "Traceback" not in result.output, printed
        outputs[printed] = result.output

    assert "系统日期：2021-07-19" in outputs["rectify clock"]
    assert (
        "案件 12：已发现 → 已通知，整改期限 2021-07-29"
        in outputs["rectify case notify 12 --actor 张三"]
    )
    extended = next(out for cmd, out in outputs.items() if cmd.startswith("rectify case extend"))
    assert "案件 12 的整改期限已延长至 2021-08-10" in extended
    assert (tmp_path / "通报.docx").stat().st_size > 0 and (tmp_path / "台账.xlsx").exists()
    assert "已撤销单位 gengma 的 1 个有效门户链接" in outputs["rectify link revoke gengma"]
