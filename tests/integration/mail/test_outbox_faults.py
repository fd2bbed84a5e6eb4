"""Delivery under faults: the server down, refusing, failing mid-batch, a dispatcher dying."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from notifications.delivery import PermanentFailure
from notifications.message import Mail, Mailbox, encode_mail
from notifications.render import Rendered
from services.cases import transitions
from services.core.clock import Clock
from services.core.settings import Settings
from services.db.models import OutboxMessage
from services.mail import outbox, outbox_admin
from tests.builders import a_case, a_target, a_unit
from tests.fakes import FakeSender
from tests.support.mailserver import MailServer

UNITS = 6
NOW = datetime(2021, 7, 19, 1, 0, tzinfo=UTC)


def smtp(app, server: MailServer):
    return outbox.smtp_sender(app.settings.model_copy(update={"smtp_port": server.port}))


def later(app, **delta) -> Clock:
    return Clock(app.clock.now() + timedelta(**delta))


def _one_notice_per_unit(app, units: int = UNITS) -> None:
    with app.uow() as uow:
        for n in range(units):
            a_unit(uow, f"u{n}", contact_email=f"u{n}@units.test")
            case = a_case(uow, target_code=a_target(uow, unit_code=f"u{n}").code)
            transitions.transition(uow, case_id=case.id, trigger="notify", actor="测试员")
        uow.commit()


def _by_status(app) -> dict[str, list[outbox_admin.OutboxRow]]:
    with app.uow() as uow:
        rows = outbox_admin.list_messages(uow)
    grouped: dict[str, list[outbox_admin.OutboxRow]] = {}
    for row in sorted(rows, key=lambda r: r.id):
        grouped.setdefault(row.status, []).append(row)
    return grouped


def _delivered_once_each(server: MailServer, expected: int) -> None:
    ids = Counter(server.message_ids())
    assert len(ids) == expected
    assert set(ids.values()) == {1}


def test_with_the_server_down_mail_stays_pending_and_is_delivered_once_when_it_is_back(app):
    _one_notice_per_unit(app)
    server = MailServer()  # not started: connections are refused

    report = outbox.dispatch(app, sender=smtp(app, server))

    assert report.sent == 0 and report.retried == UNITS
    assert "无法连接邮件服务器" in report.unreachable
    pending = _by_status(app)["pending"]
    assert len(pending) == UNITS
    assert all(r.attempts == 1 for r in pending)
    assert all(r.next_attempt_at == app.clock.now() + timedelta(minutes=1) for r in pending)
    assert "无法连接邮件服务器" in pending[0].last_error
    assert outbox.dispatch(app, sender=smtp(app, server)).claimed == 0  # not due yet

    server.start()
    try:
        report = outbox.dispatch(app, sender=smtp(app, server), clock=later(app, minutes=2))
        again = outbox.dispatch(app, sender=smtp(app, server), clock=later(app, hours=1))
    finally:
        server.stop()

    assert report.sent == UNITS and again.claimed == 0
    _delivered_once_each(server, UNITS)
    assert list(_by_status(app)) == ["sent"]


def test_a_recipient_refused_with_550_fails_that_row_with_the_answer_and_the_rest_go(
    app, mail_server
):
    _one_notice_per_unit(app)
    mail_server.refuse["u2@units.test"] = "550 5.1.1 <u2@units.test>: Recipient unknown"

    report = outbox.dispatch(app, sender=smtp(app, mail_server))

    assert (report.sent, report.failed, report.retried) == (UNITS - 1, 1, 0)
    [failed] = _by_status(app)["failed"]
    assert failed.to_addrs == ["u2@units.test"]
    assert "550 5.1.1 <u2@units.test>: Recipient unknown" in failed.last_error
    assert "邮件服务器拒收" in failed.last_error
    assert len(mail_server.received) == UNITS - 1
    assert mail_server.to("u2@units.test") == []


def test_a_message_one_of_whose_recipients_is_refused_is_sent_with_that_note(app, mail_server):
    _one_notice_per_unit(app)
    with app.uow() as uow:
        row = uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()[1]
        row.to_addrs = [*row.to_addrs, "gone@units.test"]
        uow.commit()
    mail_server.refuse["gone@units.test"] = "550 5.1.1 <gone@units.test>: Recipient unknown"

    report = outbox.dispatch(app, sender=smtp(app, mail_server))

    assert (report.sent, report.failed) == (UNITS, 0)
    rows = _by_status(app)["sent"]
    assert [r.last_error for r in rows if r.id != row.id] == [None] * (UNITS - 1)
    [noted] = [r for r in rows if r.id == row.id]
    assert noted.last_error.startswith("部分收件人被拒收：gone@units.test：550")
    assert len(mail_server.received) == UNITS


def test_one_connection_carries_on_after_refused_recipients(mail_server):
    """A partly refused message goes with a note; a wholly refused one, or one with an address
    that cannot go on a command line, fails and leaves no envelope open, so the same
    connection delivers the next message. Each MAIL FROM announces the message's size."""
    sender = outbox.smtp_sender(
        Settings(secret_key="t", smtp_host="127.0.0.1", smtp_port=mail_server.port)
    )
    mail_server.refuse["gone@units.test"] = "550 5.1.1 <gone@units.test>: Recipient unknown"

    def mail(key: str, to: list[str], cc: list[str]) -> Mail:
        rendered = Rendered(subject="测试", text="正文\n", html="<p>正文</p>")
        sender_box = Mailbox("rectify@localhost", "办公室")
        return encode_mail(rendered, key=key, sender=sender_box, to=to, cc=cc, date=NOW)

    first = mail("a", ["a@units.test"], ["gone@units.test"])
    smuggled = Mail(["x@units.test> NOTIFY=NEVER"], first.data, first.message_id)

    async def send_four() -> tuple[str, Exception, Exception, str]:
        transport = sender.open()
        try:
            note = await transport.send(first)
            with pytest.raises(PermanentFailure) as refused:
                await transport.send(mail("b", ["gone@units.test"], []))
            with pytest.raises(PermanentFailure) as malformed:
                await transport.send(smuggled)
            last = await transport.send(mail("c", ["c@units.test"], []))
            return note, refused.value, malformed.value, last
        finally:
            await transport.close()

    note, refused, malformed, last = asyncio.run(send_four())

    assert (
        note == "部分收件人被拒收：gone@units.test：550 5.1.1 <gone@units.test>: Recipient unknown"
    )
    assert "邮件服务器拒收" in str(refused) and "gone@units.test" in str(refused)
    assert "收件地址无法投递" in str(malformed)
    assert last == ""
    assert [r.rcpt_tos for r in mail_server.received] == [["a@units.test"], ["c@units.test"]]
    assert mail_server.received[0].mail_options == (f"SIZE={len(first.data)}",)


def test_a_server_failing_mid_batch_leaves_the_rest_for_later_and_sends_nothing_twice(
    app, mail_server
):
    _one_notice_per_unit(app)
    mail_server.fail_after = 2

    first = outbox.dispatch(app, sender=smtp(app, mail_server), concurrency=1)

    assert (first.sent, first.retried) == (2, UNITS - 2)
    assert "421" in _by_status(app)["pending"][0].last_error
    mail_server.fail_after = None
    second = outbox.dispatch(app, sender=smtp(app, mail_server), clock=later(app, minutes=5))

    assert second.sent == UNITS - 2
    _delivered_once_each(mail_server, UNITS)


class _CrashingSender:
    """Real SMTP, but the dispatcher 'dies' after ``sends`` messages (before or after the next)."""

    def __init__(self, inner, *, sends: int, after_sending: bool):
        self.inner, self.sends, self.after_sending = inner, sends, after_sending

    def open(self):
        return self

    async def send(self, message):
        transport = self.inner.open()
        try:
            if self.sends == 0 and not self.after_sending:
                raise RuntimeError("模拟调度进程崩溃")
            note = await transport.send(message)
        finally:
            await transport.close()
        if self.sends == 0:
            raise RuntimeError("模拟调度进程在标记“已发送”之前崩溃")
        self.sends -= 1
        return note

    async def close(self):
        return None


def test_a_dispatch_interrupted_mid_batch_and_run_again_delivers_nothing_twice(app, mail_server):
    _one_notice_per_unit(app)
    crashing = _CrashingSender(smtp(app, mail_server), sends=3, after_sending=False)

    with pytest.raises(RuntimeError):
        outbox.dispatch(app, sender=crashing, concurrency=1)

    statuses = _by_status(app)
    assert len(statuses["sent"]) == 3  # what went out was recorded despite the crash
    assert len(statuses["sending"]) == UNITS - 3  # claimed, waiting for the lease to expire
    assert outbox.dispatch(app, sender=smtp(app, mail_server)).claimed == 0
    rerun = outbox.dispatch(app, sender=smtp(app, mail_server), clock=later(app, minutes=11))

    assert rerun.sent == UNITS - 3
    _delivered_once_each(mail_server, UNITS)


def test_a_crash_between_sending_and_marking_resends_with_the_same_message_id(app, mail_server):
    _one_notice_per_unit(app, units=2)
    crashing = _CrashingSender(smtp(app, mail_server), sends=0, after_sending=True)

    with pytest.raises(RuntimeError):
        outbox.dispatch(app, sender=crashing, concurrency=1)
    outbox.dispatch(app, sender=smtp(app, mail_server), clock=later(app, minutes=11))

    ids = Counter(mail_server.message_ids())
    assert sorted(ids.values()) == [1, 2]  # at least once: the duplicate is recognisable
    assert list(_by_status(app)) == ["sent"]


class _Killed(Exception):
    """The dispatcher's process dies (nothing after this point is written)."""


def test_a_dispatcher_dying_before_a_chunk_of_marks_is_written_resends_those_recognisably(
    app, mail_server, monkeypatch
):
    """Outcomes are written in chunks: the rows of a chunk not yet written stay claimed, and
    once their lease expires they go again, with the Message-ID they had."""
    _one_notice_per_unit(app)
    monkeypatch.setattr(outbox, "RECORD_EVERY", 4)
    record, written = outbox.record, []

    def record_once_then_die(uow, outcomes, **options):
        if written:
            raise _Killed
        written.append(len(outcomes))
        record(uow, outcomes, **options)

    monkeypatch.setattr(outbox, "record", record_once_then_die)
    with pytest.raises(_Killed):
        outbox.dispatch(app, sender=smtp(app, mail_server), concurrency=1)
    monkeypatch.setattr(outbox, "record", record)

    assert written == [4] and len(mail_server.received) == UNITS
    statuses = _by_status(app)
    assert (len(statuses["sent"]), len(statuses["sending"])) == (4, UNITS - 4)
    assert outbox.dispatch(app, sender=smtp(app, mail_server)).claimed == 0  # leased
    rerun = outbox.dispatch(app, sender=smtp(app, mail_server), clock=later(app, minutes=11))

    assert rerun.sent == UNITS - 4
    ids = Counter(mail_server.message_ids())
    assert len(ids) == UNITS and sorted(ids.values()) == [1] * 4 + [2] * (UNITS - 4)
    assert list(_by_status(app)) == ["sent"]


def test_two_dispatchers_at_once_deliver_each_message_exactly_once(app, mail_server):
    _one_notice_per_unit(app, units=16)
    reports = []

    def run() -> None:
        reports.append(outbox.dispatch(app, sender=smtp(app, mail_server), concurrency=2))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sum(r.sent for r in reports) == 16
    _delivered_once_each(mail_server, 16)


def test_retries_back_off_exponentially_and_give_up_visibly(app):
    _one_notice_per_unit(app, units=1)
    sender = FakeSender(down=True)
    clock, delays = app.clock, []

    for _ in range(outbox.MAX_ATTEMPTS):
        outbox.dispatch(app, sender=sender, clock=clock)
        [row] = [r for rows in _by_status(app).values() for r in rows]
        if row.status == "failed":
            break
        delays.append(row.next_attempt_at - clock.now())
        clock = Clock(row.next_attempt_at)

    assert delays[:4] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert max(delays) == outbox.BACKOFF_CAP
    assert row.status == "failed" and row.attempts == outbox.MAX_ATTEMPTS
    assert row.last_error.startswith(f"已尝试 {outbox.MAX_ATTEMPTS} 次仍未送达")


def test_a_row_with_a_malformed_address_fails_with_that_reason_and_the_others_go(app):
    _one_notice_per_unit(app, units=3)
    with app.uow() as uow:
        row = uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()[1]
        row.to_addrs = ["不是邮箱@"]
        uow.commit()
    sender = FakeSender()

    report = outbox.dispatch(app, sender=sender)

    assert (report.sent, report.failed) == (2, 1)
    [failed] = _by_status(app)["failed"]
    assert failed.last_error == "收件地址格式不正确：不是邮箱@"
    assert len(sender.messages) == 2


def test_a_server_that_stops_answering_times_out_and_the_mail_waits_for_a_retry(app, mail_server):
    _one_notice_per_unit(app, units=2)
    mail_server.delay = 2.0
    settings = app.settings.model_copy(
        update={"smtp_port": mail_server.port, "smtp_timeout_seconds": 0.3}
    )

    report = outbox.dispatch(app, sender=outbox.smtp_sender(settings))

    assert (report.sent, report.retried) == (0, 2)
    [first, _] = _by_status(app)["pending"]
    assert first.last_error == "邮件服务器在 0.3 秒内未完成投递（超时），稍后重试"


def test_a_temporary_failure_of_one_message_does_not_stop_the_others(app):
    _one_notice_per_unit(app, units=3)
    sender = FakeSender()
    sender.fail_after = 1

    report = outbox.dispatch(app, sender=sender, concurrency=1)

    assert (report.sent, report.retried) == (1, 2)
    assert len(_by_status(app)["pending"]) == 2
