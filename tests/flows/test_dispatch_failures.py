"""A dispatch run that leaves mail undelivered ends Failed with the count; a backlog is told."""

from __future__ import annotations

import inspect
from datetime import date

from sqlalchemy import select, update

from flows.dispatch import dispatch_outbox
from flows.publish import publish_round
from services.db.models import OutboxMessage
from tests.support.mailserver import MailServer, free_port

NOTICE_DAY = date(2021, 7, 19)


async def _publish() -> None:
    """Publish the demo's 2021Q2 round (the publish flow may be sync or async)."""
    summary = publish_round("2021Q2", as_of=NOTICE_DAY)
    if inspect.isawaitable(summary):
        await summary


def _outbox(app) -> list:
    """The outbox rows as they are now (id, status, attempts, to_addrs)."""
    m = OutboxMessage
    query = select(m.id, m.status, m.attempts, m.to_addrs).order_by(m.id)
    with app.uow() as uow:
        return uow.session.execute(query).all()


async def test_a_run_that_cannot_reach_the_mail_server_fails_naming_the_count(demo, monkeypatch):
    monkeypatch.setenv("RECTIFY_SMTP_PORT", str(free_port()))  # nobody listens there
    await _publish()
    waiting = len(_outbox(demo))
    assert waiting > 0

    state = await dispatch_outbox(return_state=True)

    assert state.is_failed(), state
    assert state.message.startswith(f"{waiting} 封邮件未能发出"), state.message
    assert "无法连接邮件服务器" in state.message
    after = _outbox(demo)  # nothing lost: every message waits for the next run
    assert {m.status for m in after} == {"pending"}
    assert {m.attempts for m in after} == {1}


async def test_a_run_that_gives_messages_up_fails_naming_them(demo, monkeypatch):
    server = MailServer().start()
    monkeypatch.setenv("RECTIFY_SMTP_PORT", str(server.port))
    try:
        await _publish()
        first, *rest = _outbox(demo)
        server.refuse[first.to_addrs[0]] = "550 5.1.1 用户不存在"
        state = await dispatch_outbox(return_state=True)
    finally:
        server.stop()

    assert state.is_failed(), state
    assert state.message.startswith("1 封邮件发送失败"), state.message
    assert "未能发出" not in state.message
    by_id = {m.id: m.status for m in _outbox(demo)}
    assert by_id[first.id] == "failed"
    assert {by_id[m.id] for m in rest if m.to_addrs != first.to_addrs} == {"sent"}


async def test_a_run_that_delivers_everything_completes_even_with_a_backlog_alert(
    demo, monkeypatch
):
    """The backlog alone is an event for the automation, not a failed run."""
    server = MailServer().start()
    monkeypatch.setenv("RECTIFY_SMTP_PORT", str(server.port))
    monkeypatch.setenv("RECTIFY_OUTBOX_BACKLOG_ALERT", "0")
    try:
        await _publish()
        with demo.uow() as uow:  # one message not due yet: it stays waiting after the run
            uow.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == _outbox(demo)[0].id)
                .values(next_attempt_at=uow.clock.now().replace(year=2099))
            )
            uow.commit()
        state = await dispatch_outbox(return_state=True)
    finally:
        server.stop()

    assert state.is_completed(), state
    report = await state.result()
    assert report["sent"] == len(_outbox(demo)) - 1 and report["failed"] == 0
