"""The JSON API: token authentication, the same use cases as the pages, findings ingest."""

from __future__ import annotations

from services.access import api_tokens
from tests.builders import a_case, a_round, a_target, a_unit, an_issuer
from tests.web.conftest import a_user


def _token(app, username: str = "api", **user) -> dict[str, str]:
    a_user(app, username, **user)
    with app.uow() as uow:
        issued = api_tokens.issue_token(uow, username=username, name="检测器")
        uow.commit()
    return {"Authorization": f"Bearer {issued.token}"}


async def test_the_api_refuses_requests_without_a_valid_token(app, anon):
    missing = await anon.get("/api/v1/cases")
    assert missing.status_code == 401 and "缺少 API 令牌" in missing.json()["detail"]
    wrong = await anon.get("/api/v1/cases", headers={"Authorization": "Bearer rct_nope"})
    assert wrong.status_code == 401


async def test_a_revoked_token_stops_working(app, anon):
    headers = _token(app)
    assert (await anon.get("/api/v1/units", headers=headers)).status_code == 200
    with app.uow() as uow:
        api_tokens.revoke_token(uow, token_id=1)
        uow.commit()
    response = await anon.get("/api/v1/units", headers=headers)
    assert response.status_code == 401 and "已被撤销" in response.json()["detail"]


async def test_posting_the_same_finding_twice_updates_the_existing_case(app, anon):
    headers = _token(app)
    with app.uow() as uow:
        a_round(uow, "2021Q2")
        target = a_target(uow, "gengma-site", name="耿马县政府网站")
        uow.commit()
    finding = {"round": "2021Q2", "target": target.code, "category": "column_stale"}
    first = await anon.post(
        "/api/v1/findings", json={**finding, "description": "栏目 30 天未更新"}, headers=headers
    )
    assert first.status_code == 201 and first.json()["created"] is True
    again = await anon.post(
        "/api/v1/findings", json={**finding, "description": "栏目 45 天未更新"}, headers=headers
    )
    assert again.status_code == 200 and again.json() == {**first.json(), "created": False}
    listing = (await anon.get("/api/v1/cases", headers=headers)).json()
    assert [c["description"] for c in listing["items"]] == ["栏目 45 天未更新"]


async def test_a_finding_for_an_unknown_target_is_refused_with_every_problem(app, anon):
    headers = _token(app)
    response = await anon.post(
        "/api/v1/findings",
        json={"round": "2099Q1", "target": "nope", "category": "column_stale"},
        headers=headers,
    )
    assert response.status_code == 400
    assert response.json()["errors"] == ["检查轮次 2099Q1 不存在", "监测对象 nope 不存在"]


async def test_a_finding_names_its_category_by_code_or_chinese_name(app, anon):
    headers = _token(app)
    with app.uow() as uow:
        a_round(uow, "2021Q2")
        a_target(uow, "gengma-site", name="耿马县政府网站")
        uow.commit()
    finding = {"round": "2021Q2", "target": "gengma-site"}

    by_name = await anon.post(
        "/api/v1/findings", json={**finding, "category": "栏目更新不及时"}, headers=headers
    )
    by_code = await anon.post(
        "/api/v1/findings", json={**finding, "category": "column_stale"}, headers=headers
    )
    unknown = await anon.post(
        "/api/v1/findings", json={**finding, "category": "栏目太旧"}, headers=headers
    )

    assert by_name.status_code == 201
    assert by_code.status_code == 200 and by_code.json()["case_id"] == by_name.json()["case_id"]
    listing = (await anon.get("/api/v1/cases", headers=headers)).json()["items"]
    assert [c["category"] for c in listing] == ["column_stale"]
    assert unknown.status_code == 400
    said = unknown.json()["detail"]  # the one problem (a list only when there are several)
    assert said.startswith("问题类别「栏目太旧」不存在；可用的类别：")
    assert "column_stale（栏目更新不及时）" in said


async def test_cases_events_and_transitions_through_the_api(app, anon):
    headers = _token(app)
    with app.uow() as uow:
        case_id = a_case(uow, state="submitted").id
        uow.commit()
    detail = (await anon.get(f"/api/v1/cases/{case_id}", headers=headers)).json()
    assert detail["case"]["state"] == "submitted" and detail["allowed_triggers"] == [
        "verify",
        "reject",
    ]
    version = detail["case"]["version"]
    moved = await anon.post(
        f"/api/v1/cases/{case_id}/transitions",
        json={"trigger": "verify", "expected_version": version},
        headers=headers,
    )
    assert moved.status_code == 200 and moved.json()["to_state"] == "verified"
    refused = await anon.post(
        f"/api/v1/cases/{case_id}/transitions", json={"trigger": "escalate"}, headers=headers
    )
    assert refused.status_code == 409 and "不能执行" in refused.json()["detail"]
    events = (await anon.get(f"/api/v1/cases/{case_id}/events", headers=headers)).json()
    assert [e["trigger"] for e in events] == ["created", "notify", "start", "submit", "verify"]
    submissions = (await anon.get(f"/api/v1/cases/{case_id}/submissions", headers=headers)).json()
    assert submissions[0]["review_result"] == "accepted"


async def test_a_token_sees_only_its_users_units(app, anon):
    with app.uow() as uow:
        a_unit(uow, "gengma", name="耿马县人民政府", kind="county_gov")
        a_unit(uow, "cangyuan", name="沧源县人民政府", kind="county_gov")
        mine = a_case(uow, target_code=a_target(uow, unit_code="gengma").code).id
        theirs = a_case(uow, target_code=a_target(uow, unit_code="cangyuan").code).id
        a_round(uow, "2021Q3")
        a_round(uow, "2021Q4").issuer = an_issuer(uow, "cangyuan", level="county")
        uow.commit()
    headers = _token(app, unit_code="gengma")
    units = (await anon.get("/api/v1/units", headers=headers)).json()
    assert [u["code"] for u in units] == ["gengma"]
    cases = (await anon.get("/api/v1/cases", headers=headers)).json()["items"]
    assert [c["id"] for c in cases] == [mine]
    assert (await anon.get(f"/api/v1/cases/{theirs}", headers=headers)).status_code == 403
    rounds = (await anon.get("/api/v1/rounds", headers=headers)).json()
    assert [r["code"] for r in rounds] == ["2021Q3", "2021Q2"]  # not 沧源's office's 2021Q4
    targets = (await anon.get("/api/v1/targets", headers=headers)).json()
    assert {t["unit_code"] for t in targets} == {"gengma"}


async def test_the_openapi_schema_and_offline_docs_are_served(anon):
    schema = (await anon.get("/openapi.json")).json()
    assert "/api/v1/findings" in schema["paths"]
    docs = await anon.get("/docs")
    assert docs.status_code == 200 and "/api/v1/cases" in docs.text
    assert "cdn" not in docs.text.lower()
