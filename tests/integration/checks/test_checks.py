"""Each automated check against fixture pages on loopback HTTP and DNS servers."""

from __future__ import annotations

from dataclasses import replace

import pytest

from services.checks import CheckOutcome, CheckRequest, run_checks
from services.checks.base import checks as check_table
from services.core.clock import Clock
from tests.conftest import NOTICE_DAY
from tests.support.servers import FixtureDns, FixtureWeb, Reply, unchanged_after
from tests.support.sites import EXTERNAL, GONE, SITE, check_settings, fixture_site


@pytest.fixture(scope="module")
def dns():
    with FixtureDns({SITE: ["127.0.0.1"], EXTERNAL: ["127.0.0.1"]}) as server:
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


@pytest.fixture
def settings(dns):
    return check_settings(dns.port)


async def check(name, path, *, site, settings, **fields) -> CheckOutcome:
    request = CheckRequest(
        check=name, target_code="county-site", url=site.url(path, host=SITE), **fields
    )
    [outcome] = await run_checks([request], settings=settings, clock=Clock(NOTICE_DAY))
    return outcome


async def test_a_news_column_updated_within_two_weeks_is_fixed(site_server, settings):
    outcome = await check(
        "column_fresh", "/news/fresh", site=site_server, settings=settings, column_type="news"
    )
    assert outcome.outcome == "fixed"
    assert outcome.details["newest_dates"] == ["2021-07-12", "2021-07-05"]
    assert outcome.details["threshold_days"] == 14
    assert "2021-07-12" in outcome.summary and "7 天" in outcome.summary


async def test_a_news_column_last_updated_in_may_is_still_present(site_server, settings):
    outcome = await check(
        "column_fresh", "/news/stale", site=site_server, settings=settings, column_type="news"
    )
    assert outcome.outcome == "present"
    assert outcome.details["newest"] == "2021-05-01"
    assert outcome.details["age_days"] == 79
    assert "超过 14 天未更新" in outcome.summary


async def test_a_notice_column_four_months_old_is_within_its_six_months(site_server, settings):
    outcome = await check(
        "column_fresh", "/notice", site=site_server, settings=settings, column_type="notice"
    )
    assert outcome.outcome == "fixed"
    assert outcome.details["threshold_days"] == 180
    assert outcome.details["newest_dates"] == ["2021-03-01"]


async def test_a_per_target_threshold_overrides_the_column_type(site_server, settings):
    outcome = await check(
        "column_fresh",
        "/notice",
        site=site_server,
        settings=settings,
        column_type="notice",
        stale_days=60,
    )
    assert outcome.outcome == "present"
    assert "超过 60 天" in outcome.summary


async def test_entries_without_dates_count_as_not_updated(site_server, settings):
    outcome = await check("column_fresh", "/undated", site=site_server, settings=settings)
    assert outcome.outcome == "present"
    assert "未找到带日期的条目" in outcome.summary


async def test_a_blank_column_is_present_and_a_listed_one_fixed(site_server, settings):
    blank = await check("column_blank", "/blank", site=site_server, settings=settings)
    listed = await check("column_blank", "/notice", site=site_server, settings=settings)
    assert (blank.outcome, blank.details["entries"]) == ("present", 0)
    assert (listed.outcome, listed.details["entries"]) == ("fixed", 1)
    assert "关于开展检查的通知" in listed.details["first_entries"][0]


async def test_a_gbk_page_without_a_charset_header_is_read_correctly(site_server, settings):
    outcome = await check(
        "column_fresh", "/gbk", site=site_server, settings=settings, column_type="notice"
    )
    page = outcome.details["page"]
    assert outcome.outcome == "fixed"
    assert outcome.details["newest_dates"] == ["2021-07-15", "2021-06-30"]
    assert page["charset"] == "gb18030"
    assert "耿马县人民政府" in page["page_excerpt"]


async def test_evidence_records_redirects_headers_hash_and_a_trimmed_copy(site_server, dns):
    settings = check_settings(dns.port, check_page_keep_chars=50)
    outcome = await check(
        "column_fresh", "/moved", site=site_server, settings=settings, column_type="news"
    )
    page = outcome.details["page"]
    assert outcome.outcome == "fixed"
    assert page["final_url"] == site_server.url("/news/fresh", host=SITE)
    assert page["redirects"] == ["/news/fresh"]
    assert page["status"] == 200
    assert page["headers"]["server"] == "fixture-web"
    assert len(page["sha256"]) == 64
    assert len(page["page_excerpt"]) == 50


async def test_a_page_slower_than_the_timeout_cannot_tell_rather_than_fixed(site_server, settings):
    outcome = await check(
        "column_fresh", "/slow", site=site_server, settings=settings, column_type="news"
    )
    assert outcome.outcome == "unknown"
    assert outcome.details["kind"] == "timeout"
    assert "1 秒内未打开" in outcome.summary


async def test_a_missing_column_page_cannot_tell(site_server, settings):
    outcome = await check("column_blank", "/nowhere", site=site_server, settings=settings)
    assert outcome.outcome == "unknown"
    assert "HTTP 404" in outcome.summary


async def test_broken_links_are_reported_with_their_text_and_place(site_server, settings):
    outcome = await check(
        "broken_links", "/links", site=site_server, settings=settings, domain=SITE
    )
    broken = {b["text"]: b for b in outcome.details["broken"]}
    assert outcome.outcome == "present"
    assert set(broken) == {"企业开办", "社保查询", "不动产登记", "旧链接", "原园区网站"}
    assert broken["企业开办"]["status"] == 404
    assert broken["社保查询"]["status"] == 500
    assert broken["不动产登记"]["kind"] == "timeout"
    assert broken["原园区网站"]["kind"] == "dns"
    assert broken["企业开办"]["section"] == "办事服务"
    assert broken["企业开办"]["line"] == 1
    assert outcome.details["internal"] == {"checked": 4, "broken": 3}
    assert outcome.details["external"] == {"checked": 3, "broken": 2}
    assert "不可用 5 个（站内 3 个、站外 2 个）" in outcome.summary


async def test_a_page_whose_links_all_work_is_fixed(site_server, settings):
    outcome = await check("broken_links", "/good-links", site=site_server, settings=settings)
    assert outcome.outcome == "fixed"
    assert outcome.details["broken"] == []


async def test_a_domain_that_resolves_and_serves_is_still_present(site_server, settings):
    outcome = await check("domain_live", "/", site=site_server, settings=settings, domain=SITE)
    assert outcome.outcome == "present"
    assert outcome.details["dns"]["addresses"] == ["127.0.0.1"]
    assert outcome.details["visits"][0]["status"] == 404  # it answers, so it still serves
    assert "仍可解析（127.0.0.1）" in outcome.summary


async def test_a_deregistered_domain_is_fixed(settings):
    request = CheckRequest(check="domain_live", target_code="park", domain=GONE)
    [outcome] = await run_checks([request], settings=settings, clock=Clock(NOTICE_DAY))
    assert outcome.outcome == "fixed"
    assert outcome.details["dns"]["exists"] is False
    assert "NXDOMAIN" in outcome.summary


async def test_a_domain_that_resolves_but_where_nothing_answers_is_fixed(site_server, settings):
    closed = FixtureWeb().start()
    url = closed.url("/", host=SITE)
    closed.stop()
    request = CheckRequest(check="domain_live", target_code="park", url=url, domain=SITE)
    [outcome] = await run_checks([request], settings=settings, clock=Clock(NOTICE_DAY))
    assert outcome.outcome == "fixed"
    assert outcome.details["visits"][0]["kind"] == "connect"


async def test_a_silent_dns_server_cannot_tell_whether_the_domain_is_gone(settings):
    silent = FixtureDns().start()
    port = silent.port
    silent.stop()
    request = CheckRequest(check="domain_live", target_code="park", domain=SITE)
    settings = check_settings(port, check_dns_timeout_seconds=0.3)
    [outcome] = await run_checks([request], settings=settings, clock=Clock(NOTICE_DAY))
    assert outcome.outcome == "unknown"
    assert "DNS" in outcome.summary


async def test_a_reachable_site_reports_its_samples_and_failure_rate(site_server, settings):
    outcome = await check("site_reachable", "/news/fresh", site=site_server, settings=settings)
    assert outcome.outcome == "fixed"
    assert (outcome.details["samples"], outcome.details["failures"]) == (10, 0)
    assert "访问 10 次，失败 0 次" in outcome.summary


async def test_a_site_failing_one_visit_in_ten_is_still_unreachable(site_server, settings):
    visits = iter(range(100))
    site_server.route(
        "/flaky", lambda host, path: Reply("x", status=500 if next(visits) == 3 else 200)
    )
    outcome = await check("site_reachable", "/flaky", site=site_server, settings=settings)
    assert outcome.outcome == "present"
    assert outcome.details["failure_rate"] == 0.1
    assert "失败率 10.0%（判定线 5%）" in outcome.summary


async def test_visits_are_spread_over_the_configured_window(site_server, dns):
    settings = check_settings(dns.port, check_reach_samples=4, check_reach_window_seconds=0.4)
    outcome = await check("site_reachable", "/news/fresh", site=site_server, settings=settings)
    offsets = [v["at"] for v in outcome.details["visits"]]
    assert offsets[-1] >= 0.29
    assert offsets == sorted(offsets)


async def test_a_crashing_check_answers_unknown_with_its_error(site_server, settings, monkeypatch):
    async def crashes(request, context):
        raise RuntimeError("parser exploded")

    table = check_table()
    monkeypatch.setitem(table, "column_fresh", replace(table["column_fresh"], run=crashes))
    outcome = await check("column_fresh", "/news/fresh", site=site_server, settings=settings)
    assert outcome.outcome == "unknown"
    assert outcome.details["error"] == "RuntimeError: parser exploded"


async def test_problems_without_an_automatic_check_wait_for_a_supervisor(settings):
    requests = [
        CheckRequest(check=None, target_code="wechat", category_code="nm_zombie", case_id=7),
        CheckRequest(check="column_fresh", target_code="nowhere", case_id=8),
    ]
    manual, no_url = await run_checks(requests, settings=settings, clock=Clock(NOTICE_DAY))
    assert (manual.case_id, manual.outcome, manual.details) == (7, "unknown", {"manual": True})
    assert "待督查人员核实" in manual.summary
    assert (no_url.case_id, no_url.outcome) == (8, "unknown")
    assert no_url.checked_at is not None


async def test_requests_to_one_host_stay_within_its_limit(dns):
    settings = check_settings(dns.port, check_per_host_concurrency=2, check_max_concurrency=10)
    dns.set("busy.test", ["127.0.0.1"]).set("other.test", ["127.0.0.1"])
    with FixtureWeb(default=Reply("<li>2021-07-18</li>", delay=0.1)) as busy:
        requests = [
            CheckRequest(
                check="column_fresh", target_code=f"c{i}", url=busy.url(f"/c{i}", host=host)
            )
            for i in range(10)
            for host in ("busy.test", "other.test")
        ]
        outcomes = await run_checks(requests, settings=settings, clock=Clock(NOTICE_DAY))
    assert {o.outcome for o in outcomes} == {"fixed"}
    assert busy.peak_in_flight["busy.test"] == 2
    assert busy.peak_in_flight["other.test"] == 2
    assert busy.peak_total == 4
    assert {ua for _, _, ua in busy.requests} == {"rectify-recheck/0.1 (政府网站检查复核)"}


async def test_connections_to_many_hosts_are_closed_beyond_the_cap(dns):
    settings = check_settings(dns.port, check_max_concurrency=2)  # at most 10 origins kept
    dns.suffixes[".many.test"] = ["127.0.0.1"]
    with FixtureWeb(default=Reply("<li>2021-07-18</li>")) as many:
        requests = [
            CheckRequest(check="column_fresh", target_code=f"s{i}", url=many.url("/", host=host))
            for i in range(40)
            for host in [f"s{i}.many.test"]
        ]
        outcomes = await run_checks(requests, settings=settings, clock=Clock(NOTICE_DAY))
    assert {o.outcome for o in outcomes} == {"fixed"}
    assert many.connections == 40
    assert many.peak_open_connections <= 12


async def test_a_domain_aliased_by_cname_reports_the_alias_and_its_addresses(site_server, dns):
    dns.set("cdn.county.test", ["127.0.0.1"])
    dns.cnames["alias.county.test"] = "cdn.county.test"
    request = CheckRequest(
        check="domain_live",
        target_code="alias",
        url=site_server.url("/news/fresh", host="alias.county.test"),
        domain="alias.county.test",
    )
    [outcome] = await run_checks(
        [request], settings=check_settings(dns.port), clock=Clock(NOTICE_DAY)
    )
    assert outcome.outcome == "present"
    assert outcome.details["dns"]["cnames"] == ["cdn.county.test"]
    assert outcome.details["dns"]["addresses"] == ["127.0.0.1"]


async def test_a_malformed_link_is_reported_not_a_crash(site_server, settings):
    site_server.route(
        "/odd-links", Reply("<a href='/a'>正文</a> <a href='http://[::1/x'>坏地址</a>")
    )
    outcome = await check("broken_links", "/odd-links", site=site_server, settings=settings)
    assert outcome.outcome == "present"
    assert [(b["text"], b["kind"]) for b in outcome.details["broken"]] == [("坏地址", "protocol")]


async def test_a_redirect_loop_cannot_tell(site_server, settings):
    site_server.route("/loop", Reply(status=302, headers={"Location": "/loop"}))
    outcome = await check("column_fresh", "/loop", site=site_server, settings=settings)
    assert outcome.outcome == "unknown"
    assert "重定向次数过多" in outcome.summary


@pytest.mark.parametrize("name", ["broken_links", "site_reachable", "column_blank"])
async def test_a_check_without_an_address_cannot_tell(name, settings):
    request = CheckRequest(check=name, target_code="no-url")
    [outcome] = await run_checks([request], settings=settings, clock=Clock(NOTICE_DAY))
    assert (outcome.outcome, outcome.summary) == ("unknown", "监测对象未登记网址，无法自动检查")


async def test_links_of_a_page_that_does_not_load_cannot_tell(site_server, settings):
    outcome = await check("broken_links", "/error", site=site_server, settings=settings)
    assert outcome.outcome == "unknown"
    assert "HTTP 500" in outcome.summary


async def test_reachability_cannot_tell_while_the_dns_server_is_silent(site_server):
    silent = FixtureDns().start()
    port = silent.port
    silent.stop()
    settings = check_settings(port, check_dns_timeout_seconds=0.3)
    outcome = await check("site_reachable", "/news/fresh", site=site_server, settings=settings)
    assert outcome.outcome == "unknown"
    assert "DNS" in outcome.summary


async def test_a_domain_whose_bare_name_has_no_address_but_www_serves_is_present(site_server, dns):
    dns.set("bare.test", []).set("www.bare.test", ["127.0.0.1"])
    request = CheckRequest(
        check="domain_live",
        target_code="bare",
        url=site_server.url("/news/fresh", host="www.bare.test"),
        domain="bare.test",
    )
    [outcome] = await run_checks(
        [request], settings=check_settings(dns.port), clock=Clock(NOTICE_DAY)
    )
    assert outcome.outcome == "present"
    assert (outcome.details["dns"]["exists"], outcome.details["dns"]["addresses"]) == (True, [])
    assert outcome.details["dns_site"]["addresses"] == ["127.0.0.1"]
