"""``rectify user add`` and ``rectify token add``: the password and token are printed once."""

from __future__ import annotations

import re
from datetime import timedelta

from typer.testing import CliRunner

from cli.main import app as cli
from services.access import users
from services.access.login_throttle import LoginThrottle


def test_user_add_prints_a_generated_password_that_signs_in(app, monkeypatch):
    monkeypatch.setenv("RECTIFY_DATABASE_URL", app.settings.database_url)
    runner = CliRunner()
    result = runner.invoke(cli, ["user", "add", "liu", "--role", "viewer"])
    assert result.exit_code == 0, result.output
    password = re.search(r"初始密码：(\S+)（只显示这一次）", result.output).group(1)
    with app.uow() as uow:
        user = users.authenticate(
            uow,
            username="liu",
            password=password,
            throttle=LoginThrottle(
                app.session_factory, max_failures=5, window=timedelta(minutes=15)
            ),
        )
    assert user.role == "viewer" and user.scope_path is None
    again = runner.invoke(cli, ["user", "add", "liu", "--role", "boss"])
    assert again.exit_code == 2
    assert "用户名 liu 已存在" in again.output and "角色「boss」无效" in again.output
    token = runner.invoke(cli, ["token", "add", "liu", "--name", "检测器"])
    assert token.exit_code == 0 and "rct_" in token.output
