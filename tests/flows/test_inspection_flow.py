"""``rectify inspect``: the quarterly-inspection flow over a small county, summed up in Chinese."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cli.main import app as rectify
from tests.integration.rounds.test_inspection import HOSTS, PLANTED, ROUND, build_county, serve
from tests.support.servers import FixtureDns, FixtureWeb

runner = CliRunner()


@pytest.fixture
def county(app, prefect_server, monkeypatch):
    with FixtureDns({h: ["127.0.0.1"] for h in HOSTS}) as dns, FixtureWeb() as web:
        serve(web)
        monkeypatch.setenv("RECTIFY_DATABASE_URL", app.settings.database_url)
        monkeypatch.setenv("RECTIFY_SECRET_KEY", app.settings.secret_key)
        monkeypatch.setenv("RECTIFY_DATA_DIR", str(app.settings.data_dir))
        monkeypatch.setenv("RECTIFY_CHECK_DNS_NAMESERVERS", json.dumps(["127.0.0.1"]))
        monkeypatch.setenv("RECTIFY_CHECK_DNS_PORT", str(dns.port))
        monkeypatch.setenv("RECTIFY_CHECK_TIMEOUT_SECONDS", "2")
        with app.uow() as uow:
            build_county(uow, web)
            uow.commit()
        yield web


def test_rectify_inspect_files_the_planted_problems_and_a_rerun_files_none_again(county):
    first = runner.invoke(rectify, ["--as-of", "2021-07-19", "inspect", ROUND])
    assert first.exit_code == 0, first.output
    assert f"{ROUND} 检查完成：检查网站首页和栏目页面 8 个" in first.output
    assert f"发现问题 {len(PLANTED)} 个（新立案 {len(PLANTED)} 件" in first.output
    assert "站点无法访问 1" in first.output and "空白栏目 1" in first.output
    assert "无法判断 3 项" in first.output

    again = runner.invoke(rectify, ["--as-of", "2021-07-19", "inspect", ROUND, "--json"])
    assert again.exit_code == 0, again.output
    summary = json.loads(again.stdout)
    assert summary["created"] == 0 and summary["updated"] == len(PLANTED)


def test_an_unknown_round_is_refused_before_the_inspection_runs(county):
    result = runner.invoke(rectify, ["inspect", "2031Q2"])
    assert result.exit_code == 2
    assert "检查轮次 2031Q2 不存在" in result.output
