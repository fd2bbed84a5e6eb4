"""An attachment row's stored name is the system's (32 hex digits) or nothing is read: a row
pointing outside the attachment folder (a restored forgery, an edited database) serves no file,
to a supervisor or to the unit's portal."""

from __future__ import annotations

import io
import logging
import os
import re

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import text

from services.access import unit_links, users
from services.cases import submissions
from services.cases.submissions import IncomingFile
from tests.badinput.corpus import footprint, multipart
from tests.builders import a_case, a_target, a_unit
from web.app import create_app

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SECRET = "数据库口令=不能外泄"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
REFUSED = "的存储文件名不是系统生成的名称或指向附件目录之外，已拒绝读取"


@pytest.fixture
def filed(app, monkeypatch):
    """A unit's submission with one PDF, the unit's portal link and an admin's password."""
    monkeypatch.setattr(users, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024))
    with app.uow() as uow:
        unit = a_unit(uow, "gengma", name="耿马县人民政府", kind="county_gov")
        case_id = a_case(
            uow, state="notified", target_code=a_target(uow, unit_code="gengma").code
        ).id
        token = unit_links.issue_link(uow, unit_id=unit.id).token
        password = users.create_user(uow, username="li", role="admin").password
        uow.commit()
    with app.uow() as uow:
        submissions.submit_rectification(
            uow, unit_id=unit.id, case_id=case_id, text="已整改", responsible_person="李明",
            phone="0883-1234567", files=[IncomingFile("整改报告.pdf", io.BytesIO(PDF))],
        )  # fmt: skip
    with app.engine.connect() as conn:
        attachment_id = conn.execute(text("SELECT id FROM attachments")).scalar_one()
    secret = app.settings.data_dir / "secret.txt"  # a file beside the attachment folder
    secret.write_text(SECRET, encoding="utf-8")
    return attachment_id, token, password


async def downloads(app, attachment_id: int, token: str, password: str) -> list[httpx.Response]:
    """The attachment as the admin (``/attachments/..``) and as its unit (the portal) get it."""
    transport = httpx.ASGITransport(app=create_app(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        csrf = CSRF.search((await client.get("/login")).text).group(1)
        data = {"username": "li", "password": password, "csrf_token": csrf}
        assert (await client.post("/login", data=data)).status_code == 303
        admin = await client.get(f"/attachments/{attachment_id}")
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        unit = await client.get(f"/portal/{token}/attachments/{attachment_id}")
    return [admin, unit]


def point_at(app, attachment_id: int, stored_name: str) -> None:
    with app.engine.begin() as conn:
        conn.execute(
            text("UPDATE attachments SET stored_name = :n WHERE id = :i"),
            {"n": stored_name, "i": attachment_id},
        )


@pytest.mark.parametrize(
    "stored_name",
    ["../secret.txt", "../../../../../../etc/hostname", "/etc/hostname", "0" * 31 + "/"],
)
async def test_a_stored_name_that_is_not_the_systems_serves_nothing(
    app, filed, stored_name, caplog
):
    attachment_id, token, password = filed
    assert [r.status_code for r in await downloads(app, attachment_id, token, password)] == [
        200
    ] * 2
    point_at(app, attachment_id, stored_name)

    with caplog.at_level(logging.WARNING, logger="services.cases.submissions"):
        answers = await downloads(app, attachment_id, token, password)

    for answer in answers:
        assert answer.status_code == 404
        assert f"附件 {attachment_id} {REFUSED}" in answer.text
        assert SECRET not in answer.text and "%PDF" not in answer.text
    assert sum(f"stored name {stored_name!r}" in m for m in caplog.messages) == 2


async def test_a_system_name_linked_to_a_file_outside_the_folder_serves_nothing(app, filed):
    attachment_id, token, password = filed
    linked = "0123456789abcdef" * 2
    os.symlink(app.settings.data_dir / "secret.txt", app.settings.data_dir / "attachments" / linked)
    point_at(app, attachment_id, linked)

    answers = await downloads(app, attachment_id, token, password)

    assert [a.status_code for a in answers] == [404, 404]
    assert all(REFUSED in a.text and SECRET not in a.text for a in answers)


#: Names a script can send (written raw into the multipart header) that no header line can carry.
CONTROL_NAMES = ["a\nb.pdf", "整改\t报告.pdf", "a\x85b.pdf", "报告\x9b.pdf"]


@pytest.fixture
def notified(app):
    """A unit's notified case and its portal link."""
    with app.uow() as uow:
        unit = a_unit(uow, "gengma", name="耿马县人民政府", kind="county_gov")
        case_id = a_case(
            uow, state="notified", target_code=a_target(uow, unit_code="gengma").code
        ).id
        token = unit_links.issue_link(uow, unit_id=unit.id).token
        uow.commit()
    return case_id, token


@pytest.mark.parametrize("name", CONTROL_NAMES)
async def test_a_file_name_with_a_control_character_is_refused_at_upload(app, notified, name):
    case_id, token = notified
    url = f"/portal/{token}/cases/{case_id}"
    transport = httpx.ASGITransport(app=create_app(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        csrf = CSRF.search((await client.get(url)).text).group(1)
        fields = {"text": "已整改", "responsible_person": "李明", "phone": "0883-1234567"}
        body, content_type = multipart(fields | {"csrf_token": csrf}, [("attachments", name, PDF)])
        before = footprint(app)

        response = await client.post(url, content=body, headers={"Content-Type": content_type})

    assert response.status_code == 400
    assert "不可见的控制字符" in response.text and "请重命名后再上传" in response.text
    assert footprint(app) == before


@pytest.mark.parametrize("name", ["a\nb.pdf", "a\r\nb.pdf", "整改\t报告.pdf", "a\x7f\x1bb.pdf"])
async def test_a_stored_name_with_a_control_character_still_downloads(app, filed, name):
    attachment_id, token, password = filed
    with app.engine.begin() as conn:
        conn.execute(
            text("UPDATE attachments SET filename = :n WHERE id = :i"),
            {"n": name, "i": attachment_id},
        )

    answers = await downloads(app, attachment_id, token, password)

    for answer in answers:
        assert answer.status_code == 200 and answer.content == PDF
        header = answer.headers["content-disposition"]
        assert not any(ord(c) < 0x20 or ord(c) == 0x7F for c in header), repr(header)
        assert header.startswith('attachment; filename="')
