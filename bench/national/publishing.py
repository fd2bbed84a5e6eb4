"""National quarter: new-media findings over the API, publication, delivery (and its limit).

* ``nm_findings``: an external detector posts the new-media findings to a real web server
  (``rectify serve`` in its own process: the system's cost, measured as a child) through
  ``POST /api/v1/findings/batch`` with an API token of a supervisor who sees everything,
  ``IN_FLIGHT`` requests at a time;
* ``publish``: every office's round published on the notice day through the product's flow
  ``publish-rounds`` (one flow run for all the rounds);
* ``deliver``: the outbox sent by the product's dispatcher to an aiosmtpd sink in its own
  process (the outside world: excluded from the stage's cost), which counts each Message-ID;
* ``outbox_limit``: ``bench/bench_outbox.py``'s limit (pre-rendered messages, reused
  connections, no database) for the same number of messages.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import func, select

from bench import bench_outbox
from bench.national import measure
from bench.national.plan import INSPECTION_DAY, NOTICE_DAY, Plan
from bench.national.quarter import Done, Quarter
from bench.national.smtp_sink import SmtpSink, free_port
from services.access import api_tokens, users
from services.db.models import Case, OutboxMessage, Round
from services.mail import outbox
from services.registry.catalogue import ensure_seeded

NM_CATEGORY = "nm_stale"  # 政务新媒体内容不更新: the detector's "no update in two weeks"
IN_FLIGHT = 50  # requests at once
BATCH = 100  # findings per request (the batch endpoint's limit is larger)
DETECTOR = "nm-detector"
SENDER = "rectify@national.test"
CONNECTIONS = bench_outbox.CONNECTIONS
ROOT = Path(__file__).resolve().parents[2]


# -- the web server and the detector ------------------------------------------------------------
def _detector_token(q: Quarter) -> str:
    """A supervisor without a unit (sees every unit) and a token acting as that user."""
    app = q.app(as_of=INSPECTION_DAY)
    try:
        with app.uow() as uow:
            ensure_seeded(uow)  # as ``rectify db upgrade`` does; a no-op when seeded already
            users.create_user(
                uow, username=DETECTOR, role="supervisor", display_name="新媒体检测器"
            )
            token = api_tokens.issue_token(uow, username=DETECTOR, name="新媒体检测器").token
            uow.commit()
    finally:
        app.close()
    return token


def start_server(q: Quarter, *, as_of=INSPECTION_DAY) -> tuple[subprocess.Popen, str]:
    """``rectify serve`` as a child process on a free port; returns it and its base URL."""
    port = free_port()
    env = {
        **os.environ,
        **q.env,
        "RECTIFY_SECRET_KEY": "national-bench",
        "RECTIFY_AS_OF": as_of.isoformat(),
        "PYTHONPATH": str(ROOT),
    }
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "rectify"), "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(q.workdir / "serve.log", "wb"),  # noqa: SIM115 - closed with the process
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the web server exited: see {q.workdir / 'serve.log'}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return server, url
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    stop(server)
    raise RuntimeError("the web server did not start in 60 s")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


def findings_of(plan: Plan) -> list[dict]:
    return [
        {
            "round": Plan.round_code(account.office_code),
            "target": account.code,
            "category": NM_CATEGORY,
            "description": "检查前2周内无更新",
            "source": "automated",
            "evidence": {"detector": DETECTOR, "last_post": "2021-09-01"},
        }
        for account in plan.nm_finding_accounts()
    ]


async def _post_all(url: str, token: str, findings: list[dict]) -> dict[str, int]:
    """Every batch posted, ``IN_FLIGHT`` at once; counts of created and updated cases."""
    chunks = [findings[i : i + BATCH] for i in range(0, len(findings), BATCH)]
    counts = {"created": 0, "updated": 0, "requests": 0}
    gate = asyncio.Semaphore(IN_FLIGHT)
    limits = httpx.Limits(max_connections=IN_FLIGHT, max_keepalive_connections=IN_FLIGHT)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=600) as c:

        async def post(chunk: list[dict]) -> None:
            async with gate:
                response = await c.post("/api/v1/findings/batch", json={"findings": chunk})
            if response.status_code != 200:
                raise RuntimeError(f"batch refused: {response.status_code} {response.text[:500]}")
            for item in response.json()["items"]:
                counts["created" if item["created"] else "updated"] += 1
            counts["requests"] += 1

        await asyncio.gather(*(post(chunk) for chunk in chunks))
    return counts


def nm_findings(q: Quarter) -> Done:
    """The new-media findings posted through the API of a real web server, in batches."""
    findings = findings_of(q.plan)
    token = _detector_token(q)
    started = time.perf_counter()
    server, url = start_server(q)
    posting = time.perf_counter()
    try:
        counts = asyncio.run(_post_all(url, token, findings))
    finally:
        stop(server)
    # Where the wall time went: the server's start-up is a fixed cost, the posting scales.
    counts["server_start_seconds"] = round(posting - started, 2)
    counts["posting_seconds"] = round(time.perf_counter() - posting, 2)
    if counts["created"] != len(findings):
        raise RuntimeError(f"{counts['created']} cases opened for {len(findings)} findings")
    return Done(
        len(findings),
        "findings",
        {**counts, "in_flight": IN_FLIGHT, "per_request": BATCH, "category": NM_CATEGORY},
    )


# -- publication --------------------------------------------------------------------------------
def publish(q: Quarter) -> Done:
    """Every office's round published on the notice day: one ``publish-rounds`` flow run."""
    from flows.publish import publish_rounds

    codes = [Plan.round_code(office.code) for office in q.plan.offices]
    with q.flow_env():
        summary = publish_rounds(codes, as_of=NOTICE_DAY)
    app = q.app(as_of=NOTICE_DAY)
    try:
        with app.uow() as uow:
            s = uow.session
            unpublished = s.scalar(select(func.count()).where(Round.published_at.is_(None)))
            found_left = s.scalar(select(func.count()).where(Case.state == "found"))
            emails = s.scalar(select(func.count()).where(OutboxMessage.template == "round_notice"))
            units_with_cases = s.scalar(select(func.count(func.distinct(Case.unit_id))))
    finally:
        app.close()
    if unpublished or found_left or emails != units_with_cases:
        raise RuntimeError(
            f"{unpublished} rounds unpublished, {found_left} cases still found, "
            f"{emails} notice emails for {units_with_cases} units with cases"
        )
    q.facts["emails_queued"] = emails
    return Done(
        summary["notified"],
        "cases notified",
        {"rounds_published": summary["rounds"], "emails_queued": emails},
    )


# -- delivery -----------------------------------------------------------------------------------
def start_sink(q: Quarter) -> SmtpSink:
    """The SMTP sink, its pid among the quarter's outside processes (not the system's cost)."""
    sink = SmtpSink()
    q.facts.setdefault("outside_pids", set()).add(sink.pid)
    return sink


def deliver(q: Quarter) -> Done:
    """The outbox sent through the product's dispatcher to the SMTP sink; each message once."""
    started = time.perf_counter()
    sink = start_sink(q)
    sink_start = time.perf_counter() - started
    try:
        app = q.app(
            as_of=NOTICE_DAY,
            smtp_host="127.0.0.1",
            smtp_port=sink.port,
            mail_from=SENDER,
            secret_key="national-bench",
        )
        sent = rounds = 0
        try:
            while True:
                report = outbox.dispatch(app, concurrency=CONNECTIONS)
                rounds += 1
                sent += report.sent
                if report.failed or report.retried or not report.claimed:
                    break
            with app.uow() as uow:
                left = uow.session.scalar(
                    select(func.count()).where(OutboxMessage.status != "sent")
                )
        finally:
            app.close()
        received, duplicates = sink.received, sink.duplicates
    finally:
        sink.stop()
    if left or received != sent or duplicates:
        raise RuntimeError(
            f"sent {sent}, {left} not sent, sink received {received} ({duplicates} repeated)"
        )
    q.facts["messages_delivered"] = sent
    return Done(
        sent,
        "messages",
        {
            "sink_received": received,
            "dispatch_runs": rounds,
            "connections": CONNECTIONS,
            "sink_start_seconds": round(sink_start, 2),  # the outside world's start-up
        },
    )


def outbox_limit(q: Quarter) -> dict:
    """bench_outbox's limit for as many messages: pre-rendered, reused connections, no DB."""
    count = max(100, q.facts.get("messages_delivered", q.facts.get("emails_queued", 0)))
    sink = start_sink(q)
    try:
        settings = q.settings(secret_key="national-bench", mail_from=SENDER)
        app = q.app(as_of=NOTICE_DAY)
        now = app.clock.now()
        app.close()
        messages = bench_outbox._prerendered(bench_outbox._rows(count, now), now, settings)
        best = None
        for send in (bench_outbox._limit, bench_outbox._limit_transport):
            before = sink.received
            _, seconds, cpu = measure.timed(asyncio.run, send(messages, sink.port))
            if sink.received - before != count:
                raise RuntimeError(f"sink received {sink.received - before} of {count}")
            if best is None or seconds < best[0]:
                best = (seconds, cpu)
    finally:
        sink.stop()
    seconds, cpu = best
    return {
        "items": count,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),
        "per_second": round(count / seconds, 1),
        "what": f"{count} pre-rendered round notices sent over {CONNECTIONS} reused SMTP "
        "connections (aiosmtplib or the project's transport, the faster): no database, no rendering",
    }
