"""The quarterly inspection over a small county's sites on loopback HTTP and DNS servers."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from services.db.models import Case, CheckResult, Round, Target, Verdict
from services.rounds import inspection
from services.rounds.rounds import tally
from tests.builders import a_round, a_target, a_unit, an_issuer
from tests.conftest import NOTICE_DAY
from tests.support.servers import FixtureDns, FixtureWeb, Reply

ROUND = "2021Q3"
HOSTS = ("good.test", "broken.test", "down.test", "closed.test", "outside.test")
#: What the inspection must file: (target, category), each exactly once.
PLANTED = {
    ("good-c2", "column_stale"),
    ("good-c3", "column_blank"),
    ("broken", "broken_links"),
    ("down", "site_unreachable"),
    ("closed", "domain_not_deregistered"),
}


def page(title: str, *, links: list[str] = (), age_days: int | None = 1, rows: int = 3) -> Reply:
    """A page with a menu of ``links`` and ``rows`` dated entries (none when age is None)."""
    menu = "".join(f"<li><a href='{href}'>链接{n}</a></li>" for n, href in enumerate(links))
    entries = ""
    if age_days is not None:
        entries = "".join(
            f"<li><a href='/art/{i}.html'>第{i}条信息</a>"
            f"<span>{(NOTICE_DAY - timedelta(days=age_days + i)).isoformat()}</span></li>"
            for i in range(rows)
        )
    return Reply(
        f"<html><head><title>{title}</title></head><body><nav><ul>{menu}</ul></nav>"
        f"<h2>{title}</h2><ul class='list'>{entries}</ul><footer>主办单位</footer></body></html>"
    )


def serve(web: FixtureWeb) -> None:
    columns = ["/col/1/", "/col/2/", "/col/3/"]
    web.route("/", page("首页", links=columns), host="good.test")
    web.route("/col/1/", page("工作动态"), host="good.test")
    web.route("/col/2/", page("通知公告", age_days=200), host="good.test")
    web.route("/col/3/", page("政策解读", age_days=None), host="good.test")
    for host in ("good.test", "broken.test"):
        for i in range(3):
            web.route(f"/art/{i}.html", page("文章"), host=host)
    web.route("/", page("首页", links=["/col/1/", "/gone.html"]), host="broken.test")
    web.route("/col/1/", page("工作动态"), host="broken.test")
    web.route("/", Reply("错误", status=500), host="down.test")
    web.route("/col/1/", Reply("错误", status=500), host="down.test")
    web.route("/", page("旧网站"), host="closed.test")
    web.route("/", page("首页", links=["/gone.html"]), host="outside.test")


def build_county(uow, web: FixtureWeb) -> None:
    """A county (the round's issuer) with four sites, and one site of another county."""
    a_unit(uow, "county", kind="county_gov", name="某县人民政府")
    a_unit(uow, "dept", parent_code="county", name="某县教育局")
    a_unit(uow, "other", kind="county_gov", name="另一县人民政府")
    an_issuer(uow, "county", level="county")
    for code, unit, status in (
        ("good", "county", "operating"),
        ("broken", "dept", "operating"),
        ("down", "dept", "operating"),
        ("closed", "dept", "offline"),
        ("outside", "other", "operating"),
    ):
        host = f"{code}.test"
        a_target(uow, code, unit_code=unit, url=web.url("/", host=host), domain=host, status=status)
    for site, numbers in (("good", (1, 2, 3)), ("broken", (1,)), ("down", (1,))):
        for n in numbers:
            a_target(
                uow,
                f"{site}-c{n}",
                unit_code="county" if site == "good" else "dept",
                kind="column",
                name=f"栏目{n}",
                url=web.url(f"/col/{n}/", host=f"{site}.test"),
                parent_target_code=site,
                column_type="news",
            )
    a_round(uow, ROUND, issuer_code="county")


@pytest.fixture
def county(app):
    with FixtureDns({h: ["127.0.0.1"] for h in HOSTS}) as dns, FixtureWeb() as web:
        serve(web)
        app.settings.check_dns_nameservers = ["127.0.0.1"]
        app.settings.check_dns_port = dns.port
        app.settings.check_timeout_seconds = 2.0
        app.settings.check_dns_timeout_seconds = 2.0
        with app.uow() as uow:
            build_county(uow, web)
            uow.commit()
        yield web


def inspect(app, *, batch: int = 2000) -> inspection.Tally:
    total = inspection.Tally(rounds=1)
    with app.uow() as uow:
        chunks = inspection.plan(uow, [ROUND], max_requests=batch)
    for chunk in chunks:
        with app.uow() as uow:
            total.add(inspection.inspect_chunk(uow, chunk, actor="quarterly-inspection/test"))
    return total


def filed(app) -> Counter:
    with app.uow() as uow:
        rows = uow.session.execute(
            select(Target.code, Case.category_code)
            .join(Target, Target.id == Case.target_id)
            .join(Round, Round.id == Case.round_id)
            .where(Round.code == ROUND)
        ).all()
    return Counter(map(tuple, rows))


def test_every_planted_problem_is_filed_once_under_its_category_and_good_pages_file_nothing(
    app, county
):
    done = inspect(app, batch=5)  # small chunks: a site's pages stay together

    assert filed(app) == Counter(PLANTED)
    assert done.created == len(PLANTED) and done.updated == 0
    # The unreachable site's column and its homepage's other checks cannot be judged.
    assert done.unknown == 3
    assert any(e.startswith("down-c1") for e in done.unknown_examples)
    # The other county's site is outside the round: never requested.
    assert not [r for r in county.requests if r[0].startswith("outside.test")]
    assert done.pages == 8  # 3 operating websites + 5 columns; the closed site is not a page
    with app.uow() as uow:
        case = uow.session.scalar(select(Case).where(Case.category_code == "column_blank"))
        assert case.source == "自动检查" and "空白栏目" in case.description
        assert case.evidence["check"] == "column_blank"
        assert uow.session.scalar(select(CheckResult.case_id).where(CheckResult.case_id == case.id))
        inspected = {
            k: t.inspected for k, t in tally(uow, ROUND, kinds=("website", "column")).items()
        }
    # Judged: the three operating homepages and the four columns of reachable sites.
    assert inspected == {"website": 3, "column": 4}


def test_inspecting_again_updates_the_same_cases_and_files_nothing_twice(app, county):
    inspect(app)
    again = inspect(app, batch=7)

    assert again.created == 0 and again.updated == len(PLANTED) and again.inspected == 0
    assert filed(app) == Counter(PLANTED)
    with app.uow() as uow:
        assert len(uow.session.scalars(select(Verdict)).all()) == 7
