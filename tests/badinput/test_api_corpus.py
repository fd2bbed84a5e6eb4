"""Bad JSON API input: a Chinese JSON error (never a 500) and nothing written."""

from __future__ import annotations

import httpx

from services.access import api_tokens, users
from tests.badinput.corpus import footprint
from tests.builders import a_case, a_round, a_target, a_unit
from web.app import create_app

FINDING = {"round": "2021Q2", "target": "t1", "category": "column_stale"}
#: (method, url, JSON body or None, expected status, a fragment of the message)
API_REFUSED = [
    ("POST", "/api/v1/findings", FINDING | {"description": "a\u0000b"}, 400, "空字符"),
    ("POST", "/api/v1/findings", FINDING | {"round": "2021Q2\u0000"}, 400, "空字符"),
    ("POST", "/api/v1/findings", FINDING | {"severity": "nonsense"}, 400, "严重程度 nonsense 无效"),
    ("POST", "/api/v1/findings", FINDING | {"target": "nowhere"}, 400, "监测对象 nowhere 不存在"),
    ("POST", "/api/v1/findings", {"round": "2021Q2"}, 400, "请求参数无效"),
    ("POST", "/api/v1/findings", "not json", 400, "请求参数无效"),
    ("POST", "/api/v1/cases/1/transitions", {"trigger": "delete"}, 400, "不支持的操作"),
    (
        "POST",
        "/api/v1/cases/1/transitions",
        {"trigger": "escalate", "note": "\u0000"},
        400,
        "控制字符",
    ),
    ("POST", "/api/v1/cases/1/transitions", {"trigger": "reject"}, 400, "必须填写理由"),
    (
        "POST",
        "/api/v1/cases/1/transitions",
        {"trigger": "start", "expected_version": 99},
        409,
        "另一位人员已先处理",
    ),
    ("POST", "/api/v1/cases/99999999999/transitions", {"trigger": "start"}, 400, "请求参数无效"),
    ("GET", "/api/v1/cases?q=%00", None, 400, "空字符"),
    ("GET", "/api/v1/cases?unit=%00", None, 400, "空字符"),
    ("GET", "/api/v1/cases?cursor=%00zz", None, 400, "分页参数无效"),
    ("GET", "/api/v1/cases?limit=100000", None, 400, "请求参数无效"),
    ("GET", "/api/v1/targets?unit=%00", None, 400, "空字符"),
    ("GET", "/api/v1/targets?after_id=-1", None, 400, "请求参数无效"),
]


async def test_every_bad_api_request_gets_a_chinese_json_error_and_writes_nothing(app):
    with app.uow() as uow:
        a_round(uow, "2021Q2")
        a_unit(uow, "u1")
        a_case(uow, state="notified", target_code=a_target(uow, "t1", unit_code="u1").code)
        users.create_user(uow, username="api", role="admin")
        token = api_tokens.issue_token(uow, username="api", name="corpus").token
        uow.commit()
    transport = httpx.ASGITransport(app=create_app(app), raise_app_exceptions=False)
    headers = {"Authorization": f"Bearer {token}"}
    before, wrong = footprint(app), []

    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        for method, url, body, status, says in API_REFUSED:
            if isinstance(body, str):
                options = {
                    "content": body,
                    "headers": headers | {"content-type": "application/json"},
                }
            else:
                options = {"json": body, "headers": headers}
            response = await client.request(method, url, **options)
            detail = response.json().get("detail", "")
            if response.status_code != status or says not in detail:
                wrong.append(f"{method} {url} {body!r:.60}: {response.status_code} {detail!r}")
            if footprint(app) != before:
                wrong.append(f"{method} {url}: wrote something")
                before = footprint(app)

    assert wrong == [], "\n".join(wrong)
