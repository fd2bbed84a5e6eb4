"""The unit portal: a link opens one unit's cases; uploads are checked before anything is kept."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy import func, select

from services.access import unit_links
from services.db.models import Attachment, Case, Submission
from services.mail import outbox
from tests.builders import a_case, a_target, a_unit
from tests.fakes import FakeSender
from tests.web.conftest import csrf_of

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200


def _state(app, case_id: int) -> str:
    with app.uow() as uow:
        return uow.session.get(Case, case_id).state


def _stored(app) -> tuple[int, int, list]:
    with app.uow() as uow:
        subs = uow.session.scalar(select(func.count(Submission.id)))
        atts = uow.session.scalar(select(func.count(Attachment.id)))
    folder = app.settings.data_dir / "attachments"
    files = sorted(p.name for p in folder.iterdir()) if folder.exists() else []
    return subs, atts, files


async def _submit(client, token: str, case_id: int, files, **fields):
    page = await client.get(f"/portal/{token}/cases/{case_id}")
    data = {
        "text": "已删除错误表述并重新审核栏目内容",
        "responsible_person": "李明",
        "phone": "0883-1234567",
        "csrf_token": csrf_of(page),
        **fields,
    }
    return await client.post(f"/portal/{token}/cases/{case_id}", data=data, files=files)


async def test_a_unit_submits_its_rectification_with_a_pdf_and_sees_the_confirmation(
    app, anon, two_units
):
    response = await _submit(
        anon, two_units.token_a, two_units.case_a, [("attachments", ("整改报告.pdf", PDF))]
    )
    assert response.status_code == 303
    done = await anon.get(response.headers["location"])
    assert "提交成功" in done.text and "附件 1 个" in done.text
    assert _state(app, two_units.case_a) == "submitted"
    subs, atts, files = _stored(app)
    assert (subs, atts, len(files)) == (1, 1, 1)
    with app.uow() as uow:
        attachment = uow.session.scalars(select(Attachment)).one()
        assert attachment.content_type == "application/pdf"
        assert attachment.filename == "整改报告.pdf" and attachment.stored_name == files[0]
        assert attachment.sha256 == hashlib.sha256(PDF).hexdigest()
        attachment_id = attachment.id
    download = await anon.get(f"/portal/{two_units.token_a}/attachments/{attachment_id}")
    assert download.content == PDF
    assert download.headers["content-disposition"].startswith("attachment;")


async def test_a_units_link_cannot_read_or_submit_another_units_case(app, anon, two_units):
    home = await anon.get(f"/portal/{two_units.token_a}")
    assert f"/cases/{two_units.case_a}" in home.text
    assert f"/cases/{two_units.case_b}" not in home.text
    read = await anon.get(f"/portal/{two_units.token_a}/cases/{two_units.case_b}")
    assert read.status_code == 403 and "不属于本单位" in read.text
    assert f'href="/portal/{two_units.token_a}"' in read.text  # back to the unit's own list
    own = await anon.get(f"/portal/{two_units.token_a}/cases/{two_units.case_a}")
    response = await anon.post(
        f"/portal/{two_units.token_a}/cases/{two_units.case_b}",
        data={
            "text": "x",
            "responsible_person": "李明",
            "phone": "12345678",
            "csrf_token": csrf_of(own),
        },
    )
    assert response.status_code == 403
    assert _state(app, two_units.case_b) == "notified"


async def test_an_expired_or_revoked_link_is_refused_with_a_chinese_page(app, anon, two_units):
    with app.uow() as uow:
        expired = unit_links.issue_link(uow, unit_id=two_units.unit_a, ttl=timedelta(seconds=-1))
        uow.commit()
    response = await anon.get(f"/portal/{expired.token}")
    assert response.status_code == 403 and "链接已过期" in response.text
    with app.uow() as uow:
        unit_links.revoke_links(uow, unit_id=two_units.unit_b)
        uow.commit()
    response = await anon.get(f"/portal/{two_units.token_b}/cases/{two_units.case_b}")
    assert response.status_code == 403 and "已被撤销" in response.text
    unknown = await anon.get("/portal/not-a-real-token")
    assert unknown.status_code == 403 and "链接无效" in unknown.text
    assert "返回" not in unknown.text  # nowhere inside the system to go back to


async def test_an_executable_renamed_pdf_is_refused_and_nothing_is_stored(app, anon, two_units):
    response = await _submit(
        anon, two_units.token_a, two_units.case_a, [("attachments", ("整改报告.pdf", EXE))]
    )
    assert response.status_code == 400
    assert "内容与扩展名不符" in response.text
    assert _state(app, two_units.case_a) == "notified"
    assert _stored(app) == (0, 0, [])


async def test_an_oversized_upload_is_refused_and_nothing_is_stored(app, anon, two_units):
    app.settings.upload_max_mb = 1
    big = b"%PDF-1.4\n" + b"0" * (1024 * 1024 + 10)
    response = await _submit(
        anon,
        two_units.token_a,
        two_units.case_a,
        [("attachments", ("a.pdf", PDF)), ("attachments", ("big.pdf", big))],
    )
    assert response.status_code == 413
    assert "超过大小上限 1 MB" in response.text
    assert _state(app, two_units.case_a) == "notified"
    assert _stored(app) == (0, 0, [])


async def test_a_form_without_its_csrf_token_is_refused(app, anon, two_units):
    await anon.get(f"/portal/{two_units.token_a}/cases/{two_units.case_a}")
    response = await anon.post(
        f"/portal/{two_units.token_a}/cases/{two_units.case_a}",
        data={"text": "x", "responsible_person": "李明", "phone": "12345678"},
    )
    assert response.status_code == 403 and "安全令牌" in response.text
    assert _state(app, two_units.case_a) == "notified"


async def test_a_unit_sees_the_rejection_reason_and_can_resubmit(app, anon, supervisor, two_units):
    await _submit(anon, two_units.token_a, two_units.case_a, [])
    page = await supervisor.get(f"/cases/{two_units.case_a}")
    version = page.text.split('name="version" value="')[1].split('"')[0]
    rejected = await supervisor.post(
        f"/cases/{two_units.case_a}/transition",
        data={
            "trigger": "reject",
            "version": version,
            "note": "缺少盖章扫描件",
            "csrf_token": csrf_of(page),
        },
    )
    assert rejected.status_code == 303
    portal_page = await anon.get(f"/portal/{two_units.token_a}/cases/{two_units.case_a}")
    assert "退回整改" in portal_page.text and "缺少盖章扫描件" in portal_page.text
    assert "重新提交整改情况" in portal_page.text
    again = await _submit(
        anon, two_units.token_a, two_units.case_a, [("attachments", ("盖章件.pdf", PDF))]
    )
    assert again.status_code == 303
    assert _state(app, two_units.case_a) == "submitted"


async def test_the_link_emailed_when_a_supervisor_notifies_opens_the_units_form(
    app, anon, supervisor
):
    with app.uow() as uow:
        unit = a_unit(uow, "yongde", name="永德县人民政府", kind="county_gov")
        case_id = a_case(uow, target_code=a_target(uow, unit_code=unit.code).code).id
        uow.commit()
    page = await supervisor.get(f"/cases/{case_id}")
    version = page.text.split('name="version" value="')[1].split('"')[0]
    notified = await supervisor.post(
        f"/cases/{case_id}/transition",
        data={"trigger": "notify", "version": version, "csrf_token": csrf_of(page)},
    )
    assert notified.status_code == 303
    sender = FakeSender()
    assert (await outbox.dispatch_async(app, sender=sender)).sent == 1  # URL made as it goes
    [mail] = sender.messages
    url = re.search(r"https?://\S+/portal/[\w-]+", mail.get_body(("plain",)).get_content())[0]
    form = await anon.get(urlsplit(url).path + f"/cases/{case_id}")
    assert form.status_code == 200
    assert "永德县人民政府" in form.text and "提交整改材料" in form.text
