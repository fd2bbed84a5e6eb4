"""Before anything that mails many units, the supervisor reads how many emails go to how many
units and confirms (确认发送) or cancels (取消); an empty bulk action stays on the list; a
round published before the system shows as published, without 发布并通知."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from services.access import api_tokens
from services.cases import transitions
from services.core.clock import Clock
from services.core.uow import UnitOfWork
from services.db.models import Case, OutboxMessage
from services.ops import demo
from tests.badinput.corpus import footprint
from tests.builders import a_case, a_round, a_target, a_unit
from tests.web.conftest import a_user, client_for, csrf_of, login


def _states(app) -> list[tuple[int, str, int]]:
    with app.uow() as uow:
        return list(
            uow.session.execute(select(Case.id, Case.state, Case.version).order_by(Case.id))
        )


def _emails(app) -> list[tuple[str, int | None]]:
    with app.uow() as uow:
        return list(
            uow.session.execute(
                select(OutboxMessage.template, OutboxMessage.case_id).order_by(OutboxMessage.id)
            )
        )


def _round_of_three_units(app) -> dict[str, list[int]]:
    """永德: two found; 水务局: one notified on 5 July; 园区: one found, no email address."""
    early = UnitOfWork(app.session_factory, clock=Clock(date(2021, 7, 5)), settings=app.settings)
    with early as uow:
        a_round(uow, "2021Q2", title="关于2021年二季度检查情况的通报")
        a_unit(uow, "lincang", name="临沧市人民政府", kind="city_gov")
        for code, name in (("yongde", "永德县人民政府"), ("swj", "耿马县水务局")):
            a_unit(uow, code, parent_code="lincang", name=name)
        a_unit(uow, "park", parent_code="lincang", name="临沧工业园区", contact_email=None)
        ids: dict[str, list[int]] = {}
        for unit, category in (
            ("yongde", "column_stale"),
            ("yongde", "site_unreachable"),
            ("swj", "column_stale"),
            ("park", "column_stale"),
        ):
            target = a_target(uow, unit_code=unit).code
            ids.setdefault(unit, []).append(a_case(uow, target_code=target, category=category).id)
        transitions.transition(uow, case_id=ids["swj"][0], trigger="notify", actor="张三")
        uow.commit()
    return ids


async def test_publishing_shows_what_it_will_send_and_sends_it_only_once_confirmed(app, supervisor):
    _round_of_three_units(app)
    page = await supervisor.get("/rounds")
    assert 'action="/rounds/2021Q2/publish"' in page.text and "未发布" in page.text
    before, states = footprint(app), _states(app)

    asked = await supervisor.post("/rounds/2021Q2/publish", data={"csrf_token": csrf_of(page)})

    assert asked.status_code == 200
    text = asked.text
    assert "将向 3 个单位发送 3 封通知邮件，涉及 4 个案件" in text
    assert "发布后，3 个案件由「已发现」转为「已通知」" in text
    assert "另有 1 个案件此前已单独通知：邮件中单独列出，不再重复通知，也不附新的填报链接" in text
    assert "单位「临沧工业园区」没有填写联系人邮箱" in text
    assert "确认发送" in text and 'href="/rounds">取消</a>' in text
    assert (footprint(app), _states(app)) == (before, states)  # asking changed nothing

    done = await supervisor.post(
        "/rounds/2021Q2/publish", data={"csrf_token": csrf_of(asked), "confirmed": "1"}
    )
    assert done.status_code == 303
    after = await supervisor.get("/rounds")
    assert "检查轮次 2021Q2 已发布：通知 3 件，向 3 个单位发送通知邮件" in after.text
    assert 'action="/rounds/2021Q2/publish"' not in after.text
    assert [t for t, _ in _emails(app)].count("round_notice") == 3


async def test_the_round_notice_page_shows_the_published_state_and_its_button(app, supervisor):
    _round_of_three_units(app)
    page = await supervisor.get("/rounds/2021Q2/notice")
    assert "发布状态：未发布" in page.text
    assert 'action="/rounds/2021Q2/publish"' in page.text

    form = {"csrf_token": csrf_of(page), "confirmed": "1"}
    await supervisor.post("/rounds/2021Q2/publish", data=form)
    page = await supervisor.get("/rounds/2021Q2/notice")
    assert "发布状态：已发布 2021-07-19 09:00" in page.text
    assert 'action="/rounds/2021Q2/publish"' not in page.text


async def test_a_viewer_or_another_county_sees_no_confirmation(app, web_app):
    ids = _round_of_three_units(app)
    with app.uow() as uow:
        a_unit(uow, "cangyuan", name="沧源县人民政府", kind="county_gov")
        uow.commit()
    viewer, county = a_user(app, "kan", role="viewer"), a_user(app, "cy", unit_code="cangyuan")
    before = (_states(app), _emails(app))  # signing in writes sessions: not compared
    answers = {}
    for username, created in (("kan", viewer), ("cy", county)):
        async with client_for(web_app) as client:
            assert (await login(client, username, created.password)).status_code == 303
            form = {"csrf_token": csrf_of(await client.get("/rounds"))}
            answers[username] = (
                await client.post("/rounds/2021Q2/publish", data=form),
                await client.post(
                    "/cases/bulk", data=form | {"action": "notify", "case_ids": ids["yongde"]}
                ),
            )

    (asked, bulk), (county_asked, county_bulk) = answers["kan"], answers["cy"]
    assert asked.status_code == 403 and bulk.status_code == 403
    assert county_asked.status_code == 403 and "将向" not in county_asked.text
    assert county_bulk.status_code == 303  # back to the list: none of the cases is its own
    assert (_states(app), _emails(app)) == before


async def test_the_demos_earlier_rounds_show_as_published_without_a_publish_button(app, supervisor):
    with app.uow() as uow:
        demo.load_demo(uow)
        uow.commit()
    a_user(app, "api")
    with app.uow() as uow:
        token = api_tokens.issue_token(uow, username="api", name="检测器").token
        uow.commit()

    page = await supervisor.get("/rounds")
    rows = _rows(page.text)
    for code, day in (("2020Q4", "2021-01-20"), ("2021Q1", "2021-04-19")):
        assert f"已发布 {day}" in rows[code] and "未经本系统发布：案件均已通知" in rows[code]
        assert f'action="/rounds/{code}/publish"' not in rows[code]
    assert "未发布" in rows["2021Q2"] and 'action="/rounds/2021Q2/publish"' in rows["2021Q2"]
    notice = await supervisor.get("/rounds/2021Q1/notice")
    assert "发布状态：已发布（2021年4月19日通报，未经本系统发布，案件均已通知）" in notice.text
    assert 'action="/rounds/2021Q1/publish"' not in notice.text
    api = await supervisor.get("/api/v1/rounds", headers={"Authorization": f"Bearer {token}"})
    by_code = {r["code"]: r for r in api.json()}
    assert (by_code["2021Q1"]["published"], by_code["2021Q1"]["published_on"]) == (
        True,
        "2021-04-19",
    )
    assert by_code["2021Q1"]["published_at"] is None
    assert (by_code["2021Q2"]["published"], by_code["2021Q2"]["published_on"]) == (False, None)

    before = footprint(app)
    asked = await supervisor.post("/rounds/2021Q1/publish", data={"csrf_token": csrf_of(page)})
    assert "检查轮次 2021Q1 已发布（2021年4月19日通报" in asked.text
    assert "不能再次发布，也不会发送邮件" in asked.text and "确认发送" not in asked.text
    forced = await supervisor.post(
        "/rounds/2021Q1/publish", data={"csrf_token": csrf_of(page), "confirmed": "1"}
    )
    assert forced.status_code == 400 and "不能再次发布" in forced.text
    assert footprint(app) == before


def _rows(html: str) -> dict[str, str]:
    """The rounds table's rows by round code."""
    rows = {}
    for row in html.split("<tr>")[2:]:
        code = row.split("/cases?round=", 1)[1].split('"', 1)[0]
        rows[code] = row
    return rows


def _cases_of_two_units(app) -> dict[str, list[int]]:
    with app.uow() as uow:
        a_round(uow, "2021Q2")
        a_unit(uow, "lincang", name="临沧市人民政府", kind="city_gov")
        a_unit(uow, "yongde", parent_code="lincang", name="永德县人民政府")
        a_unit(uow, "gengma", parent_code="lincang", name="耿马县人民政府")
        ids: dict[str, list[int]] = {"yongde": [], "gengma": []}
        for unit, state in (
            ("yongde", "found"),
            ("yongde", "found"),
            ("gengma", "found"),
            ("gengma", "verified"),
        ):
            target = a_target(uow, unit_code=unit).code
            ids[unit].append(a_case(uow, state=state, target_code=target).id)
        uow.commit()
    return ids


async def test_a_bulk_notify_says_how_many_emails_go_to_how_many_units_first(app, supervisor):
    ids = _cases_of_two_units(app)
    chosen = [*ids["yongde"], *ids["gengma"]]
    page = await supervisor.get("/cases?state=found")
    before, states, emails = footprint(app), _states(app), _emails(app)
    form = {"csrf_token": csrf_of(page), "action": "notify", "case_ids": chosen}

    asked = await supervisor.post("/cases/bulk", data=form | {"back": "/cases?state=found"})

    assert asked.status_code == 200
    assert "将向 2 个单位发送 3 封通知邮件，涉及 3 个案件" in asked.text
    assert f"案件 {ids['gengma'][1]}：" in asked.text  # the verified one: listed as not handled
    assert 'href="/cases?state=found">取消</a>' in asked.text
    assert (footprint(app), _states(app)) == (before, states)

    done = await supervisor.post(
        "/cases/bulk",
        data=form | {"csrf_token": csrf_of(asked), "confirmed": "1", "back": "/cases?state=found"},
    )
    assert done.status_code == 303 and done.headers["location"] == "/cases?state=found"
    sent = _emails(app)[len(emails) :]
    assert sorted(sent) == [("case_notice", i) for i in sorted(chosen[:3])]  # what it said


async def test_a_bulk_escalation_counts_the_parent_units_it_mails(app, supervisor):
    with app.uow() as uow:
        a_round(uow, "2021Q2")
        a_unit(uow, "lincang", name="临沧市人民政府", kind="city_gov")
        a_unit(uow, "gengma", parent_code="lincang", name="耿马县人民政府", kind="county_gov")
        a_unit(uow, "swj", parent_code="gengma", name="耿马县水务局")
        a_unit(uow, "slj", parent_code="gengma", name="耿马县林业局")
        a_unit(uow, "orphan", name="无上级的单位")
        chosen = [
            a_case(uow, state="notified", target_code=a_target(uow, unit_code=unit).code).id
            for unit in ("swj", "slj", "orphan")
        ]
        uow.commit()
    page = await supervisor.get("/cases")
    emails = _emails(app)

    asked = await supervisor.post(
        "/cases/bulk",
        data={"csrf_token": csrf_of(page), "action": "escalate", "case_ids": chosen},
    )

    assert "将向 1 个上级单位发送 3 封督办邮件，涉及 3 个案件" in asked.text
    assert "没有上级单位，无法确定督办邮件的收件人" in asked.text
    assert _emails(app) == emails


async def test_an_empty_bulk_action_stays_on_the_list_with_its_filters(app, supervisor):
    _cases_of_two_units(app)
    page = await supervisor.get("/cases?state=found&unit=yongde")
    before = footprint(app)
    for confirmed in ("", "1"):
        response = await supervisor.post(
            "/cases/bulk",
            data={
                "csrf_token": csrf_of(page),
                "action": "notify",
                "back": "/cases?state=found&unit=yongde",
                "confirmed": confirmed,
            },
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/cases?state=found&unit=yongde"
        listed = await supervisor.get(response.headers["location"])
        assert listed.status_code == 200 and "请先勾选案件" in listed.text
        assert '<option value="found" selected>' in listed.text
        assert '<option value="yongde" selected>' in listed.text
    assert footprint(app) == before
