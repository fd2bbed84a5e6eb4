"""Mail waiting in the outbox holds no working portal link: not in any table, not in a backup.

The outbox keeps a reference to the link (its ``unit_links`` id and a nonce); the URL is made
as the message is sent, with the installation key, the same at every attempt.
"""

from __future__ import annotations

import asyncio
import re
import tarfile
from collections import Counter
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from cli.main import app as cli_app
from services.cases import transitions
from services.core.clock import Clock
from services.db.models import Base, OutboxMessage, Unit
from services.mail import causes, outbox
from tests.builders import a_case, a_round, a_target, a_unit
from tests.support.mailserver import MailServer
from web.app import create_app

TOKEN = re.compile(r"/portal/([\w-]+)")


def _mail_with_links_queued(app) -> None:
    """Four emails with a portal link: to 永德县 a case notified by hand and the round notice,
    to 耿马县 a case's notice and its rejection (and the submission's receipts, without)."""
    with app.uow() as uow:
        a_round(uow, "2021Q2")
        a_unit(uow, "yongde", name="永德县人民政府", contact_email="yd@units.test")
        a_unit(uow, "gengma", name="耿马县人民政府", contact_email="gm@units.test")
        notified = a_case(uow, target_code=a_target(uow, unit_code="yongde").code)
        transitions.transition(
            uow, case_id=notified.id, trigger="notify", actor="发布", data={"publication": True}
        )
        by_hand = a_case(uow, target_code=a_target(uow, unit_code="yongde").code)
        transitions.transition(uow, case_id=by_hand.id, trigger="notify", actor="张三")
        submitted = a_case(
            uow, state="submitted", target_code=a_target(uow, unit_code="gengma").code
        )
        transitions.transition(
            uow, case_id=submitted.id, trigger="reject", actor="张三", note="缺盖章件"
        )
        unit = uow.session.scalar(select(Unit).where(Unit.code == "yongde"))
        causes.queue_round_notice(
            uow, round_id=notified.round_id, unit_id=unit.id, case_ids=[notified.id]
        )
        uow.commit()


def _every_table(app) -> str:
    """Every row of every table, as text."""
    with app.uow() as uow:
        return "\n".join(
            repr(row)
            for t in Base.metadata.sorted_tables
            for row in uow.session.execute(t.select())
        )


def _exported(app, path) -> bytes:
    """``rectify export``: every member of the archive, its bytes one after the other."""
    env = {
        "RECTIFY_DATABASE_URL": app.settings.database_url,
        "RECTIFY_DATA_DIR": str(app.settings.data_dir),
        "RECTIFY_SECRET_KEY": app.settings.secret_key,
    }
    done = CliRunner().invoke(
        cli_app, ["--as-of", "2021-07-19", "export", "-o", str(path)], env=env
    )
    assert done.exit_code == 0, done.output
    with tarfile.open(path) as archive:
        members = [m for m in archive.getmembers() if m.isfile()]
        assert {"tables/outbox.jsonl", "tables/unit_links.jsonl"} <= {m.name for m in members}
        return b"".join(archive.extractfile(m).read() for m in members)


def _tokens(server: MailServer) -> dict[str, str]:
    """The portal token each delivered email with a link carries, by its Message-ID (the
    same in the text and the HTML)."""
    found = {}
    for mail in server.received:
        if "/portal/" not in mail.text:
            continue  # e.g. a submission's receipt
        [token] = set(TOKEN.findall(mail.text))
        assert set(TOKEN.findall(mail.html)) == {token}
        found[mail.message["Message-ID"]] = token
    return found


async def _portal(app, token: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=create_app(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return await client.get(f"/portal/{token}")


def test_queued_mail_leaves_no_working_link_in_the_tables_or_a_backup(app, mail_server, tmp_path):
    _mail_with_links_queued(app)
    tables = _every_table(app)
    archive = _exported(app, tmp_path / "备份.tar.gz")

    report = outbox.dispatch(app, sender=_smtp(app, mail_server))

    assert (report.sent, report.failed) == (len(mail_server.received), 0)
    tokens = _tokens(mail_server)
    assert len(set(tokens.values())) == len(tokens) == 4  # a link of its own in each email
    for token in tokens.values():
        assert token not in tables and token.encode() not in archive
        answer = asyncio.run(_portal(app, token))  # what the email says opens the portal
        assert answer.status_code == 200
    [yongde_notice, *_] = mail_server.to("yd@units.test")
    home = asyncio.run(_portal(app, TOKEN.search(yongde_notice.text)[1]))
    assert "永德县人民政府" in home.text and "耿马县人民政府" not in home.text
    after = _every_table(app)
    assert not any(token in after for token in tokens.values())
    with app.uow() as uow:  # sent: the link's id stays, what made the token is gone
        contexts = uow.session.scalars(select(OutboxMessage.context)).all()
    assert sorted(list(c["portal_link"]) for c in contexts if "portal_link" in c) == [["id"]] * 4


def test_a_resend_after_a_crash_carries_the_same_working_link(app, mail_server):
    _mail_with_links_queued(app)

    with_crash = _CrashingAfterSending(_smtp(app, mail_server))
    with pytest.raises(RuntimeError):
        outbox.dispatch(app, sender=with_crash, concurrency=1)
    [first] = _tokens(mail_server).values()
    assert first not in _every_table(app)  # waiting for its resend, the row holds no token
    later = Clock(app.clock.now() + timedelta(minutes=11))  # the claim's lease has run out
    outbox.dispatch(app, sender=_smtp(app, mail_server), clock=later)

    ids = Counter(mail_server.message_ids())
    assert sorted(ids.values()) == [1] * (len(ids) - 1) + [2]
    [resent] = [m for m in mail_server.received if ids[m.message["Message-ID"]] == 2][1:]
    assert TOKEN.findall(resent.text)[0] == first  # the very link of the first attempt
    assert asyncio.run(_portal(app, first)).status_code == 200


def _smtp(app, server: MailServer):
    return outbox.smtp_sender(app.settings.model_copy(update={"smtp_port": server.port}))


class _CrashingAfterSending:
    """Real SMTP; the dispatcher 'dies' right after the first message went out, unmarked."""

    def __init__(self, inner):
        self.inner = inner

    def open(self):
        return self

    async def send(self, message):
        transport = self.inner.open()
        try:
            await transport.send(message)
        finally:
            await transport.close()
        raise RuntimeError("模拟调度进程在标记“已发送”之前崩溃")

    async def close(self):
        return None
