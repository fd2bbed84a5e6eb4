"""The operators' alerts: Prefect automations installed as code, and their notices arriving.

Against the session's Prefect test server; the notices go to a loopback HTTP receiver
through an Apprise ``json://`` URL, as they would to a WeCom/DingTalk robot or a mailbox.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import threading
import time
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from prefect.blocks.notifications import SlackWebhook
from prefect.client.orchestration import get_client
from prefect.events.worker import EventsWorker
from sqlalchemy import func, select
from typer.testing import CliRunner

from cli import automations
from cli.main import app as rectify
from flows import dispatch
from flows.publish import publish_round
from services.db.models import OutboxMessage
from tests.support.mailserver import free_port

NOTICE_DAY = date(2021, 7, 19)


class Receiver:
    """Takes Apprise's json:// notices (title, message) on 127.0.0.1."""

    def __init__(self) -> None:
        self.notices: list[dict] = []
        notices = self.notices

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                size = int(self.headers.get("Content-Length") or 0)
                notices.append(json.loads(self.rfile.read(size)))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"json://127.0.0.1:{self.server.server_address[1]}/alerts"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    async def wait_for(self, words: str, timeout: float = 60.0) -> dict:
        """The first notice whose title contains ``words``, waiting for it to arrive."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for notice in self.notices:
                if words in notice["title"]:
                    return notice
            await asyncio.sleep(0.5)
        raise AssertionError(f"no notice about {words!r}: {self.notices}")


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.stop()


async def _remove_ours() -> None:
    for automation in await automations.installed():
        async with get_client() as client:
            await client.delete_automation(automation.id)


@pytest.fixture
async def clean(prefect_server):
    """No automation of ours before or after: each test sees the ones it installs."""
    await _remove_ours()
    yield
    await _remove_ours()


async def test_installing_twice_leaves_one_of_each_automation(clean, receiver):
    first = await automations.install([receiver.url])
    second = await automations.install([receiver.url, "json://127.0.0.1:9/other"])

    assert [d.action for d in first] == ["新建", "新建"]
    assert [d.action for d in second] == ["更新", "更新"]
    assert [d.id for d in second] == [d.id for d in first]
    found = {a.name: a for a in await automations.installed()}
    assert sorted(found) == sorted([automations.FLOW_FAILED, automations.BACKLOG])
    failed = found[automations.FLOW_FAILED]
    assert "prefect.flow-run.Failed" in failed.trigger.expect
    assert failed.enabled
    assert found[automations.BACKLOG].trigger.expect == {dispatch.BACKLOG_EVENT}
    block = await SlackWebhook.aload(automations.BLOCK_NAME)
    assert block.url.get_secret_value().split() == [receiver.url, "json://127.0.0.1:9/other"]
    assert failed.actions[0].block_document_id == block._block_document_id


async def test_install_removes_a_duplicate_made_by_hand(clean, receiver):
    await automations.install([receiver.url])
    block = await SlackWebhook.aload(automations.BLOCK_NAME)
    async with get_client() as client:
        await client.create_automation(automations.automations(block._block_document_id)[0])
    await automations.install([receiver.url])
    names = [a.name for a in await automations.installed()]
    assert sorted(names) == sorted([automations.FLOW_FAILED, automations.BACKLOG])


def test_the_command_refuses_without_alert_urls_and_installs_with_them(
    clean, receiver, monkeypatch
):
    monkeypatch.delenv("RECTIFY_ALERT_URLS", raising=False)
    refused = CliRunner().invoke(rectify, ["alerts", "install"])
    assert refused.exit_code == 2
    assert "RECTIFY_ALERT_URLS" in refused.output

    monkeypatch.setenv("RECTIFY_ALERT_URLS", "nosuchscheme://x")
    assert "无法识别的地址" in CliRunner().invoke(rectify, ["alerts", "install"]).output

    monkeypatch.setenv("RECTIFY_ALERT_URLS", receiver.url)
    once = CliRunner().invoke(rectify, ["alerts", "install"])
    twice = CliRunner().invoke(rectify, ["alerts", "install"])
    assert once.exit_code == 0, once.output
    assert once.output.count("新建") == 2 and twice.output.count("更新") == 2
    shown = CliRunner().invoke(rectify, ["alerts", "show"])
    assert shown.output.count("（启用）") == 2, shown.output

    tested = CliRunner().invoke(rectify, ["alerts", "test"])
    assert tested.exit_code == 0, tested.output
    assert [n["title"] for n in receiver.notices] == ["【rectify】告警通知测试"]


async def test_a_failing_dispatch_and_a_backlog_reach_the_operators(
    clean, receiver, demo, monkeypatch
):
    await automations.install([receiver.url])
    monkeypatch.setenv("RECTIFY_SMTP_PORT", str(free_port()))  # the mail server is down
    monkeypatch.setenv("RECTIFY_OUTBOX_BACKLOG_ALERT", "3")
    summary = publish_round("2021Q2", as_of=NOTICE_DAY)
    if inspect.isawaitable(summary):
        await summary

    with demo.uow() as uow:
        waiting = uow.session.scalar(select(func.count()).select_from(OutboxMessage))
    assert waiting > 3

    # The backlog event leaves this process through Prefect's events worker: a fresh one, not
    # one an earlier test in the session may have left on a closed connection.
    await asyncio.to_thread(EventsWorker.drain_all, timeout=10)
    state = await dispatch.dispatch_outbox(return_state=True)
    assert state.is_failed()

    failed = await receiver.wait_for("dispatch-outbox 运行失败")
    assert f"{waiting} 封邮件未能发出" in failed["message"], failed
    assert failed["type"] == "failure"
    backlog = await receiver.wait_for(f"发件箱积压 {waiting} 封")
    assert "提醒阈值 3 封" in backlog["message"], backlog


def test_the_flow_and_the_automation_name_the_same_backlog_event():
    assert automations.BACKLOG_EVENT == dispatch.BACKLOG_EVENT
    assert automations.OUTBOX_RESOURCE_ID == dispatch.OUTBOX_RESOURCE["prefect.resource.id"]
