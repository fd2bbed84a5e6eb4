"""Robot channels (企业微信、钉钉、飞书) from the outbox, against a loopback receiver that
checks each service's payload and signature, beside a real SMTP server."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest

from notifications.smtp import SmtpSender
from services.cases import transitions
from services.core.clock import Clock
from services.core.errors import ValidationFailed
from services.mail import causes, outbox, outbox_admin
from services.registry import channels
from tests.builders import a_case, a_round, a_target, a_unit
from tests.support.robot_receiver import (
    DINGTALK_SECRET,
    FEISHU_SECRET,
    WECOM_KEY,
    RobotReceiver,
)


@pytest.fixture
def robots():
    receiver = RobotReceiver().start()
    yield receiver
    receiver.stop()


def smtp(app, port: int) -> SmtpSender:
    return outbox.smtp_sender(app.settings.model_copy(update={"smtp_port": port}))


def _with_three_robots(app, robots: RobotReceiver, unit: str = "yongde") -> dict[str, int]:
    urls = robots.urls()
    secrets = {"wecom": None, "dingtalk": DINGTALK_SECRET, "feishu": FEISHU_SECRET}
    with app.uow() as uow:
        ids = {
            kind: channels.add_channel(
                uow, unit_code=unit, kind=kind, webhook_url=urls[kind], secret=secrets[kind]
            ).id
            for kind in urls
        }
        uow.commit()
    return ids


def _round_notice(app) -> tuple[int, list[int]]:
    """永德县 with two cases of round 2021Q2, notified by its publication; its notice queued."""
    with app.uow() as uow:
        a_round(uow, "2021Q2", title="2021年二季度政府网站检查", doc_number="临政办字〔2021〕72号")
        unit_id = a_unit(uow, "yongde", name="永德县人民政府", contact_email="yd@units.test").id
        ids = []
        for category in ("column_stale", "site_unreachable"):
            target = a_target(uow, unit_code="yongde", name=f"永德县网站{category}")
            case = a_case(uow, target_code=target.code, category=category, state="found")
            transitions.transition(
                uow, case_id=case.id, trigger="notify", actor="发布", data={"publication": True}
            )
            ids.append(case.id)
        uow.commit()
    return unit_id, ids


def _queue(app, unit_id: int, ids: list[int]) -> None:
    with app.uow() as uow:
        round_id = uow.session.get(transitions.Case, ids[0]).round_id
        causes.queue_round_notice(uow, round_id=round_id, unit_id=unit_id, case_ids=ids)
        uow.commit()


def _rows(app) -> list[outbox_admin.OutboxRow]:
    with app.uow() as uow:
        return sorted(outbox_admin.list_messages(uow), key=lambda r: r.id)


def test_a_round_notice_reaches_the_units_email_and_its_three_robots_once(app, robots, mail_server):
    unit_id, ids = _round_notice(app)
    _with_three_robots(app, robots)
    _queue(app, unit_id, ids)
    _queue(app, unit_id, ids)  # a re-run of the publication writes nothing twice

    report = outbox.dispatch(app, sender=smtp(app, mail_server.port))
    again = outbox.dispatch(app, sender=smtp(app, mail_server.port))

    assert (report.sent, report.retried, report.failed) == (4, 0, 0)
    assert report.by_channel == {
        "email": {"sent": 1},
        "wecom": {"sent": 1},
        "dingtalk": {"sent": 1},
        "feishu": {"sent": 1},
    }
    assert again.claimed == 0
    [mail] = mail_server.to("yd@units.test")
    subject = mail.message["Subject"]
    assert (
        subject == "【整改通知】《2021年二季度政府网站检查》涉及永德县人民政府的2个问题，请按期整改"
    )
    assert robots.refused == []
    assert sorted(d.kind for d in robots.received) == ["dingtalk", "feishu", "wecom"]
    for delivered in robots.received:
        assert delivered.title == subject  # the same subject and text as the email
        assert "永德县人民政府：" in delivered.text
        assert "永德县网站column_stale" in delivered.text
        # The unit's portal link stays in the email: a group chat is not its contact's mailbox.
        assert "/portal/" not in delivered.text and "/u/" not in delivered.text
        assert "专用链接已通过邮件发送" in delivered.text
    [ding] = robots.of("dingtalk")
    assert ding.query["timestamp"] and ding.query["sign"]  # signed (checked by the receiver)
    assert {r.status for r in _rows(app)} == {"sent"}


def test_a_rejected_case_is_said_in_the_units_robot_as_in_its_email(app, robots, mail_server):
    with app.uow() as uow:
        a_unit(uow, "gengma", name="耿马县人民政府", contact_email="gm@units.test")
        case = a_case(uow, target_code=a_target(uow, unit_code="gengma").code, state="submitted")
        uow.commit()
    urls = robots.urls()
    with app.uow() as uow:
        channels.add_channel(uow, unit_code="gengma", kind="wecom", webhook_url=urls["wecom"])
        transitions.transition(
            uow, case_id=case.id, trigger="reject", actor="审核员", note="佐证材料不清晰"
        )
        uow.commit()

    report = outbox.dispatch(app, sender=smtp(app, mail_server.port))

    assert report.by_channel["wecom"] == {"sent": 1}  # the robot came after the submission
    [wecom] = robots.of("wecom")
    assert wecom.title.startswith("【退回整改】")
    assert "佐证材料不清晰" in wecom.text
    assert len(wecom.body["markdown"]["content"].encode()) <= 4096


def test_a_rate_limited_robot_is_retried_with_backoff_and_sent_once(app, robots, mail_server):
    unit_id, ids = _round_notice(app)
    urls = robots.urls()
    with app.uow() as uow:
        channels.add_channel(uow, unit_code="yongde", kind="wecom", webhook_url=urls["wecom"])
        uow.commit()
    _queue(app, unit_id, ids)
    robots.answer_next(200, {"errcode": 45009, "errmsg": "api freq out of limit"})

    first = outbox.dispatch(app, sender=smtp(app, mail_server.port))
    [robot] = [r for r in _rows(app) if r.channel == "wecom"]
    too_soon = outbox.dispatch(app, sender=smtp(app, mail_server.port))
    later = Clock(app.clock.now() + timedelta(minutes=2))
    second = outbox.dispatch(app, sender=smtp(app, mail_server.port), clock=later)

    assert first.by_channel == {"email": {"sent": 1}, "wecom": {"retry": 1}}
    assert (robot.status, robot.attempts) == ("pending", 1)
    assert robot.next_attempt_at == app.clock.now() + timedelta(minutes=1)
    assert "限流（错误码 45009）" in robot.last_error
    assert too_soon.claimed == 0
    assert second.by_channel == {"wecom": {"sent": 1}}
    assert len(robots.of("wecom")) == 1 and len(mail_server.to("yd@units.test")) == 1


def test_a_wrong_secret_fails_that_robot_visibly_and_the_others_go(app, robots, mail_server):
    unit_id, ids = _round_notice(app)
    urls = robots.urls()
    with app.uow() as uow:
        channels.add_channel(
            uow,
            unit_code="yongde",
            kind="dingtalk",
            webhook_url=urls["dingtalk"],
            secret="SECwrong",
        )
        channels.add_channel(
            uow, unit_code="yongde", kind="feishu", webhook_url=urls["feishu"], secret=FEISHU_SECRET
        )
        uow.commit()
    _queue(app, unit_id, ids)

    report = outbox.dispatch(app, sender=smtp(app, mail_server.port))

    assert report.by_channel == {
        "email": {"sent": 1},
        "dingtalk": {"failed": 1},
        "feishu": {"sent": 1},
    }
    assert [kind for kind, _ in robots.refused] == ["dingtalk"]
    with app.uow() as uow:
        [failed] = outbox_admin.list_messages(uow, status="failed")
    assert failed.channel == "dingtalk"
    assert failed.to_addrs == ["钉钉群机器人「钉钉群机器人」"]
    assert failed.last_error == "钉钉群机器人拒绝了消息（错误码 310000）：sign not match"


def test_robots_go_while_the_mail_server_is_down(app, robots):
    unit_id, ids = _round_notice(app)
    _with_three_robots(app, robots)
    _queue(app, unit_id, ids)
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]

    report = outbox.dispatch(app, sender=smtp(app, closed))

    assert report.unreachable
    assert report.by_channel["email"] == {"retry": 1}
    assert {k: v for k, v in report.by_channel.items() if k != "email"} == {
        "wecom": {"sent": 1},
        "dingtalk": {"sent": 1},
        "feishu": {"sent": 1},
    }
    assert len(robots.received) == 3


def test_a_robot_that_does_not_answer_leaves_its_message_for_a_retry(app, mail_server):
    unit_id, ids = _round_notice(app)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    url = f"http://127.0.0.1:{closed}/cgi-bin/webhook/send?key={WECOM_KEY}"
    with app.uow() as uow:
        channels.add_channel(uow, unit_code="yongde", kind="wecom", webhook_url=url)
        uow.commit()
    _queue(app, unit_id, ids)

    report = outbox.dispatch(app, sender=smtp(app, mail_server.port))

    assert report.by_channel == {"email": {"sent": 1}, "wecom": {"retry": 1}}
    assert report.unreachable is None  # the mail server was there
    [robot] = [r for r in _rows(app) if r.channel == "wecom"]
    assert robot.status == "pending"
    assert robot.last_error == "无法连接企业微信群机器人：ConnectError"
    assert WECOM_KEY not in robot.last_error


def test_a_disabled_channel_gets_no_new_notice_and_its_waiting_ones_fail(app, robots, mail_server):
    unit_id, ids = _round_notice(app)
    chosen = _with_three_robots(app, robots)
    _queue(app, unit_id, ids)
    with app.uow() as uow:
        channels.set_enabled(uow, channel_id=chosen["feishu"], enabled=False)
        uow.commit()

    report = outbox.dispatch(app, sender=smtp(app, mail_server.port))
    with app.uow() as uow:
        case = a_case(uow, target_code=a_target(uow, unit_code="yongde").code)
        transitions.transition(uow, case_id=case.id, trigger="notify", actor="测试员")
        uow.commit()
    later = outbox.dispatch(app, sender=smtp(app, mail_server.port))

    assert report.by_channel["feishu"] == {"failed": 1}
    assert later.by_channel == {"email": {"sent": 1}, "wecom": {"sent": 1}, "dingtalk": {"sent": 1}}
    with app.uow() as uow:
        [failed] = outbox_admin.list_messages(uow, status="failed")
        assert failed.last_error == "该机器人渠道已删除或停用，消息未发送"
        with pytest.raises(ValidationFailed, match="已删除或停用，无法重发"):
            outbox_admin.retry_message(uow, message_id=failed.id)
        channels.set_enabled(uow, channel_id=chosen["feishu"], enabled=True)
        outbox_admin.retry_message(uow, message_id=failed.id)
        uow.commit()
    resent = outbox.dispatch(app, sender=smtp(app, mail_server.port))
    assert resent.by_channel == {"feishu": {"sent": 1}}
    assert len(robots.of("feishu")) == 1


def test_removing_a_channel_keeps_what_it_was_sent(app, robots, mail_server):
    unit_id, ids = _round_notice(app)
    chosen = _with_three_robots(app, robots)
    _queue(app, unit_id, ids)
    outbox.dispatch(app, sender=smtp(app, mail_server.port))

    with app.uow() as uow:
        channels.remove_channel(uow, channel_id=chosen["wecom"])
        uow.commit()
        left = channels.list_channels(uow, unit_code="yongde")

    assert sorted(v.kind for v in left) == ["dingtalk", "feishu"]
    assert len([r for r in _rows(app) if r.channel == "wecom" and r.status == "sent"]) == 1
