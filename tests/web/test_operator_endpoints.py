"""What an operator's probes and scraper read: /healthz, /readyz, /metrics, X-Request-ID."""

from __future__ import annotations

import re
from datetime import date

import httpx
import pytest
from sqlalchemy import update

from services.bootstrap import App
from services.core.clock import Clock
from services.db.engine import make_engine, make_session_factory
from services.db.migrate import upgrade
from services.db.models import OutboxMessage
from services.ops import health
from tests.builders import a_case
from tests.conftest import NOTICE_DAY
from web.app import create_app


def client(web, *, peer: str = "127.0.0.1") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=web, client=(peer, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample of a Prometheus text exposition."""
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = re.escape(name) + (r"\{" + re.escape(wanted) + r"\}" if labels else "") + r" (\S+)"
    found = re.search(rf"^{pattern}$", text, re.MULTILINE)
    assert found, f"no sample {name}{{{wanted}}} in:\n{text}"
    return float(found.group(1))


def app_on(settings, url: str) -> App:
    engine = make_engine(url)
    return App(settings.model_copy(update={"database_url": url}), engine,
               make_session_factory(engine), Clock(NOTICE_DAY))  # fmt: skip


@pytest.fixture(autouse=True)
def no_prefect(monkeypatch):
    monkeypatch.delenv("PREFECT_API_URL", raising=False)


async def test_a_ready_installation_answers_every_probe(app):
    async with client(create_app(app)) as c:
        alive = await c.get("/healthz")
        ready = await c.get("/readyz")

    assert alive.status_code == 200 and alive.json() == {"status": "ok"}
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "ready" and body["failed"] == []
    assert body["checks"]["database"] == "ok" and body["checks"]["migrations"] == "ok"
    assert "未配置" in body["checks"]["prefect"]


async def test_a_database_that_does_not_answer_is_not_ready_but_the_process_is_alive(settings):
    down = app_on(settings, "postgresql+psycopg://postgres@127.0.0.1:1/nowhere")
    async with client(create_app(down)) as c:
        alive = await c.get("/healthz")
        ready = await c.get("/readyz")
        scraped = await c.get("/metrics")
    down.close()

    assert alive.status_code == 200
    assert ready.status_code == 503
    assert ready.json()["failed"] == ["database", "migrations"]
    assert "数据库无法连接" in ready.json()["checks"]["database"]
    assert scraped.status_code == 200
    assert sample(scraped.text, "rectify_database_up") == 0


async def test_a_database_behind_the_codes_migrations_is_not_ready(settings, tmp_path):
    path = tmp_path / "behind.db"
    behind = app_on(settings, f"sqlite:///{path}")
    upgrade(behind.engine, "0007")
    async with client(create_app(behind)) as c:
        ready = await c.get("/readyz")
    behind.close()

    assert ready.status_code == 503
    assert ready.json()["failed"] == ["migrations"]
    message = ready.json()["checks"]["migrations"]
    assert "0007" in message and health.code_revision() in message
    assert "rectify db upgrade" in message


async def test_an_unreachable_prefect_api_is_named_when_one_is_configured(app, monkeypatch):
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:1/api")
    async with client(create_app(app)) as c:
        ready = await c.get("/readyz")
        scraped = await c.get("/metrics")

    assert ready.status_code == 503
    assert ready.json()["failed"] == ["prefect"]
    assert "127.0.0.1:1" in ready.json()["checks"]["prefect"]
    assert sample(scraped.text, "rectify_prefect_api_up") == 0


async def test_metrics_count_the_cases_the_overdue_and_the_outbox(app):
    with app.uow() as uow:
        a_case(uow, state="notified", on=date(2021, 6, 1))  # deadline 2021-06-11: overdue
        a_case(uow, state="rectifying", on=date(2021, 7, 15))  # deadline 2021-07-25
        a_case(uow, state="verified")
        a_case(uow, state="found")
        uow.commit()
    with app.uow() as uow:  # of the 5 notices written, the newest was sent, one failed
        newest = uow.session.query(OutboxMessage).order_by(OutboxMessage.id.desc()).first()
        uow.session.execute(update(OutboxMessage).where(OutboxMessage.id == newest.id)
                            .values(status="sent"))  # fmt: skip
        uow.session.execute(update(OutboxMessage).where(OutboxMessage.id == newest.id - 1)
                            .values(status="failed"))  # fmt: skip
        uow.commit()

    async with client(create_app(app)) as c:
        text = (await c.get("/metrics")).text

    cases = {s: sample(text, "rectify_cases", state=s) for s in ("found", "notified",
             "rectifying", "submitted", "verified", "escalated")}  # fmt: skip
    assert cases == {"found": 1, "notified": 1, "rectifying": 1, "submitted": 0,
                     "verified": 1, "escalated": 0}  # fmt: skip
    assert sample(text, "rectify_cases_overdue") == 1
    assert sample(text, "rectify_outbox_messages", status="pending") == 3
    assert sample(text, "rectify_outbox_messages", status="failed") == 1
    assert sample(text, "rectify_outbox_messages", status="sent") == 1
    assert sample(text, "rectify_outbox_waiting") == 3
    # The oldest waiting notice was written on 2021-06-01 at 09:00, 48 days before the day.
    assert sample(text, "rectify_outbox_oldest_waiting_seconds") == 48 * 86400
    assert sample(text, "rectify_database_up") == 1


async def test_the_latency_histogram_counts_requests_by_route_template(app):
    async with client(create_app(app)) as c:
        for case_id in (1, 2, 3):
            await c.get(f"/cases/{case_id}")
        await c.get("/no/such/page")
        text = (await c.get("/metrics")).text

    count = "rectify_http_request_duration_seconds_count"
    assert sample(text, count, method="GET", route="/cases/{case_id}", status="303") == 3
    assert sample(text, count, method="GET", route="unmatched", status="404") == 1
    assert "/no/such/page" not in text


async def test_metrics_need_the_token_once_one_is_set(app):
    token_app = app_on(app.settings.model_copy(update={"metrics_token": "s3cret"}),
                       app.settings.database_url)  # fmt: skip
    async with client(create_app(token_app)) as c:
        bare = await c.get("/metrics")
        wrong = await c.get("/metrics", headers={"Authorization": "Bearer guess"})
        right = await c.get("/metrics", headers={"Authorization": "Bearer s3cret"})
    async with client(create_app(token_app), peer="203.0.113.9") as c:
        remote = await c.get("/metrics", headers={"Authorization": "Bearer s3cret"})
    token_app.close()

    assert bare.status_code == wrong.status_code == 401
    assert bare.headers["www-authenticate"] == "Bearer"
    assert right.status_code == remote.status_code == 200
    assert "rectify_cases" in right.text


async def test_without_a_token_metrics_answer_only_loopback_requests_no_proxy_forwarded(app):
    web = create_app(app)
    async with client(web, peer="203.0.113.9") as c:
        remote = await c.get("/metrics")
    async with client(web) as c:
        proxied = await c.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
        local = await c.get("/metrics")

    assert remote.status_code == proxied.status_code == 403
    assert "RECTIFY_METRICS_TOKEN" in remote.text
    assert local.status_code == 200


async def test_every_answer_carries_a_request_id_a_plain_given_one_kept(app):
    async with client(create_app(app)) as c:
        given = await c.get("/login", headers={"X-Request-ID": "lb-7f3a.2:1"})
        hostile = await c.get("/login", headers={"X-Request-ID": "a b\tc" + "x" * 100})
        first, second = await c.get("/healthz"), await c.get("/no/such/page")

    assert given.headers["x-request-id"] == "lb-7f3a.2:1"
    made = [r.headers["x-request-id"] for r in (hostile, first, second)]
    assert all(re.fullmatch(r"[0-9a-f]{32}", m) for m in made)
    assert len(set(made)) == 3
