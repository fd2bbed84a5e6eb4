"""The pages fuzzed like the API: every page route (``include_in_schema=False``, so schemathesis
never sees them) is enumerated from ``app.routes`` with its declared path, query and form
parameters, and sent hostile values (huge and negative numbers, non-numbers, empty, unicode,
NUL, very long text) as a signed-in admin with the session's CSRF token: no answer is a 5xx.

Hypothesis draws the requests, derandomized (the same requests every run, no example database).
"""

from __future__ import annotations

import asyncio
import typing
from dataclasses import dataclass
from urllib.parse import quote

import httpx
from fastapi import params
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from services.core.limits import MAX_ID
from tests.security.world import build, sign_in
from tests.web.conftest import cheap_argon2  # noqa: F401 - cheap password hashes here too
from web.app import create_app

EXAMPLES = 20  # drawn requests per route and backend, after the sweep of EDGES
#: Routes left out: signing out would end the session the rest run in.
SKIPPED = {"POST /logout"}
HUGE = "9" * 30
#: Swept through every parameter of every route, one at a time, the others valid or left out.
EDGES = ["-1", "0", str(MAX_ID + 1), HUGE, "1.5", "abc", "", "\x00", "x" * 5000, f"1~{HUGE}"]
NUMBERS = [*EDGES[:4], str(MAX_ID), str(2**63), "-" + HUGE, "1e9", "NaN", "0x10", "1_000"]
NUMBERS += ["２０２１", "١٢", "9" * 5000]
WORDS = [" ", "true", "a\x00b", "%00", "\u202e", "\ufeff", "名称", "../../etc/passwd", "weird"]
WORDS += ["<script>alert(1)</script>", "' OR 1=1 --", "长" * 400, "working", "2021Q2", "2021Q3"]
DATES = ["2021-07-01", "2021-09-30", "2040-01-05", "2021-13-45", "9999-12-31", "0001-01-01"]
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
NUMBER = st.one_of(st.sampled_from(NUMBERS), st.integers().map(str))
CURSOR = st.tuples(st.one_of(NUMBER, st.sampled_from(DATES)), NUMBER).map("~".join)
NOISE = st.one_of(NUMBER, st.sampled_from(WORDS), st.sampled_from(DATES), CURSOR, TEXT)


@dataclass(frozen=True)
class Param:
    source: str  # path | query | form | file
    name: str
    many: bool  # a list (repeated field)


def route_params(route) -> list[Param]:
    """The parameters a route declares, its dependencies' included (the case list's filters)."""
    found: dict[str, Param] = {}

    def walk(dependant) -> None:
        for source, fields in (
            ("path", dependant.path_params),
            ("query", dependant.query_params),
            ("form", dependant.body_params),
        ):
            for field in fields:
                info = field.field_info
                kind = "file" if isinstance(info, params.File) else source
                many = typing.get_origin(info.annotation) is list
                found.setdefault(field.alias, Param(kind, field.alias, many))
        for sub in dependant.dependencies:
            walk(sub)

    walk(route.dependant)
    return [p for p in found.values() if p.name != "csrf_token"]


def page_routes(web) -> list[tuple[str, typing.Any]]:
    """(method, route) of every page (the JSON API has its own fuzzing from its schema),
    looking into included routers as ``tests.security.test_access_table.route_keys`` does."""
    routes = []
    for top in web.routes:
        contexts = getattr(top, "effective_route_contexts", None)
        for route in contexts() if callable(contexts) else [top]:
            if not hasattr(route, "dependant") or route.path.startswith("/api/"):
                continue
            for method in sorted(set(route.methods or ()) - {"HEAD"}):
                if f"{method} {route.path}" not in SKIPPED:
                    routes.append((method, route))
    return routes


def valid_values(world) -> dict[str, list[str]]:
    own = world.owned["admin"]
    return {
        "case_id": [str(own.case)],
        "attachment_id": [str(own.attachment)],
        "link_id": [str(own.link)],
        "token": [world.link_a],
        "unit_code": ["gengma"],
        "round_code": ["2021Q2"],
        "fmt": ["md", "html", "docx", "csv", "xlsx"],
        "case_ids": [str(own.case)],
        "code": ["2021Q3", "gengma"],
        "period_start": ["2021-07-01"],
        "period_end": ["2021-09-30"],
        "name": ["新名称"],
        "kind": ["city_dept", "website"],
        "action": ["escalate"],
        "trigger": ["start"],
        "version": ["1"],
    }


def request_strategy(method: str, route, valid: dict[str, list[str]]):
    """(method, url, query, form, files), each parameter left out, valid or hostile."""
    parameters = route_params(route)

    def value(param: Param):
        known = valid.get(param.name)
        one = st.one_of(st.sampled_from(known), NOISE) if known else NOISE
        if param.source == "path":
            return one  # a path segment is always there
        if param.source == "file":
            file = st.tuples(NOISE.map(lambda n: f"{n[:60]}.csv"), NOISE.map(str.encode))
            return st.one_of(st.none(), st.lists(file, max_size=2))
        many = st.lists(one, min_size=1, max_size=3) if param.many else one
        return st.one_of(st.none(), many, many)

    return st.fixed_dictionaries({p.name: value(p) for p in parameters}).map(
        lambda drawn: _request(method, route.path, parameters, drawn)
    )


def edge_sweep(method: str, route, valid: dict[str, list[str]]):
    """Every EDGE in every parameter in turn; the others valid (or 1 in a path) or left out."""
    parameters = [p for p in route_params(route) if p.source != "file"]
    usual = {
        p.name: (valid.get(p.name) or ["1" if p.source == "path" else None])[0] for p in parameters
    }
    for param in parameters:
        for edge in EDGES:
            drawn = usual | {param.name: [edge] if param.many else edge}
            yield _request(method, route.path, parameters, drawn)


def _request(method: str, path: str, parameters: list[Param], drawn: dict):
    url = path
    query, form, files = {}, {}, []
    for param in parameters:
        value = drawn[param.name]
        if param.source == "path":
            url = url.replace(f"{{{param.name}}}", quote(value, safe="") or "%20")
        elif value is None:
            continue
        elif param.many and not isinstance(value, list):
            (query if param.source == "query" else form)[param.name] = [value]
        elif param.source == "query":
            query[param.name] = value
        elif param.source == "form":
            form[param.name] = value
        else:
            files += [(param.name, f) for f in value]
    return method, url, query, form, files


def test_fuzzing_every_page_route_finds_no_server_error(app):
    world = build(app)
    web = create_app(app)
    loop = asyncio.new_event_loop()  # hypothesis calls the body synchronously: one loop for all
    transport = httpx.ASGITransport(app=web, raise_app_exceptions=False)
    client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
    try:
        csrf = loop.run_until_complete(sign_in(client, "li", world.passwords["admin"]))
        send = _sender(client, csrf, lambda c: loop.run_until_complete(c))
        tried, failed = _fuzz(web, valid_values(world), send)
    finally:
        loop.run_until_complete(client.aclose())
        loop.close()

    print(f"page fuzz: {sum(tried.values())} requests over {len(tried)} routes")
    assert failed == {}, "\n".join(f"{k}: {v}" for k, v in failed.items())
    assert len(tried) >= 20


def _sender(client: httpx.AsyncClient, csrf: str, run):
    """Send one drawn request (a POST with the session's CSRF token); its response."""

    def send(request) -> tuple[httpx.Response, str]:
        method, url, query, form, files = request
        options: dict = {"params": query}
        if method != "GET":
            options["data"] = form | {"csrf_token": csrf}
            options["files"] = files or None
        return run(client.request(method, url, **options)), f"{url} {query} {form}"

    return send


def _fuzz(web, valid: dict[str, list[str]], send) -> tuple[dict[str, int], dict[str, str]]:
    tried: dict[str, int] = {}
    failed: dict[str, str] = {}
    for method, route in page_routes(web):
        key = f"{method} {route.path}"
        for request in edge_sweep(method, route, valid):
            _check(key, send(request), tried, failed)
        _fuzz_route(key, request_strategy(method, route, valid), send, tried, failed)
    return tried, failed


def _fuzz_route(key: str, requests, send, tried: dict, failed: dict) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(request=requests)
    def fuzz(request):
        _check(key, send(request), tried, failed)

    fuzz()


def _check(key: str, answer: tuple[httpx.Response, str], tried: dict, failed: dict) -> None:
    response, sent = answer
    tried[key] = tried.get(key, 0) + 1
    if response.status_code >= 500 and key not in failed:
        failed[key] = f"{response.status_code} on {sent}"[:600]
