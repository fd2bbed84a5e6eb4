"""Emails caused by transitions and rounds, delivered through a real SMTP server on loopback."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from notifications.message import message_id
from notifications.smtp import SmtpSender
from services.access.unit_links import resolve_link
from services.cases import transitions
from services.core.errors import ValidationFailed
from services.db.models import OutboxMessage, Unit
from services.mail import causes, outbox, outbox_admin
from tests.builders import a_case, a_round, a_target, a_unit
from tests.support.mailserver import MailServer


def smtp(app, server: MailServer) -> SmtpSender:
    """The sender the app's settings describe, pointed at the loopback server."""
    return outbox.smtp_sender(app.settings.model_copy(update={"smtp_port": server.port}))


def _rows(app) -> list[outbox_admin.OutboxRow]:
    with app.uow() as uow:
        return sorted(outbox_admin.list_messages(uow), key=lambda r: r.id)


def _notified_cases_of_two_units(app) -> dict[str, list[int]]:
    """Two units: 永德县 with two notified cases, 耿马县 with one; round 2021Q2."""
    with app.uow() as uow:
        a_round(uow, "2021Q2", title="2021年二季度政府网站检查", doc_number="临政办字〔2021〕72号")
        a_unit(uow, "yongde", name="永德县人民政府", contact_email="yd@units.test")
        a_unit(uow, "gengma", name="耿马傣族佤族自治县人民政府", contact_email="gm@units.test")
        a_target(uow, "yd-site", unit_code="yongde", name="永德县人民政府门户网站")
        a_target(uow, "yd-col", unit_code="yongde", name="永德县信息公开专栏")
        a_target(uow, "gm-site", unit_code="gengma", name="耿马县人民政府门户网站")
        ids = {"yongde": [], "gengma": []}
        for target, unit, category in [
            ("yd-site", "yongde", "column_stale"),
            ("yd-col", "yongde", "site_unreachable"),
            ("gm-site", "gengma", "column_stale"),
        ]:
            case = a_case(uow, target_code=target, category=category, state="found")
            transitions.transition(
                uow, case_id=case.id, trigger="notify", actor="发布", data={"publication": True}
            )
            ids[unit].append(case.id)
        uow.commit()
    return ids


def _queue_round_notices(app, ids: dict[str, list[int]]) -> None:
    with app.uow() as uow:
        for code, case_ids in ids.items():
            unit = uow.session.scalar(select(Unit).where(Unit.code == code))
            first = uow.session.get(transitions.Case, case_ids[0])
            causes.queue_round_notice(
                uow, round_id=first.round_id, unit_id=unit.id, case_ids=case_ids
            )
        uow.commit()


def test_a_published_round_delivers_one_chinese_email_per_unit_listing_its_cases(app, mail_server):
    ids = _notified_cases_of_two_units(app)
    assert _rows(app) == []  # a notify from the publication queues nothing by itself
    _queue_round_notices(app, ids)
    _queue_round_notices(app, ids)  # a re-run of the flow writes no second row

    report = outbox.dispatch(app, sender=smtp(app, mail_server))

    assert (report.sent, report.retried, report.failed) == (2, 0, 0)
    assert len(mail_server.received) == 2
    [yongde] = mail_server.to("yd@units.test")
    assert yongde.rcpt_tos == ["yd@units.test"]
    assert yongde.mail_from == app.settings.mail_from == "rectify@localhost"
    assert yongde.message["Subject"] == (
        "【整改通知】《2021年二季度政府网站检查》涉及永德县人民政府的2个问题，请按期整改"
    )
    assert yongde.message["From"].addresses[0].display_name == app.settings.mail_from_name
    assert yongde.message["Message-ID"] == message_id("round-notice:2021Q2:yongde", "localhost")
    for body in (yongde.text, yongde.html):
        assert "永德县人民政府门户网站" in body and "永德县信息公开专栏" in body
        assert "栏目更新不及时" in body and "站点无法访问" in body
        assert "临政办字〔2021〕72号" in body
        assert "耿马" not in body
    portal = [w for w in yongde.text.split() if "/portal/" in w]
    assert portal and portal[0].startswith(app.settings.base_url)
    assert f'href="{portal[0]}"' in yongde.html
    [gengma] = mail_server.to("gm@units.test")
    assert "涉及耿马傣族佤族自治县人民政府的1个问题" in gengma.message["Subject"]
    assert {r.status for r in _rows(app)} == {"sent"}


def test_a_sent_email_leaves_no_usable_portal_link_in_the_database(app, mail_server):
    ids = _notified_cases_of_two_units(app)
    _queue_round_notices(app, ids)
    outbox.dispatch(app, sender=smtp(app, mail_server))

    [yongde] = mail_server.to("yd@units.test")
    token = next(w for w in yongde.text.split() if "/portal/" in w).rsplit("/", 1)[1]
    with app.uow() as uow:
        contexts = uow.session.scalars(select(OutboxMessage.context)).all()
    stored = [str(c) for c in contexts]
    assert stored and all(token not in context for context in stored)
    assert all("/portal/" not in context for context in stored)
    # the database edited the stored JSON: the nonce is gone, the link's id and the rest stay
    assert all(list(c["portal_link"]) == ["id"] and "portal_url" not in c for c in contexts)
    assert {c["unit_name"] for c in contexts} == {"永德县人民政府", "耿马傣族佤族自治县人民政府"}
    assert all(len(c["cases"]) in (1, 2) for c in contexts)
    with app.uow() as uow:  # the link itself still opens the unit's portal
        link = resolve_link(uow, token)
        assert link.unit.code == "yongde"
        [named] = [c["portal_link"]["id"] for c in contexts if c["unit_name"] == "永德县人民政府"]
        assert named == link.id


def test_a_rejection_reaches_the_unit_with_the_reason_escaped_in_html(app, mail_server):
    with app.uow() as uow:
        a_unit(uow, "lincang-rural", name="临沧市乡村振兴局", contact_email="xc@units.test")
        a_target(uow, "xc-site", unit_code="lincang-rural", name="乡村振兴局网站")
        case = a_case(uow, target_code="xc-site", state="submitted")
        transitions.transition(
            uow,
            case_id=case.id,
            trigger="reject",
            actor="张审核",
            note="<script>alert('x')</script> 截图不清晰",
        )
        uow.commit()

    outbox.dispatch(app, sender=smtp(app, mail_server))

    [rejection] = [r for r in mail_server.to("xc@units.test") if "退回" in r.message["Subject"]]
    assert "&lt;script&gt;" in rejection.html and "<script>" not in rejection.html
    assert "<script>alert('x')</script> 截图不清晰" in rejection.text
    assert "张审核" in rejection.text and "/portal/" in rejection.text


def test_an_escalation_goes_to_the_parent_leader_and_copies_the_unit(app, mail_server):
    with app.uow() as uow:
        a_unit(uow, "lincang", name="临沧市人民政府", leader_email="leader@city.test")
        a_unit(
            uow, "park", parent_code="lincang", name="临沧工业园区管委会", contact_email="p@u.test"
        )
        a_target(uow, "park-site", unit_code="park", name="临沧工业园区网站")
        case = a_case(uow, target_code="park-site", state="notified", category="site_unreachable")
        transitions.transition(
            uow, case_id=case.id, trigger="escalate", actor="系统", data={"reason": "overdue"}
        )
        uow.commit()

    outbox.dispatch(app, sender=smtp(app, mail_server))

    [escalation] = [r for r in mail_server.received if "督办" in r.message["Subject"]]
    assert sorted(escalation.rcpt_tos) == ["leader@city.test", "p@u.test"]
    assert escalation.message["To"] == "leader@city.test"
    assert escalation.message["Cc"] == "p@u.test"
    assert "被市政府办公室通报1次" in escalation.text
    assert "通知（测试员）" in escalation.text and "升级督办（系统）" in escalation.text


def test_a_submission_confirms_to_the_unit_and_asks_the_supervisor_to_review(app, mail_server):
    with app.uow() as uow:
        a_unit(uow, "yongde", name="永德县人民政府", contact_email="yd@units.test")
        a_target(uow, "yd-site", unit_code="yongde")
        a_case(uow, target_code="yd-site", state="submitted")
        uow.commit()

    outbox.dispatch(app, sender=smtp(app, mail_server))

    to_unit = [r.message["Subject"] for r in mail_server.to("yd@units.test")]
    [to_supervisor] = mail_server.to("supervisor@rectify.test")
    assert sorted(s.split("】")[0] for s in to_unit) == ["【回执", "【整改通知"]
    assert to_supervisor.message["Subject"].startswith("【待审核】永德县人民政府")
    assert "/cases/" in to_supervisor.text


def test_a_unit_without_an_address_gets_a_visible_failed_row_not_an_exception(app, mail_server):
    with app.uow() as uow:
        a_unit(uow, "nomail", name="某某局", contact_email="")
        a_target(uow, "nm-site", unit_code="nomail")
        case = a_case(uow, target_code="nm-site", state="found")
        transitions.transition(uow, case_id=case.id, trigger="notify", actor="测试员")
        uow.commit()

    with app.uow() as uow:
        [row] = outbox_admin.list_messages(uow, case_id=case.id, status="failed")
    assert row.status == "failed" and row.case_id == case.id
    assert row.last_error == "单位「某某局」没有填写联系人邮箱，邮件未发送"
    with app.uow() as uow, pytest.raises(ValidationFailed):
        outbox_admin.retry_message(uow, message_id=row.id)  # still no address

    with app.uow() as uow:
        uow.session.scalar(select(Unit).where(Unit.code == "nomail")).contact_email = "m@u.test"
        outbox_admin.retry_message(uow, message_id=row.id)
        uow.commit()
    outbox.dispatch(app, sender=smtp(app, mail_server))

    [notice] = mail_server.to("m@u.test")
    assert "请于2021年7月29日前完成整改" in notice.message["Subject"]
    assert [r.status for r in _rows(app)] == ["sent"]


def test_a_reminder_digest_is_one_email_per_unit_per_day(app, mail_server):
    with app.uow() as uow:
        unit = a_unit(uow, "yongde", name="永德县人民政府", contact_email="yd@units.test")
        first = a_case(uow, target_code=a_target(uow, unit_code="yongde").code, state="notified")
        second = a_case(uow, target_code=a_target(uow, unit_code="yongde").code, state="notified")
        items = [(first.id, "before"), (second.id, "after")]
        day = app.clock.today()
        assert causes.queue_reminder_digest(uow, unit_id=unit.id, day=day, items=items)
        assert causes.queue_reminder_digest(uow, unit_id=unit.id, day=day, items=items) is None
        uow.commit()

    outbox.dispatch(app, sender=smtp(app, mail_server))

    reminders = [r for r in mail_server.received if "整改提醒" in r.message["Subject"]]
    assert len(reminders) == 1
    assert "已超过整改期限" in reminders[0].text and "即将到期" in reminders[0].text
