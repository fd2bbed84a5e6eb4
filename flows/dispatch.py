"""Flow: deliver the outbox every minute with the notification service.

A run that could not reach the mail server, or gave messages up as failed, ends **Failed**
with the counts in its state message, so that a Prefect automation (``rectify alerts
install``) can tell the operators; a backlog above ``RECTIFY_OUTBOX_BACKLOG_ALERT`` is
announced as a ``rectify.outbox.backlog`` event, which another automation turns into a
notice. The database work runs in threads: the event loop only waits on SMTP.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from datetime import date

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.events import emit_event
from prefect.states import Failed
from prefect.utilities.annotations import quote

from flows.common import transient
from services.bootstrap import App, build_app
from services.mail import outbox

#: The deployment runs every minute and cancels a new run while one is going (prefect.yaml):
#: a run stuck on a dead connection must end so that the next minute's run can start.
FLOW_TIMEOUT_SECONDS = 300
TASK_TIMEOUT_SECONDS = 240
BACKLOG_EVENT = "rectify.outbox.backlog"
OUTBOX_RESOURCE = {"prefect.resource.id": "rectify.outbox", "prefect.resource.name": "发件箱"}


@task(
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=20,
    retry_condition_fn=transient,
    timeout_seconds=TASK_TIMEOUT_SECONDS,
)
async def deliver(app: App) -> outbox.DispatchReport:
    """Send due emails over SMTP; each outcome is recorded, nothing is sent twice."""
    return await outbox.dispatch_async(app)


@flow(name="dispatch-outbox", timeout_seconds=FLOW_TIMEOUT_SECONDS)
async def dispatch_outbox(as_of: date | None = None) -> dict:
    """Deliver pending mail; what cannot be sent now is retried with backoff. Ends Failed
    when the server was unreachable or messages were given up."""
    log = get_run_logger()
    app = await asyncio.to_thread(build_app, as_of=as_of)
    try:
        report = await deliver(quote(app))
        left = await asyncio.to_thread(_backlog, app)
    finally:
        await asyncio.to_thread(app.close)
    log.info("发送邮件 %d 封，待重试 %d 封，失败 %d 封", report.sent, report.retried, report.failed)
    threshold = app.settings.outbox_backlog_alert
    if left.waiting > threshold:
        announce_backlog(left, threshold)
        log.warning(
            "发件箱积压 %d 封（超过 %d 封），最早一封已等待 %s",
            left.waiting,
            threshold,
            waited(left.oldest_seconds),
        )
    problem = failure_message(report)
    if problem is not None:
        log.error(problem)
        return Failed(message=problem)
    return asdict(report)


def _backlog(app: App) -> outbox.Backlog:
    with app.uow() as uow:
        return outbox.backlog(uow)


def failure_message(report: outbox.DispatchReport) -> str | None:
    """Why this run must count as failed (in Chinese, with the counts), or None."""
    noun = "封邮件" if set(report.by_channel) <= {"email"} else "条消息"  # robots too: 条消息
    parts = []
    if report.unreachable:
        parts.append(f"{report.retried} {noun}未能发出，稍后自动重试：{report.unreachable}")
    if report.failed:
        parts.append(
            f"{report.failed} {noun}发送失败，不再自动重试"
            "（rectify outbox list --status failed 查看原因，rectify outbox retry 重发）"
        )
    return "；".join(parts) or None


def announce_backlog(left: outbox.Backlog, threshold: int) -> None:
    """The Prefect event an automation listens for (``cli/automations.py``)."""
    emit_event(
        event=BACKLOG_EVENT,
        resource=OUTBOX_RESOURCE,
        payload={
            "waiting": left.waiting,
            "threshold": threshold,
            "oldest_seconds": left.oldest_seconds,
            "oldest_waited": waited(left.oldest_seconds),
        },
    )


def waited(seconds: int) -> str:
    """A duration as an operator reads it: 3 天 4 小时, 2 小时 5 分钟, 7 分钟."""
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days} 天 {hours} 小时"
    if hours:
        return f"{hours} 小时 {minutes} 分钟"
    return f"{minutes} 分钟"
