"""Ids, cursors and counts past their column's range (a PostgreSQL integer, 2³¹ − 1; SQLite
overflows past 2⁶³): every path, query, form and JSON number is refused with a 4xx naming the
parameter and its range, and nothing is written (they used to answer 500)."""

from __future__ import annotations

import httpx
import pytest

from services.access import api_tokens
from tests.badinput.corpus import footprint
from tests.builders import a_round
from tests.web.conftest import a_user, csrf_of, login
from web.app import create_app

HUGE = "99999999999999999999999"
PAST = "2147483648"  # 2³¹: fits SQLite, overflows a PostgreSQL integer
IDS = "（1–2147483647）"
FROM_0 = "（0–2147483647）"

#: (method, url, form, fragment of the Chinese message): the pages, signed in as an admin.
PAGES = [
    ("GET", f"/cases?cursor=1~{HUGE}", None, f"cursor 中的编号超出范围{IDS}"),
    ("GET", f"/cases?cursor=1~{PAST}", None, f"cursor 中的编号超出范围{IDS}"),
    ("GET", f"/cases?cursor={HUGE}~1", None, f"cursor 中的排序值超出范围{IDS}"),
    ("GET", f"/cases?sort=escalation&cursor={PAST}~1", None, "cursor 中的排序值超出范围（0–"),
    ("GET", f"/cases?sort=round&desc=1&cursor=1~{HUGE}", None, "cursor 中的编号超出范围"),
    ("GET", "/cases?sort=deadline&cursor=2021-13-45~1", None, "分页参数无效：cursor"),
    ("GET", "/cases?size=100000", None, "参数 size 超出范围（5–500）"),
    ("GET", f"/registry/targets?page={HUGE}", None, f"参数 page 超出范围{IDS}"),
    ("GET", f"/registry/units?page={PAST}", None, f"参数 page 超出范围{IDS}"),
    ("GET", f"/cases/{PAST}", None, f"参数 case_id 超出范围{IDS}"),
    ("GET", f"/attachments/{HUGE}", None, f"参数 attachment_id 超出范围{IDS}"),
    ("POST", "/cases/bulk", {"action": "escalate", "case_ids": HUGE}, f"case_ids 超出范围{IDS}"),
    ("POST", "/cases/bulk", {"action": "escalate", "case_ids": PAST}, f"case_ids 超出范围{IDS}"),
    ("POST", "/cases/bulk", {"action": "escalate", "case_ids": "0"}, f"case_ids 超出范围{IDS}"),
    ("POST", "CASE/transition", {"trigger": "start", "version": PAST}, f"version 超出范围{FROM_0}"),
    ("POST", f"/registry/units/gengma/links/{PAST}/revoke", {}, f"link_id 超出范围{IDS}"),
    ("POST", "/rounds", {"deadline_days": HUGE}, "整改天数（deadline_days）超出范围（1–365）"),
    ("POST", "/rounds", {"deadline_days": PAST}, "整改天数（deadline_days）超出范围（1–365）"),
]
ROUND_FORM = {"code": "2021Q3", "period_start": "2021-07-01", "period_end": "2021-09-30"}
#: (method, url, JSON body, fragment of ``detail``): the API, with an admin's token.
API = [
    ("GET", f"/api/v1/cases?cursor=1~{HUGE}", None, f"cursor 中的编号超出范围{IDS}"),
    ("GET", f"/api/v1/cases?cursor=1~{PAST}", None, f"cursor 中的编号超出范围{IDS}"),
    ("GET", f"/api/v1/cases/{PAST}", None, f"参数 case_id 超出范围{IDS}"),
    ("GET", f"/api/v1/cases/{HUGE}/events", None, f"参数 case_id 超出范围{IDS}"),
    ("GET", f"/api/v1/targets?after_id={PAST}", None, f"参数 after_id 超出范围{FROM_0}"),
    (
        "POST",
        "/api/v1/cases/CASE/transitions",
        {"trigger": "start", "expected_version": int(PAST)},
        f"参数 expected_version 超出范围{FROM_0}",
    ),
]


@pytest.fixture
async def admin(app, two_units):
    created = a_user(app, "li", role="admin")
    transport = httpx.ASGITransport(app=create_app(app), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        assert (await login(client, "li", created.password)).status_code == 303
        yield client


async def test_every_number_past_its_range_on_a_page_is_refused_naming_the_parameter(
    app, admin, two_units
):
    with app.uow() as uow:
        a_round(uow, "2021Q2")
        uow.commit()
    csrf = csrf_of(await admin.get("/rounds"))
    before, wrong = footprint(app), []
    for method, url, form, says in PAGES:
        url = url.replace("CASE", f"/cases/{two_units.case_a}")
        data = None
        if form is not None:
            data = (ROUND_FORM if url == "/rounds" else {}) | form | {"csrf_token": csrf}
        response = await admin.request(method, url, data=data)
        if not (
            400 <= response.status_code < 500
            and "text/html" in response.headers["content-type"]
            and says in response.text
        ):
            wrong.append(f"{method} {url} {form}: {response.status_code} {_said(response)}")
        if footprint(app) != before:
            wrong.append(f"{method} {url}: wrote something")
            before = footprint(app)

    assert wrong == [], "\n".join(wrong)


async def test_every_number_past_its_range_in_the_api_is_refused_naming_the_parameter(
    app, two_units
):
    with app.uow() as uow:
        a_user(app, "api", role="admin")
        token = api_tokens.issue_token(uow, username="api", name="ranges").token
        uow.commit()
    transport = httpx.ASGITransport(app=create_app(app), raise_app_exceptions=False)
    headers = {"Authorization": f"Bearer {token}"}
    before, wrong = footprint(app), []
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        for method, url, body, says in API:
            url = url.replace("CASE", str(two_units.case_a))
            response = await client.request(method, url, json=body, headers=headers)
            answer = response.json() if "json" in response.headers["content-type"] else {}
            if not (
                400 <= response.status_code < 500
                and says in answer.get("detail", "")
                and isinstance(answer.get("errors"), list)
            ):
                wrong.append(f"{method} {url} {body}: {response.status_code} {answer}")
            if footprint(app) != before:
                wrong.append(f"{method} {url}: wrote something")
                before = footprint(app)

    assert wrong == [], "\n".join(wrong)


def _said(response: httpx.Response) -> str:
    start = response.text.find("<p>")
    return response.text[start : start + 200] if start >= 0 else response.text[:200]
