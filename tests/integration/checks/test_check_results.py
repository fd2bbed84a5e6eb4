"""Checks with cases: requests from cases, evidence stored with the case, ``rectify check``."""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from cli.main import app as cli_app
from services import checks
from services.checks.kinds.columns import stale_days
from services.core.errors import NotFound
from services.db.models import CheckResult
from tests.builders import a_case, a_target
from tests.support.servers import FixtureDns, unchanged_after
from tests.support.sites import SITE, check_settings, fixture_site


@pytest.fixture(scope="module")
def dns():
    with FixtureDns({SITE: ["127.0.0.1"]}) as server:
        yield server


@pytest.fixture(scope="module")
def site_server():
    with fixture_site() as server:
        yield server


@pytest.fixture(autouse=True)
def unchanged_servers(request):
    """The servers live for the module; the routes and names a test adds to them do not."""
    shared = [
        request.getfixturevalue(n) for n in ("site_server", "dns") if n in request.fixturenames
    ]
    with unchanged_after(*shared):
        yield


def stale_column_case(uow, site_server, *, path="/news/stale", category="column_stale"):
    target = a_target(
        uow, kind="column", url=site_server.url(path, host=SITE), domain=SITE, column_type="news"
    )
    return a_case(uow, state="notified", category=category, target_code=target.code)


def results_of(uow, case_id):
    return uow.session.scalars(select(CheckResult).where(CheckResult.case_id == case_id)).all()


def test_requests_for_cases_take_the_check_from_the_category(app, site_server):
    with app.uow() as uow:
        column = stale_column_case(uow, site_server)
        zombie = a_case(uow, category="nm_zombie", target_code=a_target(uow, kind="new_media").code)
        requests = checks.requests_for_cases(uow, [column.id, zombie.id])
    assert [(r.case_id, r.check, r.category_code) for r in requests] == [
        (column.id, "column_fresh", "column_stale"),
        (zombie.id, None, "nm_zombie"),
    ]
    assert (requests[0].url, requests[0].domain, requests[0].column_type) == (
        site_server.url("/news/stale", host=SITE),
        SITE,
        "news",
    )


def test_a_per_target_threshold_from_settings_reaches_the_request(app, site_server):
    app.settings.column_stale_days_by_target = {"slow-column": 90}
    with app.uow() as uow:
        a_target(uow, "slow-column", kind="column", url=site_server.url("/notice", host=SITE))
        case = a_case(uow, target_code="slow-column")
        [request] = checks.requests_for_cases(uow, [case.id])
    assert request.stale_days == 90


def test_unknown_case_ids_are_refused_in_chinese(app):
    with app.uow() as uow, pytest.raises(NotFound, match="案件不存在：404"):
        checks.requests_for_cases(uow, [404])


def test_outcomes_are_stored_with_the_case_as_evidence(app, site_server, dns):
    settings = check_settings(dns.port)
    with app.uow() as uow:
        case_id = stale_column_case(uow, site_server).id
        uow.commit()
    with app.uow() as uow:
        requests = checks.requests_for_cases(uow, [case_id])
    outcomes = asyncio.run(checks.run_checks(requests, settings=settings, clock=app.clock))
    with app.uow() as uow:
        checks.save_outcomes(uow, outcomes, run_ref="recheck-2021Q3")
        uow.commit()
    with app.uow() as uow:
        [row] = results_of(uow, case_id)
        assert (row.check, row.outcome, row.run_ref) == (
            "column_fresh",
            "present",
            "recheck-2021Q3",
        )
        assert row.details["newest"] == "2021-05-01"
        assert row.details["page"]["status"] == 200
        assert "春耕生产" in row.details["page"]["page_excerpt"]
        assert row.checked_at == app.clock.now()


def cli_env(app, dns) -> dict[str, str]:
    return {
        "RECTIFY_DATABASE_URL": app.settings.database_url,
        "RECTIFY_CHECK_DNS_NAMESERVERS": json.dumps(["127.0.0.1"]),
        "RECTIFY_CHECK_DNS_PORT": str(dns.port),
        "RECTIFY_CHECK_TIMEOUT_SECONDS": "1",
    }


def test_rectify_check_prints_the_result_in_chinese_and_stores_it(app, site_server, dns):
    with app.uow() as uow:
        case_id = stale_column_case(uow, site_server).id
        uow.commit()
    result = CliRunner().invoke(
        cli_app, ["--as-of", "2021-07-19", "check", str(case_id)], env=cli_env(app, dns)
    )
    assert result.exit_code == 0, result.output
    assert "检查结论：问题仍存在" in result.output
    assert "栏目最新条目日期 2021-05-01，距今 79 天" in result.output
    assert "检查结果已保存到案件" in result.output
    with app.uow() as uow:
        assert [r.run_ref for r in results_of(uow, case_id)] == ["cli:rectify check"]


def test_rectify_check_of_a_target_prints_json_and_stores_nothing(app, site_server, dns):
    with app.uow() as uow:
        a_target(uow, "fresh-column", kind="column", url=site_server.url("/news/fresh", host=SITE))
        uow.commit()
    result = CliRunner().invoke(
        cli_app,
        ["--as-of", "2021-07-19", "check", "--target", "fresh-column"]
        + ["--category", "column_stale", "--json"],
        env=cli_env(app, dns),
    )
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert (printed["outcome"], printed["case_id"]) == ("fixed", None)
    with app.uow() as uow:
        assert uow.session.scalars(select(CheckResult)).all() == []


def test_rectify_check_without_a_case_or_target_says_what_to_give(app, dns):
    result = CliRunner().invoke(cli_app, ["check"], env=cli_env(app, dns))
    assert result.exit_code == 2
    assert "请给出案件编号" in result.output


def test_rectify_check_of_reachability_takes_its_window_from_the_command(app, site_server, dns):
    with app.uow() as uow:
        target = a_target(uow, url=site_server.url("/news/fresh", host=SITE))
        case = a_case(uow, category="site_unreachable", target_code=target.code)
        uow.commit()
    env = cli_env(app, dns) | {"RECTIFY_CHECK_REACH_SAMPLES": "3"}
    result = CliRunner().invoke(cli_app, ["check", str(case.id), "--window", "0.2"], env=env)
    assert result.exit_code == 0, result.output
    assert "检查结论：已整改" in result.output
    assert "0.2 秒内访问 3 次，失败 0 次，失败率 0.0%" in result.output


def test_a_website_page_is_held_to_the_homepage_threshold_of_two_weeks(app, site_server):
    with app.uow() as uow:
        site = a_target(uow, kind="website", url=site_server.url("/", host=SITE))
        case = a_case(uow, category="homepage_stale", target_code=site.code)
        [request] = checks.requests_for_cases(uow, [case.id])
    assert (request.check, request.column_type) == ("column_fresh", "homepage")
    assert stale_days(request, app.settings) == 14
