"""Every route of the web app, tried by every kind of visitor: the answers are one table.

``ACCESS`` has one row per route (enumerated from ``app.routes``: a new route without a row
fails) and one column per actor. An answer is a status code, ``login`` (redirect to the login
page) or ``303=`` (a redirect that must change nothing); every refusal (401/403/404/login)
must also leave every table unchanged.
"""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from services.db.channel_models import UnitChannel
from services.db.models import Case
from tests.badinput.corpus import footprint
from tests.security.world import ACCOUNTS, ACTORS, PDF, World, build, sign_in
from web.app import create_app

ADMIN_ONLY = ("login", "login", "login", 403, 403, 403, 303)
#          anon     link     other   viewer  county  superv. admin
ACCESS: dict[str, tuple] = {
    "GET /openapi.json": (200, 200, 200, 200, 200, 200, 200),
    "GET /static": (200, 200, 200, 200, 200, 200, 200),
    "GET /favicon.ico": (200, 200, 200, 200, 200, 200, 200),
    # Operators' probes: public; /metrics only from loopback unforwarded (or with its token).
    "GET /healthz": (200, 200, 200, 200, 200, 200, 200),
    "GET /readyz": (200, 200, 200, 200, 200, 200, 200),
    "GET /metrics": (200, 200, 200, 200, 200, 200, 200),
    "GET /docs": (200, 200, 200, 200, 200, 200, 200),
    "GET /login": (200, 200, 200, 200, 200, 200, 200),
    "POST /login": (400, 400, 400, 400, 400, 400, 400),  # wrong password, for everyone
    "GET /": ("login", "login", "login", 200, 200, 200, 200),
    "GET /cases": ("login", "login", "login", 200, 200, 200, 200),
    "GET /cases/export.{fmt}": ("login", "login", "login", 200, 200, 200, 200),
    "POST /cases/bulk": ("login", "login", "login", 403, "303=", 303, 303),
    "GET /cases/{case_id}": ("login", "login", "login", 200, 403, 200, 200),
    "POST /cases/{case_id}/transition": ("login", "login", "login", 403, 403, 303, 303),
    "POST /cases/{case_id}/deadline": ("login", "login", "login", 403, 403, 303, 303),
    "GET /attachments/{attachment_id}": ("login", "login", "login", 200, 403, 200, 200),
    "GET /registry/units": ("login", "login", "login", 200, 200, 200, 200),
    "POST /registry/units": ("login", "login", "login", 403, 403, 403, 303),
    # A unit's portal links (county A's): its admins and supervisors, never a viewer.
    "POST /registry/units/{unit_code}/links": ("login", "login", "login", 403, 403, 200, 200),
    "POST /registry/units/{unit_code}/links/{link_id}/revoke": (
        "login",
        "login",
        "login",
        403,
        403,
        303,
        303,
    ),
    # Email the unit a new link (confirmed): queues one outbox row.
    "POST /registry/units/{unit_code}/links/resend": (
        "login",
        "login",
        "login",
        403,
        403,
        303,
        303,
    ),
    # A unit's group robots (county A's): those who edit the unit, admins. The test message
    # goes to a closed loopback port: the page says it failed (303).
    "POST /registry/units/{unit_code}/channels": ADMIN_ONLY,
    "POST /registry/units/{unit_code}/channels/{channel_id}/test": ADMIN_ONLY,
    "POST /registry/units/{unit_code}/channels/{channel_id}/enabled": ADMIN_ONLY,
    "POST /registry/units/{unit_code}/channels/{channel_id}/remove": ADMIN_ONLY,
    "GET /registry/targets": ("login", "login", "login", 200, 200, 200, 200),
    "POST /registry/targets": ("login", "login", "login", 403, 403, 403, 303),
    "GET /rounds": ("login", "login", "login", 200, 200, 200, 200),
    "POST /rounds": ("login", "login", "login", 403, 403, 403, 303),
    # The category catalogue: shared by every office, kept by admins and whole-tree supervisors.
    "GET /categories": ("login", "login", "login", 200, 200, 200, 200),
    "POST /categories": ("login", "login", "login", 403, 403, 303, 303),
    "POST /categories/{category_code}": ("login", "login", "login", 403, 403, 303, 303),
    "GET /registry/import": ("login", "login", "login", 200, 200, 200, 200),
    "POST /registry/import": ("login", "login", "login", 403, 403, 403, 200),
    # The round (2021Q2) is county A's office's: another county's supervisor may not read it.
    # Confirmed: the supervisor publishes; the admin, after him, is refused a second publication.
    "POST /rounds/{round_code}/publish": ("login", "login", "login", 403, 403, 303, 400),
    "GET /rounds/{round_code}/notice.{fmt}": ("login", "login", "login", 200, 403, 200, 200),
    "GET /rounds/{round_code}/ledger.{fmt}": ("login", "login", "login", 200, 403, 200, 200),
    # Notice settings: the round's page, its blocks; issuers (county A's, 耿马) by their unit.
    "GET /rounds/{round_code}/notice": ("login", "login", "login", 200, 403, 200, 200),
    "POST /rounds/{round_code}/notice": ("login", "login", "login", 403, 403, 303, 303),
    "POST /rounds/{round_code}/blocks/{kind}": ("login", "login", "login", 403, 403, 303, 303),
    "GET /issuers": ("login", "login", "login", 200, 200, 200, 200),
    "POST /issuers": ("login", "login", "login", 403, 403, 403, 303),
    "GET /issuers/{unit_code}": ("login", "login", "login", 200, 403, 200, 200),
    "POST /issuers/{unit_code}": ("login", "login", "login", 403, 403, 303, 303),
    "GET /portal/{token}": (403, 200, 200, 403, 403, 403, 403),
    "GET /portal/{token}/cases/{case_id}": (403, 200, 403, 403, 403, 403, 403),
    "POST /portal/{token}/cases/{case_id}": (403, 303, 403, 403, 403, 403, 403),
    "GET /portal/{token}/cases/{case_id}/done": (403, 200, 403, 403, 403, 403, 403),
    "GET /portal/{token}/attachments/{attachment_id}": (403, 200, 403, 403, 403, 403, 403),
    "GET /api/v1/cases": (401, 401, 401, 200, 200, 200, 200),
    "GET /api/v1/cases/{case_id}": (401, 401, 401, 200, 403, 200, 200),
    "GET /api/v1/cases/{case_id}/events": (401, 401, 401, 200, 403, 200, 200),
    "GET /api/v1/cases/{case_id}/submissions": (401, 401, 401, 200, 403, 200, 200),
    "POST /api/v1/cases/{case_id}/transitions": (401, 401, 401, 403, 403, 200, 200),
    "POST /api/v1/findings": (401, 401, 401, 403, 403, 201, 201),
    "POST /api/v1/findings/batch": (401, 401, 401, 403, 403, 200, 200),
    "GET /api/v1/units": (401, 401, 401, 200, 200, 200, 200),
    "GET /api/v1/targets": (401, 401, 401, 200, 200, 200, 200),
    "GET /api/v1/rounds": (401, 401, 401, 200, 200, 200, 200),
    "POST /logout": ("login",) * 7,  # last: it ends the session
}
REFUSALS = {401, 403, 404, "login", "303="}


def route_keys(routes) -> set[str]:
    """'METHOD path' of every route, looking into included routers; HEAD is GET's twin."""
    keys = set()
    for route in routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if contexts is not None:
            contexts = contexts() if callable(contexts) else contexts
            keys |= {f"{m} {c.path}" for c in contexts for m in c.methods or ["GET"]}
        else:
            keys |= {f"{m} {route.path}" for m in getattr(route, "methods", None) or ["GET"]}
    return {key for key in keys if not key.startswith("HEAD ")}


def request_for(key: str, actor: str, world: World, csrf: str) -> tuple[str, str, dict]:
    """The concrete request an actor sends for a route: its own resources, valid input."""
    own = world.owned[actor]
    token = {"link": world.link_a, "other_link": world.link_b}.get(actor, "not-a-link")
    method, path = key.split(" ", 1)
    url = path.format(
        fmt={"/cases/export.{fmt}": "csv", "notice": "md", "ledger": "csv"}.get(
            path, "md" if "notice" in path else "csv"
        ),
        case_id=own.api_case if path.startswith("/api/") else own.case,
        attachment_id=own.attachment,
        round_code="2021Q2",
        token=token,
        unit_code="gengma",
        link_id=own.link,
        channel_id="CHANNEL",  # the admin's (added just before), resolved when sent
        category_code="typos",
        kind="recheck",
    )
    if path == "/static":
        url = "/static/app.css"
    if path.startswith("/portal/") and path != "/portal/{token}" and "attachments" not in path:
        url = path.format(
            token=token, case_id=own.attachment if path.endswith("done") else own.case
        )
    form = {"csrf_token": csrf}
    options: dict = {}
    if path.startswith("/api/"):
        bearer = world.tokens.get(actor) or (token if actor.endswith("link") else None)
        options["headers"] = {"Authorization": f"Bearer {bearer}"} if bearer else {}
    bodies = {
        "POST /login": {"username": "nobody", "password": "wrong"},
        # Confirmed (the first POST only shows what it would send: tests/web/test_mail_confirmations.py)
        "POST /cases/bulk": {
            "action": "escalate",
            "case_ids": [str(own.case)],
            "back": "/cases",
            "confirmed": "1",
        },
        "POST /rounds/{round_code}/publish": {"confirmed": "1"},
        "POST /cases/{case_id}/transition": {"trigger": "start", "version": "VERSION", "note": ""},
        "POST /cases/{case_id}/deadline": {"new_deadline": "2021-12-31", "reason": "单位申请"},
        "POST /registry/units/{unit_code}/links/resend": {"confirmed": "1"},
        "POST /registry/units/{unit_code}/channels": {
            "kind": "wecom",
            "webhook_url": "http://127.0.0.1:9/cgi-bin/webhook/send?key=k",
            "name": f"机器人{actor}",
        },
        "POST /registry/units/{unit_code}/channels/{channel_id}/enabled": {"enabled": "0"},
        "POST /registry/units": {
            "code": f"u-{actor}",
            "name": f"新单位{actor}",
            "kind": "city_dept",
        },
        "POST /registry/targets": {
            "code": f"t-{actor}",
            "unit_code": "gengma",
            "kind": "website",
            "name": f"新网站{actor}",
        },
        "POST /categories": {"code": f"c_{actor}", "name": f"类别{actor}", "severity": "扣分"},
        "POST /categories/{category_code}": {"theme": f"{actor}改的主题"},
        "POST /rounds": {
            "code": "2021Q4",
            "period_start": "2021-10-01",
            "period_end": "2021-12-31",
        },
        "POST /rounds/{round_code}/notice": {"text:addressees": f"{actor}改的：", "action": "save"},
        "POST /rounds/{round_code}/blocks/{kind}": {
            "block:recheck:initial": "2021-05-10",
            "block:recheck:recheck": "2021-06-21",
        },
        "POST /issuers": {
            "unit_code": "lincang",
            "name": "临沧市人民政府办公室",
            "short_name": "市政府办公室",
            "level": "city",
        },
        "POST /issuers/{unit_code}": {"text:addressees": f"{actor}改的："},
        "POST /portal/{token}/cases/{case_id}": {
            "text": "已整改",
            "responsible_person": "李明",
            "phone": "0883-1234567",
        },
    }
    if key in bodies or (method == "POST" and not path.startswith("/api/")):
        options["data"] = form | bodies.get(key, {})
    if key == "POST /registry/import":
        units = (
            f"单位代码,单位名称,上级单位代码,类型\nimp-{actor},导入单位{actor},lincang,city_dept\n"
        )
        options["files"] = [("files", ("units.csv", units.encode()))]
    if key == "POST /portal/{token}/cases/{case_id}":
        options["files"] = [("attachments", ("整改报告.pdf", PDF))]
    if key == "POST /api/v1/cases/{case_id}/transitions":
        options["json"] = {"trigger": "start"}
    if key == "POST /api/v1/findings":
        options["json"] = {"round": "2021Q2", "target": own.target, "category": "column_stale"}
    if key == "POST /api/v1/findings/batch":
        finding = {"round": "2021Q2", "target": own.target, "category": "column_stale"}
        options["json"] = {"findings": [finding]}
    return method, url, options


def answer_of(response: httpx.Response):
    if response.status_code in (302, 303, 307) and response.headers["location"].startswith(
        "/login"
    ):
        return "login"
    return response.status_code


@pytest.fixture
def world(app) -> World:
    return build(app)


async def test_every_route_answers_every_kind_of_visitor_as_the_access_table_says(app, world):
    web = create_app(app)
    assert route_keys(web.routes) == set(ACCESS), "a route was added or removed: update ACCESS"
    transport = httpx.ASGITransport(app=web, raise_app_exceptions=False)
    wrong, checks = [], 0

    for column, actor in enumerate(ACTORS):
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            username, _role, _scope = ACCOUNTS.get(actor, (None, None, None))
            csrf = await sign_in(client, username, world.passwords.get(actor))
            for key, answers in ACCESS.items():
                expected = answers[column]
                method, url, options = request_for(key, actor, world, csrf)
                if "data" in options and options["data"].get("version") == "VERSION":
                    with app.uow() as uow:
                        options["data"]["version"] = str(
                            uow.session.get(Case, world.owned[actor].case).version
                        )
                if "CHANNEL" in url:
                    with app.uow() as uow:
                        last = uow.session.scalar(select(func.max(UnitChannel.id)))
                    url = url.replace("CHANNEL", str(last or 1))
                before = footprint(app) if expected in REFUSALS else None
                response = await client.request(method, url, **options)
                got = answer_of(response)
                checks += 1
                if got != (303 if expected == "303=" else expected):
                    wrong.append(f"{actor:10} {key}: expected {expected}, got {got}")
                elif before is not None and footprint(app) != before:
                    wrong.append(f"{actor:10} {key}: refused ({got}) but wrote something")

    print(f"access checks made: {checks}")
    assert checks == len(ACCESS) * len(ACTORS)
    assert wrong == [], "\n".join(wrong)
