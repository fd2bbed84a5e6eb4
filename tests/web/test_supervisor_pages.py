"""Supervisor pages: sign-in, scope, the list, the case page's actions and their races."""

from __future__ import annotations

import asyncio
import csv
import io
import re

from openpyxl import load_workbook

from services.db.models import Case, CaseEvent
from tests.builders import a_case, a_target, a_unit
from tests.web.conftest import a_user, client_for, csrf_of, login


def _case(app, case_id: int) -> tuple[str, int, int]:
    with app.uow() as uow:
        case = uow.session.get(Case, case_id)
        events = uow.session.query(CaseEvent).filter_by(case_id=case_id).count()
        return case.state, case.version, events


def _version(page) -> str:
    return re.search(r'name="version" value="(\d+)"', page.text).group(1)


async def test_pages_need_a_signed_in_user(anon):
    response = await anon.get("/cases")
    assert response.status_code == 303 and response.headers["location"] == "/login?next=/cases"


async def test_a_wrong_password_is_refused_and_repeated_failures_lock_the_account(app, anon):
    created = a_user(app, "wang")
    for _ in range(app.settings.login_max_failures):
        refused = await login(anon, "wang", "wrong-password")
        assert refused.status_code == 400 and "用户名或密码错误" in refused.text
    locked = await login(anon, "wang", created.password)
    assert locked.status_code == 400 and "失败次数过多" in locked.text


async def test_the_session_cookie_is_signed_httponly_and_samesite(app, anon):
    created = a_user(app, "li")
    response = await login(anon, "li", created.password)
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert created.password not in cookie


async def test_a_login_form_without_its_csrf_token_is_refused(app, anon):
    created = a_user(app, "zhao")
    response = await anon.post("/login", data={"username": "zhao", "password": created.password})
    assert response.status_code == 403 and "安全令牌" in response.text
    assert (await anon.get("/")).status_code == 303


async def test_a_county_supervisor_sees_only_the_cases_of_that_county(app, web_app):
    with app.uow() as uow:
        county = a_unit(uow, "gengma", name="耿马县人民政府", kind="county_gov")
        a_unit(uow, "mengding", name="孟定镇", parent_code="gengma")
        other = a_unit(uow, "cangyuan", name="沧源县人民政府", kind="county_gov")
        own = a_case(uow, target_code=a_target(uow, unit_code="mengding", name="孟定镇网站").code)
        theirs = a_case(uow, target_code=a_target(uow, unit_code=other.code, name="沧源网站").code)
        uow.commit()
        own_id, theirs_id = own.id, theirs.id
    created = a_user(app, "gm", unit_code=county.code)
    async with client_for(web_app) as client:
        await login(client, "gm", created.password)
        listing = await client.get("/cases")
        assert "孟定镇网站" in listing.text and "沧源网站" not in listing.text
        assert (await client.get(f"/cases/{own_id}")).status_code == 200
        refused = await client.get(f"/cases/{theirs_id}")
        assert refused.status_code == 403 and "管辖范围" in refused.text


async def test_a_county_supervisor_downloads_the_ledger_of_that_county_only(app, web_app):
    with app.uow() as uow:
        county = a_unit(uow, "gengma", name="耿马县人民政府", kind="county_gov")
        other = a_unit(uow, "cangyuan", name="沧源县人民政府", kind="county_gov")
        a_case(uow, target_code=a_target(uow, unit_code=county.code, name="耿马网站").code)
        a_case(uow, target_code=a_target(uow, unit_code=other.code, name="沧源网站").code)
        uow.commit()
    created = a_user(app, "gm", unit_code=county.code)
    async with client_for(web_app) as client:
        await login(client, "gm", created.password)
        ledger = await client.get("/rounds/2021Q2/ledger.csv")
    text = ledger.content.decode("utf-8-sig")
    assert ledger.status_code == 200
    assert "耿马网站" in text and "沧源网站" not in text


async def test_the_list_filters_sorts_pages_and_exports(app, supervisor):
    with app.uow() as uow:
        unit = a_unit(uow, "linxiang", name="临翔区人民政府", kind="county_gov")
        ids = [
            a_case(uow, state="notified", target_code=a_target(uow, unit_code=unit.code).code).id
            for _ in range(12)
        ]
        found = a_case(uow, description="首页表述错误")
        uow.commit()
    first = await supervisor.get("/cases?state=notified&size=10")
    assert f'href="/cases/{ids[0]}"' in first.text and f'href="/cases/{found.id}"' not in first.text
    assert f'href="/cases/{ids[10]}"' not in first.text
    next_link = re.search(r'href="/cases\?([^"]*cursor[^"]*)"', first.text).group(1)
    second = await supervisor.get("/cases?" + next_link.replace("&amp;", "&"))
    assert (
        f'href="/cases/{ids[10]}"' in second.text and f'href="/cases/{ids[0]}"' not in second.text
    )
    newest_first = await supervisor.get("/cases?state=notified&desc=1&size=10")
    assert f'href="/cases/{ids[-1]}"' in newest_first.text
    assert f'href="/cases/{ids[1]}"' not in newest_first.text
    search = await supervisor.get("/cases?q=首页表述")
    assert f'href="/cases/{found.id}"' in search.text and f'/cases/{ids[0]}"' not in search.text
    csv = await supervisor.get("/cases/export.csv?state=notified")
    assert csv.headers["content-disposition"].startswith("attachment;")
    lines = csv.content.decode("utf-8-sig").strip().splitlines()
    assert lines[0].startswith("编号,检查轮次,责任单位") and len(lines) == 13
    xlsx = await supervisor.get("/cases/export.xlsx?q=首页表述")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert [c.value for c in sheet[2]][0] == found.id and sheet.max_row == 2


EXPORT_HEADERS = [
    "编号",
    "检查轮次",
    "责任单位",
    "监测对象",
    "问题类别",
    "严重程度",
    "状态",
    "整改期限",
    "超期天数",
    "升级次数",
    "市级通报次数",
    "省级通报次数",
    "县级通报次数",
    "问题描述",
]


async def test_the_case_export_shows_chinese_states_and_severities_in_every_column(app, supervisor):
    with app.uow() as uow:
        unit = a_unit(uow, "yongde", name="永德县人民政府", kind="county_gov")
        target = a_target(uow, unit_code=unit.code, name="永德县人民政府门户网站").code
        veto = a_case(uow, state="notified", category="column_stale", target_code=target)
        veto.description = "栏目超过两周未更新"
        minor = a_case(uow, state="rectifying", category="broken_links", target_code=target)
        minor.description = "存在不可用链接"
        ids = (veto.id, minor.id)
        uow.commit()
    expected = [
        [ids[0], "2021Q2", "永德县人民政府", "永德县人民政府门户网站", "栏目更新不及时",
         "单项否决", "已通知", "2021-07-29", 0, 0, 1, 0, 0, "栏目超过两周未更新"],
        [ids[1], "2021Q2", "永德县人民政府", "永德县人民政府门户网站", "不可用链接",
         "扣分项", "整改中", "2021-07-29", 0, 0, 1, 0, 0, "存在不可用链接"],
    ]  # fmt: skip
    csv_page = await supervisor.get("/cases/export.csv")
    table = list(csv.reader(io.StringIO(csv_page.content.decode("utf-8-sig"))))
    assert table[0] == EXPORT_HEADERS
    assert table[1:] == [[str(v) for v in row] for row in expected]
    xlsx = await supervisor.get("/cases/export.xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    cells = [[c.value for c in row] for row in sheet.iter_rows()]
    assert cells[0] == EXPORT_HEADERS
    assert cells[1:] == expected


async def test_bulk_notify_moves_the_cases_that_allow_it_and_lists_the_others(app, supervisor):
    with app.uow() as uow:
        fresh = [a_case(uow).id for _ in range(3)]
        done = a_case(uow, state="verified").id
        uow.commit()
    page = await supervisor.get("/cases")
    response = await supervisor.post(
        "/cases/bulk",
        data={
            "action": "notify",
            "case_ids": [*fresh, done],
            "csrf_token": csrf_of(page),
            "confirmed": "1",
        },
    )
    assert response.status_code == 303
    after = await supervisor.get(response.headers["location"])
    assert "已处理 3 件" in after.text and f"案件 {done}" in after.text
    assert [_case(app, i)[0] for i in fresh] == ["notified"] * 3
    assert _case(app, done)[0] == "verified"


async def test_a_transition_the_state_forbids_answers_409_and_changes_nothing(app, supervisor):
    with app.uow() as uow:
        case_id = a_case(uow).id  # found: cannot be verified
        uow.commit()
    before = _case(app, case_id)
    page = await supervisor.get(f"/cases/{case_id}")
    assert 'value="verify"' not in page.text  # only the allowed actions are offered
    response = await supervisor.post(
        f"/cases/{case_id}/transition",
        data={"trigger": "verify", "version": _version(page), "csrf_token": csrf_of(page)},
    )
    assert response.status_code == 409 and "不能执行「核验通过」" in response.text
    assert _case(app, case_id) == before


async def test_rejecting_without_a_reason_is_refused(app, supervisor):
    with app.uow() as uow:
        case_id = a_case(uow, state="submitted").id
        uow.commit()
    page = await supervisor.get(f"/cases/{case_id}")
    response = await supervisor.post(
        f"/cases/{case_id}/transition",
        data={
            "trigger": "reject",
            "version": _version(page),
            "note": " ",
            "csrf_token": csrf_of(page),
        },
    )
    assert response.status_code == 400 and "必须填写理由" in response.text
    assert _case(app, case_id)[0] == "submitted"


async def test_a_transition_form_without_its_csrf_token_is_refused(app, supervisor):
    with app.uow() as uow:
        case_id = a_case(uow).id
        uow.commit()
    page = await supervisor.get(f"/cases/{case_id}")
    response = await supervisor.post(
        f"/cases/{case_id}/transition", data={"trigger": "notify", "version": _version(page)}
    )
    assert response.status_code == 403
    assert _case(app, case_id)[0] == "found"


async def test_two_supervisors_verifying_and_rejecting_at_once_one_wins_the_other_is_told(
    app, web_app, supervisor
):
    with app.uow() as uow:
        case_id = a_case(uow, state="submitted").id
        uow.commit()
    created = a_user(app, "chen")
    async with client_for(web_app) as other:
        await login(other, "chen", created.password)
        mine, theirs = (
            await supervisor.get(f"/cases/{case_id}"),
            await other.get(f"/cases/{case_id}"),
        )
        responses = await asyncio.gather(
            supervisor.post(
                f"/cases/{case_id}/transition",
                data={"trigger": "verify", "version": _version(mine), "csrf_token": csrf_of(mine)},
            ),
            other.post(
                f"/cases/{case_id}/transition",
                data={
                    "trigger": "reject",
                    "version": _version(theirs),
                    "note": "材料不全",
                    "csrf_token": csrf_of(theirs),
                },
            ),
        )
    codes = sorted(r.status_code for r in responses)
    assert codes == [303, 409]
    loser = next(r for r in responses if r.status_code == 409)
    assert "已被他人修改" in loser.text
    state, _, events = _case(app, case_id)
    assert state in ("verified", "rectifying") and events == 5  # created, notify, start, submit + 1


async def test_a_stale_form_is_told_the_case_changed(app, supervisor):
    with app.uow() as uow:
        case_id = a_case(uow, state="submitted").id
        uow.commit()
    page = await supervisor.get(f"/cases/{case_id}")
    data = {"version": _version(page), "csrf_token": csrf_of(page)}
    first = await supervisor.post(
        f"/cases/{case_id}/transition", data={"trigger": "verify", **data}
    )
    assert first.status_code == 303
    late = await supervisor.post(
        f"/cases/{case_id}/transition", data={"trigger": "reject", "note": "不合格", **data}
    )
    assert late.status_code == 409 and "刷新" in late.text
    assert _case(app, case_id)[0] == "verified"


async def test_a_viewer_sees_cases_but_cannot_act(app, web_app):
    with app.uow() as uow:
        case_id = a_case(uow).id
        uow.commit()
    created = a_user(app, "guest", role="viewer")
    async with client_for(web_app) as client:
        await login(client, "guest", created.password)
        page = await client.get(f"/cases/{case_id}")
        assert "只读用户不能操作案件" in page.text
        response = await client.post(
            f"/cases/{case_id}/transition",
            data={
                "trigger": "notify",
                "version": _version_of(app, case_id),
                "csrf_token": csrf_of(page),
            },
        )
    assert response.status_code == 403
    assert _case(app, case_id)[0] == "found"


def _version_of(app, case_id: int) -> str:
    return str(_case(app, case_id)[1])


async def test_error_pages_are_chinese_and_never_a_stack_trace(supervisor):
    missing = await supervisor.get("/cases/999999")
    assert missing.status_code == 404 and "案件 999999 不存在" in missing.text
    assert "Traceback" not in missing.text
    nowhere = await supervisor.get("/no/such/page")
    assert nowhere.status_code == 404 and "页面不存在" in nowhere.text
    bad = await supervisor.get("/cases/abc")
    assert bad.status_code == 400 and "请求参数无效" in bad.text
