"""Flow: deliver the outbox every minute with the notification service."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote

from flows.common import run_app, transient
from services.bootstrap import App
from services.mail import outbox


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=20, retry_condition_fn=transient)
async def deliver(app: App) -> outbox.DispatchReport:
    """Send due emails over SMTP; each outcome is recorded, nothing is sent twice."""
    return await outbox.dispatch_async(app)


@flow(name="dispatch-outbox")
async def dispatch_outbox(as_of: date | None = None) -> dict:
    """Deliver pending mail; what cannot be sent now is retried with backoff."""
    log = get_run_logger()
    with run_app(as_of) as app:
        report = await deliver(quote(app))
    log.info("发送邮件 %d 封，待重试 %d 封，失败 %d 封", report.sent, report.retried, report.failed)
    if report.unreachable:
        log.warning("邮件服务器不可达：%s", report.unreachable)
    return asdict(report)
