"""The commands that run a flow: they print what happened, and refuse bad input before it runs."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from cli.main import app as rectify

runner = CliRunner()


def test_publish_then_sweep_from_the_command_line_reports_in_chinese_and_json(demo):
    published = runner.invoke(rectify, ["--as-of", "2021-07-19", "round", "publish", "2021Q2"])
    assert published.exit_code == 0, published.output
    assert "2021Q2 已发布：通知" in published.output
    swept = runner.invoke(rectify, ["--as-of", "2021-07-30", "sweep", "--json"])
    assert swept.exit_code == 0, swept.output
    summary = json.loads(swept.stdout)
    assert (
        summary["day"] == "2021-07-30" and summary["escalated"] == 9
    )  # the nine 2021Q2 cases due 07-29


def test_an_unknown_round_is_refused_before_any_flow_runs(demo):
    result = runner.invoke(rectify, ["recheck", "2031Q2", "--outcomes", "marks"])
    assert result.exit_code == 2
    assert "检查轮次 2031Q2 不存在" in result.output


def test_a_round_published_before_the_system_is_not_published_again(demo):
    result = runner.invoke(rectify, ["--as-of", "2021-07-19", "round", "publish", "2021Q1"])
    assert result.exit_code == 2
    assert "2021Q1 已发布" in result.output and "不再发布" in result.output
