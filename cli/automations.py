"""The operators' alerts as code: two Prefect automations and the notification block they use.

* a flow run that ends Failed, Crashed or TimedOut (a dispatch run that could not reach the
  mail server ends Failed, ``flows/dispatch.py``) → a notice naming the flow, the run and
  the state's message; at most one per flow an hour, the first at once;
* the dispatch run's ``rectify.outbox.backlog`` event (more messages waiting than
  ``RECTIFY_OUTBOX_BACKLOG_ALERT``) → a notice with the count and the oldest's age; at
  most one an hour.

The notices go to the Apprise URLs of ``RECTIFY_ALERT_URLS`` (WeCom/DingTalk/Feishu robots,
``mailto://``, ``json://`` …) through one notification block. The Prefect server sends
them (its ``actions`` service), so the block must be a type every server knows: Prefect's
own "Slack Webhook" block hands any URL that is not a Slack webhook to Apprise as it is.
Installing is idempotent: the block is overwritten, each automation (found by name) is
updated to what this module says, duplicates are deleted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from prefect.automations import AutomationCore, EventTrigger, Posture, SendNotification
from prefect.blocks.notifications import SlackWebhook
from prefect.client.orchestration import get_client

from services.core.settings import Settings

BLOCK_NAME = "rectify-alerts"
#: The event the dispatch flow emits (``flows.dispatch.BACKLOG_EVENT``: the entry points
#: do not import each other; a test holds the two equal).
BACKLOG_EVENT = "rectify.outbox.backlog"
OUTBOX_RESOURCE_ID = "rectify.outbox"
RUN_ENDED_BADLY = (
    "prefect.flow-run.Failed",
    "prefect.flow-run.Crashed",
    "prefect.flow-run.TimedOut",
)
#: A failing schedule (dispatch runs every minute) tells once an hour, not 60 times.
QUIET_PERIOD = timedelta(hours=1)

FLOW_FAILED = "rectify：流程运行失败时通知运维人员"
BACKLOG = "rectify：发件箱积压时通知运维人员"

FLOW_FAILED_SUBJECT = "【rectify】{{ flow.name }} 运行失败"
FLOW_FAILED_BODY = """\
流程：{{ flow.name }}
运行：{{ flow_run.name }}
结果：{{ flow_run.state.name }}
原因：{{ flow_run.state.message }}
时间（UTC）：{{ flow_run.state.timestamp }}
同一流程一小时内的后续失败不再重复通知；运行记录见 Prefect 界面。"""

BACKLOG_SUBJECT = "【rectify】发件箱积压 {{ event.payload.waiting }} 封"
BACKLOG_BODY = """\
发件箱有 {{ event.payload.waiting }} 封邮件尚未发出（提醒阈值 {{ event.payload.threshold }} 封），\
最早一封已等待 {{ event.payload.oldest_waited }}。
请检查邮件服务器和发送任务（rectify outbox list --status pending）。一小时内不再重复提醒。"""


@dataclass(frozen=True)
class Installed:
    name: str
    id: UUID
    action: str  # 新建 | 更新


def alert_urls(settings: Settings) -> list[str]:
    """The Apprise URLs of ``RECTIFY_ALERT_URLS`` (space-, comma- or newline-separated)."""
    return [url for url in re.split(r"[\s,]+", settings.alert_urls) if url]


def unusable_urls(urls: list[str]) -> list[str]:
    """The URLs Apprise does not know how to send to (an unknown scheme, a missing key)."""
    from apprise import Apprise

    return [url for url in urls if not Apprise().add(url)]


def notification_block(urls: list[str]) -> SlackWebhook:
    """The block the automations notify through: Apprise, to every URL."""
    return SlackWebhook(url=" ".join(urls), notify_type="failure")


def automations(block_id: UUID) -> list[AutomationCore]:
    """The automations, as the Prefect server should hold them."""
    return [
        AutomationCore(
            name=FLOW_FAILED,
            description="流程运行失败、崩溃或超时时，通知 RECTIFY_ALERT_URLS 中的运维人员",
            trigger=EventTrigger(
                expect=set(RUN_ENDED_BADLY),
                match={"prefect.resource.id": "prefect.flow-run.*"},
                for_each={"related:flow:prefect.resource.id"},
                posture=Posture.Reactive,
                threshold=1,
                within=QUIET_PERIOD,
            ),
            actions=[
                SendNotification(
                    block_document_id=block_id, subject=FLOW_FAILED_SUBJECT, body=FLOW_FAILED_BODY
                )
            ],
        ),
        AutomationCore(
            name=BACKLOG,
            description="发件箱待发邮件超过 RECTIFY_OUTBOX_BACKLOG_ALERT 时，通知运维人员",
            trigger=EventTrigger(
                expect={BACKLOG_EVENT},
                match={"prefect.resource.id": OUTBOX_RESOURCE_ID},
                posture=Posture.Reactive,
                threshold=1,
                within=QUIET_PERIOD,
            ),
            actions=[
                SendNotification(
                    block_document_id=block_id, subject=BACKLOG_SUBJECT, body=BACKLOG_BODY
                )
            ],
        ),
    ]


async def install(urls: list[str]) -> list[Installed]:
    """Save the notification block and create or update each automation (idempotent)."""
    block_id = await notification_block(urls).asave(BLOCK_NAME, overwrite=True)
    done = []
    async with get_client() as client:
        for automation in automations(block_id):
            existing = await client.read_automations_by_name(automation.name)
            if not existing:
                new_id = await client.create_automation(automation)
                done.append(Installed(automation.name, new_id, "新建"))
                continue
            kept, *extra = existing
            await client.update_automation(kept.id, automation)
            for duplicate in extra:
                await client.delete_automation(duplicate.id)
            done.append(Installed(automation.name, kept.id, "更新"))
    return done


async def installed() -> list:
    """The automations of this module the server holds (with their state: enabled or not)."""
    async with get_client() as client:
        found = []
        for name in (FLOW_FAILED, BACKLOG):
            found.extend(await client.read_automations_by_name(name))
        return found


async def send_test(urls: list[str]) -> None:
    """One notice straight from this process, to check the URLs before relying on them."""
    block = notification_block(urls)
    with block.raise_on_failure():
        await block.anotify(
            subject="【rectify】告警通知测试",
            body="这是一条测试通知：流程运行失败或发件箱积压时，运维人员会在这里收到提醒。",
        )
