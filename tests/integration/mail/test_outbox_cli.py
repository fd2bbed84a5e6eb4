"""``rectify outbox send|list|retry`` against a real database and a loopback SMTP server."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cli.main import app as cli
from services.cases import transitions
from tests.builders import a_case, a_target, a_unit


@pytest.fixture
def rectify(app, mail_server, monkeypatch):
    monkeypatch.setenv("RECTIFY_DATABASE_URL", app.settings.database_url)
    monkeypatch.setenv("RECTIFY_SECRET_KEY", "test-secret")
    monkeypatch.setenv("RECTIFY_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("RECTIFY_SMTP_PORT", str(mail_server.port))
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(cli, ["--as-of", "2021-07-19", *args])

    return run


def test_send_delivers_pending_mail_and_list_shows_it_sent(app, mail_server, rectify):
    with app.uow() as uow:
        a_unit(uow, "yongde", contact_email="yd@units.test")
        # An address saved before the registry checked addresses (the forms now refuse it).
        a_unit(uow, "nomail").contact_email = "不是邮箱"
        for unit in ("yongde", "nomail"):
            case = a_case(uow, target_code=a_target(uow, unit_code=unit).code)
            transitions.transition(uow, case_id=case.id, trigger="notify", actor="测试员")
        uow.commit()

    sent = rectify("outbox", "send", "--limit", "10")
    listed = rectify("outbox", "list", "--json")
    failed = rectify("outbox", "list", "--status", "failed")

    assert sent.exit_code == 0, sent.output
    assert "已发送 1" in sent.output
    assert len(mail_server.to("yd@units.test")) == 1
    rows = json.loads(listed.output)
    assert sorted(r["status"] for r in rows) == ["failed", "sent"]
    assert "联系人邮箱格式不正确" in failed.output
    assert "发送失败 1" in failed.output


def test_retry_requeues_a_failed_message_once_the_contact_is_fixed(app, mail_server, rectify):
    with app.uow() as uow:
        unit = a_unit(uow, "nomail", contact_email="")
        case = a_case(uow, target_code=a_target(uow, unit_code="nomail").code)
        transitions.transition(uow, case_id=case.id, trigger="notify", actor="测试员")
        uow.commit()
    [row] = json.loads(rectify("outbox", "list", "--json").output)

    refused = rectify("outbox", "retry", str(row["id"]))
    with app.uow() as uow:
        uow.session.merge(unit).contact_email = "fixed@units.test"
        uow.commit()
    requeued = rectify("outbox", "retry", str(row["id"]))
    sent = rectify("outbox", "send")

    assert refused.exit_code == 2 and "没有填写联系人邮箱" in refused.output
    assert requeued.exit_code == 0 and "fixed@units.test" in requeued.output
    assert "已发送 1" in sent.output
    assert len(mail_server.to("fixed@units.test")) == 1


def test_send_exits_non_zero_when_the_mail_server_is_down(app, rectify, mail_server):
    with app.uow() as uow:
        a_unit(uow, "yongde", contact_email="yd@units.test")
        case = a_case(uow, target_code=a_target(uow, unit_code="yongde").code)
        transitions.transition(uow, case_id=case.id, trigger="notify", actor="测试员")
        uow.commit()
    mail_server.stop()

    result = rectify("outbox", "send")

    assert result.exit_code == 1
    assert "邮件服务器不可用" in result.output
    assert "稍后重试 1" in result.output


def test_list_refuses_an_unknown_status_in_chinese(rectify):
    result = rectify("outbox", "list", "--status", "lost")

    assert result.exit_code == 2
    assert "状态 lost 无效" in result.output
