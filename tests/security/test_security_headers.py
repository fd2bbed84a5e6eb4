"""Every route answers with the security headers: a strict content policy, no framing, no
sniffing, no Referer leaving a portal page, and nothing but static files stored by the browser.

The routes are those of the access table (``ACCESS``, which lists every route of the app); each
is asked by a visitor it serves (a unit's link for the portal, an admin otherwise), and a page
that is not there and a crash answer with the headers too.
"""

from __future__ import annotations

import httpx

from services.db.models import Case
from tests.security.test_access_table import ACCESS, answer_of, request_for, route_keys
from tests.security.world import build, sign_in
from web.app import create_app

POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


def expected_headers(path: str) -> dict[str, str | None]:
    portal = path.startswith("/portal/")
    return {
        "content-security-policy": POLICY,
        "x-frame-options": "DENY",
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer" if portal else "same-origin",
        "cache-control": None if path.startswith("/static/") else "no-store",
    }


def wrong_headers(response: httpx.Response) -> dict[str, tuple]:
    expected = expected_headers(response.request.url.path)
    return {
        name: (response.headers.get(name), value)
        for name, value in expected.items()
        if value is not None and response.headers.get(name) != value
    }


async def test_every_route_answers_with_the_security_headers(app):
    world = build(app)
    web = create_app(app)
    assert route_keys(web.routes) == set(ACCESS)

    def crash():
        raise RuntimeError("boom")

    web.add_api_route("/crash-for-the-test", crash)
    transport = httpx.ASGITransport(app=web, raise_app_exceptions=False)
    wrong, answers = [], set()
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        csrf = await sign_in(client, "li", world.passwords["admin"])
        for key in ACCESS:
            actor = "link" if " /portal/" in key else "admin"
            method, url, options = request_for(key, actor, world, csrf)
            if "data" in options and options["data"].get("version") == "VERSION":
                with app.uow() as uow:
                    version = uow.session.get(Case, world.owned[actor].case).version
                options["data"]["version"] = str(version)
            response = await client.request(method, url, **options)
            answers.add(answer_of(response))
            if bad := wrong_headers(response):
                wrong.append(f"{key} ({response.status_code}): {bad}")
        for path in ("/no-such-page", "/crash-for-the-test"):
            response = await client.get(path)
            answers.add(response.status_code)
            if bad := wrong_headers(response):
                wrong.append(f"GET {path} ({response.status_code}): {bad}")

    assert wrong == [], "\n".join(wrong)
    assert {200, 303, 404, 500} <= answers  # pages, redirects, refusals and a crash were asked
