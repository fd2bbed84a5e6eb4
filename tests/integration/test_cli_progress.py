"""Long commands draw a progress bar on a terminal's stderr; stdout stays what it was.

Real ``rectify`` processes whose stderr is a pseudo-terminal and whose stdout is a pipe (as
``rectify gen > log`` at a terminal): the bar is drawn on the terminal, named and counted,
and the piped stdout holds only the command's result line, the same as with no terminal.
"""

from __future__ import annotations

import os
import pty
import re
import select
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CASES = 30_000
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def rectify(args: list[str], env: dict[str, str], *, terminal: bool) -> tuple[int, str, str]:
    """Run ``rectify ARGS``; stderr a pseudo-terminal when ``terminal``. (code, stdout, stderr)"""
    command = [sys.executable, "-c", "from cli.main import app; app()", *args]
    if not terminal:
        done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, timeout=300)
        return done.returncode, done.stdout.decode(), done.stderr.decode()
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=follower, close_fds=True
    )
    # The follower stays open here until the end: closed by its last writer, a terminal may
    # drop what it still holds, and the bar's last frame with it.
    drawn = bytearray()
    while True:
        if select.select([leader], [], [], 0.2)[0]:
            drawn += os.read(leader, 65536)
        elif process.poll() is not None:
            break
    os.close(follower)
    os.close(leader)
    out = process.stdout.read().decode()
    return process.wait(timeout=300), out, ANSI.sub("", drawn.decode(errors="replace"))


def environment(database_url: str, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECTIFY_")}
    env.update(
        PYTHONPATH=str(ROOT),
        RECTIFY_DATABASE_URL=database_url,
        RECTIFY_DATA_DIR=str(data_dir),
        RECTIFY_SECRET_KEY="progress-test-key",
        COLUMNS="120",
        TERM="xterm",
    )
    return env


def test_gen_export_and_restore_show_a_bar_on_the_terminal_only(app, sqlite_template, tmp_path):
    env = environment(app.settings.database_url, tmp_path / "data")
    code, out, drawn = rectify(["gen", "--units", "20", "--cases", str(CASES)], env, terminal=True)
    assert code == 0, drawn
    assert "写入案件" in drawn and f"{CASES}/{CASES}" in drawn, drawn
    assert out.startswith("已生成：单位 20 个") and "写入案件" not in out and "\x1b" not in out

    archive = tmp_path / "backup.tar.gz"
    code, out, drawn = rectify(["export", "-o", str(archive)], env, terminal=True)
    assert code == 0, drawn
    assert "备份数据表" in drawn and out.startswith("已备份") and "\x1b" not in out

    fresh = tmp_path / "fresh.db"
    shutil.copy(sqlite_template, fresh)
    env_fresh = environment(f"sqlite:///{fresh}", tmp_path / "fresh-data")
    code, out, drawn = rectify(["import-archive", str(archive)], env_fresh, terminal=True)
    assert code == 0, drawn
    assert "恢复数据行" in drawn
    finished = [int(n) for n in re.findall(r"\b(\d+)/\1\b", drawn)]  # done = total
    assert finished and max(finished) > CASES  # every row restored, cases and the rest
    assert out.startswith("已恢复") and "\x1b" not in out


def test_without_a_terminal_nothing_but_the_result_is_written(app, tmp_path):
    env = environment(app.settings.database_url, tmp_path / "data")
    code, out, err = rectify(["gen", "--units", "20", "--cases", "2000"], env, terminal=False)

    assert code == 0, err
    assert err == ""
    assert out.startswith("已生成：单位 20 个") and out.count("\n") == 1
