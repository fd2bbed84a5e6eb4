"""``POST /api/v1/findings/batch``: a detector's findings in one request, all or none."""

from __future__ import annotations

from services.access import api_tokens
from services.cases.actions import MAX_BATCH_FINDINGS
from tests.builders import a_round, a_target, a_unit
from tests.web.conftest import a_user


def _token(app, username: str = "detector", **user) -> dict[str, str]:
    a_user(app, username, **user)
    with app.uow() as uow:
        issued = api_tokens.issue_token(uow, username=username, name="检测器")
        uow.commit()
    return {"Authorization": f"Bearer {issued.token}"}


def _findings(*targets: str, category: str = "column_stale") -> list[dict]:
    return [{"round": "2021Q2", "target": t, "category": category} for t in targets]


async def test_a_batch_opens_a_case_per_finding_and_updates_those_already_open(app, anon):
    headers = _token(app)
    with app.uow() as uow:
        a_round(uow, "2021Q2")
        for code in ("site-a", "site-b", "site-c"):
            a_target(uow, code)
        uow.commit()
    first = await anon.post(
        "/api/v1/findings/batch", json={"findings": _findings("site-a")}, headers=headers
    )
    assert first.status_code == 200
    again = await anon.post(
        "/api/v1/findings/batch",
        json={"findings": _findings("site-b", "site-a", "site-c")},
        headers=headers,
    )

    assert again.status_code == 200
    items = again.json()["items"]
    assert [i["created"] for i in items] == [True, False, True]
    assert items[1]["case_id"] == first.json()["items"][0]["case_id"]
    assert {i["state"] for i in items} == {"found"}
    listing = (await anon.get("/api/v1/cases", headers=headers)).json()["items"]
    assert len(listing) == 3


async def test_one_bad_finding_refuses_the_whole_batch_naming_each_by_its_place(app, anon):
    headers = _token(app)
    with app.uow() as uow:
        a_round(uow, "2021Q2")
        a_target(uow, "site-a")
        uow.commit()
    findings = _findings("site-a", "nope") + _findings("site-a", category="栏目太旧")
    response = await anon.post(
        "/api/v1/findings/batch", json={"findings": findings}, headers=headers
    )

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors[0] == "第 2 条：监测对象 nope 不存在"
    assert errors[1].startswith("第 3 条：问题类别「栏目太旧」不存在")
    listing = (await anon.get("/api/v1/cases", headers=headers)).json()["items"]
    assert listing == []  # site-a's valid finding was not written either


async def test_a_batch_outside_the_tokens_scope_or_too_large_is_refused(app, anon):
    with app.uow() as uow:
        a_unit(uow, "gengma", name="耿马县人民政府", kind="county_gov")
        a_unit(uow, "cangyuan", name="沧源县人民政府", kind="county_gov")
        a_target(uow, "theirs", unit_code="cangyuan")
        a_round(uow, "2021Q2")
        uow.commit()
    headers = _token(app, unit_code="gengma")
    outside = await anon.post(
        "/api/v1/findings/batch", json={"findings": _findings("theirs")}, headers=headers
    )
    assert outside.status_code == 403
    assert outside.json()["detail"] == "第 1 条：监测对象 theirs 不在您的管辖范围内"

    many = _findings(*["theirs"] * (MAX_BATCH_FINDINGS + 1))
    too_many = await anon.post("/api/v1/findings/batch", json={"findings": many}, headers=headers)
    assert too_many.status_code == 400 and "请分批上报" in too_many.json()["detail"]
    empty = await anon.post("/api/v1/findings/batch", json={"findings": []}, headers=headers)
    assert empty.status_code == 400 and empty.json()["detail"] == "没有要上报的检测发现"
