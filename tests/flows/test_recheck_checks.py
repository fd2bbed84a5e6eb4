"""End to end: the demo's industrial-park domain, rechecked by the automated checks.

The park's domain (lcgyyq.example) is pointed at the loopback DNS and HTTP servers. The
2021Q3 recheck finds it still resolving and serving: a linked case, escalated at once. Then
the server stops serving it and the DNS answers NXDOMAIN: the 2021Q4 recheck verifies it.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select

from flows.publish import publish_round
from flows.recheck import quarterly_recheck
from services.db.models import Case, CheckResult, Round, Target
from tests.builders import a_round
from tests.support.servers import FixtureDns, FixtureWeb, Reply

NOTICE_DAY = date(2021, 7, 19)
PARK = "lcgyyq.example"
PARK_WWW = f"www.{PARK}"


@pytest.fixture
def park_online(demo, monkeypatch):
    """The park's site served on loopback, its names in the loopback DNS; the flows use them."""
    with FixtureDns({PARK: ["127.0.0.1"], PARK_WWW: ["127.0.0.1"]}) as dns, FixtureWeb() as web:
        web.route("/", Reply("<html><title>临沧工业园区管理委员会</title>旧网站</html>"))
        monkeypatch.setenv("RECTIFY_CHECK_DNS_NAMESERVERS", json.dumps(["127.0.0.1"]))
        monkeypatch.setenv("RECTIFY_CHECK_DNS_PORT", str(dns.port))
        monkeypatch.setenv("RECTIFY_CHECK_DNS_TIMEOUT_SECONDS", "1")
        monkeypatch.setenv("RECTIFY_CHECK_TIMEOUT_SECONDS", "2")
        monkeypatch.setenv("RECTIFY_CHECK_REACH_SAMPLES", "2")
        monkeypatch.setenv("RECTIFY_CHECK_REACH_WINDOW_SECONDS", "0.1")
        with demo.uow() as uow:
            park = uow.session.scalar(select(Target).where(Target.code == "web-gyyq"))
            park.url = web.url("/", host=PARK_WWW)
            uow.commit()
        yield dns, web


def park_case(app, round_code: str) -> Case:
    with app.uow() as uow:
        query = (
            select(Case)
            .join(Target, Target.id == Case.target_id)
            .join(Round, Round.id == Case.round_id)
            .where(Target.code == "web-gyyq", Round.code == round_code)
            .where(Case.category_code == "domain_not_deregistered")
        )
        case = uow.session.scalar(query)
        uow.session.expunge(case)
        return case


def latest_result(app, case_id: int) -> CheckResult:
    with app.uow() as uow:
        query = select(CheckResult).where(CheckResult.case_id == case_id)
        result = uow.session.scalars(query.order_by(CheckResult.id.desc())).first()
        uow.session.expunge(result)
        return result


async def test_the_park_domain_still_served_is_escalated_and_once_gone_is_verified(
    demo, park_online
):
    dns, web = park_online
    publish_round("2021Q2", as_of=NOTICE_DAY)
    with demo.uow() as uow:
        a_round(uow, "2021Q3")
        a_round(uow, "2021Q4")
        uow.commit()
    q2 = park_case(demo, "2021Q2")

    summary = quarterly_recheck("2021Q3", as_of=date(2021, 10, 8), outcomes="checks")

    seen = latest_result(demo, q2.id)
    assert (seen.check, seen.outcome) == ("domain_live", "present")
    assert seen.details["dns"]["addresses"] == ["127.0.0.1"]
    assert seen.details["visits"][0]["status"] == 200
    assert "临沧工业园区管理委员会" in seen.details["visits"][0]["page_excerpt"]
    q3 = park_case(demo, "2021Q3")
    assert (q3.previous_case_id, q3.state) == (q2.id, "escalated")
    assert summary["per_unit"]["gyyq"]["escalated"] == 1

    web.down.add(PARK_WWW)
    dns.remove(PARK)
    dns.remove(PARK_WWW)
    quarterly_recheck("2021Q4", as_of=date(2022, 1, 7), outcomes="checks")

    gone = latest_result(demo, q3.id)
    assert (gone.outcome, gone.details["dns"]["exists"]) == ("fixed", False)
    assert "NXDOMAIN" in gone.summary
    assert park_case(demo, "2021Q3").state == "verified"
