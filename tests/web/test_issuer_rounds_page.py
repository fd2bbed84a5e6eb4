"""The rounds page for a supervisor scoped to a county: the county office's rounds to run, the
city's to read, another county's not at all; publishing the city's round is refused (403)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from services.db.models import Case
from services.rounds import rounds
from tests.badinput.corpus import footprint
from tests.builders import a_case, a_target, a_unit, an_issuer
from tests.web.conftest import a_user, client_for, csrf_of, login


def _round(uow, code: str, issuer: str) -> None:
    start = date(2021, 4, 1)
    spec = rounds.RoundSpec(code, start, date(2021, 6, 30), issuer_code=issuer, deadline_days=10)
    rounds.upsert_round(uow, spec)


async def test_a_county_supervisor_publishes_the_countys_round_and_not_the_citys(app, web_app):
    with app.uow() as uow:
        a_unit(uow, "lincang", name="临沧市人民政府", kind="city_gov")
        a_unit(uow, "gengma", parent_code="lincang", name="耿马县人民政府", kind="county_gov")
        a_unit(uow, "yongde", parent_code="lincang", name="永德县人民政府", kind="county_gov")
        an_issuer(uow, "lincang", name="临沧市人民政府办公室", short_name="市政府办公室")
        an_issuer(
            uow, "gengma", level="county", name="耿马县人民政府办公室", short_name="耿马县府办"
        )
        an_issuer(uow, "yongde", level="county", short_name="永德县府办")
        for code, issuer in (
            ("LC2021Q2", "lincang"),
            ("GM2021Q2", "gengma"),
            ("YD2021Q2", "yongde"),
        ):
            _round(uow, code, issuer)
            site = a_target(uow, unit_code="gengma" if issuer != "yongde" else "yongde").code
            a_case(uow, round_code=code, target_code=site)
        uow.commit()
    created = a_user(app, "gm", unit_code="gengma")

    async with client_for(web_app) as county:
        assert (await login(county, "gm", created.password)).status_code == 303
        page = await county.get("/rounds")
        before = footprint(app)
        refused = await county.post("/rounds/LC2021Q2/publish", data={"csrf_token": csrf_of(page)})
        unchanged = footprint(app)
        done = await county.post(
            "/rounds/GM2021Q2/publish", data={"csrf_token": csrf_of(page), "confirmed": "1"}
        )

    assert "LC2021Q2" in page.text and "GM2021Q2" in page.text and "YD2021Q2" not in page.text
    assert "市政府办公室" in page.text and "耿马县府办" in page.text
    assert 'action="/rounds/GM2021Q2/publish"' in page.text
    assert 'action="/rounds/LC2021Q2/publish"' not in page.text
    assert refused.status_code == 403 and "不在您的管辖范围内" in refused.text
    assert unchanged == before
    assert done.status_code == 303
    with app.uow() as uow:
        states = dict(
            uow.session.execute(
                select(Case.round_id, Case.state).where(Case.round.has(code="GM2021Q2"))
            ).all()
        )
    assert list(states.values()) == ["notified"]


async def test_a_county_supervisor_reads_the_rounds_over_his_county_and_not_a_siblings(
    app, web_app
):
    with app.uow() as uow:
        a_unit(uow, "lincang", name="临沧市人民政府", kind="city_gov")
        a_unit(uow, "gengma", parent_code="lincang", name="耿马县人民政府", kind="county_gov")
        a_unit(uow, "yongde", parent_code="lincang", name="永德县人民政府", kind="county_gov")
        a_unit(uow, "puer", name="普洱市人民政府", kind="city_gov")
        an_issuer(uow, "lincang", name="临沧市人民政府办公室")
        an_issuer(uow, "gengma", level="county", name="耿马县人民政府办公室")
        an_issuer(uow, "yongde", level="county", name="永德县人民政府办公室")
        an_issuer(uow, "puer", name="普洱市人民政府办公室")
        for code, issuer, unit in (
            ("LC2021Q2", "lincang", "gengma"),
            ("GM2021Q2", "gengma", "gengma"),
            ("YD2021Q2", "yongde", "yongde"),
            ("PE2021Q2", "puer", "puer"),
        ):
            _round(uow, code, issuer)
            a_case(uow, round_code=code, target_code=a_target(uow, unit_code=unit).code)
        rounds.upsert_round(uow, rounds.RoundSpec("2021Q2", date(2021, 4, 1), date(2021, 6, 30)))
        uow.commit()
    created = a_user(app, "gm", unit_code="gengma")
    paths = ("notice", "notice.md", "notice.docx", "notice.html", "ledger.csv", "ledger.xlsx")

    async with client_for(web_app) as county:
        assert (await login(county, "gm", created.password)).status_code == 303
        answers = {
            code: {path: (await county.get(f"/rounds/{code}/{path}")).status_code for path in paths}
            for code in ("GM2021Q2", "LC2021Q2", "2021Q2", "YD2021Q2", "PE2021Q2")
        }
        refused = await county.get("/rounds/YD2021Q2/notice")

    readable, unrelated = dict.fromkeys(paths, 200), dict.fromkeys(paths, 403)
    assert answers == {
        "GM2021Q2": readable,  # the county's own office
        "LC2021Q2": readable,  # the city's office above it
        "2021Q2": readable,  # no office: the installation's round, over every unit
        "YD2021Q2": unrelated,  # a sibling county's office
        "PE2021Q2": unrelated,  # another city's office
    }
    assert "由永德县人民政府办公室组织，不在您的管辖范围内" in refused.text
    assert "notice-preview" not in refused.text
