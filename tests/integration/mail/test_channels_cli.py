"""``rectify channel add|list|test|disable|remove`` against a real database and a loopback
robot receiver; a robot's key and secret never shown back in full."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cli.main import app as cli
from tests.builders import a_unit
from tests.support.robot_receiver import DINGTALK_SECRET, DINGTALK_TOKEN, RobotReceiver


@pytest.fixture
def robots():
    receiver = RobotReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def rectify(app, monkeypatch):
    monkeypatch.setenv("RECTIFY_DATABASE_URL", app.settings.database_url)
    monkeypatch.setenv("RECTIFY_SECRET_KEY", "test-secret")
    runner = CliRunner()
    with app.uow() as uow:
        a_unit(uow, "yongde", name="永德县人民政府")
        uow.commit()
    return lambda *args: runner.invoke(cli, ["--as-of", "2021-07-19", *args])


def test_an_office_adds_a_dingtalk_robot_tries_it_and_never_sees_its_secret_again(robots, rectify):
    url = robots.urls()["dingtalk"]
    added = rectify("channel", "add", "yongde", "dingtalk", url, "--secret", DINGTALK_SECRET)
    listed = rectify("channel", "list", "--unit", "yongde")
    as_json = rectify("channel", "list", "--json")
    tried = rectify("channel", "test", "1")

    assert added.exit_code == 0, added.output
    assert "已为永德县人民政府添加钉钉群机器人「钉钉群机器人」（渠道 1）" in added.output
    for shown in (added.output, listed.output, as_json.output):
        assert DINGTALK_TOKEN not in shown and DINGTALK_SECRET not in shown
    [row] = json.loads(as_json.output)
    assert row["secret"] == f"SECd…（共 {len(DINGTALK_SECRET)} 位，已隐藏）"
    assert row["enabled"] is True
    assert tried.exit_code == 0, tried.output
    [delivered] = robots.of("dingtalk")
    assert delivered.title == "【测试】整改通知机器人渠道"
    assert "永德县人民政府的整改通知" in delivered.text


def test_a_wrong_secret_is_told_by_the_test_and_a_bad_url_refused_at_once(robots, rectify):
    url = robots.urls()["dingtalk"]
    rectify("channel", "add", "yongde", "dingtalk", url, "--secret", "SECwrong", "--name", "值班群")
    tried = rectify("channel", "test", "1")
    plain = rectify("channel", "add", "yongde", "wecom", "http://example.org/send?key=k")
    disabled = rectify("channel", "disable", "1")
    removed = rectify("channel", "remove", "1")
    listed = rectify("channel", "list", "--json")

    assert tried.exit_code == 1
    assert "测试消息未送达：钉钉群机器人拒绝了消息（错误码 310000）：sign not match" in tried.output
    assert plain.exit_code != 0
    assert "Webhook 地址应以 https:// 开头" in plain.output
    assert "永德县人民政府的钉钉群机器人「值班群」已停用" in disabled.output
    assert "已删除永德县人民政府的钉钉群机器人「值班群」" in removed.output
    assert json.loads(listed.output) == []
