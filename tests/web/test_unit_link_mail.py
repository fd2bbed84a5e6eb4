"""A unit's portal links on its page: listed with their round, times and state; a new URL
copied with a button; a new link sent by email after a confirmation."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from services.access import unit_links
from services.db.access_models import UnitLink
from services.db.models import OutboxMessage
from services.mail import outbox
from tests.builders import a_round, a_unit
from tests.fakes import FakeSender
from tests.web.conftest import a_user, client_for, csrf_of, login

ROWS = re.compile(
    r"<tr><td>(\d+)</td><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td>\s*"
    r"<td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td>"
)
CONFIRM = 'name="confirmed" value="1"'


@pytest.fixture
async def admin(app, web_app):
    created = a_user(app, "li", role="admin")
    async with client_for(web_app) as client:
        assert (await login(client, "li", created.password)).status_code == 303
        yield client


def _counts(app) -> tuple[int, int]:
    """(portal links, outbox rows) stored."""
    with app.uow() as uow:
        return uow.session.query(UnitLink).count(), uow.session.query(OutboxMessage).count()


async def test_the_links_table_shows_round_times_and_state_of_each_link(
    app, admin, anon, two_units
):
    with app.uow() as uow:
        a_round(uow, "2021Q2")
        live = unit_links.issue_for_unit(uow, unit_code="gengma", round_code="2021Q2")
        old = unit_links.issue_link(uow, unit_id=two_units.unit_a)
        uow.session.get(UnitLink, old.link_id).expires_at = uow.clock.now() - timedelta(days=1)
        uow.commit()
    assert (await anon.get(f"/portal/{live.token}")).status_code == 200  # used once

    page = await admin.get("/registry/units?code=gengma")

    rows = {int(r[0]): r[1:] for r in ROWS.findall(page.text)}
    round_code, created, expires, used, revoked, state = rows[live.link_id]
    assert (round_code, state, revoked) == ("2021Q2", "有效", "—")
    assert created.startswith("2021-07-19") and expires.startswith("2021-09-17")
    assert used.startswith("2021-07-19")  # last used: the visit above
    assert rows[old.link_id][0] == "—" and rows[old.link_id][5] == "已过期"
    assert rows[old.link_id][3] == "—"  # never used
    assert live.token not in page.text  # a URL is never shown again


async def test_a_new_link_comes_with_a_copy_button_from_a_static_script(admin, anon, two_units):
    page = await admin.get("/registry/units?code=gengma")

    issued = await admin.post("/registry/units/gengma/links", data={"csrf_token": csrf_of(page)})

    assert 'data-copy="new-link"' in issued.text and "复制链接" in issued.text
    assert '<script src="/static/copy.js"' in issued.text and "<script>" not in issued.text
    script = await anon.get("/static/copy.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert "clipboard" in script.text and "data-copy" in script.text


async def test_a_link_is_sent_by_email_only_after_the_confirmation(app, admin, anon, two_units):
    before = _counts(app)
    page = await admin.get("/registry/units?code=gengma")
    assert "通过邮件发送新链接" in page.text and CONFIRM not in page.text

    asked = await admin.get("/registry/units?code=gengma&resend=1")
    assert "gengma@units.test" in asked.text and "确认发送" in asked.text and CONFIRM in asked.text
    unconfirmed = await admin.post(
        "/registry/units/gengma/links/resend", data={"csrf_token": csrf_of(asked)}
    )
    assert unconfirmed.status_code == 200 and CONFIRM in unconfirmed.text
    assert _counts(app) == before  # nothing issued, nothing queued yet

    sent = await admin.post(
        "/registry/units/gengma/links/resend",
        data={"csrf_token": csrf_of(asked), "confirmed": "1"},
    )

    assert sent.status_code == 303
    after = await admin.get(sent.headers["location"])
    assert (
        "含新门户链接的邮件已放入发送队列，将发往耿马县人民政府（gengma@units.test）" in after.text
    )
    assert _counts(app) == (before[0] + 1, before[1] + 1)
    sender = FakeSender()
    await outbox.dispatch_async(app, sender=sender)  # with the cases' notices of two_units
    [mail] = [m for m in sender.messages if "专用链接" in m["Subject"]]
    assert mail["To"] == "gengma@units.test"
    body = mail.get_body(("plain",)).get_content()
    assert body.startswith("耿马县人民政府：")
    url = re.search(r"https?://\S+/portal/[\w-]+", body)[0]
    assert urlsplit(url).path.removeprefix("/portal/") not in after.text  # not on the page
    opened = await anon.get(urlsplit(url).path)
    assert opened.status_code == 200 and "耿马县人民政府" in opened.text


async def test_a_unit_without_a_contact_address_gets_no_mail_and_the_reason_in_chinese(app, admin):
    with app.uow() as uow:
        a_unit(uow, "mengding", name="孟定镇人民政府", contact_email=None)
        uow.commit()
    before = _counts(app)

    asked = await admin.get("/registry/units?code=mengding&resend=1")
    assert "无法发送：单位「孟定镇人民政府」没有填写联系人邮箱" in asked.text
    assert CONFIRM not in asked.text
    refused = await admin.post(
        "/registry/units/mengding/links/resend",
        data={"csrf_token": csrf_of(asked), "confirmed": "1"},
    )

    assert refused.status_code == 400 and "没有填写联系人邮箱" in refused.text
    assert _counts(app) == before


async def test_a_supervisor_of_another_county_can_neither_see_nor_send_a_units_link(
    app, web_app, two_units
):
    created = a_user(app, "zhao", role="supervisor", unit_code="cangyuan")
    before = _counts(app)
    async with client_for(web_app) as client:
        assert (await login(client, "zhao", created.password)).status_code == 303
        page = await client.get("/registry/units?code=gengma&resend=1")
        assert "通过邮件发送新链接" not in page.text and CONFIRM not in page.text
        refused = await client.post(
            "/registry/units/gengma/links/resend",
            data={"csrf_token": csrf_of(page), "confirmed": "1"},
        )
        assert refused.status_code == 403 and "管辖范围" in refused.text
    assert _counts(app) == before
